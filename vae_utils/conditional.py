"""The conditional VAE: encoder and decoder both see the class of the image.

``q(z | x, y)`` and ``p(x | z, y)`` take the label ``y`` as a one-hot vector next to their usual
input; the prior stays ``N(0, I)``: the generative model M2 of Kingma et al. (2014), where Sohn et
al. (2015) also learn a prior ``p(z | y)``. Decoding one code ``z`` with each label draws the same
"style" as each class.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vae_utils.losses import vae_loss
from vae_utils.models import mlp, reparameterize
from vae_utils.validation import check_hidden_dims, check_int, check_loss_weight, check_width


class ConditionalVAE(nn.Module):
    """A VAE whose encoder and decoder are given the class label.

    Args:
        input_dim: length of a flattened image (784).
        hidden_dims: widths of the encoder's hidden layers; the decoder mirrors them.
        latent_dim: size of ``z``.
        num_classes: number of labels (10 for Fashion-MNIST).

    Example:
        >>> model = ConditionalVAE(784, (256,), 2, num_classes=10)
        >>> x_hat, mu, log_var = model(torch.zeros(5, 784), torch.arange(5))
        >>> x_hat.shape, mu.shape
        (torch.Size([5, 784]), torch.Size([5, 2]))
    """

    def __init__(
        self,
        input_dim: int = 784,
        hidden_dims: Sequence[int] = (256,),
        latent_dim: int = 2,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        check_int("input_dim", input_dim, "use 784 for 28x28 images")
        check_int("latent_dim", latent_dim, "try latent_dim=2")
        check_int("num_classes", num_classes, "use 10 for Fashion-MNIST")
        hidden_dims = check_hidden_dims(hidden_dims)
        self.input_dim, self.latent_dim, self.num_classes = input_dim, latent_dim, num_classes
        self.encoder = mlp((input_dim + num_classes, *hidden_dims, 2 * latent_dim))
        self.decoder = mlp(
            (latent_dim + num_classes, *reversed(hidden_dims), input_dim),
            output_activation=nn.Sigmoid(),
        )

    def _one_hot(self, y: torch.Tensor, batch: int) -> torch.Tensor:
        if y.shape != (batch,) or y.dtype != torch.int64:
            raise ValueError(
                f"y must be int64 labels of shape ({batch},), got {y.dtype} {tuple(y.shape)}; "
                "pass the labels from load_fashion_mnist, or torch.full((n,), label)"
            )
        if len(y) and (y.min() < 0 or y.max() >= self.num_classes):
            low, high = y.min().item(), y.max().item()
            raise ValueError(
                f"labels must lie in 0..{self.num_classes - 1}, got y with values from {low} to "
                f"{high}; pass the labels of load_fashion_mnist, or build the model with more "
                "num_classes"
            )
        return F.one_hot(y, self.num_classes).to(torch.get_default_dtype())

    def encode(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x: (batch, input_dim)``, ``y: (batch,)`` -> ``mu, log_var: (batch, latent_dim)``."""
        check_width("x", x, self.input_dim, "flatten images with x.view(len(x), -1)")
        mu, log_var = self.encoder(torch.cat([x, self._one_hot(y, len(x))], dim=1)).chunk(2, -1)
        return mu, log_var

    def decode(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)``, ``y: (batch,)`` -> ``x_hat: (batch, input_dim)``."""
        check_width("z", z, self.latent_dim, "pass codes of the model's latent_dim")
        return self.decoder(torch.cat([z, self._one_hot(y, len(z))], dim=1))

    def forward(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x_hat, mu, log_var)``, with ``x_hat`` decoded from a sampled ``z``."""
        mu, log_var = self.encode(x, y)
        return self.decode(reparameterize(mu, log_var), y), mu, log_var


def conditional_vae_objective(
    model: ConditionalVAE,
    x: torch.Tensor,
    y: torch.Tensor,
    C: float,
) -> torch.Tensor:
    """The course's loss ``C ||x - x_hat||^2 + KL`` for a conditional VAE (eq. ``eq-cvae-loss``,
    chapter 8); hand ``partial(conditional_vae_objective, C=...)`` to ``fit(labels=y)``."""
    check_loss_weight("C", C, "try C=0.5")  # a tensor when fit_together trains a sweep
    x_hat, mu, log_var = model(x, y)
    return vae_loss(x, x_hat, mu, log_var, C)
