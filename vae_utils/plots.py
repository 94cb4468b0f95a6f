"""Figures of the course: a colour-blind-safe palette, image grids, latent scatters, loss curves.

Every function draws on a given matplotlib ``Axes`` (or a new one) and returns it, with a title and
axis labels set, so that a notebook cell stays one line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from vae_utils.validation import check_int

# Paul Tol's "muted" scheme (distinct for the common colour-vision deficiencies), plus a dark grey
# for a tenth class.
CLASS_COLORS: tuple[str, ...] = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#4D4D4D",
)
# Okabe and Ito's palette (without black) for lines and a few series.
LINE_COLORS: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
)


def _as_numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def image_grid(
    images: torch.Tensor | np.ndarray, num_columns: int, image_shape: tuple[int, int] = (28, 28)
) -> np.ndarray:
    """Tile flat images into one 2-D array, row by row, with a 1-pixel gap between tiles.

    Args:
        images: ``(n, height * width)`` flat images (or ``(n, height, width)``).
        num_columns: tiles per row; the last row is padded with blank tiles.
        image_shape: ``(height, width)`` of one image.

    Returns:
        ``(rows * (height + 1) - 1, num_columns * (width + 1) - 1)`` array; gaps hold NaN, which
        ``imshow`` leaves blank.

    Example:
        >>> image_grid(np.zeros((5, 784)), num_columns=3).shape
        (57, 86)
    """
    array = _as_numpy(images).astype(float)
    height, width = image_shape
    if array.ndim in (2, 3) and len(array) == 0:
        raise ValueError(
            f"images must hold at least one image, got shape {array.shape}; pass e.g. x[:16]"
        )
    if array.ndim not in (2, 3) or array[0].size != height * width:
        raise ValueError(
            f"images must be flat (n, {height * width}) or (n, {height}, {width}), got "
            f"{array.shape}; pass image_shape=(height, width) for other sizes"
        )
    check_int("num_columns", num_columns, "try num_columns=8")
    num_rows = -(-len(array) // num_columns)
    grid = np.full((num_rows * (height + 1) - 1, num_columns * (width + 1) - 1), np.nan)
    for index, image in enumerate(array.reshape(len(array), height, width)):
        row, column = divmod(index, num_columns)
        top, left = row * (height + 1), column * (width + 1)
        grid[top : top + height, left : left + width] = image
    return grid


def plot_images(
    images: torch.Tensor | np.ndarray,
    num_columns: int = 8,
    title: str = "",
    ax: Axes | None = None,
    row_labels: Sequence[str] | None = None,
) -> Axes:
    """Show flat 28x28 images ``(n, 784)`` with values in [0, 1] as a grey-scale grid."""
    grid = image_grid(images, num_columns)
    if ax is None:
        num_rows = (grid.shape[0] + 1) // 29
        label_width = 1.5 if row_labels is not None else 0.0
        ax = plt.figure(figsize=(0.6 * num_columns + label_width, 0.6 * num_rows + 0.6)).gca()
    ax.imshow(grid, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    if row_labels is None:
        ax.set_yticks([])
    else:
        ax.set_yticks(np.arange(len(row_labels)) * 29 + 13.5, labels=list(row_labels))
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def plot_latent_scatter(
    z: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    class_names: Sequence[str],
    title: str = "Latent space",
    ax: Axes | None = None,
) -> Axes:
    """Scatter 2-D codes ``z: (n, 2)`` coloured by their class ``labels: (n,)``."""
    z, labels = _as_numpy(z), _as_numpy(labels)
    if z.ndim != 2 or z.shape[1] != 2 or len(labels) != len(z):
        raise ValueError(
            f"z must be (n, 2) with one label per row, got z {z.shape} and labels "
            f"{labels.shape}; train with latent_dim=2 or project the codes to 2-D first"
        )
    if len(class_names) > len(CLASS_COLORS):
        raise ValueError(
            f"class_names must name at most {len(CLASS_COLORS)} classes, one per colour, got "
            f"{len(class_names)}; merge classes or plot them in groups"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= len(class_names)):
        # else the points of such a label would be left out of the plot without a word
        raise ValueError(
            f"labels must lie in 0..{len(class_names) - 1}, one per entry of class_names, got "
            f"values from {labels.min()} to {labels.max()}; pass a name for every class"
        )
    ax = ax if ax is not None else plt.figure(figsize=(6, 5)).gca()
    for label, (name, color) in enumerate(zip(class_names, CLASS_COLORS, strict=False)):
        points = z[labels == label]
        ax.scatter(points[:, 0], points[:, 1], s=4, color=color, label=name, alpha=0.7)
    ax.set_title(title)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(markerscale=3, fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_loss_curves(
    histories: Mapping[str, Sequence[float]],
    title: str = "Training loss",
    ylabel: str = "loss",
    ax: Axes | None = None,
    log_y: bool = False,
) -> Axes:
    """Plot one loss curve per entry of ``histories`` (name -> loss per epoch) against epochs."""
    if not isinstance(histories, Mapping):
        raise ValueError(
            f"histories must be a dict of name -> loss per epoch, got {type(histories).__name__}; "
            "pass e.g. {'autoencoder': history}"
        )
    if not histories:
        raise ValueError("histories is empty; pass e.g. {'autoencoder': history}")
    ax = ax if ax is not None else plt.figure(figsize=(6, 4)).gca()
    for (name, history), color in zip(histories.items(), LINE_COLORS * 3, strict=False):
        ax.plot(np.arange(1, len(history) + 1), history, marker="o", color=color, label=name)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.legend()
    return ax
