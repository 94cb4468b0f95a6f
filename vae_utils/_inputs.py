"""Checks of the data and numbers that learners pass: each failure names the argument, the value
and a fix, as in :mod:`vae_utils._checks`.

Private, and apart from :mod:`vae_utils._checks` on purpose: that module's code is part of the
shipped weights' cache keys (:func:`vae_utils.code_fingerprint` reads every package module that
the trained models import), so a check added there would retire every shipped model. Only
modules outside those keys import this one; ``tests/test_shipped.py`` fails if that changes.
"""

from __future__ import annotations

import math

import torch

from vae_utils._checks import _shape as shape_or_type  # one definition, for the messages
from vae_utils._checks import check_matrix


def check_finite_number(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}; {hint}")


def check_positive(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number ``> 0`` (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be positive and finite, got {value!r}; {hint}")


def check_non_negative(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number ``>= 0`` (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}; {hint}")


def check_floats(name: str, x: torch.Tensor) -> None:
    """Raise ``ValueError`` unless the tensor ``x`` holds floating-point numbers."""
    if not x.is_floating_point():
        raise ValueError(
            f"{name} must hold floats, got {x.dtype}; convert it with {name}.float() "
            f"(images stored as bytes 0..255: {name}.float() / 255)"
        )


def check_width(name: str, x: object, width: int, hint: str) -> None:
    """Raise ``ValueError`` unless ``x`` is a float tensor ``(..., width)``: two attribute reads,
    cheap enough for a model's every forward pass."""
    if not isinstance(x, torch.Tensor) or x.ndim == 0 or x.shape[-1] != width:
        raise ValueError(f"{name} must be a tensor (..., {width}), got {shape_or_type(x)}; {hint}")
    check_floats(name, x)


def check_finite(name: str, x: torch.Tensor, hint: str = "") -> None:
    """Raise ``ValueError`` if the tensor ``x`` holds a NaN or an infinity: for functions that
    summarise the data, where one NaN would spoil the whole result, or hide in it."""
    if not bool(torch.isfinite(x).all()):
        hint = hint or f"keep the finite rows, {name}[torch.isfinite({name}).all(dim=1)]"
        raise ValueError(f"{name} holds NaN or infinite values; {hint}")


def check_columns(name: str, x: object, columns: int, hint: str, min_rows: int = 1) -> None:
    """Raise ``ValueError`` unless ``x`` is a 2-D tensor ``(n, columns)``, ``n >= min_rows``."""
    check_matrix(name, x, hint, min_rows)
    assert isinstance(x, torch.Tensor)  # checked just above
    if x.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns, got {tuple(x.shape)}; {hint}")


def check_labels(name: str, y: object, n: int, num_classes: int) -> None:
    """Raise ``ValueError`` unless ``y`` is ``n`` integer labels in ``0..num_classes - 1``."""
    if (
        not isinstance(y, torch.Tensor)
        or y.dtype.is_floating_point
        or y.dtype.is_complex
        or y.dtype == torch.bool
        or y.shape != (n,)
    ):
        got = f"{y.dtype} {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"{name} must be integer labels (int64) of shape ({n},), one per row of x, got {got}; "
            "pass the labels of load_fashion_mnist"
        )
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in 0..{num_classes - 1}, got values from {y.min().item()} to "
            f"{y.max().item()}; pass the labels of load_fashion_mnist, or num_classes to the model"
        )
