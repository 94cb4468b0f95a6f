"""The slider over precomputed frames: its structure, its browser-side link, and bad input."""

import base64
import re

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

import vae_utils.widgets
from vae_utils.widgets import figure_to_png, image_slider


def _frame(value: float) -> bytes:
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, value])
    return figure_to_png(fig, dpi=20)


def test_figure_to_png_returns_a_png_and_closes_the_figure():
    before = len(plt.get_fignums())
    png = _frame(1.0)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 100
    assert len(plt.get_fignums()) == before


def _shown_png(picture: str) -> bytes:
    """The PNG inside an ``<img src="data:image/png;base64,...">`` picture."""
    return base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', picture).group(1))


def test_slider_selects_the_frame_of_its_label_through_a_browser_side_link(monkeypatch):
    links, jsdlink = [], widgets.jsdlink

    def recording_jsdlink(source, target):
        links.append(jsdlink(source, target))
        return links[-1]

    monkeypatch.setattr(vae_utils.widgets.widgets, "jsdlink", recording_jsdlink)
    frames = [_frame(value) for value in (1.0, 2.0, 3.0)]
    box = image_slider(frames, ["a", "b", "c"], description="C", alt="A line", index=1)
    slider, stack = box.children
    assert isinstance(slider, widgets.SelectionSlider) and isinstance(stack, widgets.Stack)
    assert slider.options == ("a", "b", "c") and slider.index == 1 and stack.selected_index == 1
    assert [_shown_png(picture.value) for picture in stack.children] == frames
    # Linked in the browser (jsdlink), not through the kernel: so it works in the static page.
    assert [(link.source, link.target) for link in links] == [
        ((slider, "index"), (stack, "selected_index"))
    ]


def test_every_picture_has_alt_text_naming_its_position():
    frames = [_frame(value) for value in (1.0, 2.0)]
    _, stack = image_slider(frames, ["0.1", "1"], description="C", alt='Samples "x" & y').children
    alts = [re.search(r'alt="([^"]*)"', picture.value).group(1) for picture in stack.children]
    escaped = "Samples &quot;x&quot; &amp; y"  # quotes and ampersands escaped for the attribute
    assert alts == [f"{escaped} (C = 0.1)", f"{escaped} (C = 1)"]


def test_without_stack_as_in_ipywidgets_7_the_kernel_swaps_the_picture(monkeypatch):
    monkeypatch.delattr(vae_utils.widgets.widgets, "Stack")  # ipywidgets 7 has none
    frames = [_frame(value) for value in (1.0, 2.0, 3.0)]
    slider, picture = image_slider(frames, ["a", "b", "c"], description="C", alt="A line").children
    assert isinstance(picture, widgets.HTML) and _shown_png(picture.value) == frames[0]
    slider.index = 2  # what the front end does when the reader moves the slider
    assert _shown_png(picture.value) == frames[2]
    slider.value = "b"
    assert _shown_png(picture.value) == frames[1]


@pytest.mark.parametrize(
    ("frames", "labels", "index", "message"),
    [
        ([], [], 0, "non-empty and equally long"),
        ([b"x"], ["a", "b"], 0, "non-empty and equally long"),
        ([b"\x89PNG\r\n\x1a\n"] * 2, ["a", "a"], 0, "labels must all differ"),
        ([b"GIF89a"], ["a"], 0, "frames must be PNG images"),
        ([b"\x89PNG\r\n\x1a\n"], ["a"], 1, "index must be between 0 and 0"),
        ([b"\x89PNG\r\n\x1a\n"], ["a"], 0, "alt must say what the frames show"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(frames, labels, index, message):
    alt = "" if "alt" in message else "A line"
    with pytest.raises(ValueError, match=message):
        image_slider(frames, labels, description="C", alt=alt, index=index)
