"""The training objective of every VAE of the course, on the model's own decoder and prior.

Batch mean of ``C * distortion + kl_weight * KL`` (eq. ``eq-vae-loss`` of chapter 3 with its
options): the decoder's term ``model.distortion(x, z)`` at one drawn ``z`` per image
(``||x - d(z)||^2`` for a Gaussian decoder, which ``C = 1 / (2 c)`` turns into
``-log p(x | z)`` up to a constant; ``-log p(x | z)`` itself for a Bernoulli one, with ``C = 1``),
and the KL term ``model.kl_divergence`` (closed form for ``N(0, I)``, the one-draw estimate
``log q(z | x) - log p(z)`` for a learned prior). ``kl_weight`` is the warm-up's weight
(chapter 11), ``free_bits`` the floor on each latent dimension's KL
(:func:`vae_utils.free_bits_kl`).
With ``kl_weight = 1``, no free bits and the prior ``N(0, I)`` it is chapter 3's
:func:`vae_utils.vae_objective` with the same ``C``, bit for bit; with a Bernoulli decoder and
``C = 1`` it is the negative ELBO.
"""

from __future__ import annotations

import torch

from vae_utils.collapse import free_bits_kl
from vae_utils.models import BaseVAE, reparameterize
from vae_utils.validation import check_loss_weight, check_non_negative

Weight = float | torch.Tensor  # a tensor when fit_together trains one model per weight
Terms = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def elbo_terms(
    model: BaseVAE, x: torch.Tensor, C: Weight, kl_weight: Weight, free_bits: float
) -> Terms:
    """``(loss, rate, distortion)`` of a batch ``x: (batch, input_dim)``: the scalar loss of
    :func:`elbo_objective`, and the plain KL and the decoder's term of each image, ``(batch,)``
    each, as :class:`vae_utils.remedies.KLWarmup` records them."""
    check_loss_weight("C", C, "try C=1.0")
    if not isinstance(kl_weight, torch.Tensor):
        check_non_negative("kl_weight", kl_weight, "try kl_weight=1.0, or a value of kl_warmup")
    check_non_negative("free_bits", free_bits, "try free_bits=0.5 (nats per latent dimension)")
    if free_bits > 0 and not model.prior.closed_form_kl:
        raise ValueError(
            f"free_bits must be 0 with a learned prior, got {free_bits}: free bits floor the KL "
            "of each latent dimension, which only the prior N(0, I) gives in closed form"
        )
    mu, log_var = model.encode(x)  # (batch, latent_dim) each
    z = reparameterize(mu, log_var)  # one draw per image
    distortion = model.distortion(x, z)  # (batch,)
    rate = model.kl_divergence(mu, log_var, z)  # (batch,)
    if free_bits == 0:
        # summed per image, then averaged: vae_loss's order, so the defaults give its value
        loss = (C * distortion + kl_weight * rate).mean()
    else:
        loss = (C * distortion).mean() + kl_weight * free_bits_kl(mu, log_var, free_bits)
    return loss, rate, distortion


def elbo_objective(
    model: BaseVAE,
    x: torch.Tensor,
    C: Weight = 1.0,
    kl_weight: Weight = 1.0,
    free_bits: float = 0.0,
) -> torch.Tensor:
    """The training loss of any VAE of the course on a batch, for :func:`vae_utils.fit`.

    Batch mean of ``C * model.distortion(x, z) + kl_weight * KL`` at one draw of ``z`` per
    image, the KL under the model's own prior; see the module's docstring.

    Args:
        model: a :class:`vae_utils.models.BaseVAE` (a VAE, a ConvVAE, a BernoulliVAE, ...), its
            prior in ``model.prior``.
        x: ``(batch, input_dim)``.
        C: the positive weight on the decoder's term; a 0-d tensor when
            :func:`vae_utils.fit_together` trains models for several weights at once.
        kl_weight: the weight ``>= 0`` on the KL term, e.g. from
            :func:`vae_utils.remedies.kl_warmup`.
        free_bits: the floor on each latent dimension's batch-mean KL, in nats; 0 for none (and
            with a learned prior).

    Returns:
        A scalar tensor.

    Example:
        >>> from functools import partial
        >>> from vae_utils.models import VAE
        >>> loss_fn = partial(elbo_objective, C=10.0, kl_weight=0.1, free_bits=0.5)
        >>> loss_fn(VAE(20, (16,), 4), torch.rand(8, 20)).shape
        torch.Size([])
    """
    return elbo_terms(model, x, C, kl_weight, free_bits)[0]
