"""VAE blur: how sharp images are, and which images a decoded mean averages.

A VAE's decoder returns the *mean* of ``p(x | z)``, an average over the images that one code
cannot tell apart; averages lose edges. Two numbers per image measure that loss, each comparable
between decoded images and the test images themselves:

- :func:`gradient_energy`, the mean squared difference between neighbouring pixels;
- :func:`high_frequency_power`, the share of the image's spectral power above a spatial frequency.

Two more say which images a code cannot tell apart: :func:`posterior_weights`, the share of each
training image in the average that the best decoder for a given encoder returns, and
:func:`effective_sample_size`, how many images that average really mixes.

Images are flat rows ``(n, 784)`` of 28x28 pixels, as everywhere in the course.
"""

from __future__ import annotations

import math

import torch

from vae_utils.priors import gaussian_component_log_probs
from vae_utils.validation import check_floats, check_matrix, shape_or_type

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
    check_floats("x", x)  # bytes 0..255 would give an energy 255**2 times too large
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


def posterior_weights(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """The weight of each image ``x_n`` in the mean image at each code: ``q(z | x_n)``, normalised.

    ``w_n(z) = q(z | x_n) / sum_m q(z | x_m)``: for a fixed encoder, the decoder that minimises
    the expected squared error returns ``sum_n w_n(z) x_n`` at ``z``, the mean of the images whose
    posteriors claim ``z`` (chapter 13, ``eq-posterior-weights``). Computed in float64.

    Args:
        z: ``(k, latent_dim)`` codes.
        mu, log_var: ``(n, latent_dim)``, the encoder's posteriors ``q(z | x_n)`` of ``n`` images.

    Returns:
        ``(k, n)`` in the dtype of ``z``; each row is non-negative and sums to 1, so
        ``weights @ x`` gives the ``k`` mean images.

    Example:
        >>> posterior_weights(torch.zeros(1, 2), torch.zeros(4, 2), torch.zeros(4, 2))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """
    check_matrix("z", z, "pass codes as rows, e.g. torch.randn(8, model.latent_dim)")
    check_matrix("mu", mu, "pass the encoder's means, mu, log_var = model.encode(x)")
    if (
        not isinstance(log_var, torch.Tensor)
        or log_var.shape != mu.shape
        or z.shape[1] != mu.shape[1]
    ):
        raise ValueError(
            f"mu and log_var must both be (n, latent_dim) with latent_dim = z.shape[1] = "
            f"{z.shape[1]}; got {tuple(mu.shape)} and {shape_or_type(log_var)}; pass the "
            "encoder's mu, log_var = model.encode(x)"
        )
    log_q = gaussian_component_log_probs(z, mu, log_var)  # (k, n) float64
    return torch.softmax(log_q, dim=1).to(z.dtype)


def effective_sample_size(weights: torch.Tensor) -> torch.Tensor:
    """How many images a weighted average mixes: ``1 / sum_n w_n^2`` for each row of weights.

    ``n`` for equal weights over ``n`` images, 1 when one image has all the weight.

    Args:
        weights: ``(k, n)``, each row non-negative and summing to 1 (:func:`posterior_weights`).

    Returns:
        ``(k,)`` float64, each between 1 and ``n``.

    Example:
        >>> effective_sample_size(torch.tensor([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]]))
        tensor([4., 1.], dtype=torch.float64)
    """
    check_matrix("weights", weights, "pass posterior_weights(z, mu, log_var)")
    weights = weights.double()
    if (weights < 0).any() or not torch.allclose(
        weights.sum(dim=1), torch.ones(len(weights), dtype=torch.float64), atol=1e-4
    ):
        raise ValueError(
            "weights must be non-negative with rows that sum to 1; normalise them, "
            "e.g. weights / weights.sum(dim=1, keepdim=True)"
        )
    return 1.0 / weights.pow(2).sum(dim=1)
