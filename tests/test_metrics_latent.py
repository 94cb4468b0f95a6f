"""MMD against a double loop, the latent helpers by hand, principal angles by construction."""

import math

import pytest
import torch

from vae_utils.latent import interpolate, latent_grid, sample_box, sample_fitted_normal
from vae_utils.metrics import median_bandwidth, mmd
from vae_utils.pca import principal_angles


def _mmd_by_loops(x, y, h):
    def k(a, b):
        return math.exp(-float(((a - b) ** 2).sum()) / (2 * h * h))

    n, m = len(x), len(y)
    k_xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    k_yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    k_xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return k_xx + k_yy - 2 * k_xy


def test_mmd_matches_the_definition():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=generator, dtype=torch.float64)
    y = torch.randn(5, 3, generator=generator, dtype=torch.float64) + 0.5
    # float32 kernels (a third of float64's time), summed in float64
    assert mmd(x, y, bandwidth=1.3) == pytest.approx(_mmd_by_loops(x, y, 1.3), rel=1e-6)


def test_mmd_separates_different_distributions_and_not_equal_ones():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(400, 5, generator=generator)
    same = torch.randn(400, 5, generator=generator)
    shifted = torch.randn(400, 5, generator=generator) + 0.5
    h = median_bandwidth(x)
    assert abs(mmd(x, same, h)) < 0.01 < mmd(x, shifted, h)


def test_median_bandwidth_on_a_hand_worked_case():
    points = torch.tensor([[0.0], [1.0], [3.0]])  # pairwise distances 1, 3, 2
    assert median_bandwidth(points) == 2.0


def test_mmd_rejects_bad_input():
    with pytest.raises(ValueError, match="same number of features"):
        mmd(torch.zeros(3, 2), torch.zeros(3, 4), 1.0)
    with pytest.raises(ValueError, match=r"y must be a tensor of shape \(n, features\)"):
        mmd(torch.zeros(3, 2), torch.zeros(1, 2), 1.0)
    with pytest.raises(ValueError, match=r"bandwidth must be a positive number, got 0\.0"):
        mmd(torch.zeros(3, 2), torch.zeros(3, 2), 0.0)


def test_interpolate_and_grid():
    path = interpolate(torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0]), num_steps=3)
    assert torch.equal(path, torch.tensor([[0.0, 2.0], [2.0, 0.0], [4.0, -2.0]]))
    grid = latent_grid(-2.0, 2.0, 5)
    assert grid.shape == (25, 2)
    assert torch.equal(grid[0], torch.tensor([-2.0, 2.0]))  # top left
    assert torch.equal(grid[-1], torch.tensor([2.0, -2.0]))  # bottom right
    with pytest.raises(ValueError, match="num_steps must be an int >= 2"):
        interpolate(torch.zeros(2), torch.ones(2), 1)
    with pytest.raises(ValueError, match="z_start and z_end must be 1-D codes"):
        interpolate(torch.zeros(1, 2), torch.ones(1, 2), 5)
    with pytest.raises(ValueError, match="high must exceed low"):
        latent_grid(1.0, 1.0, 3)


def test_principal_angles_of_planes_at_a_known_angle():
    angle = 0.3
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    # the same plane tilted by `angle` about the first axis, with non-orthonormal columns
    b = torch.tensor([[2.0, 1.0], [0.0, math.cos(angle)], [0.0, math.sin(angle)]])
    angles = principal_angles(a, b)
    assert angles[0].item() == pytest.approx(0.0, abs=1e-7)
    assert angles[1].item() == pytest.approx(angle, rel=1e-6)
    with pytest.raises(ValueError, match="same number of rows"):
        principal_angles(torch.zeros(3, 2), torch.zeros(4, 2))


def test_sample_box_stays_in_the_box_and_fills_it():
    z = torch.tensor([[0.0, -2.0], [4.0, 2.0], [1.0, 0.0]])
    samples = sample_box(z, 5000, torch.Generator().manual_seed(0))
    assert samples.shape == (5000, 2)
    assert torch.all(samples >= torch.tensor([0.0, -2.0]))
    assert torch.all(samples <= torch.tensor([4.0, 2.0]))
    assert torch.allclose(samples.mean(dim=0), torch.tensor([2.0, 0.0]), atol=0.1)


def test_sample_fitted_normal_has_the_codes_mean_and_covariance():
    generator = torch.Generator().manual_seed(0)
    mixing = torch.tensor([[2.0, 0.0], [1.0, 0.5]])
    z = torch.randn(20_000, 2, generator=generator) @ mixing.T + torch.tensor([3.0, -1.0])
    samples = sample_fitted_normal(z, 20_000, generator)
    assert torch.allclose(samples.mean(dim=0), z.mean(dim=0), atol=0.05)
    assert torch.allclose(torch.cov(samples.T), torch.cov(z.T), atol=0.1)
