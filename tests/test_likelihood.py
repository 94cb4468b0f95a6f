"""Likelihoods against scipy, against the exact linear Gaussian model, and against each other."""

import math

import pytest
import torch
from scipy.stats import multivariate_normal, norm

from vae_utils import VAE
from vae_utils.likelihood import elbo, importance_weighted_bound
from vae_utils.losses import gaussian_log_likelihood
from vae_utils.pca import PPCA, fit_ppca, ppca_log_likelihood, ppca_posterior


def _data(n=400, dim=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(dim, 2, generator=generator, dtype=torch.float64)
    z = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    noise = 0.3 * torch.randn(n, dim, generator=generator, dtype=torch.float64)
    return z @ w.T + noise + 1.0


def _linear_vae_from_ppca(model: PPCA) -> VAE:
    """A linear VAE whose encoder is the exact pPCA posterior and whose decoder is W z + mean."""
    dim, latent_dim = model.weight.shape
    vae = VAE(dim, latent_dim=latent_dim, linear=True).double()
    m = model.weight.T @ model.weight + model.noise_variance * torch.eye(latent_dim).double()
    m_inverse = torch.linalg.inv(m)
    posterior_var = torch.diagonal(model.noise_variance * m_inverse)
    with torch.no_grad():
        encoder, decoder = vae.encoder[0], vae.decoder[0]
        encoder.weight[:latent_dim] = m_inverse @ model.weight.T
        encoder.bias[:latent_dim] = -(m_inverse @ model.weight.T @ model.mean)
        encoder.weight[latent_dim:] = 0.0
        encoder.bias[latent_dim:] = posterior_var.log()
        decoder.weight.copy_(model.weight)
        decoder.bias.copy_(model.mean)
    return vae


def test_gaussian_log_likelihood_matches_scipy():
    x = torch.tensor([[0.2, 0.9, 0.4]], dtype=torch.float64)
    x_hat = torch.tensor([[0.1, 0.5, 0.5]], dtype=torch.float64)
    expected = norm.logpdf(x.numpy(), loc=x_hat.numpy(), scale=math.sqrt(0.05)).sum()
    assert gaussian_log_likelihood(x, x_hat, 0.05).item() == pytest.approx(expected, rel=1e-12)


def test_ppca_log_likelihood_matches_scipy_and_is_maximal():
    x = _data()
    model = fit_ppca(x, latent_dim=2)
    covariance = model.weight @ model.weight.T + model.noise_variance * torch.eye(5).double()
    expected = multivariate_normal(model.mean.numpy(), covariance.numpy()).logpdf(x.numpy())
    assert torch.allclose(ppca_log_likelihood(x, model), torch.from_numpy(expected), rtol=1e-10)
    best = ppca_log_likelihood(x, model).mean()
    # nudging the maximum-likelihood parameters can only lower the likelihood
    for nudged in (
        PPCA(model.mean, model.weight * 1.05, model.noise_variance),
        PPCA(model.mean, model.weight, model.noise_variance * 0.9),
        PPCA(model.mean + 0.05, model.weight, model.noise_variance),
    ):
        assert ppca_log_likelihood(x, nudged).mean() < best


def test_ppca_posterior_matches_bayes_rule_on_a_grid():
    x = _data(n=3, dim=3, seed=1)
    model = PPCA(torch.zeros(3).double(), torch.tensor([[1.0], [0.5], [-0.3]]).double(), 0.2)
    mean, covariance = ppca_posterior(x, model)
    z = torch.linspace(-6, 6, 20001, dtype=torch.float64).unsqueeze(1)  # (grid, 1)
    for i in range(3):
        log_joint = norm.logpdf(z.numpy()[:, 0]) + norm.logpdf(
            x[i].numpy(), loc=(z @ model.weight.T).numpy(), scale=math.sqrt(0.2)
        ).sum(axis=1)
        weights = torch.from_numpy(log_joint).softmax(dim=0)
        grid_mean = (weights * z[:, 0]).sum()
        grid_var = (weights * (z[:, 0] - grid_mean) ** 2).sum()
        assert mean[i, 0].item() == pytest.approx(grid_mean.item(), abs=1e-6)
        assert covariance[0, 0].item() == pytest.approx(grid_var.item(), rel=1e-5)


def test_elbo_equals_log_likelihood_when_q_is_the_exact_posterior():
    x = _data()
    model = fit_ppca(x, latent_dim=2)
    vae = _linear_vae_from_ppca(model)
    exact = ppca_log_likelihood(x[:20], model)
    torch.manual_seed(0)
    estimate = elbo(vae, x[:20], model.noise_variance, num_samples=20000)
    # the gap log p(x) - ELBO is KL(q || posterior), zero here up to Monte Carlo error
    assert torch.allclose(estimate, exact, atol=0.02)


def test_importance_weighted_bound_rises_with_k_towards_log_likelihood():
    x = _data()
    model = fit_ppca(x, latent_dim=2)
    vae = _linear_vae_from_ppca(model)
    with torch.no_grad():  # a worse q: shrink the posterior variance, so the ELBO has a gap
        vae.encoder[0].bias[2:] += 1.0  # q twice as wide (e^1) as p(z|x)
    exact = ppca_log_likelihood(x[:50], model).mean().item()
    torch.manual_seed(0)
    bounds = [importance_weighted_bound(vae, x[:50], model.noise_variance, k).mean().item()
              for k in (1, 10, 3000)]  # fmt: skip
    assert bounds[0] < bounds[1] < bounds[2] <= exact + 1e-3
    assert exact - bounds[2] < 0.05 * (exact - bounds[0])
    # L_1 is the ELBO: average many single-sample L_1 and compare with a many-sample ELBO
    l_1 = importance_weighted_bound(vae, x[:50].repeat(400, 1), model.noise_variance, 1).mean()
    many_sample_elbo = elbo(vae, x[:50], model.noise_variance, 2000).mean()
    assert l_1.item() == pytest.approx(many_sample_elbo.item(), abs=0.03)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="variance must be a positive number"):
        gaussian_log_likelihood(torch.zeros(1, 2), torch.zeros(1, 2), 0.0)
    with pytest.raises(ValueError, match="latent_dim must be between 1 and 4"):
        fit_ppca(_data(), latent_dim=5)
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        importance_weighted_bound(VAE(5, (3,), 2), torch.zeros(2, 5), 1.0, 0)


def test_with_the_exact_posterior_every_weight_is_the_likelihood_in_any_chunking():
    # q(z|x) = p(z|x) makes p(x, z) / q(z|x) = p(x) for every z: L_k = log p(x) exactly.
    x = _data()[:20]
    model = fit_ppca(_data(), latent_dim=2)
    vae = _linear_vae_from_ppca(model)
    exact = ppca_log_likelihood(x, model)
    for max_elements in (x.numel(), 7 * x.numel(), 10**9):  # chunks of 1, 7 and all 50 draws
        bound = importance_weighted_bound(vae, x, model.noise_variance, 50, max_elements)
        assert torch.allclose(bound, exact, atol=1e-6)
