"""The built site in a real browser: headless Chromium, served from localhost, no network.

Needs Debian's ``chromium`` (``apt-get install chromium``; `.ci/run` installs it) and the
``playwright`` Python package (in requirements-dev.txt); ``playwright install`` is never needed.
Without Chromium these tests are skipped, unless ``REQUIRE_BROWSER`` is set (as in CI), when they
fail. `make test` builds the book first; run `make book` before running this file alone.
Screenshots of the slider go to ``_build/browser/``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from chromium import launched, require_chromium, served
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "browser"
SLIDER_PAGE = "notebooks/04_loss_weight.html"
PAGES = [
    "index.html",
    *(f"notebooks/{page.stem}.html" for page in sorted(ROOT.glob("notebooks/*.ipynb"))),
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
AXE = ROOT / ".vendor" / "test" / "axe-core-4.14.1" / "axe.min.js"  # `make test` fetches it
# What axe-core finds in the theme (sphinx-book-theme, pydata-sphinx-theme), not in the course's
# content, CSS or widgets, accepted here: (rule, a CSS selector of the element) -> the reason.
_SEARCH = "the theme's search button is named 'Search'; its text adds the shortcut (Ctrl+K)"
THEME_VIOLATIONS: dict[tuple[str, str], str] = {
    (
        "label-content-name-mismatch",
        '.navbar-item > .search-button-field.search-button__button[aria-label="Search"]',
    ): _SEARCH,
    (
        "label-content-name-mismatch",
        ".sidebar-primary-item:nth-child(2) > .search-button-field.search-button__button"
        '[aria-label="Search"]',
    ): _SEARCH + " (the same button in the sidebar, on narrow screens)",
    ("label-content-name-mismatch", ".theme-switch-button"): (
        "the theme's light/dark button is named for what it does ('Color mode'); the titles of "
        "its icons name the modes ('Light', 'Dark')"
    ),
}

if not (HTML / SLIDER_PAGE).is_file():
    pytest.skip("the book is not built; run `make book`", allow_module_level=True)
require_chromium("browser tests")

from playwright.sync_api import Browser, Page  # noqa: E402


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The built book served on a free localhost port; yields its base URL."""
    with served(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


@dataclass
class PageLog:
    """What a page did while it loaded and ran."""

    external_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_page(browser: Browser, url: str) -> tuple[Page, PageLog]:
    """Open ``url`` with every request outside localhost blocked and recorded, and errors logged."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    log = PageLog()

    def route(route, request) -> None:
        scheme, host = urlsplit(request.url).scheme, urlsplit(request.url).hostname
        if scheme in ("data", "blob") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            log.external_requests.append(request.url)
            route.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda message: (
            log.errors.append(f"console: {message.text} ({message.location.get('url')})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: log.errors.append(f"uncaught: {error}"))
    page.on(
        "response",
        lambda response: (
            log.errors.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    return page, log


@pytest.mark.parametrize("path", PAGES)
def test_page_is_quiet_and_offline(browser: Browser, site: str, path: str) -> None:
    page, log = open_page(browser, f"{site}/{path}")
    page.close()
    assert log.external_requests == []
    assert log.errors == []


def changed_fraction(png_a: bytes, png_b: bytes) -> float:
    """The fraction of pixels that differ between two screenshots of the same size."""
    a, b = (np.asarray(Image.open(io.BytesIO(png)).convert("L")) for png in (png_a, png_b))
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((a != b).mean())


def _visible_frame(page: Page) -> str:
    """The alt text of the picture the slider's stack shows now; it ends with the frame's C."""
    return page.locator(".widget-vbox .widget-html-content img:visible").get_attribute("alt")


def test_slider_switches_frames_without_a_kernel(browser: Browser, site: str) -> None:
    page, log = open_page(browser, f"{site}/{SLIDER_PAGE}")
    widget = page.locator(".widget-vbox").first
    widget.wait_for(timeout=20_000)
    widget.scroll_into_view_if_needed()
    handle = widget.locator(".noUi-handle")
    readout = widget.locator(".widget-readout")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    assert readout.inner_text() == "1"
    assert handle.get_attribute("aria-label") == "C"  # its accessible name (book/extra/scripts)
    before_alt, before = _visible_frame(page), widget.screenshot(path=SCREENSHOTS / "before.png")
    assert before_alt.endswith("(C = 1)")

    # One step right with the keyboard: C from 1 to 3.
    handle.focus()
    start = time.perf_counter()
    handle.press("ArrowRight")
    page.wait_for_function(
        "alt => document.querySelector('.widget-vbox .widget-html-content img').alt !== alt",
        arg=before_alt,
        timeout=5_000,
    )
    switch_seconds = time.perf_counter() - start
    after = widget.screenshot(path=SCREENSHOTS / "after.png")
    assert readout.inner_text() == "3"
    assert _visible_frame(page).endswith("(C = 3)")
    assert changed_fraction(before, after) > 0.05  # a new picture, not a repainted cursor
    assert switch_seconds < 1.0

    # Dragged with the mouse to the far left: the smallest C, posterior collapse.
    box = handle.bounding_box()
    track = widget.locator(".noUi-base").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] - 20, box["y"] + box["height"] / 2, steps=10)
    page.mouse.up()
    assert readout.inner_text() == "0.01"
    assert _visible_frame(page).endswith("(C = 0.01)")
    smallest = widget.screenshot(path=SCREENSHOTS / "smallest.png")
    assert changed_fraction(before, smallest) > 0.05

    # The page's equations were typeset by the local MathJax (rendered, none left as raw TeX).
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    assert page.locator("mjx-container").count() >= 10
    assert page.locator("mjx-merror").count() == 0
    assert "$$" not in page.locator("article").inner_text()

    page.close()
    assert log.external_requests == []
    assert log.errors == []


def serious_violations(page: Page) -> list[tuple[str, str, str]]:
    """axe-core's critical and serious violations on ``page``: (rule, element, what it says)."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (violation["id"], " ".join(node["target"]), node["failureSummary"].splitlines()[-1])
        for violation in results["violations"]
        if violation["impact"] in ("critical", "serious")
        for node in violation["nodes"]
    ]


@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_serious_accessibility_violations(
    browser: Browser, site: str, path: str
) -> None:
    if not AXE.is_file():
        pytest.skip(f"{AXE.relative_to(ROOT)} missing; `make test` fetches it")
    page, _ = open_page(browser, f"{site}/{path}")
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    if path == SLIDER_PAGE:
        page.locator(".widget-vbox .noUi-handle").first.wait_for(timeout=20_000)
    found = serious_violations(page)
    page.close()
    assert [v for v in found if v[:2] not in THEME_VIOLATIONS] == []
