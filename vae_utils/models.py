"""The course's models: MLP encoders and decoders, the autoencoder and the VAE, and linear variants.

Images enter as flat vectors ``x: (batch, input_dim)`` with pixels in [0, 1]. Non-linear decoders
end in a sigmoid so that ``x_hat`` lies in [0, 1] too; linear variants end in nothing, so that they
can be compared with PCA.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn


def _check_positive_int(name: str, value: object, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}; {hint}")


def _check_hidden_dims(hidden_dims: Sequence[int]) -> tuple[int, ...]:
    if isinstance(hidden_dims, int) or not all(
        isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden_dims
    ):
        raise ValueError(
            f"hidden_dims must be a sequence of positive ints, got {hidden_dims!r}; "
            "try hidden_dims=(256,), or hidden_dims=() for a single linear layer"
        )
    return tuple(hidden_dims)


def mlp(sizes: Sequence[int], output_activation: nn.Module | None = None) -> nn.Sequential:
    """A multi-layer perceptron: linear layers with ReLU between them.

    Args:
        sizes: layer widths from input to output, e.g. ``(784, 256, 2)``; at least two.
        output_activation: applied after the last layer (e.g. ``nn.Sigmoid()``), or none.

    Returns:
        A module mapping ``(batch, sizes[0])`` to ``(batch, sizes[-1])``.

    Example:
        >>> mlp((784, 256, 2))(torch.zeros(5, 784)).shape
        torch.Size([5, 2])
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes needs an input and an output width, got {sizes!r}; try (784, 2)")
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if output_activation is not None:
        layers.append(output_activation)
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """A deterministic autoencoder: ``z = e(x)``, ``x_hat = d(z)``.

    Args:
        input_dim: length of a flattened image (784 for Fashion-MNIST).
        hidden_dims: widths of the encoder's hidden layers; the decoder mirrors them.
        latent_dim: size of the code ``z``.
        linear: if true, no hidden layers and no sigmoid: the encoder and decoder are affine maps,
            the model that gradient descent drives to the PCA subspace.

    Example:
        >>> model = Autoencoder(input_dim=784, hidden_dims=(256,), latent_dim=2)
        >>> model(torch.zeros(5, 784)).shape
        torch.Size([5, 784])
    """

    def __init__(
        self,
        input_dim: int = 784,
        hidden_dims: Sequence[int] = (256,),
        latent_dim: int = 2,
        linear: bool = False,
    ) -> None:
        super().__init__()
        _check_positive_int("input_dim", input_dim, "use 784 for 28x28 images")
        _check_positive_int("latent_dim", latent_dim, "try latent_dim=2 to plot the latent space")
        hidden_dims = () if linear else _check_hidden_dims(hidden_dims)
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.encoder = mlp((input_dim, *hidden_dims, latent_dim))
        self.decoder = mlp(
            (latent_dim, *reversed(hidden_dims), input_dim),
            output_activation=None if linear else nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (batch, input_dim)`` -> ``z: (batch, latent_dim)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> ``x_hat: (batch, input_dim)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (batch, input_dim)`` -> ``x_hat: (batch, input_dim)``."""
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """A variational autoencoder with a diagonal Gaussian encoder and a prior N(0, I).

    The encoder returns the mean ``mu`` and the log-variance ``log_var`` of q(z | x); the forward
    pass draws ``z = mu + sigma * eps`` (the reparameterisation trick) and decodes it.

    Args:
        input_dim: length of a flattened image (784 for Fashion-MNIST).
        hidden_dims: widths of the encoder's hidden layers; the decoder mirrors them.
        latent_dim: size of ``z``.
        linear: if true, affine encoder and decoder without sigmoid (the linear VAE that matches
            probabilistic PCA).

    Example:
        >>> x_hat, mu, log_var = VAE(784, (256,), 2)(torch.zeros(5, 784))
        >>> x_hat.shape, mu.shape, log_var.shape
        (torch.Size([5, 784]), torch.Size([5, 2]), torch.Size([5, 2]))
    """

    def __init__(
        self,
        input_dim: int = 784,
        hidden_dims: Sequence[int] = (256,),
        latent_dim: int = 2,
        linear: bool = False,
    ) -> None:
        super().__init__()
        _check_positive_int("input_dim", input_dim, "use 784 for 28x28 images")
        _check_positive_int("latent_dim", latent_dim, "try latent_dim=2 to plot the latent space")
        hidden_dims = () if linear else _check_hidden_dims(hidden_dims)
        self.input_dim, self.latent_dim = input_dim, latent_dim
        # one network outputs mu and log_var side by side
        self.encoder = mlp((input_dim, *hidden_dims, 2 * latent_dim))
        self.decoder = mlp(
            (latent_dim, *reversed(hidden_dims), input_dim),
            output_activation=None if linear else nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x: (batch, input_dim)`` -> ``mu, log_var: (batch, latent_dim)``."""
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> ``x_hat: (batch, input_dim)``."""
        return self.decoder(z)

    @staticmethod
    def reparameterize(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
        """Draw ``z = mu + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``; same shape as ``mu``.

        The randomness sits in ``eps``, so gradients flow to ``mu`` and ``log_var``.
        """
        return mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x: (batch, input_dim)`` -> ``(x_hat, mu, log_var)``; ``x_hat`` decodes a sampled z."""
        mu, log_var = self.encode(x)
        return self.decode(self.reparameterize(mu, log_var)), mu, log_var

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``num_samples`` draws from the prior N(0, I): ``(num_samples, input_dim)``."""
        _check_positive_int("num_samples", num_samples, "try num_samples=16")
        device = next(self.parameters()).device
        z = torch.randn(num_samples, self.latent_dim, generator=generator, device=device)
        return self.decode(z)
