"""Losses: reconstruction error, the closed-form KL to N(0, I), and the VAE loss.

The VAE loss of the course is, per image, ``c * ||x - x_hat||^2 + KL[N(mu, sigma^2), N(0, I)]``,
averaged over the batch. ``c`` is the loss weight C of the book.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _check_pair(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must both have shape (batch, features), got "
            f"{tuple(a.shape)} and {tuple(b.shape)}; flatten images with x.view(len(x), -1)"
        )


def reconstruction_error(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Squared error ``||x - x_hat||^2`` of each example, summed over features.

    Args:
        x, x_hat: ``(batch, features)``.

    Returns:
        ``(batch,)``.

    Example:
        >>> reconstruction_error(torch.ones(3, 4), torch.zeros(3, 4))
        tensor([4., 4., 4.])
    """
    _check_pair("x", x, "x_hat", x_hat)
    return (x - x_hat).pow(2).sum(dim=1)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL[N(mu, diag(exp(log_var))) || N(0, I)] in closed form, one value per example.

    ``0.5 * sum(mu^2 + exp(log_var) - 1 - log_var)`` over the latent dimensions.

    Args:
        mu, log_var: ``(batch, latent_dim)``.

    Returns:
        ``(batch,)``, non-negative, zero exactly when ``mu = 0`` and ``log_var = 0``.

    Example:
        >>> kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3))
        tensor([0., 0.])
    """
    _check_pair("mu", mu, "log_var", log_var)
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1)


def _check_c(c: float) -> None:
    if isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c) or c <= 0:
        raise ValueError(f"c must be a positive number, got {c!r}; try c=1.0")


def vae_loss(
    x: torch.Tensor, x_hat: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor, c: float
) -> torch.Tensor:
    """Batch mean of ``c * ||x - x_hat||^2 + KL[N(mu, sigma^2) || N(0, I)]``.

    Args:
        x, x_hat: ``(batch, input_dim)``.
        mu, log_var: ``(batch, latent_dim)``.
        c: the positive weight C on the reconstruction error.

    Returns:
        A scalar tensor.
    """
    _check_c(c)
    if len(mu) != len(x):
        raise ValueError(
            f"mu and x must have the same batch size, got {len(mu)} and {len(x)}; "
            "pass the encoder outputs of this batch"
        )
    return (c * reconstruction_error(x, x_hat) + kl_to_standard_normal(mu, log_var)).mean()


def autoencoder_objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Training loss of an autoencoder on a batch ``x: (batch, input_dim)``: mean squared error
    ``||x - model(x)||^2`` per image, averaged over the batch (a scalar)."""
    return reconstruction_error(x, model(x)).mean()


def vae_objective(model: nn.Module, x: torch.Tensor, c: float) -> torch.Tensor:
    """Training loss of a VAE on a batch: :func:`vae_loss` of the model's ``(x_hat, mu, log_var)``.

    Use ``functools.partial(vae_objective, c=...)`` to hand it to :func:`vae_utils.fit`.
    """
    x_hat, mu, log_var = model(x)
    return vae_loss(x, x_hat, mu, log_var, c)


def calibrated_vae_objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Negative ELBO of a VAE whose Gaussian decoder variance ``c`` is learned (Rybkin et al. 2021).

    For a given decoder the ``c`` that maximises the likelihood is the mean squared error per
    pixel, ``c* = mean ||x - x_hat||^2 / D``; plugging it in gives, per image and up to a constant,
    ``D/2 * log(c*) + KL``. Here ``c*`` is computed on the batch, so no loss weight is chosen.
    """
    x_hat, mu, log_var = model(x)
    dim = x.shape[1]
    variance = reconstruction_error(x, x_hat).mean() / dim
    return 0.5 * dim * torch.log(variance) + kl_to_standard_normal(mu, log_var).mean()
