"""Figures: the grid layout by hand, titles and labels, the palette, errors."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import numpy as np
import pytest
import torch

from vae_utils import CLASS_NAMES, plot_images, plot_latent_scatter, plot_loss_curves
from vae_utils.plots import CLASS_COLORS, image_grid


def test_image_grid_places_tiles_row_by_row_with_gaps():
    images = np.stack([np.full(4, value) for value in (1.0, 2.0, 3.0)])  # three 2x2 images
    grid = image_grid(images, num_columns=2, image_shape=(2, 2))
    assert grid.shape == (5, 5)
    assert np.all(grid[0:2, 0:2] == 1.0) and np.all(grid[0:2, 3:5] == 2.0)
    assert np.all(grid[3:5, 0:2] == 3.0)
    assert np.all(np.isnan(grid[2, :])) and np.all(np.isnan(grid[3:5, 3:5]))  # gap and padding


def test_image_grid_rejects_bad_input():
    with pytest.raises(ValueError, match=r"images must be flat \(n, 784\)"):
        image_grid(np.zeros((3, 100)), 2)
    with pytest.raises(ValueError, match="num_columns must be a positive int"):
        image_grid(np.zeros((3, 784)), 0)


def test_plots_have_titles_and_labels():
    ax = plot_images(torch.rand(6, 784), num_columns=3, title="Samples")
    assert ax.get_title() == "Samples"
    z, labels = np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 10
    ax = plot_latent_scatter(z, labels, CLASS_NAMES, title="Latent")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Latent", "$z_1$", "$z_2$")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(CLASS_NAMES)
    ax = plot_loss_curves({"a": [3, 2, 1], "b": [4, 3, 2]}, title="Loss", ylabel="error")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Loss", "epoch", "error")
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3]


def test_class_colors_are_distinct_and_valid():
    assert len(set(CLASS_COLORS)) == len(CLASS_COLORS) >= len(CLASS_NAMES)
    assert all(mcolors.is_color_like(color) for color in CLASS_COLORS)


def test_scatter_and_curves_reject_bad_input():
    with pytest.raises(ValueError, match=r"z must be \(n, 2\)"):
        plot_latent_scatter(np.zeros((5, 3)), np.zeros(5), CLASS_NAMES)
    with pytest.raises(ValueError, match="histories is empty"):
        plot_loss_curves({})
