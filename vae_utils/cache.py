"""Slow work done once: where downloads and weights live; weights saved and loaded, no pickle.

Every weights file that :func:`save_weights` writes carries a SHA-256 of its tensors and metadata
in its safetensors header; the cache loads an entry only once that digest matches. A damaged or
unreadable entry (a flipped byte, a file cut short, a folder in its place) is reported in one
:class:`CacheWarning` and trained again, never loaded.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import lzma
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from vae_utils.validation import check_sha256

# A training run's record: the loss of each epoch, or named curves (e.g. per-step rates).
History = list[float] | dict[str, list[float]]

CACHE_ENV_VAR = "VAE_UTILS_CACHE"
# Weights the course ships for every run its chapters make at the default seed (made by
# scripts/train_course_models.py, in half precision and xz-compressed to fit the repository's 30 MB
# budget for weights): a fresh runtime loads them instead of training. SHA256SUMS holds the
# checksum of each file. VAE_UTILS_SHIPPED=0 trains those runs instead (or loads them from the
# cache), as every other run.
SHIPPED_RUNS = Path(__file__).parent / "weights" / "course"
SHIPPED_SUFFIX = ".xz"  # a shipped file is the cache's file of its run, xz-compressed
SHIPPED_ENV_VAR = "VAE_UTILS_SHIPPED"
# The safetensors header entry beside "json" (the metadata) that holds the SHA-256 of the tensors
# and the metadata, written by save_weights. Outside "json", so read_metadata never shows it.
DIGEST_ENTRY = "vae_utils_sha256"
FILE_MODE = 0o644  # readable by everyone: a cache shared on a JupyterHub serves every user
# A temporary file not written to for this long belongs to a save or a download that was killed
# (SIGKILL, a power cut): the next save or download into its folder deletes it. A live download
# writes a chunk at least every DOWNLOAD_TIMEOUT_S (30 s), a save in well under a second, so a
# file younger than this may be in use and is left alone.
STALE_TEMPORARY_AGE_S = 15 * 60
_MANIFEST_LINE = re.compile(r"([0-9a-fA-F]{64})\s+\*?(\S.*)")  # sha256sum: "<digest>  <name>"


class CacheWarning(UserWarning):
    """A cached file could not be used or written; the run trains (again) instead."""


class DamagedWeightsError(ValueError):
    """A weights file is unreadable, cut short, or does not match the SHA-256 stored with it.

    ``path`` is the file and ``problem`` says what is wrong with it, in a few words.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path}: {problem}; the file cannot be used: delete it, then train or save the "
            "weights again"
        )
        self.path = path
        self.problem = problem


def cache_root() -> Path:
    """The folder for downloaded data and cached weights.

    ``$VAE_UTILS_CACHE`` when set, with a leading ``~`` expanded to the home folder
    (``VAE_UTILS_CACHE='~/vae'`` is ``/home/you/vae``, not a folder named ``~``); else
    ``~/.cache/vae_utils``. The folder is not created here.
    """
    value = os.environ.get(CACHE_ENV_VAR)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "vae_utils"


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
    """A short SHA-256 of the code of the package's modules that ``objects`` depend on.

    Part of every cache key, so that weights trained by older code are never served: edit a
    model, a loss or the training loop, and the next run trains again. It reads the code, not
    its bytes: comments, docstrings, blank lines, formatting and line endings (a CRLF checkout)
    leave it unchanged, and it is the same under every Python version the course supports.

    Args:
        objects: models (their class and its base classes count), functions and
            ``functools.partial`` objects, e.g. ``(model, partial(vae_objective, C=1.0))``.

    Returns:
        16 hex digits over the code of the modules that define ``objects``, of every module of
        the package those import, and of the training loop (``train.py``).
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
        path = Path(sys.modules[name].__file__ or "")
        stat = path.stat()
        code = _code_digest(str(path), stat.st_mtime_ns, stat.st_size)
        digest.update(f"{name}\0{code}\0".encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=256)
def _code_digest(path: str, mtime_ns: int, size: int) -> str:
    """SHA-256 of the code in the Python file ``path``; ``mtime_ns`` and ``size`` only key the
    cache, so that an edited file is parsed again."""
    tree = ast.parse(Path(path).read_bytes(), filename=path)  # CRLF or LF: one tree
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)
        ):
            node.body = node.body[1:]  # a docstring documents the code; it does not train
    return hashlib.sha256(_dump(tree).encode()).hexdigest()


def _dump(node: object) -> str:
    """The syntax tree ``node`` as text, without positions (so without comments or layout).

    Like ``ast.dump(node, include_attributes=False)``, but without the fields that are empty
    (``None`` or ``[]``): ``ast.dump``'s text changes between Python versions (3.12 added the
    empty ``type_params`` of every function, 3.13 leaves out empty fields), and a key that changed
    with the Python version would hide the shipped weights from some readers.
    """
    if isinstance(node, ast.AST):
        fields = (
            f"{name}={_dump(value)}"
            for name in node._fields
            if (value := getattr(node, name, None)) is not None and value != []
        )
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return f"[{', '.join(_dump(item) for item in node)}]"
    return repr(node)


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


def weights_digest(tensors: Mapping[str, torch.Tensor], metadata_json: str) -> str:
    """The SHA-256 (hex) of ``tensors`` (names, dtypes, shapes, bytes) and of ``metadata_json``.

    :func:`save_weights` stores it with the weights, and loading checks it: a flipped bit in a
    weight or in the loss history changes it.
    """
    digest = hashlib.sha256(f"{len(metadata_json)}:{metadata_json}".encode())
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(json.dumps([name, str(t.dtype), list(t.shape)]).encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy())  # the raw bytes, no copy
    return digest.hexdigest()


def _check_finite(tensors: Mapping[str, torch.Tensor], path: Path, stored_as: str = "") -> None:
    """Raise ``ValueError`` if a floating-point tensor holds a NaN or an infinity."""
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            if stored_as:
                raise ValueError(
                    f"{name} has {bad} weights beyond the range of {stored_as} (whose largest "
                    f"value is {torch.finfo(t.dtype).max:g}); refusing to save them to {path}. "
                    "Store them in full precision (dtype=None)"
                )
            raise ValueError(
                f"{name} holds {bad} NaN or infinite values out of {t.numel()}; refusing to save "
                f"them to {path}. Training diverged: the learning rate is likely too high (try "
                "lr=1e-3), or the data holds NaN or infinite values (check "
                "torch.isfinite(x).all())"
            )


def _metadata_json(metadata: Mapping[str, Any], path: Path) -> str:
    """``metadata`` as strict JSON, or a ``ValueError`` that says what does not fit."""
    try:
        return json.dumps(dict(metadata), sort_keys=True, allow_nan=False)
    except ValueError as error:  # NaN or an infinity, which strict JSON cannot hold
        raise ValueError(
            f"the metadata to save with {path} holds a NaN or an infinity ({error}): a loss "
            "history went non-finite, so the learning rate is likely too high (try lr=1e-3), or "
            "the data holds NaN or infinite values (check torch.isfinite(x).all())"
        ) from error
    except TypeError as error:
        raise ValueError(
            f"metadata must hold only JSON values (numbers, strings, lists, dicts), got "
            f"{metadata!r} ({error}); convert tensors with .tolist() or float()"
        ) from error


def remove_stale_temporaries(
    folder: Path, patterns: Iterable[str], max_age_s: float = STALE_TEMPORARY_AGE_S
) -> list[Path]:
    """Delete the temporary files in ``folder`` that a killed save or download left behind.

    Args:
        folder: where to look (not its subfolders); nothing happens if it does not exist.
        patterns: glob patterns of temporary file names, e.g. ``[".*.tmp"]``.
        max_age_s: only files not written to for this many seconds go: a younger one may be
            written right now by another process.

    Returns:
        The files deleted.
    """
    removed = []
    now = time.time()
    for pattern in patterns:
        for candidate in folder.glob(pattern):
            try:
                if candidate.is_file() and now - candidate.stat().st_mtime > max_age_s:
                    candidate.unlink()
                    removed.append(candidate)
            except OSError:
                pass  # deleted meanwhile by another process, or not ours to delete: leave it
    return removed


def _write_file_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0644) through a temporary file in its folder, so that
    ``path`` is at every moment either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, [".*.tmp"])
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename, or a power cut may empty it
        os.chmod(temp_name, FILE_MODE)  # mkstemp makes it private: 0600
        os.replace(temp_name, path)
    finally:
        Path(temp_name).unlink(missing_ok=True)  # gone already after a successful os.replace


def save_weights(
    model: nn.Module,
    path: str | Path,
    metadata: Mapping[str, Any],
    dtype: torch.dtype | None = None,
) -> None:
    """Write ``model``'s weights and a JSON-able ``metadata`` dict to a safetensors file.

    ``dtype`` stores the floating-point weights in another precision (``torch.float16`` halves a
    float32 file; :func:`load_weights` gives them back in the model's own dtype). The header also
    holds the SHA-256 of the tensors and metadata (:func:`weights_digest`), which loading checks.
    The file is written to a temporary name and renamed, so a crash never leaves half a file, and
    it is readable by everyone (0644).

    Raises:
        ValueError: a weight or a number in ``metadata`` is NaN or infinite (nothing
            non-finite is ever saved), or ``metadata`` holds something that is not JSON.
        OSError: the file could not be written (a read-only folder, a full disk).
    """
    path = Path(path)
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    _check_finite(tensors, path)
    if dtype is not None:
        tensors = floats_as(tensors, dtype)
        _check_finite(tensors, path, stored_as=str(dtype).removeprefix("torch."))
    text = _metadata_json(metadata, path)
    header = {"json": text, DIGEST_ENTRY: weights_digest(tensors, text)}
    _write_file_atomically(path, save_safetensors(tensors, metadata=header))


def save_shipped_weights(model: nn.Module, path: str | Path, metadata: Mapping[str, Any]) -> None:
    """:func:`save_weights` in half precision, xz-compressed when ``path`` ends in ``.xz`` (as the
    files the package ships are: xz stores no time stamp, so the same weights give the same
    bytes). :func:`load_weights` and :func:`read_metadata` read either form."""
    path = Path(path)
    if path.suffix != SHIPPED_SUFFIX:
        save_weights(model, path, metadata, dtype=torch.float16)
        return
    plain = path.with_suffix("")
    save_weights(model, plain, metadata, dtype=torch.float16)
    try:
        data = lzma.compress(plain.read_bytes(), preset=9 | lzma.PRESET_EXTREME)
        _write_file_atomically(path, data)
    finally:
        plain.unlink()


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata that :func:`save_weights` stored with the weights in ``path`` (a safetensors
    file, or a shipped one, xz-compressed).

    Raises:
        DamagedWeightsError: ``path`` is not a readable safetensors file, or its metadata is not
            a JSON object. (The metadata is not checked against the stored SHA-256 here, as
            :func:`load_weights` checks it.)
    """
    _, header = _read_weights(Path(path))
    return _parse_metadata(header.get("json", "{}"), Path(path))


def tensor_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor in the safetensors file ``path`` (xz-compressed if its name ends
    in ``.xz``), read from its header: e.g. to build the model a file fits before loading it."""
    data = Path(path).read_bytes()
    if Path(path).suffix == SHIPPED_SUFFIX:
        data = lzma.decompress(data)
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    return {name: tuple(entry["shape"]) for name, entry in header.items() if name != "__metadata__"}


def _parse_metadata(text: str, path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as error:
        metadata = error
    if not isinstance(metadata, dict):
        raise DamagedWeightsError(path, f"its metadata is not a JSON object ({metadata})")
    return metadata


def _read_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors of the safetensors file ``path`` and its header's metadata entries, read from
    one read of the file. ``OSError`` (a missing file, a folder) passes unchanged."""
    data = path.read_bytes()
    if path.suffix == SHIPPED_SUFFIX:  # a shipped file, its SHA-256 checked before it is read
        data = lzma.decompress(data)
    try:
        tensors = load_safetensors(data)
    except SafetensorError as error:
        raise DamagedWeightsError(
            path, f"not a readable safetensors file: cut short or damaged ({error})"
        ) from error
    header_size = int.from_bytes(data[:8], "little")  # valid: safetensors has just parsed it
    header = json.loads(data[8 : 8 + header_size])
    return tensors, dict(header.get("__metadata__") or {})


def _verified_metadata(
    path: Path, tensors: Mapping[str, torch.Tensor], header: Mapping[str, str], require: bool
) -> dict[str, Any]:
    """The metadata of ``path``, once its stored SHA-256 matches ``tensors`` and the metadata.
    Without a stored SHA-256, an error if ``require``, else the metadata unchecked."""
    text = header.get("json", "{}")
    stored = header.get(DIGEST_ENTRY)
    if stored is None and require:
        raise DamagedWeightsError(
            path,
            "it holds no SHA-256 of its weights (written before vae_utils checked its cache), "
            "so it cannot be verified",
        )
    if stored is not None and stored != weights_digest(tensors, text):
        raise DamagedWeightsError(
            path,
            "damaged: its weights or metadata no longer match the SHA-256 stored with them "
            "(a changed byte)",
        )
    return _parse_metadata(text, path)


def _misfit(model: nn.Module, tensors: Mapping[str, torch.Tensor]) -> str | None:
    """Why ``tensors`` do not fit ``model``'s parameters, or ``None`` if they do."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in tensors.items()}
    if expected == found:
        return None
    return (
        f"its weights do not fit this {type(model).__name__}: the file has {found}, the model "
        f"expects {expected}"
    )


def load_weights(model: nn.Module, path: str | Path) -> dict[str, Any]:
    """Load weights saved by :func:`save_weights` into ``model`` (no pickle); return the metadata.

    The SHA-256 stored with the weights is checked first. A file without one (written by an older
    vae_utils, or by another program) is loaded unchecked; verify such a file yourself, as
    :func:`load_shipped` does with ``SHA256SUMS``. ``model`` is changed only once every check
    passed.

    Raises:
        DamagedWeightsError: the file is cut short, not a safetensors file, or its weights or
            metadata do not match the stored SHA-256 (a ``ValueError``).
        ValueError: the file's tensors do not fit the model's parameters.
        OSError: the file cannot be read (missing, a folder, no permission).
    """
    path = Path(path)
    tensors, header = _read_weights(path)
    metadata = _verified_metadata(path, tensors, header, require=False)
    misfit = _misfit(model, tensors)
    if misfit is not None:
        raise ValueError(
            f"{path}: {misfit}; build the model with the same arguments, or delete the file to "
            "train again"
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


def _curves(history: object) -> list[list | tuple] | None:
    """The curves of a loss ``history`` (a list of numbers, or a dict of named lists of numbers),
    or ``None`` if it is neither."""
    curves = list(history.values()) if isinstance(history, dict) else [history]
    if isinstance(history, dict) and not all(isinstance(name, str) for name in history):
        return None
    for curve in curves:
        if not isinstance(curve, list | tuple) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in curve
        ):
            return None
    return curves


def _load_entry(
    model: nn.Module, path: Path, full_key: Mapping[str, Any], require_digest: bool
) -> History | None:
    """Load the run ``full_key`` from ``path`` into ``model``; ``None`` if the file holds another
    run. Raises ``DamagedWeightsError`` (or ``ValueError``, ``OSError``) before changing
    ``model`` if anything is wrong."""
    tensors, header = _read_weights(path)
    metadata = _verified_metadata(path, tensors, header, require=require_digest)
    if metadata.get("key") != json.loads(json.dumps(full_key)):
        return None
    history = metadata.get("history")
    curves = _curves(history)
    if curves is None or not all(math.isfinite(v) for curve in curves for v in curve):
        raise DamagedWeightsError(
            path,
            "its metadata holds no loss history (a list of finite numbers, or a dict of such "
            f"lists), got {history!r}",
        )
    non_finite = [
        name for name, t in tensors.items() if t.is_floating_point() and not t.isfinite().all()
    ]
    if non_finite:  # save_weights never writes them
        raise DamagedWeightsError(path, f"it holds NaN or infinite weights in {non_finite}")
    misfit = _misfit(model, tensors)
    if misfit is not None:
        raise DamagedWeightsError(path, misfit)
    model.load_state_dict(tensors)
    model.eval()
    return dict(history) if isinstance(history, dict) else list(history)


def load_cached(
    model: nn.Module, key: Mapping[str, Any], directory: str | Path | None = None
) -> History | None:
    """Load the weights of a training run described by ``key`` into ``model`` and return its loss
    history, or return ``None`` (``model`` untouched) if that run is not in the cache.

    An entry that cannot be trusted counts as missing, with a one-line :class:`CacheWarning` that
    names the file and what is wrong: unreadable (cut short, a bad header, a folder in its
    place), a SHA-256 that does not match (a changed byte), no SHA-256 at all (written by a
    vae_utils older than this check: such entries are retrained once), no loss history, or
    weights that do not fit ``model``. The next save replaces it.
    """
    path, full_key = cached_weights_path(model, key, directory)
    if not path.exists():
        return None
    try:
        return _load_entry(model, path, full_key, require_digest=True)
    except DamagedWeightsError as error:
        problem = error.problem
    except OSError as error:  # a folder in its place, no permission to read it
        problem = f"unreadable: {error.strerror or error}"
    warnings.warn(
        f"ignoring the cached weights {path} ({problem}); training again",
        CacheWarning,
        stacklevel=2,
    )
    return None


def shipped_checksums(directory: str | Path = SHIPPED_RUNS) -> dict[str, str]:
    """``{file name: SHA-256}`` of the shipped weights, read from ``directory / "SHA256SUMS"``
    (the format of ``sha256sum``); empty when there is no such file.

    Raises:
        ValueError: a line is not ``<64 hex digits>  <file name>``; the message names the line.
    """
    manifest = Path(directory) / "SHA256SUMS"
    if not manifest.exists():
        return {}
    checksums = {}
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        match = _MANIFEST_LINE.fullmatch(line.strip())
        if match is None:
            raise ValueError(
                f"{manifest}, line {number}: {line!r} is not '<64 hex digits>  <file name>', the "
                "format of sha256sum; restore the file with `git checkout`, or regenerate the "
                "weights and the file with scripts/train_course_models.py"
            )
        checksums[match[2]] = match[1].lower()
    return checksums


def load_shipped(
    model: nn.Module, key: Mapping[str, Any], directory: str | Path = SHIPPED_RUNS
) -> History | None:
    """Load the shipped weights of the training run ``key`` into ``model`` and return its loss
    history, or return ``None`` (``model`` untouched) if the course ships no such run.

    Raises:
        ValueError: the file's SHA-256 is not the one ``SHA256SUMS`` lists for it, the file is
            not listed there, or ``SHA256SUMS`` has a malformed line.
    """
    path, full_key = cached_weights_path(model, key, directory)
    path = path.with_name(path.name + SHIPPED_SUFFIX)
    if not path.exists():
        return None
    manifest = Path(directory) / "SHA256SUMS"
    expected = shipped_checksums(directory).get(path.name)
    if expected is None:
        raise ValueError(
            f"the shipped weights {path} have no SHA-256 in {manifest}: the file is not listed "
            "there (added by hand, or the list is out of date); delete the file, or regenerate "
            "the weights and their list with scripts/train_course_models.py"
        )
    fix = (
        f"a corrupted or replaced file (its SHA-256 is listed in {manifest}); restore the file "
        "with `git checkout`, or regenerate the weights with scripts/train_course_models.py"
    )
    check_sha256(f"the shipped weights {path}", path.read_bytes(), expected, fix)
    # verified by SHA256SUMS, which the script writes; the files themselves carry no digest
    return _load_entry(model, path, full_key, require_digest=False)


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
    """Cache ``model``'s weights and loss ``history`` under ``key``, for :func:`load_cached`.

    A save that fails (a read-only folder, a full disk) is a :class:`CacheWarning`, not an error:
    ``model`` keeps its trained weights, and the next run trains again.

    Raises:
        ValueError: a weight or a loss is NaN or infinite (nothing non-finite is cached), or
            ``history`` is not a list of numbers or a dict of such lists.
    """
    if _curves(history) is None:
        raise ValueError(
            "history must be a list of numbers, or a dict of named lists of numbers, got "
            f"{history!r}; return the loss list that fit returns"
        )
    path, full_key = cached_weights_path(model, key, directory)
    try:
        save_weights(model, path, {"key": full_key, "history": history})
    except OSError as error:
        warnings.warn(
            f"could not cache the trained weights in {path} ({error}); the model keeps them "
            "for now, but the next run trains again. Make the folder writable, free some disk "
            f"space, or set {CACHE_ENV_VAR} to another folder",
            CacheWarning,
            stacklevel=2,
        )


def load_or_train(
    model: nn.Module,
    train: Callable[[nn.Module], History],
    key: Mapping[str, Any],
    directory: str | Path | None = None,
) -> History:
    """Load ``model``'s weights from the cache if this training run was done before, else train.

    With the default ``directory``, the weights that the course ships come first
    (:func:`load_shipped`; not when ``$VAE_UTILS_SHIPPED`` is ``0``): the same run then gives the
    same model on every machine. A damaged cache entry is a :class:`CacheWarning` and trains
    again; so does a save that fails (the trained model is kept).

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

    Raises:
        ValueError: training left NaN or infinite weights or losses, which are never cached.
    """
    history = load_known(model, key, directory)
    if history is None:
        history = train(model)
        save_trained(model, key, history, directory)
    return history
