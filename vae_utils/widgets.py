"""A slider over precomputed figures that works in a live kernel and in the static book.

The frames are rendered once, in Python, as PNG images. With ipywidgets 8 the slider is linked to a
stack of the pictures in the browser (``jsdlink``), not through the kernel, so the rendered HTML
page keeps working with no kernel: moving the slider only switches which picture is shown. With
ipywidgets 7 (what Colab's front end renders natively), which has no ``Stack``, the kernel swaps
the picture when the slider moves.

Each picture is an ``<img>`` with alt text in an ``HTML`` widget: an ``Image`` widget has none.
"""

from __future__ import annotations

import base64
import html
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
    alt: str,
    index: int = 0,
) -> widgets.VBox:
    """A slider over ``labels`` above the PNG frame of the selected label.

    Args:
        frames: one PNG image (bytes, e.g. from :func:`figure_to_png`) per slider position.
        labels: the slider's text at each position, as many as ``frames`` and all different.
        description: the name shown left of the slider, e.g. ``"C"``.
        alt: what every frame shows, for readers who cannot see it; frame ``i``'s alt text is
            ``"{alt} ({description} = {labels[i]})"``.
        index: the position selected at first.

    Returns:
        A ``VBox`` of a ``SelectionSlider`` and the picture: with ipywidgets 8 a ``Stack`` of
        ``HTML`` pictures whose selected child follows the slider's index, linked in the browser;
        with ipywidgets 7 one ``HTML`` picture that the kernel swaps.
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
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must say what the frames show, e.g. alt='Reconstructions, samples'")
    slider = widgets.SelectionSlider(
        options=list(labels),
        index=index,
        description=description,
        continuous_update=True,
        layout=widgets.Layout(width="100%", max_width="640px"),
    )
    pictures = [
        _picture(frame, f"{alt} ({description} = {label})")
        for frame, label in zip(frames, labels, strict=True)
    ]
    if hasattr(widgets, "Stack"):  # ipywidgets 8: switched in the browser, kernel or not
        shown = widgets.Stack(
            [widgets.HTML(picture) for picture in pictures],
            selected_index=index,
            layout=widgets.Layout(width="100%"),
        )
        widgets.jsdlink((slider, "index"), (shown, "selected_index"))
    else:  # ipywidgets 7: no Stack; the kernel swaps the picture
        shown = widgets.HTML(pictures[index], layout=widgets.Layout(width="100%"))

        def show(change: dict) -> None:
            shown.value = pictures[change["new"]]

        slider.observe(show, names="index")
    return widgets.VBox([slider, shown], layout=widgets.Layout(width="100%"))


def _picture(png: bytes, alt: str) -> str:
    """An ``<img>`` of ``png`` (inlined as a data URL) with its alt text, scaled to the width."""
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (
        f'<img src="{source}" alt="{html.escape(alt)}" '
        'style="width: 100%; height: auto; max-width: 100%">'
    )
