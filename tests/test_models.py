"""Shapes, ranges, the linear variants and argument checks of the models."""

import pytest
import torch

from vae_utils import VAE, Autoencoder, ConvVAE, reparameterize
from vae_utils.models import BaseVAE, mlp


def test_mlp_layers_and_shape():
    net = mlp((10, 7, 5, 3))
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert net(torch.zeros(4, 10)).shape == (4, 3)


def test_autoencoder_shapes_and_pixel_range():
    torch.manual_seed(0)
    model = Autoencoder(input_dim=12, hidden_dims=(8, 6), latent_dim=3)
    x = torch.randn(5, 12)
    assert model.encode(x).shape == (5, 3)
    x_hat = model(x)
    assert x_hat.shape == (5, 12)
    assert torch.all((x_hat > 0) & (x_hat < 1))  # sigmoid output, like pixels


def test_linear_autoencoder_is_affine():
    torch.manual_seed(0)
    model = Autoencoder(input_dim=6, latent_dim=2, linear=True)
    a, b = torch.randn(1, 6), torch.randn(1, 6)
    # an affine map f satisfies f(a) + f(b) = f(a + b) + f(0)
    left = model(a) + model(b)
    right = model(a + b) + model(torch.zeros(1, 6))
    assert torch.allclose(left, right, atol=1e-6)
    assert [type(m).__name__ for m in model.decoder] == ["Linear"]


def test_vae_returns_x_hat_mu_log_var_and_samples_from_the_prior():
    torch.manual_seed(0)
    model = VAE(input_dim=12, hidden_dims=(8,), latent_dim=3)
    x = torch.rand(5, 12)
    x_hat, mu, log_var = model(x)
    assert x_hat.shape == (5, 12) and mu.shape == (5, 3) and log_var.shape == (5, 3)
    assert torch.equal(torch.cat(model.encode(x), dim=1), model.encoder(x))
    samples = model.sample(7, generator=torch.Generator().manual_seed(0))
    again = model.sample(7, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (7, 12) and torch.equal(samples, again)


def test_reparameterize_has_the_right_mean_and_spread_and_passes_gradients():
    torch.manual_seed(0)
    mu = torch.full((100_000, 1), 2.0, requires_grad=True)
    log_var = torch.full((100_000, 1), torch.log(torch.tensor(0.25)).item(), requires_grad=True)
    z = reparameterize(mu, log_var)
    assert z.mean().item() == pytest.approx(2.0, abs=0.01)
    assert z.std().item() == pytest.approx(0.5, abs=0.01)
    z.sum().backward()
    assert torch.all(mu.grad == 1.0)  # dz/dmu = 1
    assert log_var.grad is not None and log_var.grad.abs().sum() > 0


@pytest.mark.parametrize("model_class", [Autoencoder, VAE])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latent_dim": 0}, "latent_dim must be a positive int, got 0"),
        ({"latent_dim": 2.5}, "latent_dim must be a positive int"),
        ({"input_dim": -1}, "input_dim must be a positive int"),
        ({"hidden_dims": (256, 0)}, "hidden_dims must be a sequence of positive ints"),
        ({"hidden_dims": 256}, "hidden_dims must be a sequence of positive ints"),
    ],
)
def test_models_reject_bad_arguments(model_class, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model_class(**kwargs)


def test_mlp_and_sample_reject_bad_arguments():
    for sizes in [(784,), (784, 0), (784, 2.0), None]:
        with pytest.raises(
            ValueError, match=r"sizes must be two or more positive ints.*\(784, 2\)"
        ):
            mlp(sizes)
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        VAE(4, (3,), 2).sample(0)


def test_reparameterize_follows_its_generator_and_refuses_mismatched_shapes():
    mu, log_var = torch.zeros(3, 2), torch.zeros(3, 2)
    first = reparameterize(mu, log_var, torch.Generator().manual_seed(5))
    again = reparameterize(mu, log_var, torch.Generator().manual_seed(5))
    assert torch.equal(first, again)
    assert torch.equal(first, torch.randn(3, 2, generator=torch.Generator().manual_seed(5)))
    with pytest.raises(ValueError, match="mu and log_var must each be a tensor, of one shape"):
        reparameterize(mu, torch.zeros(3, 1))


def test_every_vae_shares_the_base_and_its_gaussian_likelihood():
    torch.manual_seed(0)
    x = torch.rand(6, 784)
    for model in (VAE(784, (16,), 3), ConvVAE(latent_dim=3, channels=(2, 4))):
        assert isinstance(model, BaseVAE)
        z = torch.randn(2, 6, 3)  # two draws per image
        x_hat = model.decode(z)
        expected = torch.distributions.Normal(x_hat, 0.1**0.5).log_prob(x).sum(-1)
        assert torch.allclose(model.log_likelihood(x, z, 0.1), expected, rtol=1e-5)
        with pytest.raises(ValueError, match="variance is needed for a Gaussian decoder"):
            model.log_likelihood(x, z)


def test_the_base_class_takes_any_encoder_and_decoder():
    model = BaseVAE(torch.nn.Linear(5, 4), torch.nn.Linear(2, 5), input_dim=5, latent_dim=2)
    x_hat, mu, log_var = model(torch.zeros(3, 5))
    assert x_hat.shape == (3, 5) and mu.shape == log_var.shape == (3, 2)
    assert model.sample(4).shape == (4, 5)
