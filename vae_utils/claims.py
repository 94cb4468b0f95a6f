"""Claims the text makes, checked by the run, and numbers the text quotes, taken from the run.

A chapter's hidden cell calls :func:`check` for each measurable claim of its prose, and
:func:`glue` hands a computed number to the prose (myst-nb's ``{glue:text}`` role), so that the
text never quotes a number typed by hand.

With ``$VAE_UTILS_CLAIMS_LOG`` set to a file, every check appends one JSON line to it (the claim,
the value, its bounds and the margin): ``make robustness`` collects these over seeds and thread
counts.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

import torch

from vae_utils.seeds import seed_shift

CLAIMS_LOG_ENV_VAR = "VAE_UTILS_CLAIMS_LOG"


class ClaimError(AssertionError):
    """A claim of the text that this run did not confirm."""


def _as_number(name: str, value: Any) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{name} must be a real number or a one-element tensor, got {value!r}; "
            "reduce a tensor first, e.g. errors.max()"
        )
    return float(value)


def margin(value: float, above: float | None = None, below: float | None = None) -> float:
    """How far ``value`` is inside its bounds, as a fraction of the bound's size.

    ``(value - above) / |above|`` for a lower bound, ``(below - value) / |below|`` for an upper
    one (the absolute distance where the bound is 0), the smaller of the two when both are given.
    Negative when the value is outside.

    Example:
        >>> margin(2.0, below=4.0)
        0.5
        >>> margin(5.0, above=4.0, below=10.0)
        0.25
    """
    margins = []
    if above is not None:
        margins.append((value - above) / (abs(above) or 1.0))
    if below is not None:
        margins.append((below - value) / (abs(below) or 1.0))
    return min(margins)


def check(
    claim: str,
    value: Any,
    *,
    above: float | None = None,
    below: float | None = None,
) -> None:
    """Check that ``above < value < below`` and raise :class:`ClaimError` naming the claim if not.

    Args:
        claim: the sentence of the text being checked, e.g. ``"the autoencoder's test error is
            below three quarters of PCA's"``.
        value: the measured number (a float or a one-element tensor), often a ratio.
        above, below: the open bounds the claim allows; give at least one.

    Returns nothing, so that a notebook cell ending with a check shows no output.

    Example:
        >>> check("two is less than three", 2, below=3)
    """
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError(f"claim must say in words what is checked, got {claim!r}")
    value = _as_number("value", value)
    if above is None and below is None:
        raise ValueError("give a bound: check(claim, value, above=...) and/or below=...")
    above = None if above is None else _as_number("above", above)
    below = None if below is None else _as_number("below", below)
    passed = math.isfinite(value) and (above is None or value > above)
    passed = passed and (below is None or value < below)
    slack = margin(value, above, below) if math.isfinite(value) else -math.inf
    _record(claim, value, above, below, slack, passed)
    if not passed:
        bounds = []
        if above is not None:
            bounds.append(f"above {above:.4g}")
        if below is not None:
            bounds.append(f"below {below:.4g}")
        raise ClaimError(
            f"The text claims: {claim}.\n"
            f"This run measured {value:.4g}; the claim needs a value {' and '.join(bounds)}.\n"
            "Runs differ slightly between machines (another CPU or thread count rounds floats "
            "differently, and training then ends elsewhere), so a number quoted in the text may "
            "differ a little from yours; a claim that fails outright is a bug in the course: "
            "please report it with this message."
        )


def _record(
    claim: str, value: float, above: float | None, below: float | None, slack: float, passed: bool
) -> None:
    path = os.environ.get(CLAIMS_LOG_ENV_VAR)
    if not path:
        return
    entry = {
        "claim": claim,
        "value": value if math.isfinite(value) else str(value),
        "above": above,
        "below": below,
        "margin": slack if math.isfinite(slack) else str(slack),
        "passed": passed,
        "seed_shift": seed_shift(),
        "threads": torch.get_num_threads(),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as log:
        log.write(json.dumps(entry) + "\n")


def glue(name: str, value: Any) -> None:
    """Hand ``value`` to the book's prose as ``{glue:text}`name:.2f``` (myst-nb's glue).

    Tensors and NumPy scalars become Python numbers first, so that the format spec after the
    colon works. Where myst-nb is missing (Colab, a plain Jupyter), the value is printed instead,
    so the reader still sees the number the text refers to.

    Returns nothing, so that a notebook cell ending with a glue shows no output.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()  # a NumPy scalar
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        print(f"{name} = {value}")
        return
    myst_glue(name, value, display=False)
