"""Argument checks shared by the package: each failure names the argument, the value and a fix.

The public functions call these first, so that bad input fails early with a message a learner
can act on, instead of deep inside PyTorch; the chapters' code shows the same first lines, as
``from vae_utils.validation import check_input``. The checks of tensors read shapes and types,
not values, where a function runs at every batch; :func:`check_finite` reads every value, for
the functions that summarise the data, once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import torch
from torch import nn


def is_int(value: object) -> bool:
    """True for an ``int`` that is not a ``bool`` (``True`` is an ``int`` in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def broadcastable(*shapes: Sequence[int]) -> bool:
    """Whether tensors of these shapes broadcast together: aligned from the last dimension, each
    pair of sizes equal or one of them 1. (``torch.broadcast_shapes`` says the same, but its first
    call imports SymPy: 0.57 s measured, in every chapter that computes an ELBO.)"""
    for sizes in zip(*(reversed(shape) for shape in shapes), strict=False):
        if len({size for size in sizes if size != 1}) > 1:
            return False
    return True


def shape_or_type(value: object) -> object:
    """What a message shows of ``value``: a tensor's shape, else the name of its type."""
    return tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__


def check_sha256(
    what: str, data: bytes, expected: str, fix: str, error: type[Exception] = ValueError
) -> None:
    """Raise ``error`` unless the SHA-256 of ``data`` is ``expected`` (hex, either case); the
    message names what was checked (``what``), both digests and ``fix``. The one check of every
    file the course verifies: the data set, the shipped weights, the Bernoulli models' weights."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise error(f"{what}: checksum mismatch: SHA-256 {actual}, expected {expected}; {fix}")


# --- numbers -------------------------------------------------------------------------------


def check_int(name: str, value: object, hint: str, minimum: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is an int ``>= minimum``; ``hint`` says what to try."""
    if not is_int(value) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {value!r}; {hint}")


def _is_finite_number(value: object) -> bool:
    """True for an int or a float that is finite, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_finite_number(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number (not a bool)."""
    if not _is_finite_number(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}; {hint}")


def check_positive_number(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number ``> 0`` (not a bool)."""
    if not _is_finite_number(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}; {hint}")


def check_non_negative(name: str, value: object, hint: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number ``>= 0`` (not a bool)."""
    if not _is_finite_number(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}; {hint}")


def check_loss_weight(name: str, value: object, hint: str) -> None:
    """:func:`check_positive_number`, except that a tensor passes: :func:`vae_utils.fit_together`
    hands each model its weight as a 0-d tensor, and checks the numbers where it builds it (here,
    at every batch, reading a tensor's value would make the CPU wait for a GPU)."""
    if not isinstance(value, torch.Tensor):
        check_positive_number(name, value, hint)


def check_hidden_dims(hidden_dims: Sequence[int]) -> tuple[int, ...]:
    """``hidden_dims`` as a tuple of positive ints, or a ``ValueError`` that shows the fix."""
    if isinstance(hidden_dims, int) or not all(is_int(h) and h > 0 for h in hidden_dims):
        raise ValueError(
            f"hidden_dims must be a sequence of positive ints, got {hidden_dims!r}; "
            "try hidden_dims=(256,), or hidden_dims=() for a single linear layer"
        )
    return tuple(hidden_dims)


def check_channels(channels: object) -> None:
    """Raise ``ValueError`` unless ``channels`` is two positive ints, the channels of a
    convolutional model's first and second convolution."""
    if (
        not isinstance(channels, tuple | list)
        or len(channels) != 2
        or not all(is_int(c) and c > 0 for c in channels)
    ):
        raise ValueError(
            f"channels must be two positive ints, got {channels!r}; try channels=(16, 32)"
        )


def check_generator(generator: object) -> None:
    """Raise ``ValueError`` unless ``generator`` is a ``torch.Generator`` or ``None``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(
            f"generator must be a torch.Generator or None, got {generator!r}; "
            "make one with vu.generator(0)"
        )


# --- tensors -------------------------------------------------------------------------------


def check_matrix(name: str, value: object, hint: str, min_rows: int = 1) -> None:
    """Raise ``ValueError`` unless ``value`` is a 2-D tensor with at least ``min_rows`` rows."""
    if not isinstance(value, torch.Tensor) or value.ndim != 2 or len(value) < min_rows:
        rows = "" if min_rows <= 1 else f" with n >= {min_rows}"
        raise ValueError(
            f"{name} must be a tensor of shape (n, features){rows}, got {shape_or_type(value)}; "
            f"{hint}"
        )


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` are 2-D tensors of one shape."""
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or (
        a.ndim != 2 or a.shape != b.shape
    ):
        raise ValueError(
            f"{name_a} and {name_b} must both have shape (batch, features), got "
            f"{shape_or_type(a)} and {shape_or_type(b)}; flatten images with x.view(len(x), -1)"
        )


def check_columns(name: str, x: object, columns: int, hint: str, min_rows: int = 1) -> None:
    """Raise ``ValueError`` unless ``x`` is a 2-D tensor ``(n, columns)``, ``n >= min_rows``."""
    check_matrix(name, x, hint, min_rows)
    assert isinstance(x, torch.Tensor)  # checked just above
    if x.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns, got {tuple(x.shape)}; {hint}")


def check_floats(name: str, x: torch.Tensor, hint: str = "") -> None:
    """Raise ``ValueError`` unless the tensor ``x`` holds floating-point numbers; the message
    says how to convert images stored as bytes, unless ``hint`` says something else."""
    if not x.is_floating_point():
        hint = hint or (
            f"convert it with {name}.float() (images stored as bytes 0..255: {name}.float() / 255)"
        )
        raise ValueError(f"{name} must hold floats, got {x.dtype}; {hint}")


def check_float_type(name: str, x: torch.Tensor, model: nn.Module, hint: str = "") -> None:
    """Raise ``ValueError`` unless the tensor ``x`` holds floats of the type of ``model``'s
    weights (float32, unless the model was converted), which its layers need."""
    check_floats(name, x, hint)
    weights = next(model.parameters(), None)
    if weights is not None and x.dtype != weights.dtype:
        raise ValueError(
            f"{name} holds {x.dtype} but the model's weights are {weights.dtype}; "
            f"convert it with {name}.to({weights.dtype})"
        )


def check_width(name: str, x: object, width: int, hint: str) -> None:
    """Raise ``ValueError`` unless ``x`` is a float tensor ``(..., width)``: two attribute reads,
    cheap enough for a model's every forward pass."""
    if not isinstance(x, torch.Tensor) or x.ndim == 0 or x.shape[-1] != width:
        raise ValueError(f"{name} must be a tensor (..., {width}), got {shape_or_type(x)}; {hint}")
    check_floats(name, x)


def check_input(x: object, width: int, model: nn.Module) -> None:
    """Raise ``ValueError`` unless ``x`` is a tensor ``(..., width)`` of floats of the type of
    ``model``'s weights: what an encoder takes. A few attribute reads, no value is read, so it is
    cheap enough for every forward pass."""
    check_width("x", x, width, "flatten images with x.view(len(x), -1)")
    assert isinstance(x, torch.Tensor)  # checked just above
    check_float_type("x", x, model)


def check_finite(name: str, x: torch.Tensor, hint: str = "") -> None:
    """Raise ``ValueError`` if the tensor ``x`` holds a NaN or an infinity: for functions that
    summarise the data, where one NaN would spoil the whole result, or hide in it."""
    if not bool(torch.isfinite(x).all()):
        hint = hint or f"keep the finite rows, {name}[torch.isfinite({name}).all(dim=1)]"
        raise ValueError(f"{name} holds NaN or infinite values; {hint}")


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


# --- the arguments of the functions that the chapters show --------------------------------


def check_vae_loss_arguments(x: object, mu: object, C: object) -> None:
    """Raise ``ValueError`` unless the loss weight ``C`` is a positive number (or a tensor, see
    :func:`check_loss_weight`) and ``mu`` has one row per image of ``x``; the shapes of ``x``
    and ``x_hat``, ``mu`` and ``log_var`` are checked by the functions that take them."""
    check_loss_weight("C", C, "try C=10, or C = 1 / (2 c) for a decoder of variance c")
    if (
        isinstance(x, torch.Tensor)
        and isinstance(mu, torch.Tensor)
        and x.ndim > 0
        and mu.ndim > 0
        and len(mu) != len(x)
    ):  # other inputs are refused by reconstruction_error and kl_to_standard_normal
        raise ValueError(
            f"mu must have one row per row of x, got {len(mu)} and {len(x)} rows; "
            "pass the mu and log_var that the encoder returns for x"
        )


def check_reparameterize_arguments(mu: object, log_var: object, generator: object) -> None:
    """Raise ``ValueError`` unless ``mu`` and ``log_var`` are float tensors of one shape and
    ``generator`` is a ``torch.Generator`` or ``None``."""
    if (
        not isinstance(mu, torch.Tensor)
        or not isinstance(log_var, torch.Tensor)
        or mu.shape != log_var.shape
    ):
        raise ValueError(
            f"mu and log_var must each be a tensor, of one shape, got {shape_or_type(mu)} and "
            f"{shape_or_type(log_var)}; pass the two halves that the encoder returns"
        )
    for name, value in (("mu", mu), ("log_var", log_var)):
        check_floats(name, value, f"pass the encoder's output, or convert it with {name}.float()")
    check_generator(generator)
