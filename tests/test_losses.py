"""Losses against independent computations: torch.distributions, Monte Carlo, a hand-worked case."""

import math

import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from vae_utils import VAE, kl_to_standard_normal, reconstruction_error, vae_loss, vae_objective
from vae_utils.losses import autoencoder_objective


def test_reconstruction_error_is_the_summed_squared_error():
    x = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 1.0]])
    x_hat = torch.tensor([[0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert torch.allclose(reconstruction_error(x, x_hat), torch.tensor([0.5, 2.0]))


def test_kl_matches_torch_distributions():
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(64, 5, generator=generator, dtype=torch.float64)
    log_var = torch.randn(64, 5, generator=generator, dtype=torch.float64)
    q = Independent(Normal(mu, (0.5 * log_var).exp()), 1)
    prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
    expected = kl_divergence(q, prior)
    assert torch.allclose(kl_to_standard_normal(mu, log_var), expected, rtol=1e-12)


def test_kl_matches_a_monte_carlo_estimate_within_its_standard_error():
    generator = torch.Generator().manual_seed(1)
    mu = torch.tensor([[0.7, -1.2, 0.1]], dtype=torch.float64)
    log_var = torch.tensor([[-0.5, 0.4, -1.5]], dtype=torch.float64)
    sigma = (0.5 * log_var).exp()
    z = mu + sigma * torch.randn(200_000, 3, generator=generator, dtype=torch.float64)
    log_q = Normal(mu, sigma).log_prob(z).sum(dim=1)
    log_p = Normal(0.0, 1.0).log_prob(z).sum(dim=1)
    samples = log_q - log_p
    estimate = samples.mean()
    standard_error = samples.std() / math.sqrt(len(samples))
    closed_form = kl_to_standard_normal(mu, log_var)[0]
    assert abs(closed_form - estimate) < 4 * standard_error


def test_kl_is_zero_only_at_the_prior():
    assert kl_to_standard_normal(torch.zeros(1, 2), torch.zeros(1, 2)).item() == 0.0
    assert kl_to_standard_normal(torch.tensor([[0.1, 0.0]]), torch.zeros(1, 2)).item() > 0.0


def test_vae_loss_on_a_hand_worked_case():
    # two images of 2 pixels, a 1-D latent space
    x = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    x_hat = torch.tensor([[0.0, 0.0], [0.5, 0.0]])  # squared errors 1.0 and 0.25
    mu = torch.tensor([[1.0], [0.0]])
    log_var = torch.tensor([[0.0], [math.log(2.0)]])
    # KL: 0.5 * (1 + 1 - 1 - 0) = 0.5 and 0.5 * (0 + 2 - 1 - ln 2) = 0.5 - ln(2) / 2
    kl = [0.5, 0.5 - math.log(2.0) / 2]
    expected = ((3.0 * 1.0 + kl[0]) + (3.0 * 0.25 + kl[1])) / 2
    assert vae_loss(x, x_hat, mu, log_var, C=3.0).item() == pytest.approx(expected, rel=1e-6)


def test_objectives_use_the_model_outputs():
    torch.manual_seed(0)
    model = VAE(6, (4,), 2)
    x = torch.rand(5, 6)
    torch.manual_seed(1)
    loss = vae_objective(model, x, C=2.0)
    torch.manual_seed(1)
    x_hat, mu, log_var = model(x)
    assert loss.item() == pytest.approx(vae_loss(x, x_hat, mu, log_var, 2.0).item())
    linear = torch.nn.Linear(6, 6)
    expected = ((x - linear(x)) ** 2).sum(dim=1).mean()
    assert autoencoder_objective(linear, x).item() == pytest.approx(expected.item())


def test_losses_reject_wrong_shapes():
    with pytest.raises(ValueError, match=r"x and x_hat must both have shape \(batch, features\)"):
        reconstruction_error(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="x and x_hat"):
        reconstruction_error(torch.zeros(2, 28, 28), torch.zeros(2, 28, 28))
    with pytest.raises(ValueError, match="mu and log_var"):
        kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(3, 3))


def test_calibrated_objective_is_the_gaussian_negative_elbo_at_the_best_variance():
    from vae_utils.losses import calibrated_vae_objective, gaussian_log_likelihood
    from vae_utils.models import VAE

    torch.manual_seed(0)
    model, x = VAE(12, (8,), 2), torch.rand(32, 12)

    def negative_elbo(variance):
        torch.manual_seed(1)
        x_hat, mu, log_var = model(x)
        log_likelihood = gaussian_log_likelihood(x, x_hat, variance).mean()
        return (-log_likelihood + kl_to_standard_normal(mu, log_var).mean()).item()

    torch.manual_seed(1)
    x_hat, _, _ = model(x)
    best = (reconstruction_error(x, x_hat).mean() / 12).item()
    torch.manual_seed(1)
    calibrated = calibrated_vae_objective(model, x).item()
    constant = 12 / 2 * (math.log(2 * math.pi) + 1)
    assert calibrated + constant == pytest.approx(negative_elbo(best), rel=1e-5)
    assert negative_elbo(best) < min(negative_elbo(0.8 * best), negative_elbo(1.25 * best))
