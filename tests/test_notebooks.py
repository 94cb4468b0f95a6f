"""The house rules of the chapters, checked on the stored notebooks (no execution needed)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _tags(cell: dict) -> list[str]:
    return cell["metadata"].get("tags", [])


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_stored_without_outputs(path):
    for cell in _code_cells(path):
        assert not cell["outputs"] and cell["execution_count"] is None, "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_hidden_checks_are_hidden_and_there_are_at_least_three(path):
    asserts = 0
    for cell in _code_cells(path):
        source = "".join(cell["source"])
        if source.lstrip().startswith("# Hidden check"):
            assert "remove-cell" in _tags(cell), f"not tagged remove-cell:\n{source}"
        if "remove-cell" in _tags(cell):
            asserts += source.count("assert ")
    assert asserts >= 3, f"{path.name} has {asserts} hidden asserts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_kernel_is_python3(path):
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == "python3"
