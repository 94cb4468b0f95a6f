"""The bounds on a VAE's log-likelihood: the ELBO and the importance-weighted bound.

Probabilistic PCA (:mod:`vae_utils.pca`), whose log-likelihood is exact, is the yardstick the
chapters hold them against.
"""

from __future__ import annotations

import math

import torch

from vae_utils.models import BaseVAE, reparameterize
from vae_utils.validation import check_columns, check_int


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
