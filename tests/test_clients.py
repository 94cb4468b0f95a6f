"""Chapter 4's slider in the Jupyter front ends that readers run it in, driven by Chromium.

- JupyterLab 4 with ipywidgets 8 (the course's own environment, ``.venv``): the picture follows the
  slider in the browser (a ``Stack`` linked to it).
- The classic Notebook 6.5 with ipywidgets 7.7.1 (``.venv-widgets7``, which `make test` builds): a
  widgets-7 front end, as Colab's built-in widget support is; there the kernel swaps the picture.

Each test starts a Jupyter server on a free localhost port (token off; ``--allow-root``, which
Jupyter wants when run as root), opens the chapter, runs every cell, moves the slider with the
keyboard and with the mouse, and checks that the picture changes, drags the latent explorer's
handle (and moves it with a key) and checks that its image follows, and that nothing failed: no
error output, no uncaught exception or console error, no request outside localhost. Then it
presses the live mode's button: a VAE trained in the kernel within 15 s. The server
is stopped at the end. It serves a copy of the chapter in a temporary folder: front ends save
notebooks as they run them, with outputs, and the repository keeps its notebooks without.

The chapter's models come from the weights cache that the book build filled: the kernel inherits
this process's environment (``VAE_UTILS_CACHE`` included). Needs Debian's ``chromium``, as
tests/test_browser.py does.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from chromium import launched, require_chromium

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/04_loss_weight.ipynb"
VENV7 = ROOT / ".venv-widgets7"
RUN_ALL_TIMEOUT_MS = 240_000  # the chapter, its models cached: 20-40 s here
# Console errors of the classic Notebook itself, not of the course, accepted with their reason:
CLASSIC_NOISE = re.compile(
    # its Markdown highlighter takes a MyST directive's name ({exercise}, {solution-start}) for a
    # language and asks for a CodeMirror mode of that name: a 404, and the script refused
    r"/static/components/codemirror/mode/%7B"
    # its MathJax 2 looks for web fonts that the package does not ship, then falls back
    r"|/static/components/MathJax/fonts/|Access to font at 'about:blank'|\(about:blank\)$"
)

require_chromium("client tests")

from playwright.sync_api import Browser, Page  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_folder(tmp_path: Path) -> Path:
    """A folder with a copy of the chapter at the same relative path, for the server's root."""
    root = tmp_path / "served"
    (root / NOTEBOOK).parent.mkdir(parents=True)
    shutil.copy(ROOT / NOTEBOOK, root / NOTEBOOK)
    return root


def start_server(command: list[str], port: int, log: Path) -> Iterator[str]:
    """Run a Jupyter server until the test is done; yields its base URL once it answers."""
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(log.parent / "config")}
    env.pop("CI", None)  # the reader's experience: progress bars on
    with open(log, "w") as output:
        server = subprocess.Popen(
            command, cwd=log.parent, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status", timeout=2)
                    break
                except OSError as error:
                    if server.poll() is not None or time.monotonic() > deadline:
                        message = f"the Jupyter server did not start:\n{log.read_text()}"
                        raise RuntimeError(message) from error
                    time.sleep(0.5)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)  # the server and its kernels
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root"]
    command += [
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={served_folder(tmp_path)}",
    ]
    command += ["--IdentityProvider.token=", "--ServerApp.password="]
    command += ["--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None"]
    command += ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    yield from start_server(command, port, tmp_path / "jupyterlab.log")


@pytest.fixture
def classic_notebook(tmp_path: Path) -> Iterator[str]:
    if not (VENV7 / ".installed").is_file():
        pytest.skip("no ipywidgets 7 environment; `make test` builds it")
    port = free_port()
    command = [str(VENV7 / "bin" / "python"), "-m", "notebook", "--no-browser", "--allow-root"]
    command += [
        f"--port={port}",
        "--NotebookApp.ip=127.0.0.1",
        f"--NotebookApp.notebook_dir={served_folder(tmp_path)}",
    ]
    command += ["--NotebookApp.token=", "--NotebookApp.password="]
    yield from start_server(command, port, tmp_path / "notebook.log")


class Watch:
    """What a page did: console errors, uncaught exceptions, requests outside localhost."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        self.messages: list[str] = []  # every console message
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.route("**/*", self._route)

    def _console(self, message) -> None:
        self.messages.append(message.text)
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def _route(self, route, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob") or parts.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.external.append(request.url)
            route.abort()


def move_slider(page: Page, handle_selector: str, picture_selector: str) -> list[str]:
    """Press the right arrow on the slider's handle, then drag it to the far left; return the alt
    text of the picture shown before, after the key and after the drag."""
    handle = page.locator(handle_selector).first
    handle.scroll_into_view_if_needed()
    alt = f"document.querySelector({picture_selector!r}).alt"
    seen = [page.evaluate(alt)]
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_function(f"{alt} !== {seen[-1]!r}", timeout=20_000)
    seen.append(page.evaluate(alt))
    box = handle.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] - 1000, y, steps=10)
    page.mouse.up()
    page.wait_for_function(f"{alt} !== {seen[-1]!r}", timeout=20_000)
    seen.append(page.evaluate(alt))
    return seen


def check_frames(seen: list[str]) -> None:
    """The default frame, one step right, then the far left (the alt text ends with C's value)."""
    assert seen[0].endswith("(C = 1)"), seen
    assert seen[1].endswith("(C = 3)"), seen
    assert seen[2].endswith("(C = 0.01)"), seen


def drag_explorer(page: Page) -> None:
    """The latent explorer's output (an inline script, run by the front end): dragging its handle
    and pressing an arrow key each redraw the decoded image."""
    handle = page.locator(".vae-explorer-handle").first
    image = page.locator(".vae-explorer-image").first
    handle.scroll_into_view_if_needed()
    before = image.screenshot()
    box = handle.bounding_box()
    assert box is not None, "the explorer's handle is not shown"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y - 30, steps=5)
    page.mouse.up()
    dragged = image.screenshot()
    handle.focus()
    page.keyboard.press("ArrowDown")
    assert len({before, dragged, image.screenshot()}) == 3, "the image did not follow the handle"


def press_train(page: Page, progress_bar: bool) -> None:
    """Live mode: a VAE trained in the kernel for the live slider's C (2), within 15 s on 2 cores,
    shown above the precomputed model of the nearest C (3), with fit's progress bar (tqdm, text)
    where the widget has one (ipywidgets 8)."""
    live = page.locator(".widget-vbox", has=page.locator("button", has_text="Train a model")).last
    live.scroll_into_view_if_needed()
    start = time.perf_counter()
    live.locator("button", has_text="Train a model").click()
    live.locator("img").first.wait_for(timeout=60_000)
    seconds = time.perf_counter() - start
    alts = [image.get_attribute("alt") for image in live.locator("img").all()]
    assert [alt[alt.rindex("(") :] for alt in alts] == ["(C = 2, trained now)", "(C = 3)"]
    assert ("training: 100%" in live.inner_text()) == progress_bar
    assert seconds <= 15, f"the live training took {seconds:.1f} s"


def check_collapsed_cells(page: Page) -> None:
    """The cells the book hides (metadata ``jupyter.source_hidden``) are collapsed in JupyterLab,
    were run, and, for the hidden checks (``remove-cell``), left no output in the way: none but
    glue's records, which no front end shows."""
    cells = page.evaluate(
        "Array.from(window.jupyterapp.shell.currentWidget.content.widgets)"
        ".filter(c => c.model.type === 'code').map(c => ({"
        " hidden: !!(c.model.getMetadata('jupyter') || {}).source_hidden,"
        " tags: c.model.getMetadata('tags') || [],"
        " collapsed: c.inputHidden,"
        " placeholder: !!c.node.querySelector('.jp-InputPlaceholder:not(.lm-mod-hidden)'),"
        " executed: c.model.executionCount !== null,"
        " first_line: c.model.sharedModel.getSource().split('\\n')[0],"
        " outputs: c.model.outputs.toJSON().filter(o => !(o.output_type === 'display_data'"
        "   && Object.keys(o.data).length > 0 && Object.keys(o.data).every("
        "     key => key.startsWith('application/papermill.record/'))))"
        "   .map(o => JSON.stringify(o).slice(0, 200)) }))"
    )
    hidden = [cell for cell in cells if cell["hidden"]]
    assert len(hidden) >= 5, cells
    assert all(cell["collapsed"] and cell["placeholder"] for cell in hidden), hidden
    assert all(cell["executed"] for cell in hidden), hidden
    checks = [cell for cell in hidden if "remove-cell" in cell["tags"]]
    # glue's records (application/papermill.record/*, which no front end renders) are the only
    # outputs a check may leave
    with_output = [(c["first_line"], c["outputs"]) for c in checks if c["outputs"]]
    assert checks and not with_output, with_output
    assert not any(cell["collapsed"] for cell in cells if not cell["hidden"])


def test_jupyterlab_runs_the_chapter_and_the_slider_switches(
    browser: Browser, jupyterlab: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    watch = Watch(page)
    page.goto(f"{jupyterlab}/lab/tree/{NOTEBOOK}", wait_until="domcontentloaded")
    ready = (
        "(() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session"
        " && w.sessionContext.session.kernel;"
        " return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; })()"
    )
    page.wait_for_function(ready, timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    done = (
        "(() => { const w = window.jupyterapp.shell.currentWidget;"
        " const cells = Array.from(w.content.model.cells).filter(c => c.type === 'code');"
        " return w.sessionContext.session.kernel.status === 'idle'"
        " && cells.every(c => c.executionCount !== null); })()"
    )
    page.wait_for_function(done, timeout=RUN_ALL_TIMEOUT_MS, polling=1000)
    errors = page.evaluate(
        "Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)"
        ".flatMap(c => c.type === 'code' ? c.toJSON().outputs : [])"
        ".filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)"
    )
    assert errors == []
    check_collapsed_cells(page)
    seen = move_slider(
        page, ".jp-OutputArea .noUi-handle", ".jp-OutputArea .widget-html-content img:not([hidden])"
    )
    check_frames(seen)
    drag_explorer(page)

    press_train(page, progress_bar=True)
    versions = page.evaluate("window.jupyterapp.version")
    page.close()
    assert versions.startswith("4.")
    assert watch.external == []
    assert watch.errors == []


def test_classic_notebook_with_ipywidgets_7_runs_the_chapter_and_the_kernel_swaps_the_picture(
    browser: Browser, classic_notebook: str
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    watch = Watch(page)
    page.goto(f"{classic_notebook}/notebooks/{NOTEBOOK}", wait_until="domcontentloaded")
    page.wait_for_function(
        "window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
        " && Jupyter.notebook.kernel.is_connected() && !Jupyter.notebook.kernel_busy"
        # the widgets extension has registered its comm target: widgets opened before would fail
        " && !!Jupyter.notebook.kernel.comm_manager.targets['jupyter.widget']",
        timeout=60_000,
    )
    # The widget manager then asks the kernel for the widgets it already has: over a control comm
    # that ipywidgets 7.7.1 lacks, then model by model. Widgets created while that runs lose their
    # views (their outputs end up with an empty model id), so run the chapter once it is done.
    deadline = time.monotonic() + 60
    while not any("fallback to fetching individual model state" in m for m in watch.messages):
        assert time.monotonic() < deadline, watch.messages
        page.wait_for_timeout(200)
    page.wait_for_function("!Jupyter.notebook.kernel_busy")
    page.wait_for_timeout(1000)
    page.evaluate("Jupyter.notebook.execute_all_cells()")
    done = (
        "(() => { const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code');"
        " return cells.every(c => typeof c.input_prompt_number === 'number')"
        " && !Jupyter.notebook.kernel_busy; })()"
    )
    page.wait_for_function(done, timeout=RUN_ALL_TIMEOUT_MS, polling=1000)
    errors = page.evaluate(
        "Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code')"
        ".flatMap(c => c.output_area.outputs)"
        ".filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)"
    )
    assert errors == []
    seen = move_slider(page, ".widget-slider .ui-slider-handle", ".widget-html-content img")
    check_frames(seen)
    drag_explorer(page)
    press_train(page, progress_bar=False)
    page.close()
    assert watch.external == []
    assert [error for error in watch.errors if not CLASSIC_NOISE.search(error)] == []
