"""The training loop: it learns, it is reproducible, it checks its arguments."""

import math
from functools import partial

import pytest
import torch

from vae_utils import (
    VAE,
    Autoencoder,
    TrainConfig,
    fit,
    fit_together,
    generator,
    set_seed,
    vae_objective,
)
from vae_utils.losses import autoencoder_objective
from vae_utils.seeds import shifted_seed


def _data(n: int = 256, dim: int = 8) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    # points near a 2-D plane inside the unit cube, so a 2-D code can describe them
    codes = torch.rand(n, 2, generator=generator)
    basis = torch.rand(2, dim, generator=generator) / 2
    return (codes @ basis + 0.01 * torch.randn(n, dim, generator=generator)).clamp(0, 1)


def _trained_vae(seed: int) -> tuple[VAE, list[float]]:
    set_seed(123)
    model = VAE(8, (16,), 2)
    history = fit(
        model, _data(), partial(vae_objective, C=50.0), TrainConfig(num_epochs=3, seed=seed)
    )
    return model, history


def test_fit_reduces_the_loss():
    set_seed(0)
    model = Autoencoder(8, (16,), 2)
    config = TrainConfig(num_epochs=30, batch_size=32, lr=3e-3)
    history = fit(model, _data(), autoencoder_objective, config)
    assert len(history) == 30
    assert history[-1] < 0.5 * history[0]
    assert not model.training  # handed back in eval mode


def test_same_seed_gives_identical_weights_and_other_seed_does_not():
    first, first_history = _trained_vae(seed=7)
    second, second_history = _trained_vae(seed=7)
    third, _ = _trained_vae(seed=8)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert first_history == second_history
    assert any(
        not torch.equal(a, c)
        for a, c in zip(first.state_dict().values(), third.state_dict().values(), strict=True)
    )


def test_fit_is_minibatch_adam_as_a_plain_loop_writes_it():
    # the same shuffles (the config's generator), the same batches and the same Adam steps: the
    # weights of a hand-written loop over x[indices]
    x, config = _data(), TrainConfig(num_epochs=3, batch_size=48, lr=1e-2, seed=5)
    set_seed(1)
    model = Autoencoder(8, (16,), 2)
    reference = Autoencoder(8, (16,), 2)
    reference.load_state_dict(model.state_dict())
    fit(model, x, autoencoder_objective, config)

    torch.manual_seed(shifted_seed(config.seed))
    shuffle = generator(config.seed)
    optimizer = torch.optim.Adam(reference.parameters(), lr=config.lr)
    for _ in range(config.num_epochs):
        order = torch.randperm(len(x), generator=shuffle)
        for start in range(0, len(x), config.batch_size):
            loss = autoencoder_objective(reference, x[order[start : start + config.batch_size]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_epochs": 0}, "num_epochs must be a positive int"),
        ({"batch_size": -5}, "batch_size must be a positive int"),
        ({"lr": 0.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"num_epochs": True}, "num_epochs must be a positive int"),
    ],
)
def test_train_config_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_fit_takes_its_settings_as_a_train_config():
    with pytest.raises(ValueError, match="config must be a TrainConfig"):
        fit(Autoencoder(8, (4,), 2), _data(), autoencoder_objective, {"num_epochs": 2})
    history = fit(
        Autoencoder(8, (4,), 2), _data(), autoencoder_objective, progress=False
    )  # TrainConfig() by default
    assert len(history) == TrainConfig().num_epochs


def test_fit_rejects_unflattened_images():
    with pytest.raises(ValueError, match=r"x must be a tensor of shape \(n, features\)"):
        fit(Autoencoder(784, (4,), 2), torch.zeros(4, 28, 28), autoencoder_objective)


def _vae(seed: int = 123) -> VAE:
    set_seed(seed)
    return VAE(8, (16,), 2)


def test_fit_together_gives_each_model_what_fit_gives_it_alone():
    config = TrainConfig(num_epochs=2, batch_size=32)
    weights = [0.5, 50.0, 5.0]
    alone = []
    for C in weights:
        model = _vae()
        alone.append((model, fit(model, _data(), partial(vae_objective, C=C), config)))
    models = [_vae() for _ in weights]
    histories = fit_together(models, _data(), vae_objective, config, loss_kwargs={"C": weights})
    for model, history, (single, single_history) in zip(models, histories, alone, strict=True):
        assert not model.training
        assert history == pytest.approx(single_history, rel=1e-5)
        for name, weight in single.state_dict().items():
            torch.testing.assert_close(model.state_dict()[name], weight, rtol=1e-4, atol=1e-6)
    # the three loss weights give three different models
    assert histories[0][-1] != pytest.approx(histories[1][-1], rel=1e-2)


def test_fit_together_trains_models_that_start_apart():
    models = [_vae(1), _vae(2)]
    fit_together(models, _data(), autoencoder_objective_of_vae, TrainConfig(num_epochs=1))
    alone = _vae(2)
    fit(alone, _data(), autoencoder_objective_of_vae, TrainConfig(num_epochs=1))
    torch.testing.assert_close(models[1].decoder[0].weight, alone.decoder[0].weight)


def autoencoder_objective_of_vae(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """A loss without extra arguments: the squared error of the decoded means."""
    mu, _ = model.encode(x)
    return (x - model.decode(mu)).pow(2).sum(dim=1).mean()


@pytest.mark.parametrize(
    ("models", "loss_kwargs", "message"),
    [
        ([], None, "non-empty list of models of one class and one shape"),
        ([VAE(8, (16,), 2), VAE(8, (8,), 2)], None, "one class and one shape"),
        ([VAE(8, (16,), 2), Autoencoder(8, (16,), 2)], None, "one class and one shape"),
        ([VAE(8, (16,), 2)] * 2, {"C": [1.0]}, r"loss_kwargs\['C'\] must hold one value per model"),
        ([VAE(8, (16,), 2)] * 2, {"C": [1.0, -1.0]}, r"loss_kwargs\['C'\] must be a positive"),
        ([VAE(8, (16,), 2)] * 2, {"C": [1.0, "2"]}, r"loss_kwargs\['C'\] must be a positive"),
        (
            [VAE(8, (16,), 2)] * 2,
            {"beta": [0.0, math.nan]},
            r"loss_kwargs\['beta'\] must be a finite",
        ),
    ],
)
def test_fit_together_rejects_models_that_cannot_be_stacked(models, loss_kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_together(models, _data(), vae_objective, loss_kwargs=loss_kwargs)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (
            (_data() * 255).to(torch.uint8),
            r"x must hold floats, got torch.uint8; .* x.float\(\) / 255",
        ),
        (_data().double(), r"x holds torch.float64 but the model's weights are torch.float32"),
        (_data().index_put_((torch.tensor([3]),), torch.tensor(float("nan"))), "NaN or infinite"),
        (_data().index_put_((torch.tensor([0]),), torch.tensor(float("inf"))), "NaN or infinite"),
    ],
)
def test_fit_refuses_data_it_cannot_train_on_before_training(x, message):
    model = Autoencoder(8, (4,), 2)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    with pytest.raises(ValueError, match=message):
        fit(model, x, autoencoder_objective, TrainConfig(num_epochs=1), progress=False)
    assert all(torch.equal(before[name], value) for name, value in model.state_dict().items())


def test_a_loss_that_diverges_stops_fit_with_the_epoch_and_what_to_try():
    model = Autoencoder(8, (4,), 2)
    calls = []

    def loss_that_overflows_in_the_second_epoch(model, batch):
        calls.append(1)
        loss = autoencoder_objective(model, batch)
        return loss * float("inf") if len(calls) > 4 else loss

    config = TrainConfig(num_epochs=5, batch_size=64, lr=1e-3)  # 4 batches per epoch
    with pytest.raises(FloatingPointError, match=r"in epoch 2; try a smaller lr than 0.001"):
        fit(model, _data(), loss_that_overflows_in_the_second_epoch, config, progress=False)
    assert not model.training  # left in evaluation mode, as after a finished fit
