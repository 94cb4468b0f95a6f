"""Learned-prior training and ELBO surgery against cases whose answer is known."""

import math

import pytest
import torch
from torch import nn

import vae_utils as vu
import vae_utils.recipes as recipes
from vae_utils.learned_prior import elbo_surgery
from vae_utils.objective import elbo_objective
from vae_utils.recipes import train_vae_with_prior


def test_objective_with_the_standard_prior_is_vae_objective():
    model, x = vu.VAE(20, (16,), 3), torch.rand(8, 20, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    ours = elbo_objective(model, x, C=5.0)
    torch.manual_seed(1)  # the same draw of z
    assert ours.item() == pytest.approx(vu.vae_objective(model, x, C=5.0).item(), rel=1e-6)


def test_objective_with_a_learned_prior_trains_the_prior():
    model, x = vu.VAE(20, (16,), 3), torch.rand(8, 20, generator=torch.Generator().manual_seed(0))
    model.prior = vu.priors.MixturePrior(4, 3)
    elbo_objective(model, x, C=5.0).backward()
    assert model.prior.means.grad.abs().sum() > 0
    assert model.prior.logits.grad.abs().sum() > 0


class _FixedPosteriors(vu.models.BaseVAE):
    """Encodes image n (x holds its index) as the posterior N(mu_n, exp(log_var_n)) given."""

    def __init__(self, mu: torch.Tensor, log_var: torch.Tensor) -> None:
        super().__init__(nn.Identity(), nn.Identity(), 1, mu.shape[1])
        self.mu, self.log_var = mu, log_var

    def encode(self, x):
        index = x[:, 0].long()
        return self.mu[index], self.log_var[index]


def _indices(n: int) -> torch.Tensor:
    return torch.arange(n, dtype=torch.float32)[:, None]


def test_codes_that_ignore_the_image_carry_no_information_and_all_the_rate_is_marginal_kl():
    n = 500
    model = _FixedPosteriors(torch.full((n, 2), 1.0), torch.full((n, 2), -1.0))
    parts = elbo_surgery(model, _indices(n), torch.Generator().manual_seed(0))
    closed_form = vu.kl_to_standard_normal(torch.ones(1, 2), torch.full((1, 2), -1.0)).item()
    assert parts["mutual_information"] == pytest.approx(0.0, abs=1e-6)
    assert parts["marginal_kl"] == pytest.approx(closed_form, abs=0.15)  # one draw per image


def test_codes_far_apart_tell_the_image_exactly_log_n_nats():
    n = 300
    mu = 100 * torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    model = _FixedPosteriors(mu, torch.full((n, 2), -6.0))
    parts = elbo_surgery(model, _indices(n), torch.Generator().manual_seed(1))
    assert parts["mutual_information"] == pytest.approx(math.log(n), abs=1e-3)
    assert parts["rate"] == pytest.approx(parts["mutual_information"] + parts["marginal_kl"])


def test_a_prior_equal_to_the_aggregate_posterior_leaves_no_marginal_kl():
    # posteriors at two points with equal weight, and a learned prior that is exactly their mixture
    n = 400
    mu = torch.tensor([[-3.0, 0.0], [3.0, 0.0]]).repeat(n // 2, 1)
    log_var = torch.full((n, 2), -2.0)
    model = _FixedPosteriors(mu, log_var)
    model.prior = vu.priors.MixturePrior(2, 2)
    with torch.no_grad():
        model.prior.means.copy_(mu[:2])
        model.prior.log_vars.copy_(log_var[:2])
    parts = elbo_surgery(model, _indices(n), torch.Generator().manual_seed(2))
    assert parts["marginal_kl"] == pytest.approx(0.0, abs=1e-4)
    assert parts["mutual_information"] == pytest.approx(math.log(2), abs=0.01)


def test_recipe_trains_each_prior_and_loads_it_again(tmp_path, monkeypatch):
    x = torch.rand(64, 12, generator=torch.Generator().manual_seed(0))
    config = vu.TrainConfig(num_epochs=2, batch_size=16)
    trained = {}
    for prior in ("standard", "mixture", "vamp"):
        model, history = train_vae_with_prior(
            x, 2.0, prior, num_components=3, hidden_dims=(8,), config=config, directory=tmp_path
        )
        assert len(history) == 2
        trained[prior] = model
    assert isinstance(trained["standard"].prior, vu.priors.StandardNormalPrior)
    assert trained["mixture"].prior.means.shape == (3, 2)
    assert trained["vamp"].prior.pseudo_inputs.shape == (3, 12)
    monkeypatch.setattr(recipes, "fit", lambda *a, **k: pytest.fail("trained again"))
    again, _ = train_vae_with_prior(
        x, 2.0, "vamp", num_components=3, hidden_dims=(8,), config=config, directory=tmp_path
    )
    for a, b in zip(
        trained["vamp"].state_dict().values(), again.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_recipe_refuses_an_unknown_prior(tmp_path):
    with pytest.raises(ValueError, match="prior must be 'standard', 'mixture' or 'vamp'"):
        train_vae_with_prior(torch.rand(8, 4), 1.0, "flow", directory=tmp_path)
