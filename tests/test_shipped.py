"""The weights that the course ships (scripts/train_course_models.py): checksummed, in budget,
made by the chapters' own calls, loaded by those calls without training, and what the script makes.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load

import vae_utils as vu
from vae_utils import recipes
from vae_utils.cache import SHIPPED_RUNS, load_shipped, read_metadata, shipped_checksums

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_course_models.py"
CHAPTERS = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WEIGHTS_BUDGET_BYTES = 30_000_000  # every file under vae_utils/weights, issue 30


def shipped_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a shipped (xz-compressed) safetensors file."""
    return load(lzma.decompress(path.read_bytes()))


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


def test_a_chapters_call_loads_its_shipped_run_without_training(empty_cache, monkeypatch):
    # every call of every chapter: `make test` runs the chapters with training made to fail
    monkeypatch.setattr(recipes, "fit", no_training)
    x_train, _ = vu.load_fashion_mnist("train")
    vu.train_autoencoder(x_train, latent_dim=2, hidden_dims=(256,))  # chapters 2, 3 and 6
    assert not (empty_cache / "weights").exists()  # nothing trained, so nothing cached


def test_vae_utils_shipped_0_trains_instead(empty_cache, monkeypatch):
    monkeypatch.setenv("VAE_UTILS_SHIPPED", "0")
    monkeypatch.setattr(recipes, "fit", no_training)
    x_train, _ = vu.load_fashion_mnist("train")
    with pytest.raises(AssertionError, match="a shipped run trained"):
        vu.train_autoencoder(x_train, latent_dim=2, hidden_dims=(256,))


def test_each_shipped_file_is_listed_with_its_checksum_and_stored_in_half_precision():
    files = sorted(path.name for path in SHIPPED_RUNS.glob("*.safetensors.xz"))
    assert files, "no shipped weights"
    assert sorted(shipped_checksums()) == files
    for name in files:
        path = SHIPPED_RUNS / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shipped_checksums()[name]
        assert {t.dtype for t in shipped_tensors(path).values()} == {torch.float16}
        metadata = read_metadata(path)
        assert metadata["shipped"]["chapter"] in CHAPTERS
        assert {"key", "history"} <= metadata.keys()


def test_all_shipped_weights_fit_the_repositorys_budget():
    files = (ROOT / "vae_utils" / "weights").rglob("*")
    total = sum(path.stat().st_size for path in files if path.is_file())
    assert total <= WEIGHTS_BUDGET_BYTES, f"{total:,} bytes of weights"


def _autoencoder_file(directory: Path) -> tuple[Path, dict]:
    """Chapter 2's shipped 2-D autoencoder in ``directory``, and its key as a recipe passes it."""
    (path,) = [
        path
        for path in directory.glob("autoencoder-*.safetensors.xz")
        if read_metadata(path)["shipped"]["chapter"] == "02_autoencoders"
        and read_metadata(path)["key"]["latent_dim"] == 2
    ]
    key = {k: v for k, v in read_metadata(path)["key"].items() if k != "model"}
    return path, key


def test_load_shipped_loads_the_weights_and_history_as_float32(tmp_path):
    directory = tmp_path / "course"
    shutil.copytree(SHIPPED_RUNS, directory)
    path, key = _autoencoder_file(directory)
    model = vu.Autoencoder(784, (256,), 2)
    history = load_shipped(model, key, directory)
    assert history == read_metadata(path)["history"]
    stored = shipped_tensors(path)
    for name, t in model.state_dict().items():
        assert t.dtype == torch.float32 and torch.equal(t, stored[name].float())
    assert not model.training
    assert load_shipped(vu.Autoencoder(784, (256,), 2), {**key, "seed": -1}, directory) is None


def test_a_corrupted_or_unlisted_shipped_file_is_refused(tmp_path):
    directory = tmp_path / "course"
    shutil.copytree(SHIPPED_RUNS, directory)
    path, key = _autoencoder_file(directory)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1  # one bit of the compressed weights
    path.write_bytes(bytes(data))
    model = vu.Autoencoder(784, (256,), 2)
    before = [t.clone() for t in model.parameters()]
    with pytest.raises(ValueError, match=r"SHA-256.*git checkout.*train_course_models"):
        load_shipped(model, key, directory)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    (directory / "SHA256SUMS").write_text("")  # a file that the manifest does not list
    with pytest.raises(ValueError, match="SHA-256"):
        load_shipped(model, key, directory)


def test_the_script_ships_the_runs_a_chapter_trains(tmp_path):
    output = tmp_path / "shipped"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAE_UTILS_")} | {"CI": "1"}
    script = [sys.executable, str(SCRIPT), "--chapters", "05_mathematics"]
    subprocess.run([*script, "--output", str(output)], check=True, env=env, capture_output=True)
    # chapter 5 trains one model, its linear VAE: the script ships it under the name and key by
    # which the recipe finds it, as vae_utils/weights/course does
    (path,) = output.glob("*.safetensors.xz")
    assert shipped_checksums(output) == {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    assert (SHIPPED_RUNS / path.name).exists()
    made, shipped = read_metadata(path), read_metadata(SHIPPED_RUNS / path.name)
    assert made["key"] == shipped["key"]
    assert made["shipped"]["chapter"] == "05_mathematics"
    assert {t.dtype for t in shipped_tensors(path).values()} == {torch.float16}
    assert len(made["history"]) == len(shipped["history"]) == 30  # its 30 epochs
    # a subset of the chapters must not replace the course's shipped weights
    refused = subprocess.run(script, env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "give --output" in refused.stderr
