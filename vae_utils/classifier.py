"""A small image classifier, used as a judge: does a generated image look like its class?"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vae_utils._checks import check_hidden_dims
from vae_utils.models import mlp


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
        self.network = mlp((input_dim, *check_hidden_dims(hidden_dims), num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The most likely class of each image: ``(batch,)`` int64."""
        return self(x).argmax(dim=1)


def classifier_objective(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the logits against the labels; for ``fit(labels=y)``."""
    return F.cross_entropy(model(x), y)


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of images whose predicted class is ``y``."""
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and equally long, got {len(x)} and {len(y)}")
    return (model.predict(x) == y).double().mean().item()
