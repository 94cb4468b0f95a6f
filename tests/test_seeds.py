"""One environment variable shifts every seed of the course."""

import random

import numpy as np
import pytest
import torch

from vae_utils import Autoencoder, TrainConfig, fit, generator, set_seed, train_autoencoder
from vae_utils.losses import autoencoder_objective
from vae_utils.seeds import seed_shift, shifted_seed


def test_without_the_variable_seeds_are_used_as_given(monkeypatch):
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    assert seed_shift() == 0
    assert torch.equal(
        torch.rand(3, generator=generator(5)),
        torch.rand(3, generator=torch.Generator().manual_seed(5)),
    )


def test_the_shift_moves_set_seed_and_generator_together(monkeypatch):
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", "2")
    set_seed(1)
    shifted = (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT")
    set_seed(3)
    assert shifted == (random.random(), np.random.rand(), torch.rand(1).item())  # noqa: NPY002
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", "2")
    expected = torch.rand(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.rand(4, generator=generator(1)), expected)


def test_fit_honours_the_shift(monkeypatch):
    x = torch.rand(32, 6, generator=torch.Generator().manual_seed(0))

    def trained(seed: int) -> torch.Tensor:
        torch.manual_seed(0)  # the same initial weights every time
        model = Autoencoder(6, (4,), 2)
        config = TrainConfig(num_epochs=2, batch_size=8, seed=seed)
        fit(model, x, autoencoder_objective, config, progress=False)
        return model.decoder[-2].weight.detach().clone()

    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", "1")
    shifted = trained(0)
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT")
    assert torch.equal(shifted, trained(1))
    assert not torch.equal(shifted, trained(0))


def test_recipes_cache_each_shift_apart(monkeypatch, tmp_path):
    x = torch.rand(40, 6, generator=torch.Generator().manual_seed(0))
    kwargs = {"latent_dim": 2, "hidden_dims": (4,), "directory": tmp_path}
    one_epoch = TrainConfig(num_epochs=1)
    monkeypatch.setenv("CI", "1")
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    plain, _ = train_autoencoder(x, config=one_epoch, **kwargs)
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", "1")
    shifted, _ = train_autoencoder(x, config=one_epoch, **kwargs)
    assert len(list(tmp_path.iterdir())) == 2
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT")
    same_as_shifted, _ = train_autoencoder(x, config=TrainConfig(1, seed=1), **kwargs)
    assert len(list(tmp_path.iterdir())) == 2  # seed 1 unshifted is seed 0 shifted by 1: loaded
    for a, b in zip(
        shifted.state_dict().values(), same_as_shifted.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert not torch.equal(plain.decoder[-2].weight, shifted.decoder[-2].weight)


@pytest.mark.parametrize("text", ["two", "1.5"])
def test_a_shift_that_is_not_an_int_is_refused(monkeypatch, text):
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", text)
    with pytest.raises(ValueError, match="VAE_UTILS_SEED_SHIFT must be an integer"):
        set_seed(0)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        generator(-1)


def test_the_largest_seed_numpy_takes_is_accepted_and_the_next_refused(monkeypatch):
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    np.random.seed(2**32 - 1)  # noqa: NPY002 -- NumPy's own limit, independently of vae_utils
    with pytest.raises(ValueError):
        np.random.seed(2**32)  # noqa: NPY002
    set_seed(2**32 - 1)
    assert torch.equal(
        torch.rand(3, generator=generator(2**32 - 1)),
        torch.rand(3, generator=torch.Generator().manual_seed(2**32 - 1)),
    )
    for seed in (2**32, 2**64):
        with pytest.raises(ValueError, match=rf"seed must be at most 2\*\*32 - 1 .*got {seed}"):
            set_seed(seed)
        with pytest.raises(ValueError, match=r"seed must be at most .*; try seed=0"):
            generator(seed)


@pytest.mark.parametrize("text", ["-1", " -3 "])
def test_a_negative_shift_is_refused(monkeypatch, text):
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", text)
    expected = rf"VAE_UTILS_SEED_SHIFT must be an integer >= 0, got '{text.strip()}'.*unset it"
    with pytest.raises(ValueError, match=expected):
        set_seed(5)  # 5 - 1 >= 0, but every chapter's seed 0 would fail
    with pytest.raises(ValueError, match=expected):
        seed_shift()


def test_a_shift_that_takes_a_seed_past_numpys_limit_is_refused(monkeypatch):
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", "2")
    assert shifted_seed(2**32 - 3) == 2**32 - 1
    expected = (
        r"seed 4294967294 shifted by VAE_UTILS_SEED_SHIFT=2 is 4294967296, more than "
        r"2\*\*32 - 1 = 4294967295 .*use a smaller seed or a smaller VAE_UTILS_SEED_SHIFT"
    )
    with pytest.raises(ValueError, match=expected):
        generator(2**32 - 2)
