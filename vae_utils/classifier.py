"""A small image classifier, used as a judge: does a generated image look like its class?"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vae_utils.models import mlp
from vae_utils.validation import check_hidden_dims, check_int, check_labels, check_width


class Classifier(nn.Module):
    """An MLP from flat images ``(batch, input_dim)`` to class logits ``(batch, num_classes)``.

    Example:
        >>> Classifier(784, (256,), 10)(torch.zeros(3, 784)).shape
        torch.Size([3, 10])
    """

    def __init__(
        self, input_dim: int = 784, hidden_dims: Sequence[int] = (256,), num_classes: int = 10
    ) -> None:
        super().__init__()
        check_int("input_dim", input_dim, "use 784 for 28x28 images")
        check_int("num_classes", num_classes, "try num_classes=10 for Fashion-MNIST")
        self.input_dim, self.num_classes = input_dim, num_classes
        self.network = mlp((input_dim, *check_hidden_dims(hidden_dims), num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_width("x", x, self.input_dim, "flatten images with x.view(len(x), -1)")
        return self.network(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The most likely class of each image: ``(batch,)`` int64."""
        return self(x).argmax(dim=1)


def classifier_objective(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the logits against the labels; for ``fit(labels=y)``."""
    check_labels("y", y, len(x), model.num_classes)  # else cross_entropy's IndexError
    return F.cross_entropy(model(x), y.long())


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of images whose predicted class is ``y``."""
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and equally long, got {len(x)} and {len(y)}")
    check_labels("y", y, len(x), model.num_classes)  # a label out of range is never predicted
    return (model.predict(x) == y).double().mean().item()
