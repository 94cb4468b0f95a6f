"""Weights round-trip without pickle, and load_or_train trains once per key."""

import pytest
import torch
from safetensors import safe_open

from vae_utils import VAE, Autoencoder, cache_root, load_or_train, load_weights, save_weights


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
