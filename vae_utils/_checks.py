"""Argument checks shared by the package: each failure names the argument, the value and a fix.

Private: the public functions call these first, so that bad input fails early with a message a
learner can act on, instead of deep inside PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def is_int(value: object) -> bool:
    """True for an ``int`` that is not a ``bool`` (``True`` is an ``int`` in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value: object, hint: str, minimum: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is an int ``>= minimum``; ``hint`` says what to try."""
    if not is_int(value) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}; {hint}")


def check_positive_number(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number ``> 0`` (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}; {hint}")


def check_hidden_dims(hidden_dims: Sequence[int]) -> tuple[int, ...]:
    """``hidden_dims`` as a tuple of positive ints, or a ``ValueError`` that shows the fix."""
    if isinstance(hidden_dims, int) or not all(is_int(h) and h > 0 for h in hidden_dims):
        raise ValueError(
            f"hidden_dims must be a sequence of positive ints, got {hidden_dims!r}; "
            "try hidden_dims=(256,), or hidden_dims=() for a single linear layer"
        )
    return tuple(hidden_dims)


def _shape(value: object) -> object:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__


def check_matrix(name: str, value: object, hint: str, min_rows: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is a 2-D tensor with at least ``min_rows`` rows."""
    if not isinstance(value, torch.Tensor) or value.ndim != 2 or len(value) < min_rows:
        rows = "" if min_rows <= 1 else f" with n >= {min_rows}"
        raise ValueError(
            f"{name} must be a tensor of shape (n, features){rows}, got {_shape(value)}; {hint}"
        )


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` are 2-D tensors of one shape."""
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or (
        a.ndim != 2 or a.shape != b.shape
    ):
        raise ValueError(
            f"{name_a} and {name_b} must both have shape (batch, features), got "
            f"{_shape(a)} and {_shape(b)}; flatten images with x.view(len(x), -1)"
        )
