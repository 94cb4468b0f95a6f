"""Per-dimension KL and active units against direct computations, and latent traversals."""

import pytest
import torch

from vae_utils.collapse import active_units, kl_per_dimension
from vae_utils.latent import traverse
from vae_utils.losses import kl_to_standard_normal


def test_kl_per_dimension_matches_torch_distributions_and_sums_to_the_kl_term():
    generator = torch.Generator().manual_seed(0)
    mu, log_var = torch.randn(50, 4, generator=generator), torch.randn(50, 4, generator=generator)
    q = torch.distributions.Normal(mu, (0.5 * log_var).exp())
    expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean(0)
    per_dimension = kl_per_dimension(mu, log_var)
    assert torch.allclose(per_dimension, expected, atol=1e-5)
    assert per_dimension.sum().item() == pytest.approx(
        kl_to_standard_normal(mu, log_var).mean().item(), rel=1e-5
    )


def test_a_dimension_the_encoder_ignores_is_inactive_and_costs_nothing():
    generator = torch.Generator().manual_seed(0)
    used = 2 * torch.randn(200, 1, generator=generator)
    mu = torch.cat([used, torch.zeros(200, 1), 0.05 * torch.randn(200, 1, generator=generator)], 1)
    log_var = torch.cat([torch.full((200, 1), -4.0), torch.zeros(200, 2)], 1)
    assert active_units(mu).tolist() == [True, False, False]  # variance 4, 0 and 0.0025
    assert active_units(mu, threshold=0.001).tolist() == [True, False, True]
    kl = kl_per_dimension(mu, log_var)
    assert kl[1].item() == 0.0 and kl[0].item() > 1.0


def test_traverse_varies_one_coordinate_per_block():
    z, values = torch.tensor([0.5, -1.0, 2.0]), torch.linspace(-3, 3, 5)
    codes = traverse(z, values)
    assert codes.shape == (15, 3)
    for j in range(3):
        block = codes[5 * j : 5 * (j + 1)]
        assert torch.equal(block[:, j], values)
        others = [i for i in range(3) if i != j]
        assert torch.equal(block[:, others], z[others].expand(5, 2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kl_per_dimension(torch.zeros(3), torch.zeros(3)), "mu must be a tensor of shape"),
        (lambda: kl_per_dimension(torch.zeros(3, 2), torch.zeros(3, 1)), "log_var must have"),
        (
            lambda: active_units(torch.zeros(3, 2), threshold=0.0),
            r"threshold must be a positive number, got 0\.0; try 0\.01",
        ),
        (lambda: traverse(torch.zeros(2, 2), torch.zeros(3)), "z must be one code"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
