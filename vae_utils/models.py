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

from vae_utils.losses import gaussian_log_likelihood, kl_to_standard_normal, reconstruction_error
from vae_utils.priors import Prior, StandardNormalPrior, diagonal_gaussian_log_prob
from vae_utils.validation import (
    check_generator,
    check_hidden_dims,
    check_input,
    check_int,
    check_reparameterize_arguments,
    is_int,
)


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
    if (
        not isinstance(sizes, Sequence)
        or isinstance(sizes, str)
        or len(sizes) < 2
        or not all(is_int(size) and size > 0 for size in sizes)
    ):
        raise ValueError(
            f"sizes must be two or more positive ints, the widths from input to output, got "
            f"{sizes!r}; try (784, 2)"
        )
    if output_activation is not None and not isinstance(output_activation, nn.Module):
        raise ValueError(
            f"output_activation must be a module or None, got {output_activation!r}; "
            "try nn.Sigmoid()"
        )
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if output_activation is not None:
        layers.append(output_activation)
    return nn.Sequential(*layers)


def mlp_encoder_decoder(
    input_dim: int,
    hidden_dims: Sequence[int],
    latent_dim: int,
    *,
    encoder_outputs: int,
    linear: bool = False,
    output_activation: nn.Module | None = None,
) -> tuple[nn.Sequential, nn.Sequential]:
    """An MLP encoder ``input_dim -> hidden_dims -> encoder_outputs`` and its mirror-image decoder.

    The decoder maps ``latent_dim -> reversed(hidden_dims) -> input_dim``, then
    ``output_activation``. The encoder is built first, so one seed gives both the same weights.

    Args:
        input_dim: length of a flattened image (784 for Fashion-MNIST).
        hidden_dims: widths of the encoder's hidden layers.
        latent_dim: size of the code ``z`` that the decoder takes.
        encoder_outputs: ``latent_dim`` for an autoencoder, ``2 * latent_dim`` for a VAE (``mu``
            and ``log_var`` side by side).
        linear: no hidden layers at all (``hidden_dims`` is ignored): two affine maps.
        output_activation: the decoder's last module, e.g. ``nn.Sigmoid()``, or none.

    Example:
        >>> encoder, decoder = mlp_encoder_decoder(784, (256,), 2, encoder_outputs=4)
        >>> encoder(torch.zeros(5, 784)).shape, decoder(torch.zeros(5, 2)).shape
        (torch.Size([5, 4]), torch.Size([5, 784]))
    """
    check_int("input_dim", input_dim, "use 784 for 28x28 images")
    check_int("latent_dim", latent_dim, "try latent_dim=2 to plot the latent space")
    check_int(
        "encoder_outputs",
        encoder_outputs,
        "use latent_dim for an autoencoder, 2 * latent_dim for a VAE",
    )
    hidden_dims = () if linear else check_hidden_dims(hidden_dims)
    encoder = mlp((input_dim, *hidden_dims, encoder_outputs))
    decoder = mlp((latent_dim, *reversed(hidden_dims), input_dim), output_activation)
    return encoder, decoder


class Autoencoder(nn.Module):
    """A deterministic autoencoder: ``z = e(x)``, ``x_hat = d(z)`` (defined in chapter 2,
    ``ch-autoencoders``).

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
        *,
        linear: bool = False,  # a flag, so by name only: Autoencoder(784, linear=True)
    ) -> None:
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.encoder, self.decoder = mlp_encoder_decoder(
            input_dim,
            hidden_dims,
            latent_dim,
            encoder_outputs=latent_dim,
            linear=linear,
            output_activation=None if linear else nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (batch, input_dim)`` -> ``z: (batch, latent_dim)``."""
        check_input(x, self.input_dim, self)  # floats (..., input_dim) of the weights' type
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, latent_dim)`` -> ``x_hat: (batch, input_dim)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (batch, input_dim)`` -> ``x_hat: (batch, input_dim)``."""
        return self.decode(self.encode(x))


def reparameterize(
    mu: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The reparameterisation trick: ``z = mu + exp(log_var / 2) * eps``, ``eps ~ N(0, I)``.

    The randomness sits in ``eps``, so gradients flow to ``mu`` and ``log_var`` (eq.
    ``eq-reparameterisation``; defined in chapter 3, ``ch-vae``).

    Args:
        mu, log_var: ``(..., latent_dim)`` of the same shape; expand them to ``(S, n,
            latent_dim)`` for ``S`` draws per example.
        generator: draws ``eps`` from this generator; the global one by default.

    Returns:
        ``z``, the shape of ``mu``.

    Example:
        >>> reparameterize(torch.zeros(5, 2), torch.zeros(5, 2)).shape
        torch.Size([5, 2])
    """
    check_reparameterize_arguments(mu, log_var, generator)  # float tensors of one shape
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + torch.exp(0.5 * log_var) * eps


class BaseVAE(nn.Module):
    """What every VAE of the course shares: an encoder, a decoder and the prior N(0, I).

    Chapter 3 (``ch-vae``) defines ``__init__``, :meth:`encode`, :meth:`decode` and
    :meth:`forward`; the other methods belong to the chapters that use them.

    The encoder gives the mean ``mu`` and log-variance ``log_var`` of the diagonal Gaussian
    ``q(z | x)``; the forward pass draws ``z`` with :func:`reparameterize` and decodes it. The
    decoder's output is the mean of a Gaussian ``p(x | z)`` of variance ``c``
    (:meth:`log_likelihood`); a model with another likelihood overrides that one method.

    The prior is the module ``self.prior``, ``N(0, I)``
    (:class:`vae_utils.priors.StandardNormalPrior`) unless replaced by a learned one, e.g.
    ``model.prior = vu.priors.VampPrior(x[:500])``;
    :meth:`log_prior`, :meth:`kl_divergence` and :meth:`sample` follow it.

    Args:
        encoder: maps ``x: (batch, input_dim)`` to ``(batch, 2 * latent_dim)``, ``mu`` and
            ``log_var`` side by side.
        decoder: maps ``z: (..., latent_dim)`` to ``x_hat: (..., input_dim)``.
        input_dim: length of a flattened image.
        latent_dim: size of ``z``.
    """

    def __init__(
        self, encoder: nn.Module, decoder: nn.Module, input_dim: int, latent_dim: int
    ) -> None:
        super().__init__()
        self.input_dim, self.latent_dim = input_dim, latent_dim
        self.encoder, self.decoder = encoder, decoder
        self.prior: Prior = StandardNormalPrior()  # no parameters: state dicts are unchanged

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x: (batch, input_dim)`` -> ``mu, log_var: (batch, latent_dim)``."""
        check_input(x, self.input_dim, self)  # floats (..., input_dim) of the weights' type
        mu, log_var = self.encoder(x).chunk(2, dim=-1)
        return mu, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (..., latent_dim)`` -> ``x_hat: (..., input_dim)``, the mean of ``p(x | z)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x: (batch, input_dim)`` -> ``(x_hat, mu, log_var)``; ``x_hat`` decodes a sampled z."""
        mu, log_var = self.encode(x)  # (batch, latent_dim) each
        z = reparameterize(mu, log_var)  # one draw per image, eq. (eq-reparameterisation)
        return self.decode(z), mu, log_var

    def distortion(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The decoder's term of the loss, per example: ``||x - d(z)||^2`` for the Gaussian
        decoder, which the loss weight ``C = 1 / (2 c)`` turns into ``-log p(x | z)`` up to a
        constant (:func:`vae_utils.objective.elbo_objective`). ``x: (n, input_dim)``,
        ``z: (..., n, latent_dim)`` -> ``(..., n)``."""
        return reconstruction_error(x, self.decode(z))

    def log_likelihood(
        self, x: torch.Tensor, z: torch.Tensor, variance: float | None = None
    ) -> torch.Tensor:
        """``log p(x | z)`` of the Gaussian decoder ``N(x; d(z), variance * I)``.

        Args:
            x: ``(n, input_dim)``.
            z: ``(..., n, latent_dim)``, e.g. ``(S, n, latent_dim)`` for ``S`` draws each.
            variance: the decoder variance ``c``; required.

        Returns:
            ``(..., n)``.
        """
        if variance is None:
            raise ValueError(
                "variance is needed for a Gaussian decoder; pass the decoder variance c of the "
                "model (for a loss weight C, c = 1 / (2 C))"
            )
        return gaussian_log_likelihood(x, self.decode(z), variance)

    def log_prior(self, z: torch.Tensor) -> torch.Tensor:
        """``log p(z)`` under the model's prior: ``z: (..., latent_dim)`` -> ``(...)``."""
        return self.prior.log_prob(z, self.encode)

    def kl_divergence(
        self, mu: torch.Tensor, log_var: torch.Tensor, z: torch.Tensor
    ) -> torch.Tensor:
        """The KL term of the ELBO, ``KL[q(z | x) || p(z)]``, per example.

        In closed form for the prior N(0, I) (``z`` is not used); for a learned prior, the one-draw
        Monte Carlo estimate ``log q(z | x) - log p(z)`` at the drawn ``z``: unbiased, and its
        average over many draws is the KL.

        Args:
            mu, log_var: ``(n, latent_dim)``, the encoder's ``q(z | x)``.
            z: ``(..., n, latent_dim)``, draws from ``q(z | x)``.

        Returns:
            ``(n,)`` in closed form, else ``(..., n)``.
        """
        if self.prior.closed_form_kl:
            return kl_to_standard_normal(mu, log_var)
        return diagonal_gaussian_log_prob(z, mu, log_var) - self.log_prior(z)

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``num_samples`` draws from the prior: ``(num_samples, input_dim)``."""
        check_int("num_samples", num_samples, "try num_samples=16")
        check_generator(generator)
        device = next(self.parameters()).device
        z = self.prior.sample(num_samples, self.latent_dim, self.encode, generator, device)
        return self.decode(z)


class VAE(BaseVAE):
    """The course's VAE: MLP encoder and decoder, a decoder ending in a sigmoid (defined in
    chapter 3, ``ch-vae``).

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
        *,
        linear: bool = False,  # a flag, so by name only: VAE(784, linear=True)
    ) -> None:
        encoder, decoder = mlp_encoder_decoder(
            input_dim,
            hidden_dims,
            latent_dim,
            encoder_outputs=2 * latent_dim,
            linear=linear,
            output_activation=None if linear else nn.Sigmoid(),
        )
        super().__init__(encoder, decoder, input_dim, latent_dim)
