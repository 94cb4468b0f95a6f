"""Weights round-trip without pickle, and load_or_train trains once per key."""

import ast
import hashlib
import json
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load, load_file, save_file

import vae_utils
from vae_utils import VAE, Autoencoder, ConvVAE, vae_objective
from vae_utils import cache as cache_module
from vae_utils.cache import (
    DIGEST_ENTRY,
    CacheWarning,
    DamagedWeightsError,
    cache_root,
    cached_weights_path,
    code_fingerprint,
    load_or_train,
    load_shipped,
    load_weights,
    remove_stale_temporaries,
    save_trained,
    save_weights,
    shipped_checksums,
    weights_digest,
)


def test_cache_root_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    monkeypatch.delenv("VAE_UTILS_CACHE")
    assert cache_root().parts[-2:] == (".cache", "vae_utils")


def test_cache_root_expands_a_leading_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VAE_UTILS_CACHE", "~/vae")
    assert cache_root() == tmp_path / "home" / "vae"  # not a folder named "~"
    assert "~" not in cache_root().parts


def test_weights_round_trip_through_a_safetensors_file(tmp_path):
    torch.manual_seed(0)
    model = VAE(10, (6,), 2)
    path = tmp_path / "model.safetensors"
    save_weights(model, path, {"c": 1.5})
    with safe_open(str(path), framework="pt") as handle:  # a real safetensors file
        assert set(handle.keys()) == set(model.state_dict())
    torch.manual_seed(1)
    other = VAE(10, (6,), 2)
    assert load_weights(other, path) == {"c": 1.5}
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary left


def test_weights_stored_in_half_precision_load_back_rounded_into_float32(tmp_path):
    torch.manual_seed(0)
    model = VAE(10, (6,), 2)
    path = tmp_path / "model.safetensors"
    save_weights(model, path, {}, dtype=torch.float16)
    with safe_open(str(path), framework="pt") as handle:
        assert {handle.get_tensor(name).dtype for name in handle.keys()} == {torch.float16}
    other = VAE(10, (6,), 2)
    load_weights(other, path)
    for name, t in model.state_dict().items():
        loaded = other.state_dict()[name]
        assert loaded.dtype == torch.float32
        assert torch.equal(loaded, t.half().float())  # each weight rounded, nothing else
        assert not torch.equal(loaded, t)  # float16 keeps 11 significant bits, not 24


def test_load_weights_refuses_a_model_of_another_shape(tmp_path):
    save_weights(VAE(10, (6,), 2), tmp_path / "m.safetensors", {})
    with pytest.raises(ValueError, match="do not fit this VAE"):
        load_weights(VAE(10, (6,), 3), tmp_path / "m.safetensors")


def test_load_or_train_trains_once_per_key(tmp_path):
    calls = []

    def train(model):
        calls.append(1)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(0.25)
        return [3.0, 2.0]

    key = {"num_epochs": 2, "seed": 0}
    first = Autoencoder(6, (4,), 2)
    assert load_or_train(first, train, key, directory=tmp_path) == [3.0, 2.0]
    second = Autoencoder(6, (4,), 2)
    assert load_or_train(second, train, key, directory=tmp_path) == [3.0, 2.0]
    assert len(calls) == 1
    assert all(torch.all(p == 0.25) for p in second.parameters())
    load_or_train(Autoencoder(6, (4,), 2), train, {**key, "seed": 1}, directory=tmp_path)
    assert len(calls) == 2
    assert len(list(tmp_path.iterdir())) == 2


def test_load_or_train_rejects_a_key_that_is_not_json(tmp_path):
    with pytest.raises(ValueError, match="key must hold only JSON values"):
        load_or_train(Autoencoder(6, (4,), 2), lambda m: [], {"x": torch.zeros(1)}, tmp_path)


def _fingerprint_of_a_copy(package_parent) -> str:
    script = (
        "import functools, vae_utils as vu; "
        "print(vu.cache.code_fingerprint("
        "vu.VAE(4, (3,), 2), functools.partial(vu.vae_objective, C=1.0)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(package_parent)},
        cwd=package_parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_cache_key_changes_with_the_code_that_trains(tmp_path):
    shutil.copytree(Path(vae_utils.__file__).parent, tmp_path / "vae_utils")
    losses = tmp_path / "vae_utils" / "losses.py"
    before = _fingerprint_of_a_copy(tmp_path)
    assert before == code_fingerprint(VAE(4, (3,), 2), partial(vae_objective, C=1.0))

    # another weight on the KL term: the same names, different training
    source = losses.read_text()
    assert "0.5 * (mu.pow(2)" in source
    losses.write_text(source.replace("0.5 * (mu.pow(2)", "0.25 * (mu.pow(2)"))
    assert _fingerprint_of_a_copy(tmp_path) != before

    # code that does not train (the plots) leaves the key alone
    losses.write_text(source)
    plots = tmp_path / "vae_utils" / "plots.py"
    plots.write_text(plots.read_text() + "\n# a comment\n")
    assert _fingerprint_of_a_copy(tmp_path) == before


def test_the_fingerprint_covers_the_model_the_loss_and_the_training_loop():
    vae = code_fingerprint(VAE(4, (3,), 2), partial(vae_objective, C=1.0))
    assert (
        code_fingerprint(VAE(4, (3,), 2), partial(vae_objective, C=5.0)) == vae
    )  # args: in the key
    assert code_fingerprint(ConvVAE(2), partial(vae_objective, C=1.0)) != vae  # conv.py joins
    assert len(vae) == 16 and int(vae, 16) >= 0


def test_floats_as_converts_floating_point_tensors_and_keeps_integer_buffers():
    tensors = {"weight": torch.randn(3, 2), "count": torch.tensor(7, dtype=torch.int64)}
    converted = vae_utils.cache.floats_as(tensors, torch.float16)
    assert converted["weight"].dtype == torch.float16
    assert torch.equal(converted["weight"], tensors["weight"].half())
    assert converted["count"].dtype == torch.int64 and converted["count"].item() == 7


def test_the_fingerprint_ignores_line_endings_docstrings_and_comments(tmp_path):
    package = tmp_path / "vae_utils"
    shutil.copytree(
        Path(vae_utils.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    before = code_fingerprint(VAE(4, (3,), 2), partial(vae_objective, C=1.0))
    losses = package / "losses.py"
    source = losses.read_text()
    tree = ast.parse(source)
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef))
    docstring = ast.get_docstring(function, clean=False)
    assert docstring and ast.get_docstring(tree, clean=False)
    source = source.replace('"""', '"""An edited module docstring. ', 1)
    source = source.replace(docstring, "An edited function docstring.", 1)
    losses.write_text(source + "\n# a comment\n\n\n")
    for path in package.glob("*.py"):  # a Windows checkout without .gitattributes: CRLF
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert b"\r\n" in losses.read_bytes() and "An edited function" in losses.read_text()
    assert _fingerprint_of_a_copy(tmp_path) == before


MODULE = '''"""A module docstring."""

import math


class Scale:
    """A class docstring."""

    def __call__(self, x):
        """A method docstring."""
        return 2.0 * x  # a comment


async def wait():
    """An async docstring."""
    return "not a docstring"
'''


@pytest.mark.parametrize(
    ("variant", "same"),
    [
        (MODULE.replace("\n", "\r\n"), True),
        (MODULE.replace("A class docstring.", "Another\n    docstring, on two lines."), True),
        (MODULE.replace('"""A method docstring."""', "# a comment instead"), True),
        (MODULE.replace('"""A module docstring."""', ""), True),
        (MODULE.replace("An async", "A changed async"), True),
        (MODULE.replace("2.0 * x", "(2.0*x)") + "\n\n# more comments\n", True),
        (MODULE.replace("2.0 * x", "3.0 * x"), False),
        (MODULE.replace('"not a docstring"', '"changed"'), False),
        (MODULE.replace("import math", "import cmath"), False),
        (MODULE.replace("async def wait", "async def sleep"), False),
    ],
    ids=[
        "crlf",
        "class-docstring",
        "method-docstring-to-comment",
        "no-module-docstring",
        "async-docstring",
        "layout-and-comments",
        "a-constant",
        "a-string-that-is-no-docstring",
        "an-import",
        "a-name",
    ],
)
def test_the_code_digest_reads_the_code_not_its_bytes(tmp_path, variant, same):
    def digest(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_bytes(text.encode())  # as given: "\r\n" stays "\r\n"
        return cache_module._code_digest(str(path), 0, len(text))

    assert (digest("original.py", MODULE) == digest("variant.py", variant)) is same


def test_the_code_dump_leaves_out_what_changes_between_python_versions():
    # ast.dump would show type_params=[] on 3.12+, and leaves out empty fields on 3.13+
    tree = ast.parse("def f(x):\n    return x  # the identity\n")
    assert cache_module._dump(tree) == (
        "Module(body=[FunctionDef(name='f', args=arguments(args=[arg(arg='x')]), "
        "body=[Return(value=Name(id='x', ctx=Load()))])])"
    )


# --- damaged cache entries --------------------------------------------------------------------

KEY = {"num_epochs": 2, "seed": 0}


def _train_to(value: float, calls: list[float]):
    """A stand-in for training: every parameter becomes ``value``; the history is [3.0, 2.0]."""

    def train(model):
        calls.append(value)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(value)
        return [3.0, 2.0]

    return train


def _cached_entry(directory: Path, calls: list[float]) -> Path:
    """Train (to 0.25) and cache an Autoencoder(6, (4,), 2) under KEY; return its file."""
    load_or_train(Autoencoder(6, (4,), 2), _train_to(0.25, calls), KEY, directory=directory)
    path, _ = cached_weights_path(Autoencoder(6, (4,), 2), KEY, directory)
    assert path.exists()
    return path


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x40  # the high byte of the last float32: 0.25 (3e800000) becomes 8.5e37
    path.write_bytes(bytes(data))


def _cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bad_header(path: Path) -> None:
    path.write_bytes(b"\xff" * 8 + path.read_bytes()[8:])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _no_history(path: Path) -> None:
    model = Autoencoder(6, (4,), 2)
    save_weights(model, path, {"key": cached_weights_path(model, KEY)[1]})  # a valid SHA-256


def _no_digest(path: Path) -> None:
    """As a vae_utils older than the SHA-256 wrote it: the same weights and metadata, no digest."""
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    save_file(load_file(str(path)), str(path), metadata={"json": metadata["json"]})


DAMAGES = [
    pytest.param(_flip_a_bit, "damaged: .*SHA-256 stored with them", id="a-flipped-bit"),
    pytest.param(_cut_short, "not a readable safetensors file", id="cut-short"),
    pytest.param(_bad_header, "not a readable safetensors file", id="a-bad-header"),
    pytest.param(_empty, "not a readable safetensors file", id="empty"),
    pytest.param(_a_folder, "unreadable: Is a directory", id="a-folder-in-its-place"),
    pytest.param(_no_history, "holds no loss history", id="no-history"),
    pytest.param(_no_digest, "holds no SHA-256 of its weights", id="no-digest"),
]


@pytest.mark.parametrize(("damage", "reason"), DAMAGES)
def test_a_damaged_cache_entry_is_reported_in_one_line_and_trained_again(tmp_path, damage, reason):
    calls: list[float] = []
    path = _cached_entry(tmp_path, calls)
    damage(path)
    model = Autoencoder(6, (4,), 2)
    with pytest.warns(CacheWarning) as caught:
        history = load_or_train(model, _train_to(0.5, calls), KEY, directory=tmp_path)
    first = str(caught[0].message)
    expected = (
        rf"^ignoring the cached weights {re.escape(str(path))} \(.*{reason}.*\); training again$"
    )
    assert re.search(expected, first), first
    assert "\n" not in first
    assert history == [3.0, 2.0] and calls == [0.25, 0.5]  # trained again ...
    assert all(torch.all(p == 0.5) for p in model.parameters())  # ... never loaded
    if damage is _a_folder:  # nothing can replace a folder: the save warns too
        assert re.search(r"could not cache the trained weights", str(caught[-1].message))
        return
    again = Autoencoder(6, (4,), 2)
    assert load_or_train(again, _train_to(0.75, calls), KEY, directory=tmp_path) == [3.0, 2.0]
    assert calls == [0.25, 0.5]  # the new entry replaced the damaged one
    assert all(torch.all(p == 0.5) for p in again.parameters())


def test_a_flipped_bit_loads_in_safetensors_but_not_through_load_weights(tmp_path):
    path = _cached_entry(tmp_path, [])
    _flip_a_bit(path)
    tensors = load_file(str(path))  # safetensors alone serves the damaged weight
    assert any(bool(torch.any(t > 1e37)) for t in tensors.values())
    model = Autoencoder(6, (4,), 2)
    before = [t.clone() for t in model.state_dict().values()]
    with pytest.raises(DamagedWeightsError, match=rf"{re.escape(str(path))}: damaged: .*SHA-256"):
        load_weights(model, path)
    assert all(torch.equal(a, b) for a, b in zip(before, model.state_dict().values(), strict=True))


@pytest.mark.parametrize("damage", [_cut_short, _bad_header])
def test_an_unreadable_file_is_a_damaged_weights_error_not_a_library_error(tmp_path, damage):
    path = _cached_entry(tmp_path, [])
    damage(path)
    message = rf"{re.escape(str(path))}: not a readable safetensors file.*delete it"
    with pytest.raises(DamagedWeightsError, match=message):
        load_weights(Autoencoder(6, (4,), 2), path)
    with pytest.raises(DamagedWeightsError, match=message):
        vae_utils.cache.read_metadata(path)


def test_the_stored_digest_covers_every_weight_and_the_metadata(tmp_path):
    torch.manual_seed(0)
    model = VAE(10, (6,), 2)
    path = tmp_path / "m.safetensors"
    save_weights(model, path, {"history": [1.0, 0.5]})
    with safe_open(str(path), framework="pt") as handle:
        header = handle.metadata()
    tensors = load_file(str(path))
    assert header[DIGEST_ENTRY] == weights_digest(tensors, header["json"])
    assert json.loads(header["json"]) == {"history": [1.0, 0.5]}
    assert len(header[DIGEST_ENTRY]) == 64 and int(header[DIGEST_ENTRY], 16) >= 0
    # one ulp of one weight, or one number of the history, changes it; the order of names does not
    nudged = dict(tensors)
    name = next(iter(nudged))
    nudged[name] = nudged[name].clone()
    nudged[name].view(-1)[0] = torch.nextafter(nudged[name].view(-1)[0], torch.tensor(1.0))
    assert weights_digest(nudged, header["json"]) != header[DIGEST_ENTRY]
    assert weights_digest(tensors, header["json"].replace("0.5", "0.6")) != header[DIGEST_ENTRY]
    reordered = dict(reversed(list(tensors.items())))
    assert weights_digest(reordered, header["json"]) == header[DIGEST_ENTRY]


def test_load_weights_still_loads_a_file_without_a_digest(tmp_path):
    # files written by other programs (or before the digest) are loaded as before: the shipped
    # files are checked against SHA256SUMS instead
    torch.manual_seed(0)
    model = VAE(10, (6,), 2)
    path = tmp_path / "plain.safetensors"
    save_file(dict(model.state_dict()), str(path), metadata={"json": '{"c": 2.0}'})
    other = VAE(10, (6,), 2)
    assert load_weights(other, path) == {"c": 2.0}
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)


# --- nothing non-finite is cached --------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_are_never_saved(tmp_path, bad):
    model = VAE(10, (6,), 2)
    with torch.no_grad():
        model.encoder[0].weight[1, 2] = bad
    path = tmp_path / "weights" / "m.safetensors"
    with pytest.raises(
        ValueError, match=r"encoder.0.weight holds 1 NaN or infinite values.*learning rate"
    ):
        save_weights(model, path, {})
    assert not path.parent.exists()  # refused before anything was written


def test_weights_beyond_float16_are_refused_in_half_precision(tmp_path):
    model = VAE(10, (6,), 2)
    with torch.no_grad():
        model.encoder[0].weight[0, 0] = 1e5  # float16 ends at 65504
    with pytest.raises(ValueError, match=r"beyond the range of float16.*dtype=None"):
        save_weights(model, tmp_path / "m.safetensors", {}, dtype=torch.float16)
    assert list(tmp_path.iterdir()) == []
    save_weights(model, tmp_path / "m.safetensors", {})  # full precision holds it


def test_load_or_train_refuses_to_cache_a_diverged_run(tmp_path):
    calls: list[float] = []
    with pytest.raises(ValueError, match=r"NaN or infinite values.*lr=1e-3"):
        load_or_train(Autoencoder(6, (4,), 2), _train_to(float("nan"), calls), KEY, tmp_path)

    def nan_history(model):
        return [3.0, float("nan")]

    with pytest.raises(ValueError, match=r"holds a NaN or an infinity.*learning rate"):
        load_or_train(Autoencoder(6, (4,), 2), nan_history, KEY, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- file modes, failed saves, temporary files --------------------------------------------------


def test_cached_files_are_readable_by_everyone_whatever_the_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        save_trained(VAE(10, (6,), 2), KEY, [1.0], tmp_path)
    finally:
        os.umask(previous)
    (path,) = tmp_path.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_save_warns_and_keeps_the_trained_model(tmp_path, monkeypatch):
    def full_disk(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module, "_write_file_atomically", full_disk)
    model = Autoencoder(6, (4,), 2)
    expected = r"could not cache the trained weights in .*No space left on device.*trains again"
    with pytest.warns(CacheWarning, match=expected):
        history = load_or_train(model, _train_to(0.25, []), KEY, directory=tmp_path)
    assert history == [3.0, 2.0]
    assert all(torch.all(p == 0.25) for p in model.parameters())
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_cache_folder_should_be_warns_and_keeps_the_trained_model(tmp_path):
    blocked = tmp_path / "weights"
    blocked.write_text("not a folder")
    model = Autoencoder(6, (4,), 2)
    with pytest.warns(CacheWarning, match=rf"could not cache .*{re.escape(str(blocked))}"):
        load_or_train(model, _train_to(0.25, []), KEY, directory=blocked)
    assert all(torch.all(p == 0.25) for p in model.parameters())


READ_ONLY_SCRIPT = """
import sys, warnings
import torch
from vae_utils import Autoencoder
from vae_utils.cache import load_or_train

model = Autoencoder(6, (4,), 2)


def train(model):
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(0.25)
    return [3.0, 2.0]


with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert load_or_train(model, train, {"seed": 0}, directory=sys.argv[1]) == [3.0, 2.0]
assert all(bool(torch.all(p == 0.25)) for p in model.parameters()), "the model was lost"
print("\\n".join(str(warning.message) for warning in caught))
"""


def test_a_read_only_cache_folder_warns_and_keeps_the_trained_model(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    command = [sys.executable, "-c", READ_ONLY_SCRIPT, str(folder)]
    if os.geteuid() == 0:  # root writes in a folder without write bits: mount it read-only
        if shutil.which("unshare") is None:
            pytest.skip("root, and no unshare to mount a read-only folder")
        mount = 'mount --bind -o ro "$0" "$0" && exec "$@"'
        command = ["unshare", "--mount", "sh", "-c", mount, str(folder), *command]
    folder.chmod(0o555)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        folder.chmod(0o755)
    if os.geteuid() == 0 and "mount" in result.stderr and result.returncode != 0:
        pytest.skip(f"cannot mount a read-only folder here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r"could not cache the trained weights in .* \(\[Errno (30|13)\] "
        r"(Read-only file system|Permission denied): .*\); the model keeps them.*\n",
        result.stdout,
    ), result.stdout
    assert list(folder.iterdir()) == []


def _aged(path: Path, seconds: float) -> Path:
    path.write_bytes(b"half a file")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_a_save_deletes_old_temporary_files_and_keeps_fresh_ones(tmp_path):
    killed = _aged(tmp_path / ".vae-0123456789abcdef.safetensors.k1ll3d.tmp", 3600)
    live = _aged(tmp_path / ".vae-0123456789abcdef.safetensors.l1v3.tmp", 60)
    almost = _aged(tmp_path / ".autoencoder-0123.safetensors.4lm0st.tmp", 14 * 60)
    not_ours = _aged(tmp_path / "notes.tmp", 3600)
    save_weights(VAE(10, (6,), 2), tmp_path / "m.safetensors", {})
    assert not killed.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, almost.name, not_ours.name, "m.safetensors"]
    )


def test_remove_stale_temporaries_goes_by_the_age_of_the_last_write(tmp_path):
    old = _aged(tmp_path / ".a.part", 120)
    young = _aged(tmp_path / ".b.part", 30)
    assert remove_stale_temporaries(tmp_path, [".*.part"], max_age_s=60) == [old]
    assert [p.name for p in tmp_path.iterdir()] == [young.name]
    assert remove_stale_temporaries(tmp_path / "missing", [".*.part"]) == []


# --- the shipped weights' list ---------------------------------------------------------------


def test_shipped_checksums_reads_the_lines_of_sha256sum(tmp_path):
    first, second = "ab" * 32, "CD" * 32
    (tmp_path / "SHA256SUMS").write_text(
        f"{first}  one.safetensors\n\n{second} *two.safetensors\r\n"
    )
    assert shipped_checksums(tmp_path) == {
        "one.safetensors": first,
        "two.safetensors": second.lower(),
    }
    assert shipped_checksums(tmp_path / "missing") == {}


@pytest.mark.parametrize(
    "line",
    ["not a checksum", "ab" * 32, "ab" * 31 + "  short.safetensors", "zz" * 32 + "  x.safetensors"],
    ids=["words", "no-name", "short-digest", "not-hex"],
)
def test_a_malformed_sha256sums_line_is_named(tmp_path, line):
    manifest = tmp_path / "SHA256SUMS"
    manifest.write_text(f"{'ab' * 32}  one.safetensors\n{line}\n")
    expected = rf"{re.escape(str(manifest))}, line 2: {re.escape(repr(line))} is not '<64 hex"
    with pytest.raises(ValueError, match=expected):
        shipped_checksums(tmp_path)


def test_load_shipped_tells_an_unlisted_file_from_a_changed_one(tmp_path):
    directory = tmp_path / "course"
    torch.manual_seed(0)
    model = VAE(10, (6,), 2)
    save_trained(model, KEY, [1.0, 0.5], directory)
    cached, _ = cached_weights_path(model, KEY, directory)
    path = cached.with_name(cached.name + ".xz")  # shipped: the cache's file, xz-compressed
    path.write_bytes(lzma.compress(cached.read_bytes()))
    cached.unlink()
    manifest = directory / "SHA256SUMS"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    manifest.write_text(f"{digest}  {path.name}\n")
    loaded = VAE(10, (6,), 2)
    assert load_shipped(loaded, KEY, directory) == [1.0, 0.5]
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)

    manifest.write_text(f"{'0' * 64}  {path.name}\n")
    with pytest.raises(ValueError, match=r"checksum mismatch: SHA-256 .*corrupted or replaced"):
        load_shipped(VAE(10, (6,), 2), KEY, directory)

    manifest.write_text(f"{digest}  another.safetensors\n")
    with pytest.raises(ValueError, match=r"have no SHA-256 in .*not listed there") as caught:
        load_shipped(VAE(10, (6,), 2), KEY, directory)
    assert path.name in str(caught.value) and "corrupted" not in str(caught.value)


@pytest.mark.parametrize(
    "history", [None, 3.0, ["a"], [True], {"loss": 1.0}, {1: [1.0]}, [[1.0]]], ids=str
)
def test_a_history_that_could_not_be_loaded_back_is_refused_at_save_time(tmp_path, history):
    with pytest.raises(ValueError, match=r"history must be a list of numbers, or a dict of"):
        save_trained(VAE(10, (6,), 2), KEY, history, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("history", [[], [3, 2.5], (1.0, 0.5), {"loss": [1.0], "rate": [0.2]}])
def test_every_kind_of_history_comes_back_from_the_cache(tmp_path, history):
    save_trained(VAE(10, (6,), 2), KEY, history, tmp_path)
    expected = dict(history) if isinstance(history, dict) else list(history)
    assert vae_utils.cache.load_cached(VAE(10, (6,), 2), KEY, tmp_path) == expected


def test_save_shipped_weights_writes_half_precision_compressed_when_asked(tmp_path):
    torch.manual_seed(0)
    model = VAE(20, (8,), 2)
    for name in ("plain.safetensors", "packed.safetensors.xz"):
        cache_module.save_shipped_weights(model, tmp_path / name, {"note": name})
        loaded = VAE(20, (8,), 2)
        assert cache_module.load_weights(loaded, tmp_path / name) == {"note": name}
        for a, b in zip(model.parameters(), loaded.parameters(), strict=True):
            assert torch.equal(a.half().float(), b)  # stored in half precision
    # the .xz file is the plain one's format, compressed: the same tensors once decompressed
    packed = load(lzma.decompress((tmp_path / "packed.safetensors.xz").read_bytes()))
    plain = load_file(tmp_path / "plain.safetensors")
    assert packed.keys() == plain.keys() and all(torch.equal(packed[k], plain[k]) for k in plain)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "packed.safetensors.xz",
        "plain.safetensors",
    ]  # no uncompressed copy left behind
