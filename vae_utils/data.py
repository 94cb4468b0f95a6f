"""Fashion-MNIST: find the four IDX files (Debian package, user cache, or download), verify, load.

The files are looked for in this order:

1. ``SYSTEM_DIR`` (``/usr/share/datasets/fashion-mnist``, from ``apt-get install
   dataset-fashion-mnist``); files there are only ever read.
2. ``cache_root() / "fashion-mnist"`` (``$VAE_UTILS_CACHE`` or ``~/.cache/vae_utils``).
3. A download from ``BASE_URLS`` into that cache folder.

Every file is checked before it is used: it must be complete gzip data, start with an IDX header
that matches its size, and its decompressed bytes must have the SHA-256 in ``FILES``. We hash the
decompressed bytes because Debian recompressed the files: their gzip bytes differ from the official
ones, their contents do not. A download larger than ``MAX_DOWNLOAD_BYTES``, or a file that
decompresses to more than ``MAX_IDX_BYTES``, is refused as soon as it passes the limit, before it
can fill the memory or the disk.
"""

from __future__ import annotations

import functools
import gzip
import http.client
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vae_utils._progress import show_progress
from vae_utils.cache import STALE_TEMPORARY_AGE_S, cache_root, remove_stale_temporaries
from vae_utils.validation import check_sha256, is_int

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
CACHE_SUBDIR = "fashion-mnist"  # inside cache_root()
HTTPS_BASE_URL = "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"
BASE_URLS: tuple[str, ...] = (  # tried in order; a file's URL is base + file name
    HTTPS_BASE_URL,
    # Zalando's mirror, tried last: plain http (this website endpoint has no https). Every file's
    # SHA-256 is checked, so a changed file is refused whichever way it came.
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
# split -> {"images" | "labels": (file name, SHA-256 of the *decompressed* IDX bytes)}
FILES: dict[str, dict[str, tuple[str, str]]] = {
    "train": {
        "images": (
            "train-images-idx3-ubyte.gz",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "labels": (
            "train-labels-idx1-ubyte.gz",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
    },
    "test": {
        "images": (
            "t10k-images-idx3-ubyte.gz",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "labels": (
            "t10k-labels-idx1-ubyte.gz",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
}
DOWNLOAD_TIMEOUT_S = 30.0  # per blocking socket operation, not for the whole file
# Limits a little above the largest real file, train-images-idx3-ubyte.gz: 26,421,880 bytes of
# gzip (Debian's copy 26,421,856) holding 47,040,016 bytes of IDX (a 16-byte header and
# 60,000 x 28 x 28 pixels). Anything larger is not Fashion-MNIST, and is refused as it arrives.
MAX_DOWNLOAD_BYTES = 30_000_000
MAX_IDX_BYTES = 48_000_000
_CHUNK_BYTES = 1 << 20
_IDX_MAGIC = {0x00000801: "labels", 0x00000803: "images"}  # unsigned bytes, 1 or 3 dimensions


class CorruptFileError(ValueError):
    """A data file is not what it should be: bad gzip, bad IDX header, wrong size or checksum."""


class DownloadError(OSError):
    """No source could deliver a verified copy of a file."""


def read_idx(path: Path, sha256: str | None = None) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes, checking it on the way.

    Args:
        path: a ``.gz`` file holding IDX data with magic number ``0x00000801`` (labels, 1-D) or
            ``0x00000803`` (images, 3-D), followed by big-endian ``uint32`` sizes and the bytes.
        sha256: the expected SHA-256 (hex) of the decompressed bytes, or ``None`` to skip it.

    Returns:
        A read-only ``uint8`` array: labels ``(n,)`` or images ``(n, rows, columns)``.
        Call ``.copy()`` on it to get one you can change.

    Raises:
        CorruptFileError: truncated or invalid gzip data, more than ``MAX_IDX_BYTES`` of it once
            decompressed, bad magic number, a size that does not match the header, or a
            checksum mismatch. The message names ``path``.

    Example:
        >>> labels = read_idx(SYSTEM_DIR / "t10k-labels-idx1-ubyte.gz")
        >>> labels.shape, labels.dtype
        ((10000,), dtype('uint8'))
    """
    return _read_idx(path, sha256, source=str(path))


def _read_idx(path: Path, sha256: str | None, source: str) -> np.ndarray:
    """:func:`read_idx`, naming ``source`` (a path or a URL) in its errors."""
    chunks = []
    size = 0
    with gzip.open(path, "rb") as file:  # a missing file raises FileNotFoundError here, unchanged
        try:
            # chunk by chunk, so that a small file that inflates to gigabytes (a "gzip bomb")
            # is stopped at MAX_IDX_BYTES instead of filling the memory
            while chunk := file.read(_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_IDX_BYTES:
                    raise CorruptFileError(
                        f"{source}: decompresses to more than MAX_IDX_BYTES = {MAX_IDX_BYTES:,} "
                        "bytes, more than any Fashion-MNIST file holds (the largest, "
                        "train-images-idx3-ubyte.gz, holds 47,040,016): not a Fashion-MNIST file"
                    )
                chunks.append(chunk)
        except EOFError as error:
            raise CorruptFileError(f"{source}: truncated gzip file ({error})") from error
        except (gzip.BadGzipFile, zlib.error) as error:
            raise CorruptFileError(f"{source}: not a valid gzip file ({error})") from error
    raw = b"".join(chunks)
    del chunks

    if len(raw) < 4:
        raise CorruptFileError(f"{source}: truncated IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in _IDX_MAGIC:
        raise CorruptFileError(
            f"{source}: bad magic number 0x{magic:08x}; expected 0x00000801 (labels) "
            "or 0x00000803 (images)"
        )
    ndim = magic & 0xFF
    header_bytes = 4 + 4 * ndim
    if len(raw) < header_bytes:
        raise CorruptFileError(
            f"{source}: truncated IDX header ({len(raw)} bytes, need {header_bytes})"
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(raw) - header_bytes != expected:
        raise CorruptFileError(
            f"{source}: wrong size: the header says shape {shape} ({expected} bytes of data), "
            f"but the file holds {len(raw) - header_bytes}"
        )
    if sha256 is not None:
        fix = "its decompressed bytes are not those of the Fashion-MNIST file"
        check_sha256(source, raw, sha256, fix, error=CorruptFileError)
    # frombuffer on bytes gives a read-only view: no copy, and a cached array cannot be changed
    return np.frombuffer(raw, np.uint8, offset=header_bytes).reshape(shape)


def download(urls: Sequence[str], destination: Path, sha256: str) -> Path:
    """Download a gzipped IDX file, trying ``urls`` in order, and keep it only once verified.

    Each attempt writes to a temporary file in ``destination``'s folder, checks it with
    :func:`read_idx` (gzip, header, size, checksum) and only then renames it to ``destination``
    (readable by everyone, 0644), so an interrupted or corrupt download never leaves a file
    behind. A download of more than ``MAX_DOWNLOAD_BYTES`` stops there. Temporary files that a
    killed download left in that folder more than ``STALE_TEMPORARY_AGE_S`` ago are deleted.

    Args:
        urls: where to get the file, tried in order until one gives a verified copy.
        destination: the final path; its folder is created if needed.
        sha256: the SHA-256 (hex) of the decompressed bytes.

    Returns:
        ``destination``.

    Raises:
        DownloadError: every URL failed (network error, cut-short, too large or corrupt file);
            the message lists each URL with its reason.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(destination.parent, [".*.part"], STALE_TEMPORARY_AGE_S)
    failures = []
    for url in urls:
        try:
            _download_one(url, destination, sha256)
            return destination
        except (OSError, http.client.HTTPException, CorruptFileError) as error:
            failures.append(f"  {url}: {error}")
    raise DownloadError(f"could not download {destination.name}:\n" + "\n".join(failures))


def _download_one(url: str, destination: Path, sha256: str) -> None:
    """Fetch ``url`` into a temporary file next to ``destination``; rename it once verified."""
    fd, temp_name = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    temp_path = Path(temp_name)
    try:
        with (
            os.fdopen(fd, "wb") as file,
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response,
        ):
            length = response.headers.get("Content-Length")
            total = int(length) if length is not None and length.isdigit() else None
            if total is not None and total > MAX_DOWNLOAD_BYTES:
                raise DownloadError(_too_large(f"the server announces {total:,} bytes"))
            received = 0
            # shown in terminals and notebooks alike (a kernel's stderr is no tty); hidden under CI
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=destination.name,
                disable=not show_progress(None),
            ) as bar:
                while chunk := response.read(_CHUNK_BYTES):
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:  # a server that sends more than it said
                        raise DownloadError(_too_large(f"{received:,} bytes received so far"))
                    file.write(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise DownloadError(f"connection closed after {received} of {total} bytes")
        _read_idx(temp_path, sha256, source="the downloaded file")
        os.chmod(temp_path, 0o644)  # mkstemp makes it private; a shared cache should be readable
        os.replace(temp_path, destination)
    finally:
        temp_path.unlink(missing_ok=True)  # gone already after a successful os.replace


def _too_large(size: str) -> str:
    return (
        f"too large: {size}, more than MAX_DOWNLOAD_BYTES = {MAX_DOWNLOAD_BYTES:,} (the largest "
        "Fashion-MNIST file has 26,421,880 bytes): not a Fashion-MNIST file"
    )


def find_or_download(name: str, sha256: str) -> np.ndarray:
    """Return the verified contents of one Fashion-MNIST file, found or downloaded.

    Looks in ``SYSTEM_DIR``, then in ``cache_root() / CACHE_SUBDIR``, and otherwise downloads
    ``BASE_URLS[i] + name`` into that cache folder. A copy that is found but fails verification
    is an error (it is not silently replaced, and files in ``SYSTEM_DIR`` are never deleted).

    Args:
        name: the file name, e.g. ``"t10k-labels-idx1-ubyte.gz"``.
        sha256: the SHA-256 (hex) of its decompressed bytes.

    Returns:
        The array from :func:`read_idx`: read-only ``uint8``, ``(n,)`` or ``(n, 28, 28)``.

    Raises:
        CorruptFileError: a copy was found but is damaged; the message says how to fix it.
        DownloadError: no copy was found and downloading failed; the message says how to get
            the data by hand.

    Example:
        >>> labels = find_or_download(*FILES["test"]["labels"])
        >>> labels.shape
        (10000,)
    """
    cache_dir = cache_root() / CACHE_SUBDIR
    system_path = SYSTEM_DIR / name
    cache_path = cache_dir / name
    if system_path.exists():
        fix = (
            "reinstall the Debian package it comes from: "
            "sudo apt-get install --reinstall dataset-fashion-mnist"
        )
        return _read_found_copy(system_path, sha256, fix)
    if cache_path.exists():
        fix = f"delete it (rm '{cache_path}') and it will be downloaded again"
        return _read_found_copy(cache_path, sha256, fix)
    try:
        download([base + name for base in BASE_URLS], cache_path, sha256)
    except DownloadError as error:
        names = ", ".join(file for entry in FILES.values() for file, _ in entry.values())
        raise DownloadError(
            f"Fashion-MNIST file {name} is in neither {SYSTEM_DIR} nor {cache_dir}, and {error}\n"
            "To get the data, do one of:\n"
            "  - install the Debian/Ubuntu package: sudo apt-get install dataset-fashion-mnist\n"
            f"  - download the four files ({names}) by hand from {_manual_url()} into {cache_dir}\n"
            f"    (or put them in any folder FOLDER/{CACHE_SUBDIR} and set VAE_UTILS_CACHE=FOLDER)"
        ) from error
    return read_idx(cache_path, sha256)


def _manual_url() -> str:
    """Where to download the files by hand: the first https URL of ``BASE_URLS``."""
    return next((url for url in BASE_URLS if url.startswith("https://")), HTTPS_BASE_URL)


def _read_found_copy(path: Path, sha256: str, fix: str) -> np.ndarray:
    """:func:`read_idx`, adding ``fix`` to the message when the copy is damaged."""
    try:
        return read_idx(path, sha256)
    except CorruptFileError as error:
        raise CorruptFileError(f"{error}. To fix this, {fix}.") from error


@functools.cache  # an lru_cache without a size limit: two splits at most
def _load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Read-only ``uint8`` images ``(n, 28, 28)`` and labels ``(n,)``, parsed once per process."""
    images_name, images_sha256 = FILES[split]["images"]
    labels_name, labels_sha256 = FILES[split]["labels"]
    images = find_or_download(images_name, images_sha256)
    labels = find_or_download(labels_name, labels_sha256)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
        raise CorruptFileError(
            f"{images_name} and {labels_name} do not fit together: wrong shape, images "
            f"{images.shape} (expected (n, 28, 28)) and labels {labels.shape} (expected (n,)); "
            "check the file names in FILES"
        )
    return images, labels


def load_fashion_mnist(
    split: str = "train", limit: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load Fashion-MNIST as flat images in [0, 1] and integer labels.

    The files are parsed once per process; every call returns new tensors, so changing them
    does not change what the next call returns.

    Args:
        split: ``"train"`` (60,000 examples) or ``"test"`` (10,000).
        limit: keep only the first ``limit`` examples in file order; ``None`` keeps them all.

    Returns:
        ``x``: ``(n, 784)`` float32, pixel / 255, rows of the 28x28 image one after another;
        ``labels``: ``(n,)`` int64 in ``0..9``, indices into :data:`CLASS_NAMES`.

    Example:
        >>> images, labels = load_fashion_mnist("test", limit=5)
        >>> images.shape, labels.dtype
        (torch.Size([5, 784]), torch.int64)
        >>> CLASS_NAMES[labels[0]]
        'Ankle boot'
    """
    if not isinstance(split, str) or split not in FILES:
        raise ValueError(
            f"split must be 'train' or 'test', got {split!r}; use split='train' to fit a model "
            "and split='test' to evaluate it"
        )
    if limit is not None and (not is_int(limit) or limit < 1):
        raise ValueError(
            f"limit must be a positive int or None, got {limit!r}; try limit=1000 for a quick "
            "experiment or limit=None for the whole split"
        )
    images, labels = _load_split(split)
    num_available = len(labels)
    if limit is not None and limit > num_available:
        raise ValueError(
            f"limit must be at most {num_available} for split={split!r}, got {limit}; "
            "use limit=None for the whole split"
        )
    n = num_available if limit is None else limit
    # a copy of the cached read-only bytes, divided in float32 by torch (on every core: a quarter
    # of numpy's time, and the same correctly rounded quotients)
    pixels = torch.from_numpy(images[:n].reshape(n, 28 * 28).copy())  # (n, 784) uint8
    x = pixels.to(torch.float32).div_(255)
    return x, torch.from_numpy(labels[:n].astype(np.int64))
