"""ELBO surgery: how much of the rate is the prior's fault.

The rate, the KL term averaged over the data, splits into two parts (Hoffman and Johnson 2016):

    (1/N) sum_n KL[q(z | x_n) || p(z)] = I(n; z) + KL[q(z) || p(z)],

where ``q(z) = (1/N) sum_n q(z | x_n)`` is the *aggregate posterior*, the distribution of all the
codes together. The mutual information ``I(n; z)`` between an image's index and its code, at most
``log N``, is what the codes tell about the images; the marginal KL is what the prior fails to
match of the codes. Only the second can be removed, by a prior that learns ``q(z)``.
"""

from __future__ import annotations

from typing import Literal

import torch

from vae_utils.models import BaseVAE, reparameterize
from vae_utils.priors import (
    diagonal_gaussian_log_prob,
    gaussian_mixture_log_prob,
)
from vae_utils.validation import (
    check_columns,
    check_finite,
)

PriorName = Literal["standard", "mixture", "vamp"]


def elbo_surgery(
    model: BaseVAE,
    x: torch.Tensor,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """Split the rate of ``model`` on ``x`` into mutual information and marginal KL.

    One code ``z_n ~ q(z | x_n)`` per image; ``log q(z_n)`` is the exact log-density of the
    aggregate posterior of ``x``, the mixture of all ``N`` posteriors (the image's own included).

    Args:
        model: a VAE of the course, with any prior.
        x: ``(N, input_dim)``, e.g. the 10,000 test images.
        generator: draws the codes; the global generator by default.

    Returns:
        ``{"rate", "mutual_information", "marginal_kl"}`` in nats per image; the first is the sum
        of the other two, the mutual information is at most ``log N``. The rate is the average of
        one-draw estimates of the KL per image, the same draws for all three.
    """
    check_columns("x", x, model.input_dim, "pass images, e.g. x_test of load_fashion_mnist")
    check_finite("x", x)  # one NaN code would spoil every image's aggregate posterior
    with torch.no_grad():
        mu, log_var = model.encode(x)
        z = reparameterize(mu, log_var, generator)  # (N, latent_dim)
        log_q_aggregate = gaussian_mixture_log_prob(z, mu, log_var).double()  # (N,)
        log_prior = model.log_prior(z).double()
        log_q_own = diagonal_gaussian_log_prob(z, mu, log_var).double()
    rate = (log_q_own - log_prior).mean().item()
    marginal_kl = (log_q_aggregate - log_prior).mean().item()
    return {"rate": rate, "mutual_information": rate - marginal_kl, "marginal_kl": marginal_kl}
