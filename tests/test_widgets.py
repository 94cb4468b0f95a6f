"""The slider over precomputed frames: its structure, its browser-side link, and bad input."""

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


def test_slider_selects_the_frame_of_its_label_through_a_browser_side_link(monkeypatch):
    links, jsdlink = [], widgets.jsdlink

    def recording_jsdlink(source, target):
        links.append(jsdlink(source, target))
        return links[-1]

    monkeypatch.setattr(vae_utils.widgets.widgets, "jsdlink", recording_jsdlink)
    frames = [_frame(value) for value in (1.0, 2.0, 3.0)]
    box = image_slider(frames, ["a", "b", "c"], description="C", index=1)
    slider, stack = box.children
    assert isinstance(slider, widgets.SelectionSlider) and isinstance(stack, widgets.Stack)
    assert slider.options == ("a", "b", "c") and slider.index == 1 and stack.selected_index == 1
    assert [image.value for image in stack.children] == frames
    # Linked in the browser (jsdlink), not through the kernel: so it works in the static page.
    assert [(link.source, link.target) for link in links] == [
        ((slider, "index"), (stack, "selected_index"))
    ]


@pytest.mark.parametrize(
    ("frames", "labels", "index", "message"),
    [
        ([], [], 0, "non-empty and equally long"),
        ([b"x"], ["a", "b"], 0, "non-empty and equally long"),
        ([b"\x89PNG\r\n\x1a\n"] * 2, ["a", "a"], 0, "labels must all differ"),
        ([b"GIF89a"], ["a"], 0, "frames must be PNG images"),
        ([b"\x89PNG\r\n\x1a\n"], ["a"], 1, "index must be between 0 and 0"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(frames, labels, index, message):
    with pytest.raises(ValueError, match=message):
        image_slider(frames, labels, description="C", index=index)
