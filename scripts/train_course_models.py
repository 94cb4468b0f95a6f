"""Train the models that the course ships, so that a fresh runtime loads them instead of training.

    python scripts/train_course_models.py         # about two minutes on 2 CPU cores
    python scripts/train_course_models.py --limit 1000 --output /tmp/check   # a quick check

Each run below is a chapter's own code, line for line; a test checks that every line is still in
the chapters named. The script executes each run's lines with an empty cache and with the shipped
weights turned off (``VAE_UTILS_SHIPPED=0``), so that the recipes train, then writes every trained
model's weights in half precision, under the name the recipe looks it up by, to
``vae_utils/weights/course/``, and rewrites ``SHA256SUMS`` there.

The cache key of a run holds a fingerprint of the code that trains it, so an edit of a model, a
loss or the training loop retires these weights: a test then fails, and this script makes new
ones. Run the chapters after it (``make test``): their checks hold for the new weights too.

Each of these runs costs a reader 10-40 s of training on 2 cores, in each chapter that makes it;
the 2-D autoencoder and the VAE with C = 0.5 are made by three chapters each, the four sweep VAEs
by three (chapter 4 trains its other seven). The files take 5.6 MB of the repository's 10 MB for
weights; half precision halves that. The chapters' checks pass with them, at 1 and 2 threads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import vae_utils as vu
from vae_utils.cache import CACHE_ENV_VAR, SHIPPED_ENV_VAR, SHIPPED_WEIGHTS, floats_as

# name -> {chapter: the statements of that chapter that make the run, verbatim}. The first
# chapter's are executed, with `vu` and `x_train` (the training split) defined; the other chapters
# make the same call in their own words, and load the same weights.
RUNS: dict[str, dict[str, list[str]]] = {
    "the 2-D autoencoder": {
        chapter: ["vu.train_autoencoder(x_train, latent_dim=2, hidden_dims=(256,))"]
        for chapter in ("02_autoencoders", "03_variational_autoencoders", "06_pitfalls")
    },
    "the VAE with C = 0.5": {
        "03_variational_autoencoders": [
            "C = 0.5",
            "vu.train_vae(x_train, C=C, latent_dim=2, hidden_dims=(256,))",
        ],
        "06_pitfalls": ["vu.train_vae(x_train, C=0.5, latent_dim=2, hidden_dims=(256,))"],
        "08_conditional_vae": ["vu.train_vae(x_train, C=0.5)"],
    },
    "chapter 5's linear VAE, which chapter 10 reuses": {
        "05_mathematics": [
            'x_train, y_train = vu.load_fashion_mnist("train", limit=10_000)',
            "latent_dim = 2",
            "ppca = vu.fit_ppca(x_train, latent_dim)",
            "c_star = ppca.noise_variance",
            """vu.train_vae(
    x_train,
    C=1 / (2 * c_star),  # eq. (eq-c-from-variance)
    latent_dim=latent_dim,
    linear=True,
    config=vu.TrainConfig(num_epochs=30, batch_size=128, lr=1e-2),
)""",
        ],
        "10_log_likelihood": [
            "x_train_small = x_train[:10_000]",
            "c_star = vu.fit_ppca(x_train_small, latent_dim=2).noise_variance",
            """vu.train_vae(  # the model of the maths chapter (cached)
    x_train_small,
    C=1 / (2 * c_star),
    latent_dim=2,
    linear=True,
    config=vu.TrainConfig(num_epochs=30, batch_size=128, lr=1e-2),
)""",
        ],
    },
    "four VAEs of chapter 4's sweep, which chapters 10 and 13 reuse": {
        "10_log_likelihood": [
            "loss_weights = [0.1, 1, 10, 100]",
            "SWEEP = vu.TrainConfig(num_epochs=2, batch_size=128, lr=1e-3)",
            "vu.train_vae_sweep(x_train, loss_weights, config=SWEEP)",
        ],
        "13_why_samples_blur": [
            "SWEEP = vu.TrainConfig(num_epochs=2, batch_size=128, lr=1e-3)",
            "C_VALUES = [0.1, 1, 10, 100]",
            "vu.train_vae_sweep(x_train, C_VALUES, config=SWEEP)",
        ],
    },
    "chapter 9's convolutional and MLP VAEs": {
        "09_convolutional_vae": [
            "C = 10",
            "BUDGET = vu.TrainConfig(num_epochs=2, batch_size=512, lr=3e-3)",
            "vu.train_conv_vae(x_train, C=C, latent_dim=10, config=BUDGET)",
            "vu.train_vae(x_train, C=C, latent_dim=10, hidden_dims=(40,), config=BUDGET)",
        ]
    },
    "chapter 14's two VQ-VAEs and its convolutional VAE": {
        "14_vq_vae": [
            "CONFIG = vu.TrainConfig(num_epochs=2, batch_size=256, lr=3e-3)",
            "vu.train_vqvae(x_train, config=CONFIG)",
            "vu.train_vqvae(x_train, reinit_every=50, config=CONFIG)",
            "vu.train_conv_vae(x_train, 1000.0, latent_dim=32, config=CONFIG)",
        ]
    },
}


def run_chapter_lines(lines: list[str], x_train: torch.Tensor) -> None:
    """Execute a chapter's ``lines`` in a fresh namespace that holds ``vu`` and ``x_train``."""
    namespace = {"vu": vu, "x_train": x_train}
    for line in lines:
        exec(line, namespace)  # the course's own code, listed above


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_half_precision(source: Path, target: Path, details: dict) -> None:
    """Copy the cached weights ``source`` to ``target`` as float16, with their metadata (the cache
    key and the loss history) and ``details`` of how they were made."""
    with safe_open(str(source), framework="pt") as handle:
        metadata = json.loads(handle.metadata()["json"])
    tensors = floats_as(load_file(str(source)), torch.float16)
    metadata["shipped"] = details
    save_file(tensors, str(target), metadata={"json": json.dumps(metadata, sort_keys=True)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="train on the first LIMIT images (a quick check)")
    parser.add_argument("--output", type=Path, default=SHIPPED_WEIGHTS)
    args = parser.parse_args()

    x_train, _ = vu.load_fashion_mnist("train", limit=args.limit)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as staging:
        os.environ[CACHE_ENV_VAR] = cache
        os.environ[SHIPPED_ENV_VAR] = "0"
        trained = Path(cache) / "weights"
        for name, chapters in RUNS.items():
            before = set(trained.glob("*.safetensors")) if trained.exists() else set()
            start = time.perf_counter()
            run_chapter_lines(next(iter(chapters.values())), x_train)
            seconds = time.perf_counter() - start
            details = {
                "run": name,
                "chapters": list(chapters),
                "dtype": "float16",
                "seconds": round(seconds, 1),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
            }
            for path in sorted(set(trained.glob("*.safetensors")) - before):
                write_half_precision(path, Path(staging) / path.name, details)
            print(f"{name}: {seconds:.1f} s")
        args.output.mkdir(parents=True, exist_ok=True)
        for old in [*args.output.glob("*.safetensors"), args.output / "SHA256SUMS"]:
            old.unlink(missing_ok=True)
        written = sorted(Path(staging).glob("*.safetensors"))
        for path in written:
            shutil.move(path, args.output / path.name)
    sums = "".join(f"{sha256(args.output / p.name)}  {p.name}\n" for p in written)
    (args.output / "SHA256SUMS").write_text(sums)
    total = sum((args.output / p.name).stat().st_size for p in written)
    print(f"{len(written)} files, {total / 1e6:.2f} MB, in {args.output}")


if __name__ == "__main__":
    main()
