"""Remedies for posterior collapse: KL warm-up (single or cyclical) and free bits.

Early in training the KL term is the easiest part of the loss to lower: setting
``q(z_j | x) = N(0, 1)`` for every image makes it zero before the decoder has learned to use
``z``. Two remedies keep latent dimensions in use. *KL warm-up* weighs the KL term by a factor
that rises from near 0 to 1, so the model first learns to reconstruct: linearly here, as in
Sønderby et al. (2016); Bowman et al. (2016), who introduced KL annealing, raised it along a
sigmoid. *Free bits* (Kingma et al. 2016) charge nothing for the first ``free_bits`` nats of each
latent dimension's KL.
"""

from __future__ import annotations

import torch
from torch import nn

from vae_utils.objective import elbo_terms
from vae_utils.validation import check_int, check_non_negative, check_positive_number


def kl_warmup(step: int, warmup_steps: int) -> float:
    """KL weight of a linear warm-up (Sønderby et al. 2016): ``min(1, (step + 1) / warmup_steps)``.

    The weight is ``1 / warmup_steps`` at the first step, never 0, and reaches 1 at step
    ``warmup_steps - 1``. A step can be an optimiser step (as in :class:`KLWarmup`) or an epoch
    (as in ``scripts/train_bernoulli_vae.py``); count ``warmup_steps`` in the same unit.

    Args:
        step: the current step, counted from 0.
        warmup_steps: the number of steps over which the weight rises to 1.

    Returns:
        The weight in ``(0, 1]``.

    Example:
        >>> [kl_warmup(step, 4) for step in range(6)]
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """
    check_int("step", step, "count steps from 0", minimum=0)
    check_int("warmup_steps", warmup_steps, "try warmup_steps=10, or kl_weight=1.0 for no warm-up")
    return min(1.0, (step + 1) / warmup_steps)


class KLWarmup:
    """A loss for :func:`vae_utils.fit` whose KL weight rises linearly over the first steps.

    Each call is one optimiser step: it computes :func:`vae_utils.elbo_objective` with the weight
    ``kl_warmup(step, warmup_steps)``, then advances ``step``. Along the way it records, one
    float per step, the weight (``kl_weights``), the *rate* (the batch-mean plain KL, without
    free bits, in nats: ``rates``) and the *distortion* (the batch-mean ``||x - x_hat||^2``,
    not multiplied by ``C``: ``distortions``), so that a chapter can plot the schedule and the
    training curves. Use a fresh one per training run and call it on training batches only;
    it suits :func:`vae_utils.fit`, not :func:`vae_utils.fit_together`.

    With ``cycle_steps`` the warm-up starts again every ``cycle_steps`` steps: the *cyclical
    annealing* of Fu et al. (2019), whose weight climbs from near 0 to 1 over the first
    ``warmup_steps`` of each cycle and stays at 1 for the rest of it.

    Args:
        C: the positive loss weight on the reconstruction error.
        warmup_steps: the number of optimiser steps over which the KL weight rises to 1.
        free_bits: the floor on each latent dimension's KL, in nats (:func:`free_bits_kl`).
        cycle_steps: the length of a cycle in optimiser steps, ``>= warmup_steps``; ``None``
            for a single warm-up.

    Example:
        >>> from vae_utils.models import VAE
        >>> loss_fn = KLWarmup(C=10.0, warmup_steps=4)
        >>> for _ in range(2):
        ...     loss = loss_fn(VAE(20, (16,), 4), torch.rand(8, 20))
        >>> loss_fn.step, loss_fn.kl_weights
        (2, [0.25, 0.5])
    """

    def __init__(
        self,
        C: float,
        warmup_steps: int,
        free_bits: float = 0.0,
        cycle_steps: int | None = None,
    ) -> None:
        check_positive_number("C", C, "try C=1.0")
        check_int("warmup_steps", warmup_steps, "try warmup_steps=1000 (optimiser steps)")
        check_non_negative("free_bits", free_bits, "try free_bits=0.5 (nats per latent dimension)")
        if cycle_steps is not None:
            check_int("cycle_steps", cycle_steps, "try one epoch's steps, or None for no cycles")
            if cycle_steps < warmup_steps:
                raise ValueError(
                    f"cycle_steps ({cycle_steps}) must be at least warmup_steps ({warmup_steps}): "
                    "the weight rises within each cycle; try cycle_steps=2 * warmup_steps"
                )
        self.C, self.warmup_steps, self.free_bits = C, warmup_steps, free_bits
        self.cycle_steps = cycle_steps
        self.step = 0  # optimiser steps taken so far
        self.kl_weights: list[float] = []
        self.rates: list[float] = []
        self.distortions: list[float] = []

    def __call__(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The loss of the batch ``x: (batch, input_dim)`` at the current step; a scalar."""
        step_in_cycle = self.step if self.cycle_steps is None else self.step % self.cycle_steps
        kl_weight = kl_warmup(step_in_cycle, self.warmup_steps)
        loss, rate, distortion = elbo_terms(model, x, self.C, kl_weight, self.free_bits)
        self.kl_weights.append(kl_weight)
        # .item() waits for the step to finish: negligible for the course's small models
        self.rates.append(rate.detach().mean().item())
        self.distortions.append(distortion.detach().mean().item())
        self.step += 1
        return loss
