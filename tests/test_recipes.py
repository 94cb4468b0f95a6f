"""Shared trained models: trained once per data and arguments, then loaded."""

from functools import partial

import pytest
import torch

import vae_utils.recipes as recipes
from vae_utils.recipes import data_fingerprint, train_autoencoder, train_vae
from vae_utils.train import TrainConfig

TWO_EPOCHS = TrainConfig(num_epochs=2)


def _data():
    return torch.rand(64, 12, generator=torch.Generator().manual_seed(0))


def test_fingerprint_changes_with_the_data():
    x = _data()
    assert data_fingerprint(x) == data_fingerprint(x.clone())
    y = x.clone()
    y[3, 4] += 0.01
    assert data_fingerprint(x) != data_fingerprint(y)


def test_fingerprint_is_remembered_until_the_tensor_changes_in_place(monkeypatch):
    x = _data()
    before = data_fingerprint(x)
    hashed = []
    real_sha256 = recipes.hashlib.sha256
    monkeypatch.setattr(recipes.hashlib, "sha256", lambda *a: hashed.append(1) or real_sha256(*a))
    assert data_fingerprint(x) == before and not hashed  # remembered: not hashed again
    x[3, 4] += 0.01  # in place: PyTorch's version counter moves on
    after = data_fingerprint(x)
    assert hashed and after != before and after == data_fingerprint(x.clone())


@pytest.mark.parametrize("train", [train_autoencoder, lambda x, **kw: train_vae(x, 2.0, **kw)])
def test_second_call_loads_instead_of_training(train, tmp_path, monkeypatch):
    x = _data()
    first, history = train(x, hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path)
    assert len(history) == 2

    def no_training(*args, **kwargs):
        raise AssertionError("fit was called although the weights were cached")

    monkeypatch.setattr(recipes, "fit", no_training)
    second, cached_history = train(x, hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path)
    assert cached_history == history
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(AssertionError, match="fit was called"):
        train(
            x, hidden_dims=(8,), config=TrainConfig(num_epochs=3), directory=tmp_path
        )  # another key trains


def test_sweep_trains_one_model_per_c_in_order_then_loads_them(tmp_path, monkeypatch):
    x = _data()
    models = recipes.train_vae_sweep(
        x, [0.1, 10.0], hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path, progress=False
    )
    assert len(models) == 2 and len(list(tmp_path.iterdir())) == 2
    single, _ = train_vae(x, 10.0, hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path)
    for a, b in zip(models[1].state_dict().values(), single.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the sweep's model is train_vae's cache entry

    def no_training(*args, **kwargs):
        pytest.fail("a model was trained although it was cached")

    monkeypatch.setattr(recipes, "fit", no_training)
    monkeypatch.setattr(recipes, "fit_together", no_training)
    again = recipes.train_vae_sweep(
        x, [10.0, 0.1], hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path, progress=False
    )
    assert torch.equal(again[0].decode(torch.zeros(1, 2)), models[1].decode(torch.zeros(1, 2)))


def test_sweep_models_are_the_ones_train_vae_trains_alone(tmp_path):
    x, config = _data(), TrainConfig(num_epochs=2, batch_size=8)
    alone = [
        train_vae(x, C, hidden_dims=(8,), config=config, directory=tmp_path / "alone")[0]
        for C in (0.1, 10.0)
    ]
    swept = recipes.train_vae_sweep(
        x, [0.1, 10.0], hidden_dims=(8,), config=config, directory=tmp_path, progress=False
    )
    for a, b in zip(alone, swept, strict=True):
        for name, weight in a.state_dict().items():
            torch.testing.assert_close(b.state_dict()[name], weight, rtol=1e-4, atol=1e-5)
    # the two models differ by far more than that: one C used for both would fail
    gaps = [
        (a - b).abs().max().item()
        for a, b in zip(swept[0].parameters(), swept[1].parameters(), strict=True)
    ]
    assert max(gaps) > 1e-3


def test_sweep_trains_only_what_is_missing(tmp_path, monkeypatch):
    x = _data()
    train_vae(x, 10.0, hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path)
    trained = []
    fit_together = recipes.fit_together

    def spy(models, *args, **kwargs):
        trained.append(kwargs["loss_kwargs"]["C"])
        return fit_together(models, *args, **kwargs)

    monkeypatch.setattr(recipes, "fit_together", spy)
    recipes.train_vae_sweep(
        x, [0.1, 10.0, 1.0], hidden_dims=(8,), config=TWO_EPOCHS, directory=tmp_path
    )
    assert trained == [[0.1, 1.0]]


@pytest.mark.parametrize("C_values", [[], [1.0, 0.0], [-1.0]])
def test_sweep_rejects_bad_weights(C_values, tmp_path):
    with pytest.raises(ValueError, match="C_values must be a non-empty list of positive"):
        recipes.train_vae_sweep(_data(), C_values, directory=tmp_path)


@pytest.mark.parametrize("C", [0.0, -1.0, float("nan"), float("inf"), "1", True])
def test_recipes_reject_a_bad_loss_weight_before_training(C, tmp_path):
    with pytest.raises(ValueError, match="C must be a positive number"):
        train_vae(_data(), C, directory=tmp_path)
    assert not list(tmp_path.iterdir())


def test_conv_recipe_builds_and_caches_the_channels_it_is_given(tmp_path):
    x = torch.rand(16, 784, generator=torch.Generator().manual_seed(0))
    config = TrainConfig(num_epochs=1, batch_size=16)
    for channels in [(2, 4), (3, 4)]:
        model, _ = recipes.train_conv_vae(
            x, 1.0, latent_dim=2, channels=channels, config=config, directory=tmp_path
        )
        assert model.encoder[1].out_channels == channels[0]
        assert model.encoder[3].out_channels == channels[1]
    assert len(list(tmp_path.iterdir())) == 2  # one cache entry per pair of widths


def test_remedy_recipe_caches_its_per_step_curves_with_the_weights(tmp_path, monkeypatch):
    x = _data()
    config = TrainConfig(num_epochs=2, batch_size=16)  # 4 steps an epoch
    train = partial(
        recipes.train_vae_with_remedy,
        x,
        2.0,
        hidden_dims=(8,),
        latent_dim=2,
        config=config,
        directory=tmp_path,
    )
    model, curves = train(warmup_steps=3, free_bits=0.1)
    assert len(curves["loss"]) == 2
    assert curves["kl_weight"] == pytest.approx([1 / 3, 2 / 3, 1, 1, 1, 1, 1, 1])
    assert len(curves["rate"]) == len(curves["distortion"]) == 8
    monkeypatch.setattr(recipes, "fit", lambda *a, **k: pytest.fail("trained again"))
    again, cached = train(warmup_steps=3, free_bits=0.1)
    assert cached == curves
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(pytest.fail.Exception, match="trained again"):  # another remedy trains
        train(warmup_steps=3)


def test_a_loss_weight_computed_from_data_keeps_its_key_across_last_bit_rounding():
    # chapter 5's C = 1 / (2 c*): c* came out as 0.04636339377381921 at one torch thread and
    # 0.046363393773819206 at two, on the same data
    x = torch.rand(8, 6)
    model = recipes.VAE(6, (4,), 2)

    def key(C: float) -> dict:
        return recipes.run_key(model, x, recipes.vae_objective, {"C": C}, TrainConfig())

    one_thread, two_threads = 1 / (2 * 0.04636339377381921), 1 / (2 * 0.046363393773819206)
    assert one_thread != two_threads
    assert key(one_thread) == key(two_threads)
    assert key(one_thread)["C"] == 10.7843701529
    assert key(10.78437015) != key(10.78437016)  # a different weight is a different run
    assert key(10)["C"] == 10 and isinstance(key(10)["C"], int)  # ints as they are
