"""Learned priors: mixture densities against torch.distributions, the Monte Carlo KL against the
closed form, and the VampPrior's components against the encoder."""

import math

import pytest
import torch
from torch import distributions as D

import vae_utils as vu
from vae_utils.bernoulli import BernoulliVAE, load_vampprior_vae


def _torch_mixture(means, log_vars, log_weights):
    components = D.Independent(D.Normal(means, (0.5 * log_vars).exp()), 1)
    return D.MixtureSameFamily(D.Categorical(logits=log_weights), components)


def test_mixture_log_prob_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    means, log_vars = torch.randn(7, 3, generator=gen), torch.randn(7, 3, generator=gen) - 1
    log_weights = torch.randn(7, generator=gen).log_softmax(0)
    z = torch.randn(4, 5, 3, generator=gen)
    expected = _torch_mixture(means, log_vars, log_weights).log_prob(z)
    got = vu.priors.gaussian_mixture_log_prob(z, means, log_vars, log_weights)
    assert got.shape == (4, 5) and got.dtype == torch.float32
    assert torch.allclose(got, expected, atol=1e-4)
    uniform = vu.priors.gaussian_mixture_log_prob(z, means, log_vars)
    expected = _torch_mixture(means, log_vars, torch.zeros(7)).log_prob(z)
    assert torch.allclose(uniform, expected, atol=1e-4)


def test_many_z_against_many_components_are_evaluated_in_blocks_with_the_same_result():
    # 5 x 250 z against 1,000 components: 1.25 million values, past one block (2**20), so the
    # z go in blocks of 1,048 rows; every row must be what it is evaluated alone
    gen = torch.Generator().manual_seed(0)
    means, log_vars = 3 * torch.randn(1000, 2, generator=gen), torch.randn(1000, 2, generator=gen)
    log_weights = torch.randn(1000, generator=gen).log_softmax(0)
    z = 3 * torch.randn(5, 250, 2, generator=gen)
    for weights in (None, log_weights):
        got = vu.priors.gaussian_mixture_log_prob(z, means, log_vars, weights)
        rows = [vu.priors.gaussian_mixture_log_prob(row, means, log_vars, weights) for row in z]
        assert got.shape == (5, 250) and torch.equal(got, torch.stack(rows))
        expected = _torch_mixture(
            means, log_vars, torch.zeros(1000) if weights is None else weights
        )
        assert torch.allclose(got, expected.log_prob(z), atol=1e-4)
    with pytest.raises(ValueError, match="log-probabilities"):  # checked in the blocked path too
        vu.priors.gaussian_mixture_log_prob(z, means, log_vars, log_weights + 1)


def test_mixture_log_prob_is_exact_for_narrow_components():
    # posterior standard deviations of 0.08: the expanded squares cancel; float64 keeps them exact
    gen = torch.Generator().manual_seed(1)
    means, log_vars = 1.5 * torch.randn(500, 40, generator=gen), torch.full((500, 40), -5.0)
    z = means[:50] + 0.08 * torch.randn(50, 40, generator=gen)
    exact = vu.priors.diagonal_gaussian_log_prob(
        z.double()[:, None], means.double(), log_vars.double()
    ).logsumexp(-1) - math.log(500)
    got = vu.priors.gaussian_mixture_log_prob(z, means, log_vars)
    assert (got.double() - exact).abs().max() < 1e-4


def test_mixture_log_prob_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="latent_dim"):
        vu.priors.gaussian_mixture_log_prob(torch.zeros(2, 3), torch.zeros(4, 2), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="log_vars"):
        vu.priors.gaussian_mixture_log_prob(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(5, 3))
    z, means = torch.zeros(2, 3), torch.zeros(4, 3)
    with pytest.raises(ValueError, match="at least one component"):
        vu.priors.gaussian_mixture_log_prob(z, means[:0], means[:0])
    with pytest.raises(ValueError, match=r"log_weights must have shape \(K,\) = \(4,\)"):
        vu.priors.gaussian_mixture_log_prob(z, means, means, torch.zeros(5))
    with pytest.raises(ValueError, match=r"logsumexp\(log_weights\) = 1.386; normalise"):
        vu.priors.gaussian_mixture_log_prob(
            z, means, means, torch.zeros(4)
        )  # log 4: weights sum to 4


def test_diagonal_gaussian_log_prob_matches_torch():
    gen = torch.Generator().manual_seed(2)
    mu, log_var, z = (torch.randn(6, 4, generator=gen) for _ in range(3))
    expected = D.Normal(mu, (0.5 * log_var).exp()).log_prob(z).sum(-1)
    assert torch.allclose(vu.priors.diagonal_gaussian_log_prob(z, mu, log_var), expected, atol=1e-5)


def test_models_start_with_the_standard_normal_prior_and_unchanged_state_dicts():
    model = vu.VAE(784, (16,), 2)
    assert isinstance(model.prior, vu.priors.StandardNormalPrior)
    assert not any(name.startswith("prior") for name in model.state_dict())
    z = torch.randn(5, 2)
    assert torch.allclose(model.log_prior(z), D.Normal(0.0, 1.0).log_prob(z).sum(-1))


def test_sampling_the_standard_prior_draws_what_it_always_drew():
    model = vu.VAE(784, (16,), 2)
    expected = model.decode(torch.randn(3, 2, generator=torch.Generator().manual_seed(5)))
    assert torch.equal(model.sample(3, generator=torch.Generator().manual_seed(5)), expected)


def test_monte_carlo_kl_averages_to_the_closed_form():
    # a one-component mixture at N(0, I) is the standard prior, without the closed form
    model = vu.VAE(20, (16,), 3)
    mu, log_var = torch.tensor([[0.5, -1.0, 0.0]]), torch.tensor([[-1.0, 0.3, 0.0]])
    closed = model.kl_divergence(mu, log_var, torch.zeros(1, 3))
    model.prior = vu.priors.MixturePrior(1, 3)
    with torch.no_grad():
        model.prior.means.zero_()
    z = vu.reparameterize(
        mu.expand(50_000, 1, 3),
        log_var.expand(50_000, 1, 3),
        torch.Generator().manual_seed(0),
    )
    estimates = model.kl_divergence(mu, log_var, z)  # (50000, 1)
    assert estimates.shape == (50_000, 1)
    standard_error = estimates.std() / math.sqrt(50_000)
    assert abs(estimates.mean() - closed.item()) < 4 * standard_error
    assert standard_error < 0.01


def test_learned_prior_equal_to_the_standard_one_gives_the_same_bounds():
    torch.manual_seed(0)
    model = BernoulliVAE(20, (16,), 3)
    x = torch.bernoulli(torch.rand(6, 20))
    standard = vu.importance_weighted_bound(model, x, None, 64, generator=vu.generator(3))
    elbo_standard = vu.elbo(model, x, None, 4000, generator=vu.generator(4))
    model.prior = vu.priors.MixturePrior(3, 3)  # three identical components: N(0, I)
    with torch.no_grad():
        model.prior.means.zero_()
    learned = vu.importance_weighted_bound(model, x, None, 64, generator=vu.generator(3))
    assert torch.allclose(learned, standard, atol=1e-4)
    elbo_learned = vu.elbo(model, x, None, 4000, generator=vu.generator(4))
    assert torch.allclose(elbo_learned, elbo_standard, atol=0.1)  # the KL is estimated now


def test_vampprior_is_the_mean_of_the_encoders_posteriors_at_the_pseudo_inputs():
    torch.manual_seed(0)
    model = vu.VAE(20, (16,), 2)
    pseudo = torch.rand(4, 20)
    model.prior = vu.priors.VampPrior(pseudo)
    z = torch.randn(9, 2)
    mu, log_var = model.encode(pseudo)
    densities = D.Normal(mu, (0.5 * log_var).exp()).log_prob(z[:, None]).sum(-1).exp()
    expected = densities.mean(-1).log()
    assert torch.allclose(model.log_prior(z), expected, atol=1e-5)


def test_vampprior_gradients_reach_the_pseudo_inputs_and_the_encoder():
    torch.manual_seed(0)
    model = vu.VAE(20, (16,), 2)
    model.prior = vu.priors.VampPrior(torch.rand(4, 20))
    model.log_prior(torch.randn(9, 2)).sum().backward()
    assert model.prior.pseudo_inputs.grad.abs().sum() > 0
    assert model.encoder[0].weight.grad.abs().sum() > 0


def test_vampprior_keeps_its_pseudo_inputs_in_the_unit_interval():
    torch.manual_seed(0)
    model = vu.VAE(20, (16,), 2)
    model.prior = vu.priors.VampPrior(torch.rand(4, 20))
    inside = model.log_prior(torch.zeros(1, 2))
    with torch.no_grad():  # outside [0, 1] the clamp sees the nearest valid image
        model.prior.pseudo_inputs.add_(torch.where(model.prior.pseudo_inputs > 0.5, 5.0, -5.0))
    clamped = model.prior.pseudo_inputs.detach().clamp(0, 1)
    model_clamped = vu.VAE(20, (16,), 2)
    model_clamped.load_state_dict(
        {k: v for k, v in model.state_dict().items() if not k.startswith("prior")}
    )
    model_clamped.prior = vu.priors.VampPrior(clamped)
    assert not torch.allclose(model.log_prior(torch.zeros(1, 2)), inside)
    assert torch.allclose(
        model.log_prior(torch.zeros(1, 2)), model_clamped.log_prior(torch.zeros(1, 2))
    )


def test_priors_refuse_bad_input():
    with pytest.raises(ValueError, match="init must hold images"):
        vu.priors.VampPrior(torch.full((3, 4), 2.0))
    with pytest.raises(ValueError, match="init"):
        vu.priors.VampPrior(torch.rand(4))
    with pytest.raises(ValueError, match="pass encode="):
        vu.priors.VampPrior(torch.rand(3, 4)).log_prob(torch.zeros(1, 2))
    with pytest.raises(ValueError, match="num_components"):
        vu.priors.MixturePrior(0, 2)
    with pytest.raises(ValueError, match="latent_dim"):
        vu.priors.MixturePrior(3, 2).sample(4, 5)


def test_mixture_samples_follow_the_weights():
    prior = vu.priors.MixturePrior(2, 1)
    with torch.no_grad():
        prior.means.copy_(torch.tensor([[-10.0], [10.0]]))
        prior.logits.copy_(torch.tensor([0.0, math.log(3.0)]))  # weights 1/4 and 3/4
    z = prior.sample(20_000, 1, generator=torch.Generator().manual_seed(0))
    share = (z > 0).float().mean().item()
    assert abs(share - 0.75) < 0.02  # standard error 0.003
    assert abs(z[z > 0].std().item() - 1.0) < 0.05


def test_model_samples_come_from_its_prior():
    torch.manual_seed(0)
    model = vu.VAE(20, (16,), 2)
    model.prior = vu.priors.MixturePrior(1, 2)
    with torch.no_grad():
        model.prior.means.fill_(100.0)  # far from N(0, I): the decoder sees other codes
    z = model.prior.sample(3, 2, generator=torch.Generator().manual_seed(1))
    assert (z > 90).all()
    samples = model.sample(3, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(samples, model.decode(z))


def test_vampprior_weights_load_with_their_number_of_pseudo_inputs(tmp_path):
    torch.manual_seed(0)
    model = BernoulliVAE()
    model.prior = vu.priors.VampPrior(torch.rand(7, 784))
    path = tmp_path / "vamp.safetensors"
    vu.cache.save_weights(model, path, {"settings": {}})
    loaded = load_vampprior_vae(path, sha256=None)
    assert loaded.prior.pseudo_inputs.shape == (7, 784)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="SHA-256"):
        load_vampprior_vae(path, sha256="0" * 64)


def test_the_evaluation_logsumexp_equals_torchs_bit_for_bit():
    # its terms far below the largest (exp underflows to 0 by a slow path) are set to -inf first
    from vae_utils.priors import _logsumexp

    generator = torch.Generator().manual_seed(0)
    # shifted terms from 0 to -1e7, and bands where exp is subnormal (float64: -708 to -745;
    # float32: -87 to -104) or underflows to 0
    for dtype, low, scale in [
        (torch.float64, 0.0, 1.0),
        (torch.float64, 0.0, 700.0),
        (torch.float64, 0.0, 1e7),
        (torch.float64, 700.0, 60.0),
        (torch.float32, 0.0, 100.0),
        (torch.float32, 80.0, 40.0),
    ]:
        x = -low - torch.rand(50, 300, dtype=dtype, generator=generator) * scale
        x[:, 0] = 0.5  # a term near the largest, as a mixture's nearest component
        assert torch.equal(_logsumexp(x), torch.logsumexp(x, dim=-1)), (dtype, low, scale)
    x = torch.randn(4, 3, 5, generator=generator)
    x[0, 0], x[1, 1, 2], x[2, 2, 1] = -math.inf, math.inf, math.nan
    expected = torch.logsumexp(x, dim=-1)
    assert torch.equal(_logsumexp(x).nan_to_num(), expected.nan_to_num())
    assert _logsumexp(x)[0, 0] == -math.inf and _logsumexp(x)[2, 2].isnan()
    # under a gradient it is torch.logsumexp, whose backward pass training uses
    leaf = x[3].clone().requires_grad_()
    _logsumexp(leaf).sum().backward()
    assert torch.allclose(leaf.grad, torch.softmax(x[3], dim=-1))
