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

from vae_utils.models import BaseVAE, reparameterize
from vae_utils.pca import fit_pca
from vae_utils.validation import check_columns, check_int


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
    check_int("latent_dim", latent_dim, "keep a few directions, e.g. latent_dim=2")
    if not latent_dim < input_dim:
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


def _check_ppca(x: torch.Tensor, model: PPCA) -> None:
    if not isinstance(model, PPCA):
        raise ValueError(
            f"model must be a PPCA, got {type(model).__name__}; fit one with "
            "fit_ppca(x, latent_dim)"
        )
    check_columns("x", x, len(model.mean), "pass rows like the data that fit_ppca saw")


def ppca_log_likelihood(x: torch.Tensor, model: PPCA) -> torch.Tensor:
    """Exact ``log p(x)`` under probabilistic PCA, ``(n,)`` float64, for ``x: (n, input_dim)``."""
    _check_ppca(x, model)
    covariance = model.weight @ model.weight.T
    covariance += model.noise_variance * torch.eye(len(model.mean), dtype=torch.float64)
    # unvalidated, so that a NaN image gets a NaN log-likelihood and the others their own
    distribution = torch.distributions.MultivariateNormal(
        model.mean, covariance_matrix=covariance, validate_args=False
    )
    return distribution.log_prob(x.to(torch.float64))


def ppca_posterior(x: torch.Tensor, model: PPCA) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact posterior ``p(z | x) = N(M^-1 W^T (x - mean), sigma^2 M^-1)``, ``M = W^T W +
    sigma^2 I``.

    Returns:
        ``mean: (n, latent_dim)`` and the covariance ``(latent_dim, latent_dim)``, which is the
        same for every ``x``.
    """
    _check_ppca(x, model)
    latent_dim = model.weight.shape[1]
    m = model.weight.T @ model.weight + model.noise_variance * torch.eye(latent_dim).double()
    m_inverse = torch.linalg.inv(m)
    mean = (x.to(torch.float64) - model.mean) @ model.weight @ m_inverse.T
    return mean, model.noise_variance * m_inverse


def check_num_samples(num_samples: int) -> None:
    """Raise ``ValueError`` unless ``num_samples``, the draws of ``z`` per image, is a positive
    int."""
    check_int("num_samples", num_samples, "try num_samples=100")


def elbo(
    model: BaseVAE,
    x: torch.Tensor,
    variance: float | None,
    num_samples: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte Carlo ELBO of a VAE, per example: ``E_q[log p(x | z)] - KL[q(z|x) || p(z)]``
    (eq. ``eq-elbo-identity``; defined in chapter 5, ``ch-maths``).

    The expectation over ``num_samples`` draws of ``z``; the KL in closed form for the prior
    N(0, I), else estimated from the same draws (:meth:`vae_utils.models.BaseVAE.kl_divergence`).

    Args:
        model: any VAE of the course, e.g. a :class:`vae_utils.VAE` (Gaussian decoder of
            variance ``variance``) or a :class:`vae_utils.bernoulli.BernoulliVAE`
            (``variance=None``).
        x: ``(n, input_dim)``.
        variance: the decoder variance ``c``, or ``None`` for a Bernoulli decoder.
        num_samples: draws of ``z`` per example.
        generator: draws ``z`` from this generator; the global one by default.

    Returns:
        ``(n,)``.
    """
    check_num_samples(num_samples)
    with torch.no_grad():
        mu, log_var = model.encode(x)
        shape = (num_samples, *mu.shape)
        z = reparameterize(mu.expand(shape), log_var.expand(shape), generator)  # (S, n, latent)
        expected = model.log_likelihood(x, z, variance).mean(dim=0)
        # closed form (n,) for the prior N(0, I); one estimate per draw (S, n) for a learned prior
        return expected - model.kl_divergence(mu, log_var, z).reshape(-1, len(x)).mean(dim=0)


def importance_weighted_bound(
    model: BaseVAE,
    x: torch.Tensor,
    variance: float | None,
    num_samples: int,
    max_elements: int = 2_000_000,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Burda et al. (2015)'s bound ``L_k = E log (1/k) sum_i p(x, z_i) / q(z_i | x)``, per example
    (eq. ``eq-iwae-bound``, chapter 10).

    ``L_1`` is the ELBO; ``L_k`` rises with ``k`` towards ``log p(x)``. The ``k`` draws are taken
    in chunks so that no intermediate holds more than about ``max_elements`` numbers: ``k`` in
    the thousands fits in memory, and chunks of 2 million numbers (8 MB) stay in the CPU's cache,
    which halves the time of ``k = 1000`` on 500 images against chunks of 20 million.

    Args:
        model: a :class:`vae_utils.VAE` or :class:`vae_utils.bernoulli.BernoulliVAE`.
        x: ``(n, input_dim)``.
        variance: the decoder variance ``c``, or ``None`` for a Bernoulli decoder.
        num_samples: ``k``, draws of ``z`` per example.
        max_elements: memory bound of one chunk.
        generator: draws ``z`` from this generator; the global one by default.

    Returns:
        ``(n,)``, one estimate of ``L_k`` from ``k`` draws per example.
    """
    check_num_samples(num_samples)
    check_int("max_elements", max_elements, "keep the default, 2_000_000 (8 MB per chunk)")
    check_columns("x", x, model.input_dim, "flatten images with x.view(len(x), -1)", min_rows=0)
    chunk = max(1, min(num_samples, max_elements // max(1, x.numel())))
    with torch.no_grad():
        mu, log_var = model.encode(x)
        std = (0.5 * log_var).exp()
        # unvalidated, so that a NaN image gets a NaN bound and the others their own
        posterior = torch.distributions.Normal(mu, std, validate_args=False)
        log_sum = torch.full(mu.shape[:1], -math.inf, device=mu.device, dtype=mu.dtype)
        for start in range(0, num_samples, chunk):
            size = min(chunk, num_samples - start)
            shape = (size, *mu.shape)
            z = reparameterize(
                mu.expand(shape), log_var.expand(shape), generator
            )  # (size, n, latent)
            log_q = posterior.log_prob(z).sum(dim=-1)
            log_weights = model.log_likelihood(x, z, variance) + model.log_prior(z) - log_q
            log_sum = torch.logaddexp(log_sum, torch.logsumexp(log_weights, dim=0))
        return log_sum - math.log(num_samples)
