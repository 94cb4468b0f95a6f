"""Slow work done once: where downloads and weights live; weights saved and loaded, no pickle."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

# A training run's record: the loss of each epoch, or named curves (e.g. per-step rates).
History = list[float] | dict[str, list[float]]

CACHE_ENV_VAR = "VAE_UTILS_CACHE"
# Weights the course ships for the runs its chapters make (scripts/train_course_models.py writes
# them, in half precision to fit the repository's 10 MB budget for weights): a fresh runtime loads
# them instead of training. SHA256SUMS holds the checksum of each file. VAE_UTILS_SHIPPED=0 trains
# those runs instead (or loads them from the cache), as every other run.
SHIPPED_WEIGHTS = Path(__file__).parent / "weights" / "course"
SHIPPED_ENV_VAR = "VAE_UTILS_SHIPPED"


def cache_root() -> Path:
    """The folder for downloaded data and cached weights.

    ``$VAE_UTILS_CACHE`` when set, else ``~/.cache/vae_utils``. The folder is not created here.
    """
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "vae_utils")


def _key_hash(key: Mapping[str, Any]) -> str:
    try:
        text = json.dumps(key, sort_keys=True)
    except TypeError as error:
        raise ValueError(
            f"key must hold only JSON values (numbers, strings, lists, dicts), got {key!r}; "
            "describe the training run by its arguments, e.g. {'c': 10.0, 'num_epochs': 5}"
        ) from error
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_fingerprint(*objects: object) -> str:
    """A short SHA-256 of the source of the package's modules that ``objects`` depend on.

    Part of every cache key, so that weights trained by older code are never served: edit a
    model, a loss or the training loop, and the next run trains again.

    Args:
        objects: models (their class and its base classes count), functions and
            ``functools.partial`` objects, e.g. ``(model, partial(vae_objective, C=1.0))``.

    Returns:
        16 hex digits over the source files of the modules that define ``objects``, of every
        module of the package those import, and of the training loop (``train.py``).
    """
    package = __name__.split(".")[0]
    names = {f"{package}.train"}
    for obj in objects:
        while isinstance(obj, functools.partial):
            obj = obj.func
        owners = type(obj).__mro__ if isinstance(obj, nn.Module) else (obj,)
        names.update(getattr(owner, "__module__", None) or "" for owner in owners)
    digest = hashlib.sha256()
    for name in sorted(_with_imports(name for name in names if name.startswith(package + "."))):
        digest.update(name.encode())
        digest.update(Path(sys.modules[name].__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def _with_imports(names: Iterable[str]) -> set[str]:
    """The modules ``names`` and, transitively, every module of the same package they import."""
    package = __name__.split(".")[0]
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found or name not in sys.modules:
            continue
        found.add(name)
        for value in vars(sys.modules[name]).values():
            owner = (
                value.__name__
                if isinstance(value, type(sys))
                else getattr(value, "__module__", None)
            )
            if isinstance(owner, str) and owner.startswith(package + "."):
                todo.append(owner)
    return found


def floats_as(tensors: Mapping[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """``tensors`` with the floating-point ones in ``dtype``; integer buffers (counters, indices)
    as they are."""
    return {name: t.to(dtype) if t.is_floating_point() else t for name, t in tensors.items()}


def save_weights(
    model: nn.Module,
    path: str | Path,
    metadata: Mapping[str, Any],
    dtype: torch.dtype | None = None,
) -> None:
    """Write ``model``'s weights and a JSON-able ``metadata`` dict to a safetensors file.

    ``dtype`` stores the floating-point weights in another precision (``torch.float16`` halves a
    float32 file; :func:`load_weights` gives them back in the model's own dtype). The file is
    written to a temporary name and renamed, so a crash never leaves half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    if dtype is not None:
        tensors = floats_as(tensors, dtype)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(tmp), metadata={"json": json.dumps(dict(metadata), sort_keys=True)})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata that :func:`save_weights` stored with the weights in ``path`` (no tensors)."""
    with safe_open(str(path), framework="pt") as handle:
        return json.loads((handle.metadata() or {}).get("json", "{}"))


def load_weights(model: nn.Module, path: str | Path) -> dict[str, Any]:
    """Load weights saved by :func:`save_weights` into ``model`` (no pickle); return the metadata.

    Raises ``ValueError`` if the file's tensors do not fit the model's parameters.
    """
    path = Path(path)
    metadata = read_metadata(path)
    tensors = load_file(str(path))
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in tensors.items()}
    if expected != found:
        raise ValueError(
            f"the weights in {path} do not fit this {type(model).__name__}: the file has "
            f"{found}, the model expects {expected}; build the model with the same arguments, "
            "or delete the file to train again"
        )
    model.load_state_dict(tensors)
    return metadata


def cached_weights_path(
    model: nn.Module, key: Mapping[str, Any], directory: str | Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """Where the weights of ``model`` trained as ``key`` describes live, and the key stored there.

    ``directory`` is ``cache_root() / "weights"`` by default; the file name holds the model's class
    and a hash of the key, and the stored key adds the class name to ``key``.
    """
    directory = Path(directory) if directory is not None else cache_root() / "weights"
    full_key = {"model": type(model).__name__, **key}
    return directory / f"{type(model).__name__.lower()}-{_key_hash(full_key)}.safetensors", full_key


def load_cached(
    model: nn.Module, key: Mapping[str, Any], directory: str | Path | None = None
) -> History | None:
    """Load the weights of a training run described by ``key`` into ``model`` and return its loss
    history, or return ``None`` (``model`` untouched) if that run is not in the cache."""
    path, full_key = cached_weights_path(model, key, directory)
    if not path.exists() or read_metadata(path).get("key") != json.loads(json.dumps(full_key)):
        return None
    metadata = load_weights(model, path)
    model.eval()
    history = metadata["history"]
    return dict(history) if isinstance(history, dict) else list(history)


def shipped_checksums(directory: str | Path = SHIPPED_WEIGHTS) -> dict[str, str]:
    """``{file name: SHA-256}`` of the shipped weights, read from ``directory / "SHA256SUMS"``
    (the format of ``sha256sum``); empty when there is no such file."""
    manifest = Path(directory) / "SHA256SUMS"
    if not manifest.exists():
        return {}
    lines = manifest.read_text().splitlines()
    return {name.lstrip("*"): digest for digest, name in (line.split() for line in lines if line)}


def load_shipped(
    model: nn.Module, key: Mapping[str, Any], directory: str | Path = SHIPPED_WEIGHTS
) -> History | None:
    """Load the shipped weights of the training run ``key`` into ``model`` and return its loss
    history, or return ``None`` (``model`` untouched) if the course ships no such run.

    Raises ``ValueError`` if the file's SHA-256 is not the one ``SHA256SUMS`` lists for it.
    """
    path, _ = cached_weights_path(model, key, directory)
    if not path.exists():
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if shipped_checksums(directory).get(path.name) != digest:
        raise ValueError(
            f"the shipped weights {path} do not match their SHA-256 in "
            f"{Path(directory) / 'SHA256SUMS'} (a corrupted or replaced file); restore the file "
            "with `git checkout`, or regenerate them with scripts/train_course_models.py"
        )
    return load_cached(model, key, directory)


def load_known(
    model: nn.Module, key: Mapping[str, Any], directory: str | Path | None = None
) -> History | None:
    """:func:`load_shipped` (with the default ``directory``, unless ``$VAE_UTILS_SHIPPED`` is
    ``0``), else :func:`load_cached`: the weights of a run done before, or ``None``."""
    history = None
    if directory is None and os.environ.get(SHIPPED_ENV_VAR, "1") != "0":
        history = load_shipped(model, key)
    return history if history is not None else load_cached(model, key, directory)


def save_trained(
    model: nn.Module,
    key: Mapping[str, Any],
    history: History,
    directory: str | Path | None = None,
) -> None:
    """Cache ``model``'s weights and loss ``history`` under ``key``, for :func:`load_cached`."""
    path, full_key = cached_weights_path(model, key, directory)
    save_weights(model, path, {"key": full_key, "history": history})


def load_or_train(
    model: nn.Module,
    train: Callable[[nn.Module], History],
    key: Mapping[str, Any],
    directory: str | Path | None = None,
) -> History:
    """Load ``model``'s weights from the cache if this training run was done before, else train.

    With the default ``directory``, the weights that the course ships come first
    (:func:`load_shipped`; not when ``$VAE_UTILS_SHIPPED`` is ``0``): the same run then gives the
    same model on every machine.

    Args:
        model: a freshly built model; it is trained in place or receives the cached weights.
        train: trains the model and returns its loss history, e.g.
            ``lambda m: fit(m, x, loss_fn, TrainConfig(num_epochs=5))``: a list of floats, or a
            dict of named lists (curves recorded during training), as JSON.
        key: everything that determines the result (model arguments, loss weight, epochs, seed,
            data size), as JSON values; a different key means a different file.
        directory: where the weights live; ``cache_root() / "weights"`` by default.

    Returns:
        The loss history, from the cache or from ``train``.
    """
    history = load_known(model, key, directory)
    if history is None:
        history = train(model)
        save_trained(model, key, history, directory)
    return history
