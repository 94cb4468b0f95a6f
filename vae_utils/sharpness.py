"""How sharp images are: gradient energy and high-frequency power, for measuring VAE blur.

A VAE's decoder returns the *mean* of ``p(x | z)``, an average over the images that one code
cannot tell apart; averages lose edges. Two numbers per image measure that loss, each comparable
between decoded images and the test images themselves:

- :func:`gradient_energy`, the mean squared difference between neighbouring pixels;
- :func:`high_frequency_power`, the share of the image's spectral power above a spatial frequency.

Images are flat rows ``(n, 784)`` of 28x28 pixels, as everywhere in the course.
"""

from __future__ import annotations

import math

import torch

from vae_utils._checks import check_matrix

SIDE = 28  # Fashion-MNIST images are 28x28


def _as_images(name: str, x: torch.Tensor) -> torch.Tensor:
    """``x: (n, 784)`` -> ``(n, 28, 28)`` float64, after checking the shape."""
    check_matrix(name, x, "pass flat 28x28 images, e.g. x_test[:100] of load_fashion_mnist")
    if x.shape[1] != SIDE * SIDE:
        raise ValueError(
            f"{name} must hold flat 28x28 images, (n, 784), got {tuple(x.shape)}; "
            "flatten images with x.view(len(x), -1)"
        )
    return x.double().view(-1, SIDE, SIDE)


def gradient_energy(x: torch.Tensor) -> torch.Tensor:
    """The mean squared difference between horizontally and vertically neighbouring pixels.

    ``(1/|pairs|) sum (x[i, j+1] - x[i, j])^2 + (x[i+1, j] - x[i, j])^2`` over all pairs of
    neighbours: 0 for a flat image, largest for a checkerboard of 0 and 1 (which gives 2: each
    horizontal and each vertical difference is 1). Blurring an image lowers it.

    Args:
        x: ``(n, 784)`` flat 28x28 images.

    Returns:
        ``(n,)`` float64, one value per image.

    Example:
        >>> board = ((torch.arange(28)[:, None] + torch.arange(28)) % 2).float().view(1, 784)
        >>> gradient_energy(board).item(), gradient_energy(torch.full((1, 784), 0.5)).item()
        (2.0, 0.0)
    """
    images = _as_images("x", x)
    horizontal = (images[:, :, 1:] - images[:, :, :-1]).pow(2).mean(dim=(1, 2))
    vertical = (images[:, 1:, :] - images[:, :-1, :]).pow(2).mean(dim=(1, 2))
    return horizontal + vertical


def high_frequency_power(x: torch.Tensor, cutoff: float = 0.25) -> torch.Tensor:
    """The share of an image's spectral power at spatial frequencies above ``cutoff``.

    The power spectrum ``|FFT2(x - mean(x))|^2`` (the mean removed, so that brightness does not
    count); a frequency's radius is ``sqrt(f_row^2 + f_col^2)`` in cycles per pixel, from 0 to
    ``sqrt(2) / 2``. Sharp edges put power at high frequencies; an average of shifted images does
    not.

    Args:
        x: ``(n, 784)`` flat 28x28 images.
        cutoff: the radius in cycles per pixel, between 0 and 0.5 (the Nyquist frequency of a
            row); 0.25 is a period of 4 pixels.

    Returns:
        ``(n,)`` float64 in [0, 1]; 0 for a flat image.

    Example:
        >>> stripes = (torch.arange(28) % 2).float().repeat(28, 1).view(1, 784)  # period 2
        >>> round(high_frequency_power(stripes).item(), 6)
        1.0
    """
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not 0 < cutoff < 0.5:
        raise ValueError(f"cutoff must be between 0 and 0.5 cycles per pixel, got {cutoff!r}")
    images = _as_images("x", x)
    centred = images - images.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fft2(centred).abs().pow(2)  # (n, 28, 28)
    frequencies = torch.fft.fftfreq(SIDE, dtype=torch.float64)  # cycles per pixel
    radius = torch.sqrt(frequencies[:, None] ** 2 + frequencies[None, :] ** 2)
    total = power.sum(dim=(1, 2))
    high = power[:, radius > cutoff].sum(dim=1)
    return torch.where(total > 0, high / total.clamp(min=math.ulp(0.0)), torch.zeros_like(total))
