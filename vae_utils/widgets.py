"""A slider over precomputed figures that works in a live kernel and in the static book.

The frames are rendered once, in Python, as PNG images. The slider is linked to the stack of images
in the browser (``jsdlink``), not through the kernel, so the rendered HTML page keeps working with
no kernel: moving the slider only switches which image is shown.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def figure_to_png(fig: Figure, dpi: float = 80) -> bytes:
    """Render ``fig`` to PNG bytes and close it (so the notebook does not also display it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def image_slider(
    frames: Sequence[bytes],
    labels: Sequence[str],
    *,
    description: str,
    index: int = 0,
) -> widgets.VBox:
    """A slider over ``labels`` above the PNG frame of the selected label.

    Args:
        frames: one PNG image (bytes, e.g. from :func:`figure_to_png`) per slider position.
        labels: the slider's text at each position, as many as ``frames`` and all different.
        description: the name shown left of the slider, e.g. ``"C"``.
        index: the position selected at first.

    Returns:
        A ``VBox`` of a ``SelectionSlider`` and a ``Stack`` of ``Image`` widgets whose selected
        child follows the slider's index, linked in the browser.
    """
    if len(frames) == 0 or len(frames) != len(labels):
        raise ValueError(
            f"frames and labels must be non-empty and equally long, got {len(frames)} frames and "
            f"{len(labels)} labels; pass one label per frame"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must all differ, got {list(labels)}; format them more precisely")
    if not all(isinstance(frame, bytes) and frame[:8] == b"\x89PNG\r\n\x1a\n" for frame in frames):
        raise ValueError("frames must be PNG images as bytes; render figures with figure_to_png")
    if not 0 <= index < len(frames):
        raise ValueError(f"index must be between 0 and {len(frames) - 1}, got {index}")
    slider = widgets.SelectionSlider(
        options=list(labels),
        index=index,
        description=description,
        continuous_update=True,
        layout=widgets.Layout(width="100%", max_width="640px"),
    )
    images = [
        widgets.Image(value=frame, format="png", layout=widgets.Layout(width="100%", height="auto"))
        for frame in frames
    ]
    stack = widgets.Stack(images, selected_index=index, layout=widgets.Layout(width="100%"))
    widgets.jsdlink((slider, "index"), (stack, "selected_index"))
    return widgets.VBox([slider, stack], layout=widgets.Layout(width="100%"))
