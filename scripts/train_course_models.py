"""Train every model the chapters train at the default seed, so that a fresh runtime loads them.

    python scripts/train_course_models.py                      # every chapter, 6-8 min on 2 cores
    python scripts/train_course_models.py --chapters 05_mathematics --output /tmp/check

The script runs the chapters themselves, top to bottom in a fresh kernel each, with an empty cache
and the shipped weights turned off (``VAE_UTILS_SHIPPED=0``), so every recipe a chapter calls
(``vu.train_vae``, ``vu.train_vae_sweep``, ...) trains and caches its run. It then writes each
cached run's weights in half precision, xz-compressed, under the name the recipe looks it up by, to
``vae_utils/weights/course/``, and rewrites ``SHA256SUMS`` there. What a chapter trains with
``vu.fit`` itself is never cached, so never shipped: those are the demos whose training is the
lesson (``DEMOS`` in tests/no_training_startup.py).

A run's cache key holds a fingerprint of the code that trains it, so an edit of a model, a loss or
the training loop retires these weights: `make test` then fails (a chapter trains at the default
seed, where training is made to fail), and this script makes new ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient
from safetensors import safe_open
from safetensors.torch import load_file, save

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's vae_utils, also when run from elsewhere
from vae_utils.cache import (  # noqa: E402
    CACHE_ENV_VAR,
    SHIPPED_ENV_VAR,
    SHIPPED_RUNS,
    SHIPPED_SUFFIX,
    floats_as,
)

NOTEBOOKS = ROOT / "notebooks"


def chapters() -> list[str]:
    """The chapters' names, in the book's order (``01_dimensionality_reduction``, ...)."""
    return sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def run_chapter(chapter: str) -> float:
    """Execute ``chapter`` in a fresh kernel in the notebooks' folder; return its seconds."""
    notebook = nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}}
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_shipped(source: Path, directory: Path, details: dict) -> None:
    """Copy the cached weights ``source`` into ``directory`` as float16, with their metadata (the
    cache key and the loss history) and ``details`` of how they were made, xz-compressed (11 %
    smaller; xz stores no time stamp, so the same weights give the same bytes)."""
    with safe_open(str(source), framework="pt") as handle:
        metadata = json.loads(handle.metadata()["json"])
    tensors = floats_as(load_file(str(source)), torch.float16)
    metadata["shipped"] = details
    data = save(tensors, metadata={"json": json.dumps(metadata, sort_keys=True)})
    target = directory / (source.name + SHIPPED_SUFFIX)
    target.write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="+", default=chapters(), metavar="CHAPTER")
    parser.add_argument("--output", type=Path, default=SHIPPED_RUNS)
    args = parser.parse_args()
    unknown = sorted(set(args.chapters) - set(chapters()))
    if unknown:
        parser.error(f"no such chapter: {', '.join(unknown)}; the chapters: {chapters()}")
    if args.output == SHIPPED_RUNS and sorted(args.chapters) != chapters():
        parser.error("--chapters would ship those chapters' runs alone: give --output DIR")

    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as staging:
        os.environ |= {CACHE_ENV_VAR: cache, SHIPPED_ENV_VAR: "0", "CI": "1"}  # CI: no bars
        os.environ.pop("VAE_UTILS_SEED_SHIFT", None)  # the default seed
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
        trained = Path(cache) / "weights"
        for chapter in args.chapters:
            before = set(trained.glob("*.safetensors")) if trained.exists() else set()
            seconds = run_chapter(chapter)
            details = {
                "chapter": chapter,
                "dtype": "float16",
                "torch": torch.__version__,
            }
            new = sorted(set(trained.glob("*.safetensors")) - before) if trained.exists() else []
            for path in new:
                write_shipped(path, Path(staging), details)
            print(f"{chapter}: {seconds:.1f} s, {len(new)} runs trained", flush=True)
        args.output.mkdir(parents=True, exist_ok=True)
        for old in [*args.output.glob("*.safetensors*"), args.output / "SHA256SUMS"]:
            old.unlink(missing_ok=True)
        written = sorted(Path(staging).glob("*" + SHIPPED_SUFFIX))
        for path in written:
            shutil.move(path, args.output / path.name)
            (args.output / path.name).chmod(0o644)
    sums = "".join(f"{sha256(args.output / p.name)}  {p.name}\n" for p in written)
    (args.output / "SHA256SUMS").write_text(sums)
    total = sum((args.output / p.name).stat().st_size for p in written)
    print(f"{len(written)} files, {total / 1e6:.2f} MB, in {args.output}")


if __name__ == "__main__":
    main()
