"""Fashion-MNIST loading: IDX parsing, verified downloads, search order, and the real files.

Small IDX files are built here by hand (independently of vae_utils.data) and served from a
http.server on 127.0.0.1; nothing here touches any other host.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import re
import socket
import stat
import threading
import time
import tracemalloc
import urllib.request
import zlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_utils import data
from vae_utils.cache import cache_root
from vae_utils.data import (
    CorruptFileError,
    DownloadError,
    download,
    find_or_download,
    load_fashion_mnist,
    read_idx,
)

NAME = "train-images-idx3-ubyte.gz"  # the name a test file is stored and served under
DEFAULT_BASE_URLS = data.BASE_URLS  # read before the fixtures below replace them


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """IDX bytes for a uint8 array: magic 0x0000080<ndim>, big-endian uint32 sizes, the data."""
    magic = 0x0800 + array.ndim if magic is None else magic
    sizes = b"".join(size.to_bytes(4, "big") for size in array.shape)
    return magic.to_bytes(4, "big") + sizes + array.astype(np.uint8).tobytes()


def small_images(seed: int = 0) -> np.ndarray:
    """3 images of 28x28 holding 0 and 255 and random pixels in between."""
    images = np.random.default_rng(seed).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[2, 27, 27] = 0, 255
    return images


SMALL_LABELS = np.array([9, 0, 3], dtype=np.uint8)


def write_gz(path: Path, raw: bytes) -> str:
    """Gzip ``raw`` into ``path`` and return the SHA-256 of ``raw`` (the decompressed bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw))
    return hashlib.sha256(raw).hexdigest()


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``, hidden ones (such as a temporary ``.part`` file) included."""
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def refused_url() -> str:
    """A URL on a localhost port that nothing listens on, so connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, refused_url: str) -> None:
    """No test reaches the internet: downloads go to a refused localhost port, no proxies."""
    monkeypatch.setattr(data, "BASE_URLS", (refused_url,))
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a folder; ``/cut/NAME`` sends half of NAME, then hangs
    up although its Content-Length promised all of it. Yields (base URL, served folder)."""
    root = tmp_path / "served"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if not self.path.startswith("/cut/"):
                super().do_GET()
                return
            body = (root / self.path.removeprefix("/cut/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# --- read_idx ----------------------------------------------------------------------------------


def test_read_idx_reads_images_and_labels_with_their_values(tmp_path):
    images = small_images()
    images_sha256 = write_gz(tmp_path / "images.gz", idx_bytes(images))
    labels_sha256 = write_gz(tmp_path / "labels.gz", idx_bytes(SMALL_LABELS))

    read_images = read_idx(tmp_path / "images.gz", images_sha256)
    read_labels = read_idx(tmp_path / "labels.gz", labels_sha256)

    assert read_images.dtype == np.uint8 and read_images.shape == (3, 28, 28)
    np.testing.assert_array_equal(read_images, images)
    assert read_labels.dtype == np.uint8 and read_labels.shape == (3,)
    np.testing.assert_array_equal(read_labels, SMALL_LABELS)
    np.testing.assert_array_equal(read_idx(tmp_path / "images.gz", None), images)  # no checksum
    assert not read_images.flags.writeable  # so a cached copy cannot be changed by accident


def test_read_idx_rejects_a_wrong_magic_number(tmp_path):
    path = tmp_path / "bad.gz"
    sha256 = write_gz(path, idx_bytes(SMALL_LABELS, magic=0x00000802))
    with pytest.raises(
        CorruptFileError, match=rf"{re.escape(str(path))}: bad magic number 0x0+802"
    ):
        read_idx(path, sha256)


def test_read_idx_rejects_a_truncated_gzip_file(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(small_images()))[:-100])
    with pytest.raises(CorruptFileError, match=rf"{re.escape(str(path))}: truncated gzip file"):
        read_idx(path, None)


def test_read_idx_rejects_a_file_that_is_not_gzip(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(SMALL_LABELS))  # IDX, but never compressed
    with pytest.raises(CorruptFileError, match="not a valid gzip file"):
        read_idx(path, None)


def test_read_idx_rejects_a_checksum_mismatch(tmp_path):
    path = tmp_path / "labels.gz"
    write_gz(path, idx_bytes(SMALL_LABELS))
    other_sha256 = hashlib.sha256(idx_bytes(SMALL_LABELS[::-1])).hexdigest()
    with pytest.raises(CorruptFileError, match=f"checksum mismatch.*expected {other_sha256}"):
        read_idx(path, other_sha256)


@pytest.mark.parametrize("extra", [-1, 1], ids=["one-byte-short", "one-byte-too-many"])
def test_read_idx_rejects_a_size_that_does_not_match_the_header(tmp_path, extra):
    raw = idx_bytes(small_images())
    raw = raw[:extra] if extra < 0 else raw + b"\x00" * extra
    path = tmp_path / "images.gz"
    sha256 = write_gz(path, raw)  # the checksum is right, so only the size check can object
    with pytest.raises(CorruptFileError, match=r"wrong size.*\(3, 28, 28\) \(2352 bytes"):
        read_idx(path, sha256)


@pytest.mark.parametrize("raw", [b"", b"\x00\x00\x08\x03\x00\x00\x00\x03"], ids=["empty", "short"])
def test_read_idx_rejects_a_truncated_header(tmp_path, raw):
    path = tmp_path / "header.gz"
    write_gz(path, raw)
    with pytest.raises(CorruptFileError, match="truncated IDX header"):
        read_idx(path, None)


# --- download ----------------------------------------------------------------------------------


def test_download_keeps_a_verified_file_and_nothing_else(tmp_path, server):
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(small_images()))
    destination = tmp_path / "cache" / NAME

    assert download([base_url + NAME], destination, sha256) == destination

    assert listing(destination.parent) == [NAME]
    assert destination.read_bytes() == (served / NAME).read_bytes()
    np.testing.assert_array_equal(read_idx(destination, sha256), small_images())


def test_download_tries_the_next_url_when_one_fails(tmp_path, server, refused_url):
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(SMALL_LABELS))
    destination = tmp_path / "cache" / NAME
    urls = [refused_url + NAME, base_url + "missing/" + NAME, base_url + NAME]
    download(urls, destination, sha256)
    assert listing(destination.parent) == [NAME]
    np.testing.assert_array_equal(read_idx(destination, sha256), SMALL_LABELS)


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _corrupt_downloads() -> list:
    """(bytes served, checksum expected, reason in the error): each file fails one check."""
    images = idx_bytes(small_images())
    bad_magic = idx_bytes(SMALL_LABELS, magic=0x00000802)
    short = images[:-5]
    return [
        pytest.param(gzip.compress(bad_magic), _sha256(bad_magic), "bad magic number", id="magic"),
        pytest.param(
            gzip.compress(images)[:-100], _sha256(images), "truncated gzip file", id="truncated"
        ),
        pytest.param(gzip.compress(images), _sha256(b"other"), "checksum mismatch", id="checksum"),
        pytest.param(gzip.compress(short), _sha256(short), "wrong size", id="size"),
    ]


@pytest.mark.parametrize(("served_bytes", "sha256", "reason"), _corrupt_downloads())
def test_download_of_a_corrupt_file_fails_and_leaves_nothing_behind(
    tmp_path, server, served_bytes, sha256, reason
):
    base_url, served = server
    (served / NAME).write_bytes(served_bytes)
    destination = tmp_path / "cache" / NAME
    with pytest.raises(DownloadError, match=rf"{re.escape(base_url + NAME)}: .*{reason}"):
        download([base_url + NAME], destination, sha256)
    assert listing(destination.parent) == []


def test_download_cut_short_by_the_server_leaves_nothing_behind(tmp_path, server):
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(small_images()))
    destination = tmp_path / "cache" / NAME
    with pytest.raises(DownloadError, match=r"connection closed after \d+ of \d+ bytes"):
        download([base_url + "cut/" + NAME], destination, sha256)
    assert listing(destination.parent) == []


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_download_interrupted_mid_stream_leaves_nothing_behind(tmp_path, monkeypatch, interruption):
    payload = gzip.compress(idx_bytes(small_images()))
    destination = tmp_path / "cache" / NAME
    seen_mid_download = []

    class InterruptedResponse(io.BytesIO):
        """Hands out 100 bytes, then is interrupted (Ctrl-C, or any unexpected error)."""

        def __init__(self) -> None:
            super().__init__(payload)
            self.headers = {"Content-Length": str(len(payload))}

        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                seen_mid_download.extend(listing(destination.parent))
                raise interruption("interrupted by the test")
            return super().read(100)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: InterruptedResponse())
    with pytest.raises(interruption, match="interrupted by the test"):
        download(["http://127.0.0.1/never-contacted"], destination, _sha256(b"unused"))
    assert any(name.endswith(".part") for name in seen_mid_download)  # there was a file ...
    assert listing(destination.parent) == []  # ... and it was removed


def test_https_comes_first_and_plain_http_only_as_a_checked_fallback():
    assert DEFAULT_BASE_URLS[0].startswith("https://")
    plain = [url for url in DEFAULT_BASE_URLS if not url.startswith("https://")]
    assert plain == list(DEFAULT_BASE_URLS[len(DEFAULT_BASE_URLS) - len(plain) :])  # last


def test_a_download_larger_than_announced_limit_stops_and_leaves_nothing(
    tmp_path, server, monkeypatch
):
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(small_images()))
    size = (served / NAME).stat().st_size
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", size - 1)
    destination = tmp_path / "cache" / NAME
    expected = rf"too large: the server announces {size:,} bytes, more than MAX_DOWNLOAD_BYTES"
    with pytest.raises(DownloadError, match=expected):
        download([base_url + NAME], destination, sha256)
    assert listing(destination.parent) == []
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", size)  # exactly the limit is fine
    download([base_url + NAME], destination, sha256)
    assert listing(destination.parent) == [NAME]


def test_a_download_without_a_length_stops_at_the_limit_and_leaves_nothing(tmp_path, monkeypatch):
    limit = 3 * (1 << 20)
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", limit)
    destination = tmp_path / "cache" / NAME
    sent = []

    class EndlessResponse(io.RawIOBase):
        """Sends zeros for ever, and no Content-Length."""

        def __init__(self) -> None:
            super().__init__()
            self.headers: dict[str, str] = {}

        def read(self, size: int | None = -1) -> bytes:
            sent.append(size)
            return b"\0" * size

        def __exit__(self, *args: object) -> None:
            pass

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: EndlessResponse())
    with pytest.raises(DownloadError, match=r"too large: [\d,]+ bytes received so far"):
        download(["https://127.0.0.1/never-contacted"], destination, _sha256(b"unused"))
    assert len(sent) == 4  # stopped at the first chunk past the limit
    assert listing(destination.parent) == []


def test_a_malformed_content_length_is_ignored_and_the_file_still_checked(tmp_path, monkeypatch):
    payload = gzip.compress(idx_bytes(SMALL_LABELS))

    class Response(io.BytesIO):
        def __init__(self) -> None:
            super().__init__(payload)
            self.headers = {"Content-Length": "lots"}

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response())
    destination = tmp_path / NAME
    download(["https://127.0.0.1/never-contacted"], destination, _sha256(idx_bytes(SMALL_LABELS)))
    np.testing.assert_array_equal(read_idx(destination), SMALL_LABELS)


def _gzip_bomb(num_bytes: int) -> bytes:
    """Gzip data of ``num_bytes`` zeros after an IDX header, compressed chunk by chunk: about
    a thousandth of its size."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: with a gzip header
    header = idx_bytes(np.zeros((0, 28, 28), np.uint8))
    parts = [compressor.compress(header)]
    chunk = b"\0" * (1 << 20)
    parts += [compressor.compress(chunk) for _ in range(num_bytes // len(chunk))]
    return b"".join([*parts, compressor.flush()])


def test_read_idx_stops_a_gzip_bomb_at_the_limit_without_inflating_it(tmp_path, monkeypatch):
    path = tmp_path / "bomb.gz"
    path.write_bytes(_gzip_bomb(64 << 20))
    assert path.stat().st_size < 100_000  # 64 MiB of zeros
    assert len(gzip.decompress(path.read_bytes())) > 64 << 20  # an independent check
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 2 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptFileError, match=r"bomb.gz: decompresses to more than"):
            read_idx(path, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # not 64 MiB: it was inflated chunk by chunk and stopped


def test_a_downloaded_gzip_bomb_is_refused_and_leaves_nothing(tmp_path, server, monkeypatch):
    base_url, served = server
    (served / NAME).write_bytes(_gzip_bomb(8 << 20))
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1 << 20)
    destination = tmp_path / "cache" / NAME
    with pytest.raises(DownloadError, match=r"decompresses to more than MAX_IDX_BYTES"):
        download([base_url + NAME], destination, _sha256(b"unused"))
    assert listing(destination.parent) == []


def test_the_limits_sit_a_little_above_the_largest_real_file():
    largest_idx = 16 + 60_000 * 28 * 28  # the train images: a 16-byte header, then the pixels
    assert largest_idx < data.MAX_IDX_BYTES < 1.1 * largest_idx
    largest_gzip = 26_421_880  # the official train-images-idx3-ubyte.gz
    assert largest_gzip < data.MAX_DOWNLOAD_BYTES < 1.2 * largest_gzip


def test_a_download_deletes_old_temporary_files_and_keeps_fresh_ones(tmp_path, server):
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(SMALL_LABELS))
    folder = tmp_path / "cache"
    folder.mkdir()
    killed = folder / f".{NAME}.k1ll3d.part"  # what a SIGKILL mid-download leaves
    live = folder / f".{NAME}.l1v3.part"  # another process, downloading right now
    for path, age in ((killed, 3600), (live, 60)):
        path.write_bytes(b"half a file")
        os.utime(path, (time.time() - age, time.time() - age))
    download([base_url + NAME], folder / NAME, sha256)
    assert listing(folder) == sorted([live.name, NAME])


def test_a_downloaded_file_is_readable_by_everyone_whatever_the_umask(tmp_path, server):
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(SMALL_LABELS))
    previous = os.umask(0o077)
    try:
        download([base_url + NAME], tmp_path / NAME, sha256)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / NAME).stat().st_mode) == 0o644


# --- find_or_download --------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An empty system folder and an empty cache; returns (system folder, cache folder)."""
    system_dir = tmp_path / "system"
    system_dir.mkdir()
    monkeypatch.setattr(data, "SYSTEM_DIR", system_dir)
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path / "cache-root"))
    return system_dir, tmp_path / "cache-root" / "fashion-mnist"


def test_find_or_download_offline_says_how_to_get_the_data(folders, refused_url):
    system_dir, cache_dir = folders
    with pytest.raises(DownloadError, match="sudo apt-get install dataset-fashion-mnist") as caught:
        find_or_download(NAME, _sha256(b"anything"))
    message = str(caught.value)
    assert NAME in message and "refused" in message
    https = "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"
    assert f"by hand from {https} into {cache_dir}" in message  # not the http mirror
    assert data.BASE_URLS == (refused_url,)  # the URL tried, here an http one, is not named
    assert "VAE_UTILS_CACHE" in message
    assert listing(cache_dir) == [] and listing(system_dir) == []


def test_find_or_download_looks_in_the_system_folder_first(folders):
    system_dir, cache_dir = folders
    system_sha256 = write_gz(system_dir / NAME, idx_bytes(small_images(seed=0)))
    write_gz(cache_dir / NAME, idx_bytes(small_images(seed=1)))  # would fail the checksum
    np.testing.assert_array_equal(find_or_download(NAME, system_sha256), small_images(seed=0))


def test_find_or_download_looks_in_the_cache_second(folders):
    _, cache_dir = folders
    cache_sha256 = write_gz(cache_dir / NAME, idx_bytes(small_images(seed=1)))
    np.testing.assert_array_equal(find_or_download(NAME, cache_sha256), small_images(seed=1))


def test_find_or_download_downloads_into_the_cache_last(folders, server, refused_url, monkeypatch):
    system_dir, cache_dir = folders
    base_url, served = server
    sha256 = write_gz(served / NAME, idx_bytes(SMALL_LABELS))
    monkeypatch.setattr(data, "BASE_URLS", (refused_url, base_url))
    np.testing.assert_array_equal(find_or_download(NAME, sha256), SMALL_LABELS)
    assert listing(cache_dir) == [NAME] and listing(system_dir) == []


def test_a_damaged_system_copy_is_an_error_and_is_never_deleted(folders):
    system_dir, cache_dir = folders
    good_sha256 = write_gz(cache_dir / NAME, idx_bytes(SMALL_LABELS))
    write_gz(system_dir / NAME, idx_bytes(SMALL_LABELS[::-1]))
    before = (system_dir / NAME).read_bytes()
    expected = rf"{re.escape(str(system_dir / NAME))}: checksum mismatch.*reinstall"
    with pytest.raises(CorruptFileError, match=expected):
        find_or_download(NAME, good_sha256)
    assert (system_dir / NAME).read_bytes() == before


def test_a_damaged_cache_copy_is_an_error_that_says_delete_it(folders):
    _, cache_dir = folders
    raw = idx_bytes(small_images())
    cache_dir.mkdir(parents=True)
    (cache_dir / NAME).write_bytes(gzip.compress(raw)[:-100])
    path = re.escape(str(cache_dir / NAME))
    with pytest.raises(
        CorruptFileError, match=rf"{path}: truncated gzip.*delete it \(rm '{path}'\)"
    ):
        find_or_download(NAME, _sha256(raw))


# --- load_fashion_mnist on small files ---------------------------------------------------------


def _table(images: np.ndarray, labels: np.ndarray, folder: Path, split: str) -> dict:
    images_sha256 = write_gz(folder / f"{split}-images.gz", idx_bytes(images))
    labels_sha256 = write_gz(folder / f"{split}-labels.gz", idx_bytes(labels))
    return {
        "images": (f"{split}-images.gz", images_sha256),
        "labels": (f"{split}-labels.gz", labels_sha256),
    }


@pytest.fixture
def small_splits(folders, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """FILES points to 3 small train examples and a test split whose files do not fit together."""
    system_dir, _ = folders
    monkeypatch.setattr(
        data,
        "FILES",
        {
            "train": _table(small_images(), SMALL_LABELS, system_dir, "train"),
            "test": _table(small_images(), SMALL_LABELS[:2], system_dir, "test"),
        },
    )
    data._load_split.cache_clear()  # forget the real files (and, afterwards, these)
    yield
    data._load_split.cache_clear()


def test_load_fashion_mnist_scales_pixels_and_flattens_images(small_splits):
    x, labels = load_fashion_mnist("train")
    assert x.dtype == torch.float32 and x.shape == (3, 784)
    assert labels.dtype == torch.int64 and labels.tolist() == [9, 0, 3]
    # every byte value, divided exactly (float64) and then rounded to float32
    assert set(np.unique(small_images())) == set(range(256))
    expected = torch.from_numpy((small_images().reshape(3, 784) / 255).astype(np.float32))
    assert torch.equal(x, expected)
    assert x.min() == 0.0 and x.max() == 1.0
    x_two, labels_two = load_fashion_mnist("train", limit=2)
    assert torch.equal(x_two, expected[:2]) and labels_two.tolist() == [9, 0]


def test_load_fashion_mnist_parses_once_and_returns_new_tensors(small_splits, monkeypatch):
    calls = []
    original = data.find_or_download
    monkeypatch.setattr(
        data, "find_or_download", lambda *args: calls.append(args) or original(*args)
    )
    x, labels = load_fashion_mnist("train")
    x.fill_(-1.0)
    labels.fill_(-1)
    x_again, labels_again = load_fashion_mnist("train")
    assert len(calls) == 2  # the images file and the labels file, once each
    assert x_again.min() == 0.0 and labels_again.tolist() == [9, 0, 3]


def test_load_fashion_mnist_rejects_files_that_do_not_fit_together(small_splits):
    with pytest.raises(CorruptFileError, match=r"wrong shape.*\(3, 28, 28\).*\(2,\)"):
        load_fashion_mnist("test")


@pytest.mark.parametrize("split", ["validation", "Train", None, ["train"]])
def test_load_fashion_mnist_rejects_an_unknown_split(small_splits, split):
    with pytest.raises(ValueError, match=r"split must be 'train' or 'test', got .*; use split="):
        load_fashion_mnist(split)


@pytest.mark.parametrize("limit", [0, -3, True, 2.5, "2"])
def test_load_fashion_mnist_rejects_a_limit_that_is_not_a_positive_int(small_splits, limit):
    with pytest.raises(ValueError, match=rf"limit must be a positive int or None, got {limit!r}"):
        load_fashion_mnist("train", limit=limit)


def test_load_fashion_mnist_rejects_a_limit_above_the_number_of_examples(small_splits):
    load_fashion_mnist("train", limit=3)
    with pytest.raises(ValueError, match="limit must be at most 3 for split='train', got 4"):
        load_fashion_mnist("train", limit=4)


# --- the real files (Debian's dataset-fashion-mnist, or a copy in the cache) --------------------


def _real_path(name: str) -> Path | None:
    for folder in (data.SYSTEM_DIR, cache_root() / data.CACHE_SUBDIR):
        if (folder / name).exists():
            return folder / name
    return None


REAL_NAMES = [name for split in data.FILES.values() for name, _ in split.values()]
needs_real_data = pytest.mark.skipif(
    not all(_real_path(name) for name in REAL_NAMES),
    reason="Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist)",
)


@needs_real_data
def test_real_files_have_the_checksums_in_the_table():
    for entry in data.FILES.values():
        for name, sha256 in entry.values():
            assert _sha256(gzip.decompress(_real_path(name).read_bytes())) == sha256, name


@needs_real_data
@pytest.mark.parametrize(("split", "n"), [("train", 60_000), ("test", 10_000)])
def test_real_splits_have_the_documented_shapes_and_balanced_classes(split, n):
    x, labels = load_fashion_mnist(split)
    assert x.shape == (n, 784) and x.dtype == torch.float32
    assert labels.shape == (n,) and labels.dtype == torch.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert torch.bincount(labels).tolist() == [n // 10] * 10
    # the first image and labels, parsed here by hand: a 16-byte header, then row after row
    images_name, labels_name = (data.FILES[split][kind][0] for kind in ("images", "labels"))
    first_image = np.frombuffer(
        gzip.decompress(_real_path(images_name).read_bytes())[16:800], np.uint8
    )
    np.testing.assert_allclose(x[0].numpy(), first_image / 255, rtol=1e-6)
    first_labels = list(gzip.decompress(_real_path(labels_name).read_bytes())[8:28])
    assert labels[:20].tolist() == first_labels


@needs_real_data
def test_real_limit_keeps_the_first_examples_in_file_order():
    x, labels = load_fashion_mnist("test")
    x_five, labels_five = load_fashion_mnist("test", limit=5)
    assert torch.equal(x_five, x[:5]) and torch.equal(labels_five, labels[:5])
    assert [data.CLASS_NAMES[label] for label in labels_five] == [
        "Ankle boot",
        "Pullover",
        "Trouser",
        "Trouser",
        "Shirt",
    ]
    assert len(load_fashion_mnist("test", limit=10_000)[1]) == 10_000
    with pytest.raises(ValueError, match="limit must be at most 10000 for split='test'"):
        load_fashion_mnist("test", limit=10_001)
