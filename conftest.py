"""Doctests run offline: those of ``vae_utils.data`` read a small stand-in of Fashion-MNIST's test
split, written to a temporary folder, so they need neither the real data set nor the network."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

# The real test split's first labels (Ankle boot, Pullover, Trouser, Trouser, Shirt); the rest is
# random, so that a doctest shows what a reader sees without needing the 10,000 real images.
FIRST_TEST_LABELS = [9, 2, 1, 1, 6]


def _write_idx(path: Path, array: np.ndarray) -> str:
    """Write ``array`` as gzipped IDX (magic, big-endian sizes, bytes); return the raw SHA-256."""
    raw = (0x0800 + array.ndim).to_bytes(4, "big")
    raw += b"".join(size.to_bytes(4, "big") for size in array.shape) + array.tobytes()
    path.write_bytes(gzip.compress(raw, compresslevel=1))
    return hashlib.sha256(raw).hexdigest()


@pytest.fixture(autouse=True)
def offline_fashion_mnist(request, monkeypatch, tmp_path):
    """For the doctests of ``vae_utils.data`` only: a stand-in test split, no downloads."""
    item = request.node
    if not isinstance(item, pytest.DoctestItem) or item.dtest.globs["__name__"] != "vae_utils.data":
        return
    # imported here, not at the top: a run of the notebooks alone (nbval) need not import torch
    from vae_utils import data

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=10_000, dtype=np.uint8)
    labels[: len(FIRST_TEST_LABELS)] = FIRST_TEST_LABELS
    images = rng.integers(0, 256, size=(10_000, 28, 28), dtype=np.uint8)
    for kind, array in (("labels", labels), ("images", images)):
        name = data.FILES["test"][kind][0]
        monkeypatch.setitem(data.FILES["test"], kind, (name, _write_idx(tmp_path / name, array)))
    monkeypatch.setattr(data, "SYSTEM_DIR", tmp_path)
    monkeypatch.setitem(item.dtest.globs, "SYSTEM_DIR", tmp_path)  # the doctest's own globals
    monkeypatch.setattr(data, "BASE_URLS", ("http://127.0.0.1:9/",))  # port 9 discards: refused
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path / "cache"))
    data._load_split.cache_clear()  # parsed once per process: forget the real files
    request.addfinalizer(data._load_split.cache_clear)
