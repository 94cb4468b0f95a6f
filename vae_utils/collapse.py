"""Spotting posterior collapse: how much each latent dimension is used.

A latent dimension the encoder ignores has ``q(z_j | x) = N(0, 1)`` for every image: its KL term is
zero and its mean does not vary across images. Two diagnostics follow: the KL of each dimension,
averaged over the data, and the number of *active units* (Burda et al. 2015), the dimensions whose
posterior mean varies across the data by more than a small threshold.
"""

from __future__ import annotations

import torch

from vae_utils.validation import (
    check_finite,
    check_matrix,
    check_non_negative,
    check_positive_number,
)


def _check_codes(mu: torch.Tensor, log_var: torch.Tensor | None = None, min_rows: int = 1) -> None:
    hint = "pass the encoder's means for a batch of images, e.g. model.encode(x)[0]"
    check_matrix("mu", mu, hint, min_rows)
    if log_var is not None and log_var.shape != mu.shape:
        raise ValueError(
            f"log_var must have mu's shape {tuple(mu.shape)}, got {tuple(log_var.shape)}"
        )


def kl_per_dimension(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``KL[q(z_j | x) || N(0, 1)]`` of each latent dimension, averaged over the images.

    Args:
        mu, log_var: ``(n, latent_dim)`` from the encoder.

    Returns:
        ``(latent_dim,)``, in nats; they sum to the mean KL term of the loss.

    Example:
        >>> kl_per_dimension(torch.zeros(4, 2), torch.zeros(4, 2))
        tensor([0., 0.])
    """
    _check_codes(mu, log_var)
    return (0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var)).mean(dim=0)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> torch.Tensor:
    """Which latent dimensions are active: ``Var_x(E_q[z_j | x]) > threshold`` (Burda et al. 2015).

    Args:
        mu: ``(n, latent_dim)`` posterior means of ``n`` images.
        threshold: the variance below which a dimension counts as unused; 0.01 as in the paper.

    Returns:
        ``(latent_dim,)`` booleans; ``.sum()`` is the number of active units.

    Example:
        >>> mu = torch.stack([torch.randn(100), torch.full((100,), 0.3)], dim=1)
        >>> active_units(mu).tolist()
        [True, False]
    """
    _check_codes(mu, min_rows=2)  # a variance across images needs two of them
    check_finite("mu", mu)  # a NaN variance is never above the threshold: a silent "inactive"
    check_positive_number("threshold", threshold, "try 0.01")
    if not mu.is_floating_point():
        mu = mu.double()  # var needs floats
    return mu.var(dim=0) > threshold


def free_bits_kl(mu: torch.Tensor, log_var: torch.Tensor, free_bits: float) -> torch.Tensor:
    """The KL term with free bits (Kingma et al. 2016): ``sum_j max(free_bits, KL_j)``.

    ``KL_j`` is the batch mean of ``KL[q(z_j | x) || N(0, 1)]``, the KL of latent dimension
    ``j``. Below the floor the clamp is constant, so its gradient is zero: the optimiser gains
    nothing by pushing a dimension's KL under ``free_bits`` nats, and the reconstruction term is
    free to use those nats; dimensions stay in use. Above the floor the gradient is the plain
    KL's. The result is a training objective, not the ELBO's KL: report the plain KL.

    Args:
        mu, log_var: ``(batch, latent_dim)`` from the encoder, ``batch >= 2``.
        free_bits: the floor ``lambda`` on each dimension's KL, in nats, ``>= 0``; with 0 the
            result is the plain batch-mean KL (up to float rounding: the sums run in another
            order than in ``kl_to_standard_normal(mu, log_var).mean()``).

    Returns:
        A scalar tensor, the term to add to a batch-mean loss.

    Example:
        >>> mu = torch.tensor([[0.0, 2.0], [0.0, 2.0]])  # KL of 0 and 2 nats
        >>> free_bits_kl(mu, torch.zeros(2, 2), free_bits=0.5)  # 0.5 + 2
        tensor(2.5000)
    """
    check_non_negative("free_bits", free_bits, "try free_bits=0.5 (nats per latent dimension)")
    per_dimension = kl_per_dimension(mu, log_var)  # (latent_dim,), averaged over the batch
    return torch.clamp(per_dimension, min=free_bits).sum()
