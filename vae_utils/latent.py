"""Walking the latent space: straight lines between codes and regular grids of codes."""

from __future__ import annotations

import torch

from vae_utils.validation import (
    check_finite,
    check_finite_number,
    check_int,
    check_matrix,
    shape_or_type,
)


def interpolate(z_start: torch.Tensor, z_end: torch.Tensor, num_steps: int) -> torch.Tensor:
    """Evenly spaced points on the segment from ``z_start`` to ``z_end`` (both included).

    Args:
        z_start, z_end: ``(latent_dim,)`` codes.
        num_steps: number of points, at least 2.

    Returns:
        ``(num_steps, latent_dim)``; row ``i`` is ``z_start + t_i * (z_end - z_start)``,
        ``t_i = i / (num_steps - 1)``.

    Example:
        >>> interpolate(torch.zeros(2), torch.ones(2), num_steps=5)[:, 0]
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if (
        not isinstance(z_start, torch.Tensor)
        or not isinstance(z_end, torch.Tensor)
        or z_start.ndim != 1
        or z_start.shape != z_end.shape
    ):
        raise ValueError(
            f"z_start and z_end must be 1-D codes of the same length, got {shape_or_type(z_start)} "
            f"and {shape_or_type(z_end)}; pass single rows, e.g. z[0] and z[1]"
        )
    check_int("num_steps", num_steps, "try num_steps=10", minimum=2)
    # integer codes give float points: weights of their dtype would round to 0 and 1
    dtype = z_start.dtype if z_start.is_floating_point() else torch.get_default_dtype()
    weights = torch.linspace(0.0, 1.0, num_steps, dtype=dtype).unsqueeze(1)
    return (1 - weights) * z_start + weights * z_end


def latent_grid(low: float, high: float, num_per_side: int) -> torch.Tensor:
    """A square grid of 2-D codes, row by row from the top left (``z_2`` high) to the bottom right.

    Returns:
        ``(num_per_side ** 2, 2)``, so that decoding it and tiling the images with
        ``num_columns=num_per_side`` draws the decoder's map of the plane.

    Example:
        >>> latent_grid(-1.0, 1.0, 3)[:3]
        tensor([[-1.,  1.],
                [ 0.,  1.],
                [ 1.,  1.]])
    """
    if isinstance(low, torch.Tensor) and low.numel() == 1:  # e.g. z.min()
        low = low.item()
    if isinstance(high, torch.Tensor) and high.numel() == 1:
        high = high.item()
    for name, value in (("low", low), ("high", high)):
        check_finite_number(name, value, "pass finite bounds, e.g. low=-3.0, high=3.0")
    if not high > low:
        raise ValueError(f"high must exceed low, got low={low!r}, high={high!r}")
    check_int("num_per_side", num_per_side, "try num_per_side=10", minimum=2)
    values = torch.linspace(low, high, num_per_side)
    z_2, z_1 = torch.meshgrid(values.flip(0), values, indexing="ij")
    return torch.stack([z_1.reshape(-1), z_2.reshape(-1)], dim=1)


def _check_codes(z: torch.Tensor, num_samples: int, min_rows: int = 1) -> None:
    """``z`` must be finite codes ``(n, latent_dim)``, ``n >= min_rows``; ``num_samples > 0``."""
    check_matrix("z", z, "pass codes as rows, e.g. the encoder's means of images", min_rows)
    check_finite("z", z)  # a NaN code would make every draw NaN
    check_int("num_samples", num_samples, "try num_samples=100")


def sample_box(z: torch.Tensor, num_samples: int, generator: torch.Generator) -> torch.Tensor:
    """Draw codes uniformly in the bounding box of the codes ``z: (n, latent_dim)``.

    What "a random point of the latent space" means when nothing says where codes live.

    Returns:
        ``(num_samples, latent_dim)``.
    """
    _check_codes(z, num_samples)
    low, high = z.min(dim=0).values, z.max(dim=0).values
    return low + (high - low) * torch.rand(num_samples, z.shape[1], generator=generator)


def sample_fitted_normal(
    z: torch.Tensor, num_samples: int, generator: torch.Generator
) -> torch.Tensor:
    """Draw codes from the normal distribution with the mean and covariance of ``z: (n, d)``.

    A fairer baseline than :func:`sample_box`: a Gaussian fitted to the codes after training.

    Returns:
        ``(num_samples, latent_dim)``.
    """
    _check_codes(z, num_samples, min_rows=2)  # a covariance needs two codes
    cholesky, failed = torch.linalg.cholesky_ex(torch.cov(z.T))  # covariance = L L^T
    if failed:
        raise ValueError(
            "z must spread in every direction, but its covariance is singular (codes on a line or "
            "at one point, or fewer codes than dimensions); pass more codes, or use sample_box"
        )
    noise = torch.randn(num_samples, z.shape[1], generator=generator)
    return z.mean(dim=0) + noise @ cholesky.T


def traverse(z: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Latent traversals: ``z`` with one coordinate at a time set to each of ``values``.

    Args:
        z: ``(latent_dim,)`` the code to start from, e.g. the encoder's mean of one image.
        values: ``(num_values,)`` the values the varied coordinate takes, e.g. -3 to 3.

    Returns:
        ``(latent_dim * num_values, latent_dim)``: rows ``j * num_values`` to
        ``(j + 1) * num_values - 1`` vary coordinate ``j`` and keep the others at ``z``. Decode
        and tile with ``num_columns=num_values``: one row of images per latent dimension.

    Example:
        >>> traverse(torch.zeros(2), torch.tensor([-1.0, 1.0]))
        tensor([[-1.,  0.],
                [ 1.,  0.],
                [ 0., -1.],
                [ 0.,  1.]])
    """
    if (
        not isinstance(z, torch.Tensor)
        or not isinstance(values, torch.Tensor)
        or z.ndim != 1
        or values.ndim != 1
        or len(values) == 0
    ):
        raise ValueError(
            f"z must be one code (latent_dim,) and values a non-empty (num_values,), got "
            f"{shape_or_type(z)} and {shape_or_type(values)}; "
            "e.g. traverse(mu[0], torch.linspace(-3, 3, 7))"
        )
    if not z.is_floating_point():  # else the values would be rounded to z's integers
        z = z.to(values.dtype if values.is_floating_point() else torch.get_default_dtype())
    latent_dim, num_values = len(z), len(values)
    codes = z.repeat(latent_dim * num_values, 1)
    for j in range(latent_dim):
        codes[j * num_values : (j + 1) * num_values, j] = values
    return codes
