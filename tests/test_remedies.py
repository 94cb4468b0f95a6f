"""KL warm-up and free bits against direct computations, and free bits against collapse."""

import math
from functools import partial

import pytest
import torch
from torch.distributions import Normal, kl_divergence

import vae_utils as vu
from vae_utils.collapse import free_bits_kl, kl_per_dimension
from vae_utils.losses import kl_to_standard_normal, reconstruction_error, vae_objective
from vae_utils.objective import elbo_objective
from vae_utils.remedies import KLWarmup, kl_warmup


def test_kl_warmup_rises_linearly_from_one_step_to_one():
    assert kl_warmup(0, 10) == 0.1
    assert kl_warmup(4, 10) == 0.5
    assert kl_warmup(9, 10) == 1.0  # the last warm-up step reaches 1
    assert kl_warmup(10, 10) == 1.0
    assert kl_warmup(1000, 10) == 1.0
    assert kl_warmup(0, 1) == 1.0  # one step: no warm-up


def test_kl_warmup_gives_the_bernoulli_script_weights_bit_for_bit():
    warmup_epochs = 50  # the script's default
    for epoch in range(120):
        assert kl_warmup(epoch, warmup_epochs) == min(1.0, (epoch + 1) / warmup_epochs)


def _codes(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoder outputs of 50 images; the 4 latent dimensions carry KLs of 0.002 to 4 nats."""
    generator = torch.Generator().manual_seed(0)
    scale = torch.tensor([0.05, 0.3, 1.0, 2.0], dtype=dtype)  # (latent_dim,)
    mu = scale * torch.randn(50, 4, generator=generator, dtype=dtype)
    log_var = scale * torch.randn(50, 4, generator=generator, dtype=dtype)
    return mu, log_var


def test_free_bits_kl_matches_a_loop_over_dimensions_with_torch_distributions():
    mu, log_var = _codes(torch.float64)
    for free_bits in (0.0, 0.1, 0.5, 3.0):
        expected = 0.0
        for j in range(mu.shape[1]):
            q = Normal(mu[:, j], (0.5 * log_var[:, j]).exp())
            kl_j = kl_divergence(q, Normal(0.0, 1.0)).mean().item()
            expected += max(kl_j, free_bits)
        assert free_bits_kl(mu, log_var, free_bits).item() == pytest.approx(expected, rel=1e-12)
    # the fixture has dimensions on both sides of the floor 0.5, so the clamp was exercised
    per_dimension = kl_per_dimension(mu, log_var)
    assert (per_dimension < 0.5).any() and (per_dimension > 0.5).any()


def test_free_bits_kl_with_no_floor_is_the_plain_batch_mean_kl():
    mu, log_var = _codes()
    plain = kl_to_standard_normal(mu, log_var).mean()
    assert torch.allclose(free_bits_kl(mu, log_var, 0.0), plain, rtol=1e-6)
    assert free_bits_kl(mu, log_var, 0.5) > plain  # the floor lifts the dimensions below it


def test_a_dimension_below_the_floor_gets_no_gradient_and_one_above_gets_the_plain_one():
    mu, log_var = _codes()
    mu.requires_grad_(True)
    log_var.requires_grad_(True)
    per_dimension = kl_per_dimension(mu.detach(), log_var.detach())
    below, above = 0, 3  # KL of about 0.002 and 4 nats
    assert per_dimension[below] < 0.5 < per_dimension[above]
    free_bits_kl(mu, log_var, 0.5).backward()
    assert torch.equal(mu.grad[:, below], torch.zeros(50))
    assert torch.equal(log_var.grad[:, below], torch.zeros(50))
    # d/dmu of the batch mean of 0.5 * mu^2: mu / batch
    assert torch.allclose(mu.grad[:, above], mu[:, above].detach() / 50)
    assert mu.grad[:, above].abs().min() > 0


def test_elbo_objective_with_its_defaults_is_chapter_3s_vae_objective_bit_for_bit():
    model, x = vu.VAE(20, (16,), 4), torch.rand(32, 20, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)  # the same draw of z for both
    expected = vae_objective(model, x, C=10.0)
    torch.manual_seed(1)
    assert torch.equal(elbo_objective(model, x, C=10.0), expected)


@pytest.mark.parametrize("free_bits", [0.0, 0.5])
def test_elbo_objective_weighs_the_kl_term(free_bits):
    model, x = vu.VAE(20, (16,), 4), torch.rand(32, 20, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    x_hat, mu, log_var = model(x)
    per_dimension = kl_per_dimension(mu, log_var)
    kl = per_dimension.clamp(min=free_bits).sum() if free_bits else per_dimension.sum()
    expected = 10.0 * reconstruction_error(x, x_hat).mean() + 0.3 * kl
    torch.manual_seed(1)
    loss = elbo_objective(model, x, C=10.0, kl_weight=0.3, free_bits=free_bits)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_kl_warmup_loss_applies_the_schedule_and_records_rate_and_distortion():
    model, x = vu.VAE(20, (16,), 4), torch.rand(32, 20, generator=torch.Generator().manual_seed(0))
    loss_fn = KLWarmup(C=10.0, warmup_steps=5, free_bits=0.5)
    for step in range(8):
        torch.manual_seed(step)
        loss = loss_fn(model, x)
        weight = min(1.0, (step + 1) / 5)
        torch.manual_seed(step)
        assert torch.equal(loss, elbo_objective(model, x, 10.0, weight, free_bits=0.5))
        torch.manual_seed(step)
        x_hat, mu, log_var = model(x)
        # the rate is the plain KL, without free bits; the distortion is not multiplied by C
        assert loss_fn.rates[-1] == pytest.approx(kl_to_standard_normal(mu, log_var).mean().item())
        assert loss_fn.distortions[-1] == pytest.approx(
            reconstruction_error(x, x_hat).mean().item()
        )
    assert loss_fn.step == 8
    assert loss_fn.kl_weights == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 1.0], abs=1e-12)
    steps = torch.diff(torch.tensor(loss_fn.kl_weights[:5]))
    assert torch.allclose(steps, torch.full((4,), 0.2))  # linear


def test_kl_warmup_records_one_weight_rate_and_distortion_per_step_of_fit(one_thread):
    x = torch.rand(256, 20, generator=torch.Generator().manual_seed(0))
    loss_fn = KLWarmup(C=10.0, warmup_steps=6)
    config = vu.TrainConfig(num_epochs=2, batch_size=64)
    history = vu.fit(vu.VAE(20, (16,), 4), x, loss_fn, config, progress=False)
    assert len(history) == 2
    assert loss_fn.step == 8  # 2 epochs of 256 / 64 batches
    assert loss_fn.kl_weights == [kl_warmup(step, 6) for step in range(8)]
    assert loss_fn.kl_weights[-1] == 1.0
    assert len(loss_fn.rates) == len(loss_fn.distortions) == 8
    assert all(rate >= 0 and math.isfinite(rate) for rate in loss_fn.rates)
    assert all(distortion > 0 for distortion in loss_fn.distortions)


def test_cyclical_annealing_restarts_the_warm_up_every_cycle():
    model, x = vu.VAE(20, (16,), 4), torch.rand(8, 20, generator=torch.Generator().manual_seed(0))
    loss_fn = KLWarmup(C=10.0, warmup_steps=2, cycle_steps=4)  # Fu et al. 2019: ramp, then 1
    for _ in range(10):
        loss_fn(model, x)
    assert loss_fn.kl_weights == [0.5, 1.0, 1.0, 1.0] * 2 + [0.5, 1.0]
    single = KLWarmup(C=10.0, warmup_steps=2)
    for _ in range(6):
        single(model, x)
    assert single.kl_weights == [0.5] + [1.0] * 5  # no cycles: one warm-up


@pytest.fixture
def one_thread():
    """Train on one thread: matrices this small gain nothing from a second one, and on a busy
    machine two threads wait for each other (the training test then takes 30 s instead of 1 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _kl_per_dimension_after_training(free_bits: float, seed: int) -> torch.Tensor:
    """Each latent dimension's KL on the data after training a 4-D VAE on data with 2 factors."""
    generator = torch.Generator().manual_seed(0)
    factors = torch.randn(256, 2, generator=generator)
    x = torch.sigmoid(factors @ (1.5 * torch.randn(2, 20, generator=generator)))  # (256, 20)
    vu.set_seed(seed)
    model = vu.VAE(20, (32,), 4)
    loss_fn = partial(elbo_objective, C=10.0, free_bits=free_bits)
    config = vu.TrainConfig(num_epochs=100, batch_size=64, lr=3e-3, seed=seed)
    vu.fit(model, x, loss_fn, config, progress=False)
    with torch.no_grad():
        return kl_per_dimension(*model.encode(x))


def test_free_bits_keep_every_latent_dimension_in_use_where_plain_training_collapses_some(
    one_thread,
):
    # Two factors suffice, so plain training sets two of the four dimensions to the prior (KL
    # below 0.004 nats over 30 seeds). With a floor of 0.5 nats every dimension settles at the
    # floor or above; batch noise moves it by about 10% (at least 0.44 over 30 seeds).
    plain = _kl_per_dimension_after_training(free_bits=0.0, seed=0)
    floored = _kl_per_dimension_after_training(free_bits=0.5, seed=0)
    assert plain.min() < 0.05, plain
    assert floored.min() > 0.7 * 0.5, floored


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kl_warmup(0, 0), "warmup_steps must be a positive int, got 0"),
        (lambda: kl_warmup(0, -5), "warmup_steps must be a positive int"),
        (lambda: kl_warmup(0, 2.5), "warmup_steps must be a positive int"),
        (lambda: kl_warmup(-1, 10), "step must be an int >= 0, got -1"),
        (lambda: kl_warmup(1.0, 10), "step must be an int >= 0"),
        (lambda: free_bits_kl(*_codes(), free_bits=-0.1), "free_bits must be a number >= 0"),
        (lambda: free_bits_kl(*_codes(), free_bits=math.nan), "free_bits must be a number >= 0"),
        (
            lambda: free_bits_kl(torch.zeros(3), torch.zeros(3), 0.5),
            "mu must be a tensor of shape",
        ),
        (
            lambda: elbo_objective(vu.VAE(20, (16,), 4), torch.rand(4, 20), C=0.0),
            "C must be a positive number",
        ),
        (
            lambda: elbo_objective(vu.VAE(20, (16,), 4), torch.rand(4, 20), C=1.0, kl_weight=-1.0),
            "kl_weight must be a number >= 0",
        ),
        (lambda: KLWarmup(C=1.0, warmup_steps=0), "warmup_steps must be a positive int"),
        (lambda: KLWarmup(C=-1.0, warmup_steps=10), "C must be a positive number"),
        (lambda: KLWarmup(1.0, 10, free_bits=-1.0), "free_bits must be a number >= 0"),
        (lambda: KLWarmup(1.0, 10, cycle_steps=5), r"cycle_steps \(5\) must be at least"),
        (lambda: KLWarmup(1.0, 10, cycle_steps=0), "cycle_steps must be a positive int"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
