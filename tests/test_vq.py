"""The VQ-VAE against independent computations: brute-force nearest codes, autograd at the
quantised point, the closed-form gradient of the codebook loss, a manual entropy."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from vae_utils.recipes import train_vqvae
from vae_utils.train import TrainConfig, fit
from vae_utils.vq import (
    VQVAE,
    VectorQuantizer,
    VQVAELoss,
    code_usage,
    perplexity,
    reinit_dead_codes,
    vqvae_objective,
)


def spread_quantizer(num_codes: int, code_dim: int, seed: int = 0) -> VectorQuantizer:
    """A quantizer whose codes are spread like the test inputs, so that many codes are used."""
    quantizer = VectorQuantizer(num_codes, code_dim)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(seed)
        quantizer.codebook.weight.copy_(torch.randn(num_codes, code_dim, generator=generator))
    return quantizer


def test_the_codebook_starts_uniform_in_plus_minus_one_over_k():
    torch.manual_seed(0)
    weight = VectorQuantizer(num_codes=50, code_dim=4).codebook.weight
    assert weight.shape == (50, 4)
    assert weight.abs().max() <= 1 / 50 and weight.std() > 0.2 / 50


@pytest.mark.parametrize("shape", [(40, 5), (3, 4, 4, 5)])
def test_indices_are_the_brute_force_nearest_codes(shape):
    quantizer = spread_quantizer(num_codes=16, code_dim=5)
    z_e = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    out = quantizer(z_e)
    flat = z_e.reshape(-1, 5).double()
    codes = quantizer.codebook.weight.detach().double()
    distances = torch.cdist(flat, codes, compute_mode="donot_use_mm_for_euclid_dist")
    expected = distances.argmin(dim=1).view(shape[:-1])
    assert out.indices.dtype == torch.long and torch.equal(out.indices, expected)
    # the forward value is the chosen code itself
    assert out.z_q_straight_through.shape == shape
    assert torch.allclose(out.z_q_straight_through, codes.float()[expected], atol=1e-6)
    assert len(out.indices.unique()) > 5  # a real choice among many codes, not one


def test_the_straight_through_gradient_is_the_gradient_at_the_quantised_point():
    quantizer = spread_quantizer(num_codes=8, code_dim=3)
    z_e = torch.randn(10, 3, generator=torch.Generator().manual_seed(2), requires_grad=True)
    weights = torch.randn(10, 3, generator=torch.Generator().manual_seed(3))

    def f(z: torch.Tensor) -> torch.Tensor:  # non-linear, so its gradient depends on the point
        return (weights * z.pow(3)).sum() + z.sin().sum()

    (gradient_st,) = torch.autograd.grad(f(quantizer(z_e).z_q_straight_through), z_e)

    z_q = quantizer.codebook.weight.detach()[quantizer(z_e).indices].clone().requires_grad_()
    (gradient_at_z_q,) = torch.autograd.grad(f(z_q), z_q)
    (gradient_at_z_e,) = torch.autograd.grad(f(z_e), z_e)
    assert torch.allclose(gradient_st, gradient_at_z_q, atol=1e-6)
    assert not torch.allclose(gradient_st, gradient_at_z_e, atol=1e-3)  # evaluated at z_q, not z_e


def test_plain_argmin_quantisation_gives_the_encoder_no_gradient():
    quantizer = spread_quantizer(num_codes=8, code_dim=3)
    z_e = torch.randn(10, 3, generator=torch.Generator().manual_seed(4), requires_grad=True)
    distances = torch.cdist(z_e, quantizer.codebook.weight)  # differentiable in z_e...
    z_q = quantizer.codebook(distances.argmin(dim=1))  # ...but argmin returns integers
    (gradient,) = torch.autograd.grad(z_q.pow(2).sum(), z_e, allow_unused=True)
    assert gradient is None
    # the straight-through output of the same codes does pass a gradient
    (gradient_st,) = torch.autograd.grad(quantizer(z_e).z_q_straight_through.pow(2).sum(), z_e)
    assert torch.allclose(gradient_st, 2 * z_q.detach())


def test_the_codebook_loss_pulls_the_used_codes_to_their_encoder_outputs_only():
    torch.manual_seed(5)
    encoder = nn.Linear(4, 3)
    quantizer = spread_quantizer(num_codes=12, code_dim=3, seed=6)
    z_e = encoder(torch.randn(30, 4))
    out = quantizer(z_e)
    out.codebook_loss.backward()
    assert encoder.weight.grad is None and encoder.bias.grad is None  # sg[z_e]

    before = quantizer.codebook.weight.detach().clone()
    counts = torch.bincount(out.indices, minlength=12)
    used = counts.nonzero().squeeze(1).tolist()
    means = {k: z_e.detach()[out.indices == k].mean(dim=0) for k in used}
    # closed form: d/de_k mean_i ||z_i - e_{k(i)}||^2 = (2 / N) * n_k * (e_k - mean of its z_i)
    expected = torch.zeros_like(before)
    for k in used:
        expected[k] = 2 / len(z_e) * counts[k] * (before[k] - means[k])
    assert torch.allclose(quantizer.codebook.weight.grad, expected, atol=1e-6)

    torch.optim.SGD(quantizer.parameters(), lr=0.5).step()
    after = quantizer.codebook.weight.detach()
    assert 2 <= len(used) < 12
    for k in range(12):
        if k in used:
            assert (after[k] - means[k]).norm() < (before[k] - means[k]).norm()
        else:
            assert torch.equal(after[k], before[k])  # an unused code gets no gradient


def test_the_commitment_loss_moves_the_encoder_not_the_codebook():
    quantizer = spread_quantizer(num_codes=8, code_dim=3)
    z_e = torch.randn(10, 3, generator=torch.Generator().manual_seed(7), requires_grad=True)
    out = quantizer(z_e)
    out.commitment_loss.backward()
    grad = quantizer.codebook.weight.grad
    assert grad is None or torch.count_nonzero(grad) == 0
    z_q = quantizer.codebook.weight.detach()[out.indices]
    assert torch.allclose(z_e.grad, 2 * (z_e.detach() - z_q) / len(z_e), atol=1e-6)
    expected_loss = (z_e.detach() - z_q).pow(2).sum(dim=1).mean()
    assert torch.allclose(out.commitment_loss, expected_loss)
    assert torch.allclose(out.codebook_loss, expected_loss)  # same value, other gradient


def test_perplexity_is_k_for_uniform_use_one_for_one_code_and_the_manual_entropy():
    assert perplexity(torch.arange(64).repeat(3), 64).item() == pytest.approx(64.0)
    assert perplexity(torch.full((5, 7, 7), 3), 64).item() == pytest.approx(1.0)
    indices = torch.tensor([0, 0, 0, 1, 1, 4, 4, 4, 4, 5])  # codes 2, 3 unused
    counts = np.bincount(indices.numpy(), minlength=6)
    p = counts[counts > 0] / counts.sum()
    assert np.allclose(code_usage(indices, 6).numpy(), counts / counts.sum())
    expected = math.exp(-float(np.sum(p * np.log(p))))
    assert perplexity(indices, 6).item() == pytest.approx(expected, rel=1e-6)
    assert 1 < expected < 4


def test_reinit_dead_codes_resets_exactly_the_unused_codes_to_encoder_outputs():
    torch.manual_seed(8)
    quantizer = VectorQuantizer(num_codes=6, code_dim=3)
    before = quantizer.codebook.weight.detach().clone()
    z_e = 5 + torch.randn(2, 4, 3)  # far from the initial codes
    indices = torch.tensor([[0, 2, 2], [3, 0, 0]])  # codes 1, 4 and 5 are dead
    assert reinit_dead_codes(quantizer, z_e, indices, torch.Generator().manual_seed(0)) == 3
    after = quantizer.codebook.weight.detach()
    assert torch.equal(after[[0, 2, 3]], before[[0, 2, 3]])
    rows = z_e.reshape(-1, 3)
    new_codes = after[[1, 4, 5]]
    matches = (new_codes[:, None] == rows[None]).all(dim=-1)  # (3 codes, 8 rows)
    assert torch.all(matches.sum(dim=1) == 1)  # each new code is a row of z_e...
    assert len(matches.int().argmax(dim=1).unique()) == 3  # ...and a different one
    # each new code is the nearest to the row it copies, so it is used from now on
    assert {1, 4, 5} <= set(quantizer(z_e).indices.unique().tolist())


def test_vqvae_shapes_and_decoding_indices_or_codes():
    torch.manual_seed(9)
    model = VQVAE()
    assert model.num_codes == 64 and model.code_dim == 16 and model.bits_per_image == 294
    x = torch.rand(5, 784)
    z_e = model.encode(x)
    assert z_e.shape == (5, 7, 7, 16)
    vq = model.quantize(z_e)
    assert vq.indices.shape == (5, 7, 7) and vq.z_q_straight_through.shape == (5, 7, 7, 16)
    x_hat, vq_forward = model(x)
    assert x_hat.shape == (5, 784) and torch.all((x_hat > 0) & (x_hat < 1))
    assert torch.equal(vq_forward.indices, vq.indices)
    assert torch.allclose(model.decode(vq.indices), x_hat, atol=1e-6)
    assert torch.allclose(model.decode(vq.z_q_straight_through), x_hat, atol=1e-6)


def test_the_objective_adds_its_terms_and_a_few_adam_steps_lower_it():
    torch.manual_seed(10)
    model = VQVAE(num_codes=16, code_dim=4, channels=(4, 8))
    # blocky images with dark backgrounds, like clothes: structure the codes can carry
    blocks = torch.rand(32, 1, 7, 7, generator=torch.Generator().manual_seed(0)).pow(3)
    x = nn.functional.interpolate(blocks, scale_factor=4).view(32, 784)
    x_hat, vq = model(x)
    expected = (x - x_hat).pow(2).sum(dim=1).mean() + vq.codebook_loss + 0.5 * vq.commitment_loss
    assert torch.allclose(vqvae_objective(model, x, beta=0.5), expected)

    with torch.no_grad():
        start = vqvae_objective(model, x).item()
    config = TrainConfig(num_epochs=4, batch_size=8, lr=1e-2)  # 16 Adam steps
    fit(model, x, vqvae_objective, config, progress=False)
    with torch.no_grad():
        end = vqvae_objective(model, x).item()
    assert end < 0.8 * start


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="num_codes must be a positive int, got 0"):
        VectorQuantizer(num_codes=0)
    with pytest.raises(ValueError, match="code_dim must be a positive int"):
        VectorQuantizer(code_dim=2.5)
    quantizer = VectorQuantizer(num_codes=8, code_dim=3)
    with pytest.raises(ValueError, match=r"z_e must be a tensor of shape \(..., code_dim=3\)"):
        quantizer(torch.zeros(2, 3, 7, 7))  # channels first
    with pytest.raises(ValueError, match="indices must be a non-empty integer tensor"):
        perplexity(torch.tensor([0.0, 1.0]), 8)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 8\), got values from 0 to 9"):
        code_usage(torch.tensor([0, 9]), 8)
    with pytest.raises(ValueError, match="z_e must be a tensor of shape"):
        reinit_dead_codes(quantizer, torch.zeros(4, 5), torch.tensor([0]))
    with pytest.raises(ValueError, match="quantizer must be a VectorQuantizer"):
        reinit_dead_codes(nn.Linear(3, 3), torch.zeros(4, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="channels must be two positive ints"):
        VQVAE(channels=(32,))
    model = VQVAE(num_codes=8, code_dim=3, channels=(2, 4))
    with pytest.raises(ValueError, match="x must have 784 columns"):
        model.encode(torch.zeros(2, 28, 28).view(2, -1)[:, :700])
    with pytest.raises(ValueError, match=r"z must be codes \(batch, 7, 7, 3\) or indices"):
        model.decode(torch.zeros(2, 3, 7, 7))
    with pytest.raises(ValueError, match="beta must be a non-negative number, got -1"):
        vqvae_objective(model, torch.zeros(2, 784), beta=-1)


def test_the_training_loss_without_restarts_is_the_objective():
    torch.manual_seed(0)
    model, x = VQVAE(num_codes=8, code_dim=4), torch.rand(16, 784)
    expected = vqvae_objective(model, x, beta=0.5)
    loss_fn = VQVAELoss(beta=0.5)
    torch.testing.assert_close(loss_fn(model, x), expected)
    assert loss_fn.restarts == 0 and len(loss_fn.perplexities) == 1


def test_the_training_loss_restarts_the_codes_unused_since_the_last_restart():
    torch.manual_seed(1)
    model, x = VQVAE(num_codes=64, code_dim=4), torch.rand(4, 784)
    loss_fn = VQVAELoss(reinit_every=1)
    loss_fn(model, x)  # the first step records the codes chosen, restarts nothing
    with torch.no_grad():
        z_e = model.encode(x).reshape(-1, 4)
        unused = 64 - int((code_usage(model.quantize(model.encode(x)).indices, 64) > 0).sum())
    before = model.quantizer.codebook.weight.detach().clone()
    loss_fn(model, x)
    changed = (model.quantizer.codebook.weight != before).any(dim=1)
    assert loss_fn.restarts == unused == int(changed.sum()) > 0
    # each restarted code is one of the previous batch's encoder outputs
    restarted = model.quantizer.codebook.weight[changed].detach()
    distance = (restarted[:, None] - z_e[None]).abs().amax(dim=2)  # (restarted, outputs)
    assert distance.min(dim=1).values.max().item() == 0.0


def test_the_training_loss_needs_a_vqvae_and_a_valid_interval():
    with pytest.raises(ValueError, match="VQVAE"):
        VQVAELoss()(nn.Linear(784, 784), torch.rand(2, 784))
    with pytest.raises(ValueError, match="reinit_every"):
        VQVAELoss(reinit_every=0)
    with pytest.raises(ValueError, match="beta"):
        VQVAELoss(beta=-1.0)


def test_restarts_raise_code_usage_in_a_short_training(tmp_path):
    x = torch.rand(512, 784, generator=torch.Generator().manual_seed(4)).round()
    config = TrainConfig(num_epochs=2, batch_size=64, lr=3e-3)
    plain, plain_history = train_vqvae(x, num_codes=32, config=config, directory=tmp_path)
    restarted, history = train_vqvae(
        x, num_codes=32, reinit_every=4, config=config, directory=tmp_path
    )
    assert history["restarts"][0] > 0 == plain_history["restarts"][0]
    assert len(history["perplexity"]) == 16 and len(history["loss"]) == 2
    with torch.no_grad():
        used = [int((code_usage(m(x)[1].indices, 32) > 0).sum()) for m in (plain, restarted)]
    assert used[1] > used[0]
    again, cached = train_vqvae(x, num_codes=32, reinit_every=4, config=config, directory=tmp_path)
    assert cached == history
    torch.testing.assert_close(again.state_dict(), restarted.state_dict())
