"""Losses: reconstruction error, the closed-form KL to N(0, I), the VAE loss and the Gaussian
decoder's log-likelihood.

The VAE loss of the course is, per image, ``C * ||x - x_hat||^2 + KL[N(mu, sigma^2), N(0, I)]``,
averaged over the batch, with ``C`` the loss weight. For a Gaussian decoder of variance ``c`` the
negative log-likelihood is ``||x - x_hat||^2 / (2 c)`` plus a constant, so ``C = 1 / (2 c)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vae_utils.validation import (
    broadcastable,
    check_floats,
    check_matrix,
    check_positive_number,
    check_same_shape,
    check_vae_loss_arguments,
    shape_or_type,
)


def reconstruction_error(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Squared error ``||x - x_hat||^2`` of each example, summed over features (eq.
    ``eq-reconstruction-error``, chapter 1).

    Args:
        x, x_hat: ``(batch, features)``.

    Returns:
        ``(batch,)``.

    Example:
        >>> reconstruction_error(torch.ones(3, 4), torch.zeros(3, 4))
        tensor([4., 4., 4.])
    """
    check_same_shape("x", x, "x_hat", x_hat)
    check_floats("x", x)  # the squares of bytes 0..255 would be in units of 255**2
    # mse_loss squares the differences in one pass, and its gradient in another, where
    # (x - x_hat).pow(2) takes three of each
    return F.mse_loss(x_hat, x, reduction="none").sum(dim=1)


def kl_to_standard_normal(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL[N(mu, diag(exp(log_var))) || N(0, I)] in closed form, one value per example (eq.
    ``eq-kl-closed-form``; defined in chapter 3, ``ch-vae``).

    ``0.5 * sum(mu^2 + exp(log_var) - 1 - log_var)`` over the latent dimensions.

    Args:
        mu, log_var: ``(batch, latent_dim)``.

    Returns:
        ``(batch,)``, non-negative, zero exactly when ``mu = 0`` and ``log_var = 0``.

    Example:
        >>> kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3))
        tensor([0., 0.])
    """
    check_same_shape("mu", mu, "log_var", log_var)
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=1)


def vae_loss(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    mu: torch.Tensor,
    log_var: torch.Tensor,
    C: float | torch.Tensor,
) -> torch.Tensor:
    """Batch mean of ``C * ||x - x_hat||^2 + KL[N(mu, sigma^2) || N(0, I)]`` (eq. ``eq-vae-loss``).

    Defined in chapter 3 (``ch-vae``). A number ``C`` is checked here, at every batch, which
    costs nothing; a tensor ``C`` (from :func:`vae_utils.fit_together`) where it is built.

    Args:
        x, x_hat: ``(batch, input_dim)``.
        mu, log_var: ``(batch, latent_dim)``.
        C: the positive loss weight on the reconstruction error; ``C = 1 / (2 c)`` for a
            Gaussian decoder of variance ``c``. A 0-d tensor when :func:`vae_utils.fit_together`
            trains models for several weights at once.

    Returns:
        A scalar tensor.

    Example:
        >>> x = torch.ones(3, 4)
        >>> vae_loss(x, torch.zeros(3, 4), torch.zeros(3, 2), torch.zeros(3, 2), C=0.5)
        tensor(2.)
    """
    check_vae_loss_arguments(x, mu, C)  # C > 0, and one row of mu per image
    reconstruction = reconstruction_error(x, x_hat)  # (batch,)
    kl = kl_to_standard_normal(mu, log_var)  # (batch,)
    return (C * reconstruction + kl).mean()


def autoencoder_objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Training loss of an autoencoder on a batch ``x: (batch, input_dim)``: the squared error
    ``||x - model(x)||^2`` per image, averaged over the batch (a scalar; eq.
    ``eq-autoencoder-objective``; defined in chapter 2, ``ch-autoencoders``)."""
    return reconstruction_error(x, model(x)).mean()


def vae_objective(model: nn.Module, x: torch.Tensor, C: float | torch.Tensor) -> torch.Tensor:
    """Training loss of a VAE on a batch: :func:`vae_loss` of the model's ``(x_hat, mu, log_var)``
    (defined in chapter 3, ``ch-vae``).

    Use ``functools.partial(vae_objective, C=...)`` to hand it to :func:`vae_utils.fit`.
    """
    x_hat, mu, log_var = model(x)
    return vae_loss(x, x_hat, mu, log_var, C)


def calibrated_vae_objective(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Negative ELBO of a VAE whose Gaussian decoder variance ``c`` is learned (Rybkin et al. 2021;
    eq. ``eq-calibrated-loss``, chapter 10).

    For a given decoder the ``c`` that maximises the likelihood is the mean squared error per
    pixel, ``c* = mean ||x - x_hat||^2 / D``; plugging it in gives, per image and up to a constant,
    ``D/2 * log(c*) + KL``. Here ``c*`` is computed on the batch, so no loss weight is chosen.
    """
    check_matrix("x", x, "flatten images with x.view(len(x), -1)")
    x_hat, mu, log_var = model(x)
    dim = x.shape[1]
    variance = reconstruction_error(x, x_hat).mean() / dim
    return 0.5 * dim * torch.log(variance) + kl_to_standard_normal(mu, log_var).mean()


def gaussian_log_likelihood(x: torch.Tensor, x_hat: torch.Tensor, variance: float) -> torch.Tensor:
    """``log N(x; x_hat, variance * I)`` of each example: the Gaussian decoder of chapter 5, whose
    negative log-likelihood gives the loss weight ``C = 1 / (2 c)`` (eq. ``eq-c-from-variance``).

    Args:
        x, x_hat: ``(..., features)``, broadcast together; the last dimension is summed over.
        variance: the decoder's variance ``c`` per pixel (the loss weight is ``C = 1 / (2 c)``).

    Returns:
        The broadcast shape without its last dimension.

    Example:
        >>> gaussian_log_likelihood(torch.zeros(2, 1), torch.zeros(2, 1), 1.0)
        tensor([-0.9189, -0.9189])
    """
    check_positive_number(
        "variance", variance, "pass the decoder variance c; a loss weight C means c = 1 / (2 C)"
    )
    _check_broadcast(x, x_hat)
    dim = x.shape[-1]
    squared_error = (x - x_hat).pow(2).sum(dim=-1)
    return -0.5 * dim * math.log(2 * math.pi * variance) - squared_error / (2 * variance)


def _check_broadcast(x: object, x_hat: object) -> None:
    """Raise ``ValueError`` unless ``x`` and ``x_hat`` are tensors of one number of features
    whose shapes broadcast together."""
    if isinstance(x, torch.Tensor) and isinstance(x_hat, torch.Tensor) and x.ndim and x_hat.ndim:
        if broadcastable(x.shape, x_hat.shape) and x.shape[-1] == x_hat.shape[-1]:
            return
    raise ValueError(
        f"x and x_hat must be tensors (..., features) of one number of features whose shapes "
        f"broadcast together, got {shape_or_type(x)} and {shape_or_type(x_hat)}; "
        "pass x_hat = model.decode(z) for the images x"
    )
