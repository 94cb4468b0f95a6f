"""The guard that makes training fail in `make test`'s runs of the chapters at the default seed
(tests/no_training_startup.py, issue 30): it stops a cell that trains, lets the named demos and a
reader's button train, stays away at other seeds, and leaves no names in a chapter's namespace."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP = ROOT / "tests" / "no_training_startup.py"
DEMOS: dict[str, list[str]] = runpy.run_path(str(STARTUP))["DEMOS"]


def code_cells(chapter: str) -> list[str]:
    notebook = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize(
    ("chapter", "line"), [(c, line) for c, lines in DEMOS.items() for line in lines]
)
def test_each_demo_is_a_line_of_one_cell_of_its_chapter(chapter, line):
    cells = [cell for cell in code_cells(chapter) if line in cell]
    assert len(cells) == 1, f"{line!r} is in {len(cells)} cells of {chapter}, not one"
    assert all(
        line not in cell for other in DEMOS if other != chapter for cell in code_cells(other)
    )


# An IPython shell that runs the startup file as a kernel does, then the cells below; prints
# what each cell raised (or None) and whether the startup file left names behind.
SHELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(shell.user_ns)
shell.safe_execfile(sys.argv[1], shell.user_ns, raise_exceptions=True)
leftover = sorted(set(shell.user_ns) - before)
setup = "import torch; p = torch.nn.Parameter(torch.ones(1)); opt = torch.optim.SGD([p], lr=0.1)"
shell.run_cell(setup)
errors = {}
for name, cell in json.loads(sys.argv[2]).items():
    result = shell.run_cell(cell)
    errors[name] = None if result.success else str(result.error_in_exec)
shell.user_ns["opt"].step()  # between cells, as a widget's callback runs
print(json.dumps({"leftover": leftover, "errors": errors}))
"""
STEP = "opt.zero_grad(); p.sum().backward(); opt.step()"
CELLS = {
    "trains": f"model = 1\n{STEP}",
    "demo": f"{STEP}  # {DEMOS['02_autoencoders'][0]}",
    "plots": "x = 1 + 1",
    "long demo": f"for _ in range(2001): opt.step()  # {DEMOS['02_autoencoders'][0]}",
}


def run_shell(tmp_path: Path, **env: str) -> dict:
    log = tmp_path / "demos.jsonl"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VAE_UTILS_")}
    environment |= {"VAE_UTILS_TRAINING_LOG": str(log), "IPYTHONDIR": str(tmp_path), **env}
    done = subprocess.run(
        [sys.executable, "-c", SHELL, str(STARTUP), json.dumps(CELLS)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["log"] = (
        [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    )
    return result


def test_a_cell_that_trains_fails_and_a_demo_trains(tmp_path):
    result = run_shell(tmp_path)
    assert result["leftover"] == []  # a chapter that forgot an import must still fail
    assert result["errors"]["trains"].startswith("a chapter trained at the default seed")
    assert "'model = 1'" in result["errors"]["trains"]  # the cell's first line
    assert result["errors"]["demo"] is None and result["errors"]["plots"] is None
    assert "takes more than 2000 optimiser steps" in result["errors"]["long demo"]
    assert [(entry["demo"], entry["steps"]) for entry in result["log"]] == [
        (DEMOS["02_autoencoders"][0], 1),
        (DEMOS["02_autoencoders"][0], 2001),
    ]


@pytest.mark.parametrize("env", [{"VAE_UTILS_SEED_SHIFT": "1"}, {"VAE_UTILS_SHIPPED": "0"}])
def test_training_is_allowed_at_another_seed_and_without_shipped_weights(tmp_path, env):
    result = run_shell(tmp_path, **env)
    assert set(result["errors"].values()) == {None}
