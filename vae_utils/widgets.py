"""A slider over precomputed figures that works in a live kernel and in the static book.

The frames are rendered once, in Python, as PNG images. With ipywidgets 8 the slider is linked to a
stack of the pictures in the browser (``jsdlink``), not through the kernel, so the rendered HTML
page keeps working with no kernel: moving the slider only switches which picture is shown. With
ipywidgets 7 (what Colab's front end renders natively), which has no ``Stack``, the kernel swaps
the picture when the slider moves.

Each picture is an ``<img>`` with alt text in an ``HTML`` widget: an ``Image`` widget has none.

:func:`live_slider` adds what only a kernel can do: train a model for any value the reader picks and
show its frame beside the nearest precomputed one.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def figure_to_png(fig: Figure, dpi: float = 80, *, tight: bool = True) -> bytes:
    """Render ``fig`` to PNG bytes and close it (so the notebook does not also display it).

    ``tight`` crops the figure to what it draws, which costs a second drawing pass; a figure
    laid out with fixed margins (``fig.subplots_adjust``) can pass ``tight=False``: the picture
    is then the whole figure, ``figsize * dpi`` pixels.
    """
    if not isinstance(fig, Figure):
        raise ValueError(
            f"fig must be a matplotlib Figure, got {type(fig).__name__}; make one with "
            "fig = plt.figure(), or pass ax.figure"
        )
    if not isinstance(tight, bool):
        raise ValueError(f"tight must be True or False, got {tight!r}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
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
    slider = _slider(list(labels), description, continuous_update=True, index=index)
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


STEPS_PER_DECADE = 20  # the live slider's resolution: 1, 1.12, 1.26, ... 10
IGNORE_CLICKS_FOR = 1.0  # seconds after a training: see live_slider
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def live_slider(
    train_and_draw: Callable[[float], bytes],
    frames: Sequence[bytes],
    values: Sequence[float],
    *,
    description: str,
    alt: str,
    minimum: float,
    maximum: float,
    value: float,
) -> widgets.VBox:
    """A slider over ``[minimum, maximum]`` on a log scale, twenty steps per decade, and a button
    that trains a model for its value.

    A click calls ``train_and_draw(value)`` in the kernel (its progress bar, if any, shows under
    the button), then shows the frame it returns above the precomputed frame whose value is
    nearest on the log scale. It needs a kernel: on a static page the button does nothing.

    Args:
        train_and_draw: trains a model for a value and returns its frame, a PNG image as bytes.
        frames: the precomputed frames, PNG bytes, one per entry of ``values``.
        values: the positive values the frames were drawn for, e.g. the C of each model.
        description: the name shown left of the slider, e.g. ``"C"``.
        alt: what every frame shows, for readers who cannot see it; each picture's alt text adds
            its value.
        minimum, maximum, value: the slider's range and start, positive, ``minimum < maximum``;
            it starts at the step nearest to ``value``.

    Returns:
        A ``VBox``: the slider, the button, a line that says what happens, the training's output
        (with ipywidgets 8), the new frame and the nearest precomputed one.
    """
    if len(frames) != len(values) or not frames:
        raise ValueError(
            f"frames and values must be non-empty and as long as each other, got {len(frames)} "
            f"and {len(values)}: one frame per value"
        )
    grid = _log_grid(values, minimum, maximum, value)
    start = min(grid, key=lambda label: abs(math.log(grid[label] / value)))
    slider = _slider(list(grid), description, continuous_update=False, value=start)
    button = widgets.Button(
        description="Train a model",
        tooltip=f"Train a model with this {description} and show it (needs a running kernel)",
        icon="play",
    )
    status = widgets.HTML(f"Pick {description} and press the button (needs a running kernel).")
    # The training's progress bar. The classic Notebook's ipywidgets 7 front end fails to create an
    # Output widget once a chapter has run ("Could not create a model"): with ipywidgets 7 the
    # status line alone says that training is under way.
    output = widgets.Output() if hasattr(widgets, "Stack") else None
    trained = widgets.HTML(layout=widgets.Layout(width="100%"))
    nearest = widgets.HTML(layout=widgets.Layout(width="100%"))

    # A click that reaches the kernel while a model trains waits in its queue and is handled the
    # moment the training ends, with the button already back on: ignore clicks handled within
    # IGNORE_CLICKS_FOR seconds of the end of a training, which no reader's second click is.
    last_end = -math.inf

    def train(_: widgets.Button) -> None:
        nonlocal last_end
        if time.monotonic() - last_end < IGNORE_CLICKS_FOR:
            return
        chosen = grid[slider.value]
        button.disabled = True
        status.value = f"Training with {description} = {chosen:.3g} ..."
        start, returned, result = time.perf_counter(), False, None
        try:
            if output is None:
                result, returned = train_and_draw(chosen), True
            else:
                output.clear_output()
                with output:  # in a kernel, shows an exception's traceback here and swallows it
                    result, returned = train_and_draw(chosen), True
        finally:
            button.disabled = False
            last_end = time.monotonic()
            if not returned:
                status.value = f"Training with {description} = {chosen:.3g} failed: see below."
        if not returned:
            return
        if not (isinstance(result, bytes) and result.startswith(PNG_SIGNATURE)):
            status.value = (
                f"Training with {description} = {chosen:.3g} returned {type(result).__name__} "
                f"{str(result)[:20]!r}, not a PNG image: train_and_draw must return PNG bytes "
                "(see vu.widgets.figure_to_png)."
            )
            return
        seconds = time.perf_counter() - start
        index = min(range(len(values)), key=lambda i: abs(math.log(values[i] / chosen)))
        status.value = (
            f"Trained and drawn with {description} = {chosen:.3g} in {seconds:.1f} s (top); "
            f"below, the nearest precomputed model, {description} = {values[index]:g}."
        )
        trained.value = _picture(result, f"{alt} ({description} = {chosen:.3g}, trained now)")
        nearest.value = _picture(frames[index], f"{alt} ({description} = {values[index]:g})")

    button.on_click(train)
    shown = [slider, button, status, output, trained, nearest]
    return widgets.VBox([child for child in shown if child is not None])


def _log_grid(
    values: Sequence[float], minimum: float, maximum: float, value: float
) -> dict[str, float]:
    """``{label: value}``, ``STEPS_PER_DECADE`` values a decade from ``minimum`` to ``maximum``,
    after checking that those and ``values`` and ``value`` are positive, ``value`` between."""
    if not all(isinstance(v, int | float) and v > 0 for v in (*values, minimum, maximum, value)):
        raise ValueError("values, minimum, maximum and value must be positive numbers, e.g. C")
    if not minimum <= value <= maximum or minimum >= maximum:
        raise ValueError(
            f"need minimum < maximum and value between them, got {minimum}, {maximum}, {value}"
        )
    # A SelectionSlider over a log grid, not a FloatLogSlider: the classic Notebook's ipywidgets 7
    # front end cannot create the latter's model ("_deserialize_state is not a function").
    steps = round(STEPS_PER_DECADE * math.log10(maximum / minimum))
    return {
        f"{v:.3g}": v
        for v in (minimum * (maximum / minimum) ** (i / steps) for i in range(steps + 1))
    }


def _slider(
    options: list[str], description: str, continuous_update: bool, **start: object
) -> widgets.SelectionSlider:
    """A slider over ``options``, as wide as the page up to 640 px; ``start``: ``index=`` or
    ``value=``."""
    return widgets.SelectionSlider(
        options=options,
        description=description,
        continuous_update=continuous_update,
        layout=widgets.Layout(width="100%", max_width="640px"),
        **start,
    )


def _picture(png: bytes, alt: str) -> str:
    """An ``<img>`` of ``png`` (inlined as a data URL) with its alt text, scaled to the width."""
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (
        f'<img src="{source}" alt="{html.escape(alt)}" '
        'style="width: 100%; height: auto; max-width: 100%">'
    )
