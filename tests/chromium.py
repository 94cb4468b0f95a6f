"""What the tests that drive Chromium share: finding it, launching it, serving a folder.

Debian's ``chromium`` is driven by the playwright package, which never downloads a browser here.
Without it the calling test module is skipped, unless ``REQUIRE_BROWSER`` is set (as in CI), when
it fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium(tests: str) -> None:
    """Skip the calling module (``tests``: what it runs, for the message) without Chromium, or
    fail where ``REQUIRE_BROWSER`` says it must run."""
    if CHROMIUM.is_file():
        return
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} not found; install it with `apt-get install -y chromium`")
    pytest.skip(f"`apt-get install -y chromium` to run the {tests}", allow_module_level=True)


@contextmanager
def launched() -> Iterator:
    """A headless Chromium (a playwright ``Browser``), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on a free localhost port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
