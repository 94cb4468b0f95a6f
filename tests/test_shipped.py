"""The weights that the course ships (scripts/train_course_models.py): checksummed, in budget,
made by the chapters' own calls, loaded by those calls without training, and what the script makes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import vae_utils as vu
from vae_utils import recipes
from vae_utils.cache import SHIPPED_WEIGHTS, load_shipped, read_metadata, shipped_checksums

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_course_models.py"
SCRIPT_NAMESPACE = runpy.run_path(str(SCRIPT))  # defines RUNS; trains nothing
RUNS: dict[str, dict[str, list[str]]] = SCRIPT_NAMESPACE["RUNS"]
run_chapter_lines = SCRIPT_NAMESPACE["run_chapter_lines"]
WEIGHTS_BUDGET_BYTES = 10_000_000  # every file under vae_utils/weights, issue 14


def chapter_code(chapter: str) -> str:
    notebook = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


def no_training(*args, **kwargs):
    raise AssertionError(
        "a shipped run trained: its weights no longer match the run (an edit of the code that "
        "trains, or of the chapter's call); regenerate them with "
        "`python scripts/train_course_models.py`, then run the chapters"
    )


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path))
    monkeypatch.delenv("VAE_UTILS_SHIPPED", raising=False)
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("chapter", "line"),
    [(c, line) for chapters in RUNS.values() for c, lines in chapters.items() for line in lines],
)
def test_every_line_of_a_shipped_run_is_a_line_of_its_chapter(chapter, line):
    # not part of a longer name or number: "C = 10" must not match "C = 100"
    pattern = r"(?<![\w.])" + re.escape(line) + r"(?![\w.])"
    assert re.search(pattern, chapter_code(chapter)), (
        f"{chapter} no longer has the line {line!r}: update RUNS in {SCRIPT.name} to the chapter's "
        "code, then regenerate the weights with it"
    )


def test_the_chapters_calls_load_the_shipped_weights_without_training(empty_cache, monkeypatch):
    monkeypatch.setattr(recipes, "fit", no_training)
    monkeypatch.setattr(recipes, "fit_together", no_training)
    x_train, _ = vu.load_fashion_mnist("train")
    for chapters in RUNS.values():
        for lines in chapters.values():
            run_chapter_lines(lines, x_train)
    assert not (empty_cache / "weights").exists()  # nothing trained, so nothing cached


def test_vae_utils_shipped_0_trains_instead(empty_cache, monkeypatch):
    monkeypatch.setenv("VAE_UTILS_SHIPPED", "0")
    monkeypatch.setattr(recipes, "fit", no_training)
    x_train, _ = vu.load_fashion_mnist("train")
    with pytest.raises(AssertionError, match="a shipped run trained"):
        run_chapter_lines(RUNS["the 2-D autoencoder"]["02_autoencoders"], x_train)


def test_each_shipped_file_is_listed_with_its_checksum_and_stored_in_half_precision():
    files = sorted(path.name for path in SHIPPED_WEIGHTS.glob("*.safetensors"))
    assert files, "no shipped weights"
    assert sorted(shipped_checksums()) == files
    for name in files:
        path = SHIPPED_WEIGHTS / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shipped_checksums()[name]
        assert {t.dtype for t in load_file(str(path)).values()} == {torch.float16}
        metadata = read_metadata(path)
        assert metadata["shipped"]["run"] in RUNS
        assert {"key", "history"} <= metadata.keys()


def test_all_shipped_weights_fit_the_repositorys_budget():
    files = (ROOT / "vae_utils" / "weights").rglob("*")
    total = sum(path.stat().st_size for path in files if path.is_file())
    assert total <= WEIGHTS_BUDGET_BYTES, f"{total:,} bytes of weights"


def _autoencoder_file(directory: Path) -> tuple[Path, dict]:
    """The shipped autoencoder in ``directory``, and its key as a recipe passes it."""
    (path,) = directory.glob("autoencoder-*.safetensors")
    key = {k: v for k, v in read_metadata(path)["key"].items() if k != "model"}
    return path, key


def test_load_shipped_loads_the_weights_and_history_as_float32(tmp_path):
    directory = tmp_path / "course"
    shutil.copytree(SHIPPED_WEIGHTS, directory)
    path, key = _autoencoder_file(directory)
    model = vu.Autoencoder(784, (256,), 2)
    history = load_shipped(model, key, directory)
    assert history == read_metadata(path)["history"]
    stored = load_file(str(path))
    for name, t in model.state_dict().items():
        assert t.dtype == torch.float32 and torch.equal(t, stored[name].float())
    assert not model.training
    assert load_shipped(vu.Autoencoder(784, (256,), 2), {**key, "seed": -1}, directory) is None


def test_a_corrupted_or_unlisted_shipped_file_is_refused(tmp_path):
    directory = tmp_path / "course"
    shutil.copytree(SHIPPED_WEIGHTS, directory)
    path, key = _autoencoder_file(directory)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # one bit of one weight
    path.write_bytes(bytes(data))
    model = vu.Autoencoder(784, (256,), 2)
    before = [t.clone() for t in model.parameters()]
    with pytest.raises(ValueError, match=r"SHA-256.*git checkout.*train_course_models"):
        load_shipped(model, key, directory)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    (directory / "SHA256SUMS").write_text("")  # a file that the manifest does not list
    with pytest.raises(ValueError, match="SHA-256"):
        load_shipped(model, key, directory)


def _values(history: list | dict) -> list[float]:
    """A loss history as one list: a dict of named curves (a VQ-VAE's) in the order of its names."""
    if isinstance(history, dict):
        return [value for name in sorted(history) for value in history[name]]
    return list(history)


def test_the_script_makes_what_the_recipes_train_on_a_cheap_setting(tmp_path, monkeypatch):
    limit = 500
    output = tmp_path / "shipped"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAE_UTILS_")} | {"CI": "1"}
    subprocess.run(
        [sys.executable, str(SCRIPT), "--limit", str(limit), "--output", str(output)],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    # the same runs, trained here by the recipes on the same images
    cache = tmp_path / "cache"
    monkeypatch.setenv("VAE_UTILS_CACHE", str(cache))
    monkeypatch.setenv("VAE_UTILS_SHIPPED", "0")
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    x_train, _ = vu.load_fashion_mnist("train", limit=limit)
    for chapters in RUNS.values():
        run_chapter_lines(next(iter(chapters.values())), x_train)
    trained = sorted((cache / "weights").glob("*.safetensors"))
    assert [p.name for p in trained] == sorted(shipped_checksums(output))  # the same keys
    for path in trained:
        shipped = load_file(str(output / path.name))
        for name, t in load_file(str(path)).items():
            assert shipped[name].dtype == torch.float16
            torch.testing.assert_close(shipped[name].float(), t, rtol=1e-2, atol=1e-3)
        with safe_open(str(output / path.name), framework="pt") as handle:
            metadata = json.loads(handle.metadata()["json"])
        assert metadata["key"] == read_metadata(path)["key"]
        assert _values(metadata["history"]) == pytest.approx(
            _values(read_metadata(path)["history"]), rel=1e-3
        )
