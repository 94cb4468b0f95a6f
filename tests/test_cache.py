"""Weights round-trip without pickle, and load_or_train trains once per key."""

import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

import vae_utils
from vae_utils import (
    VAE,
    Autoencoder,
    ConvVAE,
    cache_root,
    code_fingerprint,
    load_or_train,
    load_weights,
    save_weights,
    vae_objective,
)


def test_cache_root_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    monkeypatch.delenv("VAE_UTILS_CACHE")
    assert cache_root().parts[-2:] == (".cache", "vae_utils")


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
        "print(vu.code_fingerprint(vu.VAE(4, (3,), 2), functools.partial(vu.vae_objective, C=1.0)))"
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
