"""The latent explorer (vae_utils/explorer.py, explorer.js) in headless Chromium, with no kernel.

The page is a standalone one that the exporter writes, from chapter 4's models (shipped, or
cached), in both forms: every model inlined (as in a notebook's output) and split into files the
page loads when the reader picks a model (as in the book). Skipped without Chromium unless
``REQUIRE_BROWSER`` is set, as tests/test_browser.py is. Prints the time the page takes per frame.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from chromium import launched, require_chromium, served
from PIL import Image

import vae_utils as vu

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".vendor" / "test" / "axe-core-4.14.1" / "axe.min.js"  # `make test` fetches it
CODES = [[0.0, 0.0], [1.2, -0.7], [-2.1, 1.4], [0.4, 2.6], [-0.9, -1.8]]  # five codes to decode
SHOWN_C = (0.1, 1, 10, 100)

require_chromium("browser tests")

from playwright.sync_api import Browser, Locator, Page  # noqa: E402


@pytest.fixture(scope="module")
def models() -> dict[str, torch.nn.Module]:
    """Chapter 4's models, as its cells load them."""
    x_train, _ = vu.load_fashion_mnist("train")
    C_values = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000]
    sweep = vu.TrainConfig(num_epochs=2, batch_size=128, lr=1e-3)
    vaes = vu.train_vae_sweep(x_train, C_values, config=sweep)
    autoencoder, _ = vu.train_autoencoder(x_train, latent_dim=2, hidden_dims=(256,), config=sweep)
    return {
        "autoencoder": autoencoder,
        **{f"VAE, C = {C:g}": vaes[C_values.index(C)] for C in SHOWN_C},
    }


@pytest.fixture(scope="module")
def site(
    models: dict[str, torch.nn.Module], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Both pages served on a free localhost port; yields the base URL."""
    folder = tmp_path_factory.mktemp("explorer")
    x_train, y_train = vu.load_fashion_mnist("train")
    x_test, y_test = vu.load_fashion_mnist("test")
    shown = vu.latent_explorer(
        models, x_test[:2000], y_test[:2000], x_train[:1000], y_train[:1000], initial="VAE, C = 1"
    )
    shown.save(folder / "inline.html")
    shown.save(folder / "split" / "index.html", split=True)
    with served(folder) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


EXPLORER = "document.querySelector('.vae-explorer').vaeExplorer"


def open_explorer(browser: Browser, url: str, errors: list[str]) -> Page:
    """Open the page (touch enabled, nothing outside localhost) once its explorer is ready."""
    context = browser.new_context(viewport={"width": 1000, "height": 900}, has_touch=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.route(
        "**/*",
        lambda route, request: (
            route.continue_() if request.url.startswith(("http://127.0.0.1", "data:"))
            else (errors.append(f"outside: {request.url}"), route.abort())
        ),
    )  # fmt: skip
    page.goto(url)
    page.wait_for_function(f"{EXPLORER} !== undefined", timeout=10_000)
    page.evaluate(f"{EXPLORER}.ready")
    return page


def decoded_pixels(page: Page) -> np.ndarray:
    """The decoded image's canvas, read back as values in [0, 1] (it draws 255 - 255 x)."""
    red = page.evaluate(
        "Array.from(document.querySelector('.vae-explorer-image').getContext('2d')"
        ".getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))"
    )
    return (255 - np.array(red, dtype=np.float64)) / 255


def code(page: Page, handle: int = 0) -> list[float]:
    return page.evaluate(f"{EXPLORER}.codes[{handle}].slice()")


def screenshot(locator: Locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("L"))


@pytest.mark.parametrize("form", ["inline.html", "split/index.html"])
def test_the_page_decodes_as_pytorch_does(
    browser: Browser, site: str, models: dict[str, torch.nn.Module], form: str
) -> None:
    errors: list[str] = []
    page = open_explorer(browser, f"{site}/{form}", errors)
    worst = 0.0
    for index, model in enumerate(models.values()):
        page.evaluate(f"{EXPLORER}.selectModel({index})")
        with torch.no_grad():
            expected = model.decode(torch.tensor(CODES)).numpy()  # (5, 784)
        for z, pixels in zip(CODES, expected, strict=True):
            page.evaluate(f"{EXPLORER}.setCode(0, {z})")
            assert code(page) == pytest.approx(z)  # inside every model's plane
            worst = max(worst, float(np.abs(decoded_pixels(page) - pixels).max()))
    print(f"\nthe page's pixels vs PyTorch's decode ({form}): at most {worst * 255:.2f} / 255")
    page.close()
    assert worst <= 1 / 255
    assert errors == []


def test_dragging_touch_and_the_arrow_keys_move_the_code_and_change_the_image(
    browser: Browser, site: str
) -> None:
    errors: list[str] = []
    page = open_explorer(browser, f"{site}/split/index.html", errors)
    handle = page.locator(".vae-explorer-handle").first
    image = page.locator(".vae-explorer-image").first
    page.evaluate(f"{EXPLORER}.stats = {{frames: 0, totalMs: 0, maxMs: 0}}")

    before, picture = code(page), decoded_pixels(page)
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 90, y + 60, steps=30)  # right and down: z1 up, z2 down
    page.mouse.up()
    dragged = code(page)
    assert dragged[0] > before[0] + 0.5 and dragged[1] < before[1] - 0.3, (before, dragged)
    assert np.abs(decoded_pixels(page) - picture).max() > 0.2  # another image
    stats = page.evaluate(f"{EXPLORER}.stats")
    assert stats["frames"] >= 30  # redrawn on every move
    drag_ms = stats["totalMs"] / stats["frames"]

    handle.focus()
    picture = decoded_pixels(page)
    handle.press("ArrowRight")
    handle.press("ArrowUp")
    moved = code(page)
    assert moved[0] > dragged[0] and moved[1] > dragged[1], (dragged, moved)
    handle.press("Shift+ArrowLeft")
    assert code(page)[0] < moved[0]
    assert np.abs(decoded_pixels(page) - picture).max() > 0.02
    assert "z1 = " in handle.get_attribute("aria-valuetext")

    plane = page.locator(".vae-explorer-plane").bounding_box()
    page.touchscreen.tap(plane["x"] + plane["width"] * 0.2, plane["y"] + plane["height"] * 0.2)
    tapped = code(page)
    assert tapped[0] < moved[0] and tapped[1] > 0, tapped  # the top left of the plane
    assert image.get_attribute("aria-label").endswith(")")

    # Interpolation: a second handle, and the line between the two decoded as a strip.
    page.get_by_label("a line between two points").check()
    second = page.locator(".vae-explorer-handle").nth(1)
    assert second.is_visible() and page.locator(".vae-explorer-strip").is_visible()
    strip = page.evaluate(
        "Array.from(document.querySelector('.vae-explorer-strip').getContext('2d')"
        ".getImageData(0, 0, 280, 28).data.filter((_, i) => i % 4 === 0))"
    )
    strip = np.array(strip).reshape(28, 10, 28)
    assert np.abs(strip[:, 0] - strip[:, -1]).max() > 50  # the two ends differ
    second.focus()
    second.press("ArrowDown")
    assert "from A = " in page.locator(".vae-explorer-description").inner_text()

    # The frame time: what the page spends per move (decode, plane, images), as drawn above.
    timing = page.evaluate(
        "(() => { const e = " + EXPLORER + "; const start = performance.now();"
        " for (let i = 0; i < 300; i++) e.setCode(i % 2, [Math.cos(i / 10), Math.sin(i / 10)]);"
        " return (performance.now() - start) / 300; })()"
    )
    print(
        f"\nframe time in Chromium: {drag_ms:.2f} ms per pointer move while dragging "
        f"({stats['frames']} frames, longest {stats['maxMs']:.2f} ms), {timing:.2f} ms per move "
        "in the interpolation mode (a decoded image and a strip of 10)"
    )
    page.close()
    assert drag_ms < 1000 / 30 and timing < 1000 / 30  # 30 frames per second, at least
    assert errors == []


def test_switching_the_model_changes_the_scatter(browser: Browser, site: str) -> None:
    errors: list[str] = []
    page = open_explorer(browser, f"{site}/split/index.html", errors)
    plane = page.locator(".vae-explorer-plane")
    label = plane.get_attribute("aria-label")
    before = screenshot(plane)
    page.get_by_label("Model").select_option(label="autoencoder")
    page.wait_for_function(f"{EXPLORER}.modelIndex === 0")
    after = screenshot(plane)
    assert float((before != after).mean()) > 0.05
    assert plane.get_attribute("aria-label") != label
    assert "prior" not in plane.get_attribute("aria-label")  # no circles: an autoencoder
    page.close()
    assert errors == []


@pytest.mark.parametrize("mode", ["one point", "a line between two points"])
def test_axe_finds_no_violation_in_the_explorer(browser: Browser, site: str, mode: str) -> None:
    if not AXE.is_file():
        pytest.skip(f"{AXE.relative_to(ROOT)} missing; `make test` fetches it")
    errors: list[str] = []
    page = open_explorer(browser, f"{site}/split/index.html", errors)
    page.get_by_label(mode).check()
    page.locator(".vae-explorer-handle").first.focus()
    page.locator(".vae-explorer-handle").first.press("ArrowLeft")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run('.vae-explorer', {resultTypes: ['violations']})")
    found = [
        (violation["id"], violation["impact"], " ".join(node["target"]))
        for violation in results["violations"]
        for node in violation["nodes"]
    ]
    page.close()
    assert found == []
    assert errors == []
