"""The slider over precomputed frames: its structure, its browser-side link, and bad input."""

import base64
import re
import struct

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

import vae_utils.widgets
from vae_utils.widgets import figure_to_png, image_slider, live_slider


def _frame(value: float) -> bytes:
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, value])
    return figure_to_png(fig, dpi=20)


def test_figure_to_png_returns_a_png_and_closes_the_figure():
    before = len(plt.get_fignums())
    png = _frame(1.0)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 100
    assert len(plt.get_fignums()) == before


def test_figure_to_png_crops_to_the_drawing_unless_told_not_to():
    def size(tight: bool) -> tuple[int, int]:
        fig, ax = plt.subplots(figsize=(4, 3))
        fig.subplots_adjust(left=0.3, right=0.7, bottom=0.3, top=0.7)  # wide empty margins
        ax.plot([0, 1], [0, 1])
        png = figure_to_png(fig, dpi=50, tight=tight)
        return struct.unpack(">II", png[16:24])  # the IHDR chunk: width, height

    assert size(tight=False) == (200, 150)  # the whole figure, figsize * dpi
    width, height = size(tight=True)
    assert width < 200 and height < 150  # the empty margins cropped
    fig = plt.figure()
    with pytest.raises(ValueError, match="tight must be True or False"):
        figure_to_png(fig, tight="no")
    plt.close(fig)


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


def _alt(picture: str) -> str:
    return re.search(r'alt="([^"]*)"', picture).group(1)


def test_live_slider_trains_for_the_chosen_value_and_shows_the_nearest_precomputed_frame(
    monkeypatch,
):
    clock = [100.0]
    monkeypatch.setattr("vae_utils.widgets.time.monotonic", lambda: clock[0])
    frames = {value: _frame(value) for value in (0.1, 1.0, 10.0)}
    calls = []

    def train_and_draw(value: float) -> bytes:
        calls.append((value, button.disabled))  # the button is off while training runs
        return _frame(value)

    box = live_slider(
        train_and_draw, list(frames.values()), list(frames), description="C", alt="A line",
        minimum=0.01, maximum=1000.0, value=1.0,
    )  # fmt: skip
    slider, button, status, _, trained, nearest = box.children
    assert isinstance(slider, widgets.SelectionSlider) and slider.value == "1"
    assert len(slider.options) == 5 * 20 + 1  # five decades, twenty steps each
    assert slider.options[:3] == ("0.01", "0.0112", "0.0126") and slider.options[-1] == "1e+03"
    assert trained.value == "" and nearest.value == ""  # nothing before the first click

    slider.value = "2.51"  # nearer to 1 than to 10 on the log scale (x2.51 against x3.98)
    button.click()
    assert calls == [(pytest.approx(10**0.4), True)] and not button.disabled
    assert _shown_png(trained.value) == _frame(10**0.4)
    assert _alt(trained.value) == "A line (C = 2.51, trained now)"
    assert _shown_png(nearest.value) == frames[1.0] and _alt(nearest.value) == "A line (C = 1)"
    assert "nearest precomputed model, C = 1." in status.value

    slider.value = "5.01"  # now 10 is nearer (x2 against x5)
    clock[0] += 5.0  # the reader's second click, 5 s later
    button.click()
    assert _shown_png(nearest.value) == frames[10.0]


def test_live_slider_turns_its_button_back_on_when_training_fails():
    def fails(value: float) -> bytes:
        raise RuntimeError("out of memory")

    box = live_slider(
        fails, [_frame(1.0)], [1.0], description="C", alt="A line",
        minimum=0.1, maximum=10.0, value=1.0,
    )  # fmt: skip
    _, button, status, _, trained, _ = box.children
    button.click()  # ipywidgets reports a callback's exception (a traceback) instead of raising it
    assert not button.disabled
    assert trained.value == "" and status.value == "Training with C = 1 failed: see below."


def test_live_slider_ignores_a_click_queued_while_it_trained(monkeypatch):
    """A click that reaches the kernel while a model trains waits in the kernel's queue and is
    handled the moment the training ends: it must not start a second training."""
    clock = [100.0]
    monkeypatch.setattr("vae_utils.widgets.time.monotonic", lambda: clock[0])
    calls = []

    def train_and_draw(value: float) -> bytes:
        calls.append(value)
        clock[0] += 30.0  # the training takes 30 s
        return _frame(value)

    box = live_slider(
        train_and_draw, [_frame(1.0)], [1.0], description="C", alt="A line",
        minimum=0.1, maximum=10.0, value=1.0,
    )  # fmt: skip
    _, button, status, _, trained, _ = box.children
    button.click()
    shown = trained.value
    button.click()  # queued during the training: handled at once, and ignored
    assert len(calls) == 1 and trained.value == shown and "Trained and drawn" in status.value
    clock[0] += 2.0  # a click of the reader's, after the result has appeared
    button.click()
    assert len(calls) == 2


@pytest.mark.parametrize("result", [None, "not bytes", b"GIF89a", b""])
def test_live_slider_says_so_when_training_returns_no_png(result):
    box = live_slider(
        lambda value: result, [_frame(1.0)], [1.0], description="C", alt="A line",
        minimum=0.1, maximum=10.0, value=1.0,
    )  # fmt: skip
    _, button, status, _, trained, _ = box.children
    button.click()
    assert trained.value == "" and not button.disabled
    assert "returned" in status.value and "not a PNG image" in status.value


@pytest.mark.parametrize(
    ("frames", "values", "limits", "message"),
    [
        (2, [1.0], (0.1, 10.0, 1.0), "as long as each other"),
        (1, [0.0], (0.1, 10.0, 1.0), "positive"),
        (1, [1.0], (0.1, 10.0, 20.0), "value between them"),
        (1, [1.0], (10.0, 0.1, 1.0), "minimum < maximum"),
    ],
)
def test_live_slider_refuses_bad_input(frames, values, limits, message):
    minimum, maximum, value = limits
    with pytest.raises(ValueError, match=message):
        live_slider(
            _frame, [_frame(1.0)] * frames, values, description="C", alt="A line",
            minimum=minimum, maximum=maximum, value=value,
        )  # fmt: skip
