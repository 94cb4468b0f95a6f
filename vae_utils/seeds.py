"""Seeds: every random draw of the course starts from a seed that one environment variable shifts.

A chapter calls ``set_seed(0)`` and ``generator(1)``; with ``VAE_UTILS_SEED_SHIFT=2`` in the
environment these become seeds 2 and 3, and every recipe trains (and caches) its models with
shifted seeds too. So a whole chapter moves to another seed at once, which is how
``make robustness`` checks that the book's claims do not hinge on one lucky draw.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from vae_utils.validation import check_int

SEED_SHIFT_ENV_VAR = "VAE_UTILS_SEED_SHIFT"
MAX_SEED = 2**32 - 1  # the largest seed NumPy's np.random.seed accepts (torch's is larger)


def seed_shift() -> int:
    """The shift added to every seed: ``$VAE_UTILS_SEED_SHIFT`` as an int >= 0, 0 when unset.

    Raises:
        ValueError: the variable is not an integer, or is negative (seed 0 would become a
            negative seed, which NumPy and PyTorch refuse).
    """
    text = os.environ.get(SEED_SHIFT_ENV_VAR, "").strip()
    if not text:
        return 0
    try:
        shift = int(text)
    except ValueError:
        raise ValueError(
            f"{SEED_SHIFT_ENV_VAR} must be an integer, got {text!r}; "
            f"unset it or try {SEED_SHIFT_ENV_VAR}=1"
        ) from None
    if shift < 0:
        raise ValueError(
            f"{SEED_SHIFT_ENV_VAR} must be an integer >= 0, got {text!r}: seeds start at 0, and "
            f"a negative shift would make them negative; unset it or try {SEED_SHIFT_ENV_VAR}=1"
        )
    return shift


def shifted_seed(seed: int) -> int:
    """``seed`` plus :func:`seed_shift`: the seed that is really used.

    Raises:
        ValueError: ``seed`` is not an int in ``0..MAX_SEED`` (``2**32 - 1``, NumPy's largest
            seed), or the shift takes it past ``MAX_SEED``.

    Example:
        >>> shifted_seed(3) == 3 + seed_shift()
        True
    """
    check_int("seed", seed, "try seed=0", minimum=0)
    if seed > MAX_SEED:
        raise ValueError(
            f"seed must be at most 2**32 - 1 = {MAX_SEED} (the largest seed NumPy accepts), "
            f"got {seed}; try seed=0"
        )
    shift = seed_shift()
    if seed + shift > MAX_SEED:
        raise ValueError(
            f"seed {seed} shifted by {SEED_SHIFT_ENV_VAR}={shift} is {seed + shift}, more than "
            f"2**32 - 1 = {MAX_SEED} (the largest seed NumPy accepts); use a smaller seed or a "
            f"smaller {SEED_SHIFT_ENV_VAR}"
        )
    return seed + shift


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators with :func:`shifted_seed` (seed).

    Call it before building a model, so that its initial weights are reproducible.
    """
    seed = shifted_seed(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeds the global generator that libraries use
    torch.manual_seed(seed)


def generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with :func:`shifted_seed` (seed), for draws of their own.

    Example:
        >>> torch.randn(2, 3, generator=generator(0)).shape
        torch.Size([2, 3])
    """
    return torch.Generator().manual_seed(shifted_seed(seed))
