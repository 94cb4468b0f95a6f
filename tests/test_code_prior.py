"""Priors over grids of code indices against hand counts, exact normalisation and sampling."""

import itertools
import math

import numpy as np
import pytest
import torch

from vae_utils.code_prior import CodeGridPrior, fit_code_prior, reading_order_parents


def _grids(values: list[list[list[int]]]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def test_reading_order_parents_are_the_left_or_upper_neighbour():
    assert reading_order_parents((3, 2)) == [-1, 0, 0, 2, 2, 4]


def test_the_independent_prior_is_the_smoothed_frequencies_of_each_position():
    grids = _grids([[[0, 1]], [[0, 2]], [[1, 2]], [[0, 2]]])  # four 1x2 grids, 3 codes
    prior = fit_code_prior(grids, num_codes=3, neighbour=False, smoothing=0.5)
    first = np.array([3, 1, 0]) + 0.5  # counts of codes 0, 1, 2 in the first cell
    second = np.array([0, 1, 3]) + 0.5
    expected = math.log(first[0] / first.sum()) + math.log(second[2] / second.sum())
    assert prior.log_prob(_grids([[[0, 2]]])).item() == pytest.approx(expected)


def test_the_neighbour_prior_counts_each_code_given_its_left_neighbour():
    grids = _grids([[[0, 1]], [[0, 1]], [[0, 2]], [[1, 2]]])
    prior = fit_code_prior(grids, num_codes=3, neighbour=True, smoothing=0.5)
    first = np.array([3, 1, 0]) + 0.5
    given_zero = np.array([0, 2, 1]) + 0.5  # second cell where the first is 0
    expected = math.log(first[0] / first.sum()) + math.log(given_zero[1] / given_zero.sum())
    assert prior.log_prob(_grids([[[0, 1]]])).item() == pytest.approx(expected)


@pytest.mark.parametrize("neighbour", [False, True])
def test_probabilities_of_all_grids_sum_to_one(neighbour):
    generator = torch.Generator().manual_seed(0)
    grids = torch.randint(3, (20, 2, 2), generator=generator)
    prior = fit_code_prior(grids, num_codes=3, neighbour=neighbour)
    every_grid = _grids([[list(c[:2]), list(c[2:])] for c in itertools.product(range(3), repeat=4)])
    assert prior.log_prob(every_grid).exp().sum().item() == pytest.approx(1.0)


def test_samples_follow_the_fitted_frequencies():
    grids = _grids([[[0]]] * 80 + [[[1]]] * 20)
    prior = fit_code_prior(grids, num_codes=2, neighbour=False, smoothing=1e-6)
    samples = prior.sample(5000, torch.Generator().manual_seed(1))
    assert samples.shape == (5000, 1, 1)
    assert samples.float().mean().item() == pytest.approx(0.2, abs=0.02)


def test_a_neighbour_prior_learns_rows_that_repeat_their_first_code():
    generator = torch.Generator().manual_seed(2)
    grids = torch.randint(4, (500, 3, 1), generator=generator).expand(500, 3, 5).contiguous()
    independent = fit_code_prior(grids, num_codes=4, neighbour=False)
    neighbour = fit_code_prior(grids, num_codes=4, neighbour=True)
    # a row costs 2 bits for its first code, then almost nothing under the neighbour prior
    assert independent.bits_per_grid(grids) == pytest.approx(30, abs=0.2)
    assert neighbour.bits_per_grid(grids) < 6.5
    samples = neighbour.sample(200, torch.Generator().manual_seed(3))
    assert (samples == samples[:, :, :1]).float().mean().item() > 0.95


@pytest.mark.parametrize(
    ("indices", "match"),
    [
        (torch.zeros(2, 2, 2), "integer grids"),
        (torch.zeros(2, 4, dtype=torch.long), "integer grids"),
        (torch.full((2, 2, 2), 5), r"\[0, 3\)"),
    ],
)
def test_bad_grids_are_refused(indices, match):
    with pytest.raises(ValueError, match=match):
        fit_code_prior(indices, num_codes=3, neighbour=True)


def test_bad_settings_are_refused():
    grids = torch.zeros(2, 2, 2, dtype=torch.long)
    with pytest.raises(ValueError, match="smoothing"):
        fit_code_prior(grids, num_codes=3, neighbour=True, smoothing=0.0)
    prior = fit_code_prior(grids, num_codes=3, neighbour=True)
    with pytest.raises(ValueError, match=r"\(n, 2, 2\)"):
        prior.log_prob(torch.zeros(2, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="earlier cell"):
        CodeGridPrior(torch.zeros(2, 3, 3), [1, -1], (1, 2))
