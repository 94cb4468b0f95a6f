"""Sharpness measures against NumPy computations, and blur against sharpness."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vae_utils.sharpness import (
    effective_sample_size,
    gradient_energy,
    high_frequency_power,
    posterior_weights,
)


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


def test_posterior_weights_match_an_independent_computation():
    gen = torch.Generator().manual_seed(2)
    z, mu, log_var = torch.randn(5, 3, generator=gen), torch.randn(7, 3, generator=gen), None
    log_var = 0.5 * torch.randn(7, 3, generator=gen)
    normal = torch.distributions.Normal(mu.double(), (0.5 * log_var.double()).exp())
    log_q = torch.stack([normal.log_prob(code.double()).sum(-1) for code in z])  # (5, 7)
    expected = log_q.exp() / log_q.exp().sum(dim=1, keepdim=True)
    weights = posterior_weights(z, mu, log_var)
    torch.testing.assert_close(weights.double(), expected, rtol=1e-5, atol=1e-7)
    assert weights.dtype == torch.float32


def test_a_code_inside_one_narrow_posterior_picks_that_image():
    mu = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    log_var = torch.full((3, 2), -6.0)  # standard deviation 0.05
    weights = posterior_weights(torch.tensor([[3.0, 0.0]]), mu, log_var)
    torch.testing.assert_close(weights, torch.tensor([[0.0, 1.0, 0.0]]))
    assert effective_sample_size(weights).item() == pytest.approx(1.0)


def test_identical_posteriors_share_the_weight_equally():
    weights = posterior_weights(torch.randn(4, 2), torch.ones(6, 2), torch.zeros(6, 2))
    torch.testing.assert_close(weights, torch.full((4, 6), 1 / 6))
    torch.testing.assert_close(effective_sample_size(weights), torch.full((4,), 6.0).double())


def test_posterior_weights_average_to_the_best_decoder_for_the_encoder():
    # the weighted mean minimises sum_n w_n ||x_n - d||^2: any other d does worse
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(10, 784, generator=gen)
    weights = posterior_weights(
        torch.zeros(1, 2), torch.randn(10, 2, generator=gen), torch.zeros(10, 2)
    )
    mean = weights @ x

    def expected_error(d: torch.Tensor) -> float:
        return (weights.T * (x - d).pow(2).sum(dim=1, keepdim=True)).sum().item()

    assert all(
        expected_error(mean) < expected_error(mean + 0.01 * torch.randn(1, 784, generator=gen))
        for _ in range(5)
    )


def test_effective_sample_size_of_unequal_weights():
    weights = torch.tensor([[0.5, 0.25, 0.25]])
    assert effective_sample_size(weights).item() == pytest.approx(1 / (0.25 + 0.0625 + 0.0625))


@pytest.mark.parametrize(
    ("z", "mu", "log_var", "name"),
    [
        (torch.zeros(3), torch.zeros(4, 3), torch.zeros(4, 3), "z"),
        (torch.zeros(2, 3), torch.zeros(4, 2), torch.zeros(4, 2), "latent_dim"),
        (torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(5, 3), "log_var"),
    ],
)
def test_posterior_weights_refuse_mismatched_shapes(z, mu, log_var, name):
    with pytest.raises(ValueError, match=name):
        posterior_weights(z, mu, log_var)


@pytest.mark.parametrize("weights", [torch.tensor([[0.5, 0.6]]), torch.tensor([[1.5, -0.5]])])
def test_effective_sample_size_refuses_weights_that_are_not_a_distribution(weights):
    with pytest.raises(ValueError, match="sum to 1"):
        effective_sample_size(weights)
