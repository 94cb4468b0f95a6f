"""Sharpness measures against NumPy computations, and blur against sharpness."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vae_utils.sharpness import gradient_energy, high_frequency_power


def _random_images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))


def _box_blur(x: torch.Tensor) -> torch.Tensor:
    """Each pixel replaced by the mean of its 3x3 neighbourhood (edges padded by replication)."""
    images = F.pad(x.view(-1, 1, 28, 28), (1, 1, 1, 1), mode="replicate")
    return F.avg_pool2d(images, kernel_size=3, stride=1).view(-1, 784)


def test_gradient_energy_matches_numpy():
    x = _random_images(3)
    images = x.double().view(-1, 28, 28).numpy()
    expected = (np.diff(images, axis=2) ** 2).mean(axis=(1, 2)) + (
        np.diff(images, axis=1) ** 2
    ).mean(axis=(1, 2))
    np.testing.assert_allclose(gradient_energy(x).numpy(), expected, rtol=1e-12)


def test_high_frequency_power_matches_numpy():
    x = _random_images(2, seed=1)
    images = x.double().view(-1, 28, 28).numpy()
    images = images - images.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(images)) ** 2
    f = np.fft.fftfreq(28)
    radius = np.hypot(f[:, None], f[None, :])
    expected = power[:, radius > 0.3].sum(axis=1) / power.sum(axis=(1, 2))
    np.testing.assert_allclose(high_frequency_power(x, cutoff=0.3).numpy(), expected, rtol=1e-10)


def test_blur_lowers_both_measures_and_a_flat_image_has_none():
    x = _random_images(20, seed=2)
    blurred = _box_blur(x)
    assert (gradient_energy(blurred) < 0.5 * gradient_energy(x)).all()
    assert (high_frequency_power(blurred) < 0.5 * high_frequency_power(x)).all()
    flat = torch.full((2, 784), 0.3)
    assert torch.equal(gradient_energy(flat), torch.zeros(2, dtype=torch.float64))
    assert torch.equal(high_frequency_power(flat), torch.zeros(2, dtype=torch.float64))


def test_the_mean_of_shifted_copies_is_blurrier_than_each_copy():
    # what a decoder's mean does: average images it cannot tell apart
    x = _random_images(1, seed=3).view(28, 28)
    shifted = torch.stack([torch.roll(x, shifts=s, dims=1) for s in range(-2, 3)]).view(5, 784)
    mean = shifted.mean(dim=0, keepdim=True)
    assert gradient_energy(mean).item() < gradient_energy(shifted).min().item()
    assert high_frequency_power(mean).item() < high_frequency_power(shifted).min().item()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gradient_energy(torch.rand(784)), "x must be a tensor of shape"),
        (lambda: gradient_energy(torch.rand(2, 100)), r"flat 28x28 images, \(n, 784\)"),
        (lambda: high_frequency_power(torch.rand(2, 784), cutoff=0.0), "cutoff must be between"),
        (lambda: high_frequency_power(torch.rand(2, 784), cutoff=0.6), "cutoff must be between"),
        (lambda: high_frequency_power(torch.rand(2, 784), cutoff=True), "cutoff must be between"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
