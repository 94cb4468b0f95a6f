"""The course in a reader's Colab runtime, as far as widgets go: ipywidgets 7.7.1.

Colab's front end renders ipywidgets 7 natively, and ipywidgets 7 has no ``Stack``: there the
slider's picture is swapped by the kernel. `make test` builds this second environment in
``.venv-widgets7`` (requirements-widgets7.txt, then the course installed as a reader installs it,
which must keep 7.7.1); without it these tests are skipped.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON7 = ROOT / ".venv-widgets7" / "bin" / "python"

if not (ROOT / ".venv-widgets7" / ".installed").is_file():
    pytest.skip("no ipywidgets 7 environment; `make test` builds it", allow_module_level=True)


def run7(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the ipywidgets 7 environment's Python in the repository root."""
    env = {**os.environ, "CI": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [str(PYTHON7), *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout
    )


def test_the_environment_keeps_ipywidgets_7_with_the_course_installed():
    result = run7("-c", "import ipywidgets, vae_utils; print(ipywidgets.__version__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7.7.1"


def test_with_ipywidgets_7_the_kernel_swaps_the_picture():
    script = """
import base64, re
import ipywidgets as widgets
import matplotlib.pyplot as plt
import vae_utils as vu

def frame(value):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, value])
    return vu.widgets.figure_to_png(fig, dpi=20)

def shown(picture):
    return base64.b64decode(re.search(r'base64,([^"]+)"', picture.value).group(1))

frames = [frame(1.0), frame(2.0)]
slider, picture = vu.widgets.image_slider(
    frames, ["a", "b"], description="C", alt="A line"
).children
assert not hasattr(widgets, "Stack") and isinstance(picture, widgets.HTML)
assert shown(picture) == frames[0]
slider.index = 1  # what the front end sends when the reader moves the slider
assert shown(picture) == frames[1]
print("swapped")
"""
    result = run7("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "swapped"


def test_the_slider_chapter_runs_under_nbval_with_ipywidgets_7():
    notebook = "notebooks/04_loss_weight.ipynb"
    result = run7("-m", "pytest", notebook, "--nbval-lax", "--nbval-current-env", "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
