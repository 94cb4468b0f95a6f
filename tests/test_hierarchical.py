"""The two-level VAE (vae_utils.hierarchical): its KL, its pass, its bounds and its recipe."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

import vae_utils as vu
from vae_utils.hierarchical import (
    TwoLevelVAE,
    kl_diagonal_gaussians,
    two_level_objective,
    two_level_terms,
)


def random_gaussians(*shape: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*shape, generator=g, dtype=torch.float64) for _ in range(4))


def test_kl_diagonal_gaussians_matches_torch_and_the_standard_normal_case():
    mu_q, log_var_q, mu_p, log_var_p = random_gaussians(5, 3)
    expected = kl_divergence(
        Normal(mu_q, (0.5 * log_var_q).exp()), Normal(mu_p, (0.5 * log_var_p).exp())
    ).sum(-1)
    torch.testing.assert_close(kl_diagonal_gaussians(mu_q, log_var_q, mu_p, log_var_p), expected)
    zeros = torch.zeros_like(mu_q)
    standard = vu.kl_to_standard_normal(mu_q, log_var_q)
    torch.testing.assert_close(kl_diagonal_gaussians(mu_q, log_var_q, zeros, zeros), standard)
    same = kl_diagonal_gaussians(mu_q, log_var_q, mu_q, log_var_q)
    assert torch.equal(same, torch.zeros(5, dtype=torch.float64))
    # not symmetric: the wrong order would give another value
    assert not torch.allclose(kl_diagonal_gaussians(mu_p, log_var_p, mu_q, log_var_q), expected)


def test_kl_diagonal_gaussians_refuses_mismatched_shapes():
    mu_q, log_var_q, mu_p, log_var_p = random_gaussians(5, 3)
    with pytest.raises(ValueError, match="mu_p"):
        kl_diagonal_gaussians(mu_q, log_var_q, mu_p[:, :2], log_var_p)


@pytest.fixture
def model() -> TwoLevelVAE:
    torch.manual_seed(0)
    return TwoLevelVAE(20, 16, (3, 2), side_dim=8).double()


def test_the_pass_has_the_documented_shapes(model):
    x = torch.rand(7, 20, dtype=torch.float64)
    out = model(x)
    assert out.x_hat.shape == (7, 20) and out.z1.shape == (7, 3) and out.z2.shape == (7, 2)
    assert all(t.shape == (7, 3) for t in (*out.q1, *out.p1))
    assert all(t.shape == (7, 2) for t in out.q2)
    many = model(x, num_samples=4)
    assert many.x_hat.shape == (4, 7, 20) and many.z1.shape == (4, 7, 3)
    assert many.q2[0].shape == (4, 7, 2) and many.p1[1].shape == (4, 7, 3)
    # the top posterior does not depend on the draw: every row of its expansion is the same
    assert torch.equal(many.q2[0][0], many.q2[0][3])


def test_the_bottom_prior_and_posterior_follow_the_drawn_top_code(model):
    x = torch.rand(1, 20, dtype=torch.float64)
    out = model(x, num_samples=2)
    assert not torch.equal(out.z2[0], out.z2[1])
    assert not torch.equal(out.p1[0][0], out.p1[0][1])  # p(z1 | z2) moves with z2
    assert not torch.equal(out.q1[0][0], out.q1[0][1])  # so does q(z1 | x, z2)


def test_log_weights_against_torch_distributions(model):
    x = torch.rand(6, 20, dtype=torch.float64)
    variance = 0.3
    weights = model.log_weights(x, variance, 5, generator=torch.Generator().manual_seed(1))
    out = model(x, 5, generator=torch.Generator().manual_seed(1))  # the same draws

    def normal(mu, log_var):
        return Normal(mu, (0.5 * log_var).exp())

    log_p = (
        Normal(out.x_hat, math.sqrt(variance)).log_prob(x).sum(-1)
        + normal(*out.p1).log_prob(out.z1).sum(-1)
        + Normal(0.0, 1.0).log_prob(out.z2).sum(-1)
    )
    log_q = normal(*out.q1).log_prob(out.z1).sum(-1) + normal(*out.q2).log_prob(out.z2).sum(-1)
    assert weights.shape == (5, 6)
    torch.testing.assert_close(weights, log_p - log_q)


def test_the_objective_is_the_negative_elbo_up_to_the_decoders_constant(model):
    # E[log w] = -(C ||x - x_hat||^2 + KL_bottom + KL_top) - D/2 log(2 pi c), C = 1 / (2 c): the
    # loss's closed-form KLs and the weights' Monte Carlo ones agree on average
    x = torch.rand(4, 20, dtype=torch.float64)
    C = 2.0
    variance = 1 / (2 * C)
    torch.manual_seed(2)
    draws = 20_000
    xs = x.repeat(draws, 1)  # image i at rows i, i + 4, ...
    distortion, kl_bottom, kl_top = two_level_terms(model(xs), xs)
    loss = (C * distortion + kl_bottom + kl_top).reshape(draws, 4).mean(0)
    elbo = model.log_weights(x, variance, draws).mean(0)  # both KLs estimated from the draws
    constant = 0.5 * 20 * math.log(2 * math.pi * variance)
    torch.testing.assert_close(elbo, -loss - constant, atol=0.05, rtol=0)
    torch.manual_seed(3)
    objective = two_level_objective(model, x, C)
    assert objective.shape == () and objective > 0


def test_sample_with_a_fixed_top_code(model):
    z2 = torch.randn(1, 2, dtype=torch.float64).expand(6, -1)
    g = torch.Generator().manual_seed(6)
    x = model.sample(6, g, z2=z2)
    assert x.shape == (6, 20) and ((0 <= x) & (x <= 1)).all()
    assert not torch.equal(x[0], x[1])  # z1 is drawn afresh for each
    assert model.sample(3, torch.Generator().manual_seed(0)).shape == (3, 20)
    with pytest.raises(ValueError, match="z2"):
        model.sample(6, g, z2=z2[:2])


def test_the_recipe_trains_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path))
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    x = torch.rand(64, 20)
    config = vu.TrainConfig(num_epochs=2, batch_size=32)
    model, losses = vu.train_two_level_vae(
        x, 1.0, latent_dims=(3, 2), hidden_dim=8, side_dim=4, config=config
    )
    assert isinstance(model, TwoLevelVAE) and len(losses) == 2 and not model.training
    again, losses_again = vu.train_two_level_vae(
        x, 1.0, latent_dims=(3, 2), hidden_dim=8, side_dim=4, config=config
    )
    assert losses_again == losses
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
