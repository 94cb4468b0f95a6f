"""Log-likelihoods: a Gaussian decoder's, the exact one of probabilistic PCA, the ELBO and the
importance-weighted bound.

Probabilistic PCA (Tipping and Bishop 1999) is the linear Gaussian model
``z ~ N(0, I)``, ``x | z ~ N(W z + mean, noise_variance * I)``; its marginal
``p(x) = N(mean, W W^T + noise_variance * I)`` and posterior ``p(z | x)`` are exact, which makes it
the yardstick for the bounds that a VAE optimises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from vae_utils.losses import kl_to_standard_normal
from vae_utils.models import VAE
from vae_utils.pca import fit_pca


def _check_variance(variance: float) -> None:
    if isinstance(variance, bool) or not isinstance(variance, int | float) or not variance > 0:
        raise ValueError(
            f"variance must be a positive number, got {variance!r}; the loss weight c of the "
            "book corresponds to variance = 1 / (2 c)"
        )


def gaussian_log_likelihood(x: torch.Tensor, x_hat: torch.Tensor, variance: float) -> torch.Tensor:
    """``log N(x; x_hat, variance * I)`` of each example.

    Args:
        x, x_hat: ``(..., features)``; the last dimension is summed over.
        variance: the decoder's variance ``c`` per pixel.

    Returns:
        ``x.shape[:-1]``.

    Example:
        >>> gaussian_log_likelihood(torch.zeros(2, 1), torch.zeros(2, 1), 1.0)
        tensor([-0.9189, -0.9189])
    """
    _check_variance(variance)
    dim = x.shape[-1]
    squared_error = (x - x_hat).pow(2).sum(dim=-1)
    return -0.5 * dim * math.log(2 * math.pi * variance) - squared_error / (2 * variance)


@dataclass(frozen=True)
class PPCA:
    """Probabilistic PCA parameters, float64.

    Attributes:
        mean: ``(input_dim,)``.
        weight: ``(input_dim, latent_dim)`` the matrix ``W``.
        noise_variance: the isotropic noise variance ``sigma^2``.
    """

    mean: torch.Tensor
    weight: torch.Tensor
    noise_variance: float


def fit_ppca(x: torch.Tensor, latent_dim: int) -> PPCA:
    """Maximum-likelihood probabilistic PCA from the eigen-decomposition of the covariance.

    ``sigma^2`` is the mean of the discarded eigenvalues and ``W = U_k (L_k - sigma^2 I)^(1/2)``
    (Tipping and Bishop 1999, eqs. 7-8, with the rotation R = I).

    Args:
        x: ``(n, input_dim)`` data.
        latent_dim: ``k``, between 1 and ``input_dim - 1``.
    """
    pca = fit_pca(x)
    input_dim = len(pca.eigenvalues)
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int):
        raise ValueError(f"latent_dim must be an int, got {latent_dim!r}")
    if not 1 <= latent_dim < input_dim:
        raise ValueError(
            f"latent_dim must be between 1 and {input_dim - 1}, got {latent_dim}; "
            "probabilistic PCA needs at least one discarded direction to estimate the noise"
        )
    noise_variance = pca.eigenvalues[latent_dim:].mean().item()
    if noise_variance <= 0:
        raise ValueError("the discarded eigenvalues are all zero; add noise or lower latent_dim")
    scales = (pca.eigenvalues[:latent_dim] - noise_variance).clamp(min=0).sqrt()
    weight = pca.components[:, :latent_dim] * scales
    return PPCA(mean=pca.mean, weight=weight, noise_variance=noise_variance)


def ppca_log_likelihood(x: torch.Tensor, model: PPCA) -> torch.Tensor:
    """Exact ``log p(x)`` under probabilistic PCA, ``(n,)`` float64, for ``x: (n, input_dim)``."""
    covariance = model.weight @ model.weight.T
    covariance += model.noise_variance * torch.eye(len(model.mean), dtype=torch.float64)
    distribution = torch.distributions.MultivariateNormal(model.mean, covariance_matrix=covariance)
    return distribution.log_prob(x.to(torch.float64))


def ppca_posterior(x: torch.Tensor, model: PPCA) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact posterior ``p(z | x) = N(M^-1 W^T (x - mean), sigma^2 M^-1)``, ``M = W^T W +
    sigma^2 I``.

    Returns:
        ``mean: (n, latent_dim)`` and the covariance ``(latent_dim, latent_dim)``, which is the
        same for every ``x``.
    """
    latent_dim = model.weight.shape[1]
    m = model.weight.T @ model.weight + model.noise_variance * torch.eye(latent_dim).double()
    m_inverse = torch.linalg.inv(m)
    mean = (x.to(torch.float64) - model.mean) @ model.weight @ m_inverse.T
    return mean, model.noise_variance * m_inverse


def elbo(model: VAE, x: torch.Tensor, variance: float, num_samples: int = 1) -> torch.Tensor:
    """Monte Carlo ELBO of a VAE with a Gaussian decoder of fixed ``variance``, per example.

    ``E_q[log N(x; d(z), variance I)] - KL[q(z|x) || N(0, I)]``, the expectation over
    ``num_samples`` draws of ``z`` and the KL in closed form.

    Args:
        model: a :class:`vae_utils.VAE`.
        x: ``(n, input_dim)``.
        variance: the decoder variance ``c``.
        num_samples: draws of ``z`` per example.

    Returns:
        ``(n,)``.
    """
    _check_variance(variance)
    with torch.no_grad():
        mu, log_var = model.encode(x)
        z = mu + (0.5 * log_var).exp() * torch.randn(
            num_samples, *mu.shape, device=mu.device, dtype=mu.dtype
        )  # (S, n, latent)
        expected = gaussian_log_likelihood(x, model.decode(z), variance).mean(dim=0)
        return expected - kl_to_standard_normal(mu, log_var)


def importance_weighted_bound(
    model: VAE, x: torch.Tensor, variance: float, num_samples: int
) -> torch.Tensor:
    """Burda et al. (2015)'s bound ``L_k = E log (1/k) sum_i p(x, z_i) / q(z_i | x)``, per example.

    ``L_1`` is the ELBO; ``L_k`` rises with ``k`` towards ``log p(x)``.

    Returns:
        ``(n,)``, one estimate from ``num_samples`` draws per example.
    """
    _check_variance(variance)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int, got {num_samples!r}; try 100")
    with torch.no_grad():
        mu, log_var = model.encode(x)
        std = (0.5 * log_var).exp()
        z = mu + std * torch.randn(
            num_samples, *mu.shape, device=mu.device, dtype=mu.dtype
        )  # (k, n, latent)
        standard = torch.distributions.Normal(0.0, 1.0)
        log_prior = standard.log_prob(z).sum(dim=-1)
        log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(dim=-1)
        log_decoder = gaussian_log_likelihood(x, model.decode(z), variance)
        log_weights = log_decoder + log_prior - log_q  # (k, n)
        return torch.logsumexp(log_weights, dim=0) - math.log(num_samples)
