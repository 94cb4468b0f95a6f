"""The Bernoulli-decoder VAE: its likelihood against torch.distributions, its loss, binarisation,
and the importance-weighted bound with a Bernoulli decoder."""

import hashlib
import lzma
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load, load_file

from vae_utils.bernoulli import (
    BERNOULLI_WEIGHTS,
    VAMPPRIOR_WEIGHTS,
    BernoulliVAE,
    bernoulli_log_likelihood,
    binarize,
    load_shipped_bernoulli_vae,
    load_vampprior_vae,
    shipped_bernoulli_record,
)
from vae_utils.cache import load_weights, read_metadata, save_weights
from vae_utils.likelihood import elbo, importance_weighted_bound
from vae_utils.losses import kl_to_standard_normal
from vae_utils.objective import elbo_objective
from vae_utils.priors import VampPrior


def _binary(n=64, dim=20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.bernoulli(torch.rand(n, dim, generator=generator), generator=generator)


def test_log_likelihood_matches_torch_distributions():
    x = _binary()
    logits = 3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    expected = torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1)
    assert torch.allclose(bernoulli_log_likelihood(x, logits), expected, atol=1e-5)


def test_decode_gives_the_probabilities_of_the_logits():
    model = BernoulliVAE(20, (8,), 3)
    z = torch.randn(5, 3)
    probabilities = model.decode(z)
    assert torch.allclose(probabilities, torch.sigmoid(model.decode_logits(z)))
    assert probabilities.min() >= 0 and probabilities.max() <= 1


def test_loss_weighs_the_kl_term():
    model, x = BernoulliVAE(20, (8,), 3), _binary()
    losses = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)  # the same draw of z for both weights
        losses[weight] = elbo_objective(model, x, kl_weight=weight).item()
    kl = kl_to_standard_normal(*model.encode(x)).mean().item()
    assert losses[1.0] - losses[0.0] == pytest.approx(kl, abs=1e-5)
    torch.manual_seed(0)
    many = -elbo(model, x, None, num_samples=4000).mean().item()
    single = torch.stack([elbo_objective(model, x) for _ in range(400)]).mean().item()
    assert single == pytest.approx(many, rel=2e-3)  # the loss is the negative ELBO


def test_binarize_draws_zeros_and_ones_with_the_grey_level_as_probability():
    x = torch.full((200, 50), 0.3)
    binary = binarize(x, torch.Generator().manual_seed(0))
    assert set(binary.unique().tolist()) == {0.0, 1.0}
    assert binary.mean().item() == pytest.approx(0.3, abs=0.01)
    with pytest.raises(ValueError, match=r"grey levels in \[0, 1\]"):
        binarize(x * 4)


def test_importance_weighted_bound_rises_with_k_and_chunks_agree():
    torch.manual_seed(0)
    model, x = BernoulliVAE(20, (8,), 3), _binary(n=200)
    bounds = [importance_weighted_bound(model, x, None, k).mean().item() for k in (1, 10, 200)]
    assert bounds[0] < bounds[1] < bounds[2]
    torch.manual_seed(1)
    whole = importance_weighted_bound(model, x, None, 400).mean().item()
    torch.manual_seed(2)
    chunked = importance_weighted_bound(model, x, None, 400, max_elements=x.numel() * 7)
    assert chunked.mean().item() == pytest.approx(whole, abs=0.05)


def test_a_bernoulli_decoder_takes_no_variance_and_a_gaussian_one_needs_it():
    from vae_utils.models import VAE

    with pytest.raises(ValueError, match="has no decoder variance"):
        importance_weighted_bound(BernoulliVAE(20, (8,), 3), _binary(), 0.1, 5)
    with pytest.raises(ValueError, match="variance is needed for a Gaussian decoder"):
        elbo(VAE(20, (8,), 3), _binary(), None)


def test_shipped_weights_are_checked_before_they_are_loaded(tmp_path):
    path = tmp_path / "bernoulli.safetensors"
    with pytest.raises(FileNotFoundError, match="is missing"):
        load_shipped_bernoulli_vae(path)
    torch.manual_seed(0)
    trained = BernoulliVAE()
    save_weights(trained, path, {})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = load_shipped_bernoulli_vae(path, sha256=digest)
    assert torch.equal(
        loaded.decode_logits(torch.zeros(1, 40)), trained.decode_logits(torch.zeros(1, 40))
    )
    with pytest.raises(ValueError, match="corrupted or was retrained"):
        load_shipped_bernoulli_vae(path, sha256="0" * 64)


def test_the_shipped_record_holds_the_training_metadata_and_the_evaluation():
    record = shipped_bernoulli_record()
    assert record["training"] == read_metadata(BERNOULLI_WEIGHTS)
    assert record["training"]["minutes"] > 0 and len(record["training"]["history"]) > 0
    assert record["evaluation"]["elbo_nats"] < record["evaluation"]["log_likelihood_nats"] < 0
    assert record["evaluation"]["num_samples"] >= 1000
    for path in (BERNOULLI_WEIGHTS, VAMPPRIOR_WEIGHTS):  # half precision: 2.8 MB, not 7.1
        assert read_metadata(path)["dtype"] == "float16"
        tensors = load(lzma.decompress(path.read_bytes()))  # shipped xz-compressed
        assert {t.dtype for t in tensors.values()} == {torch.float16}


def test_the_bernoulli_likelihood_is_the_models_own_method():
    model = BernoulliVAE(20, (8,), 3)
    x, z = _binary(), torch.randn(4, 64, 3)  # four draws per image
    expected = torch.distributions.Bernoulli(logits=model.decode_logits(z)).log_prob(x).sum(-1)
    assert torch.allclose(model.log_likelihood(x, z), expected, atol=1e-5)
    assert model.log_likelihood(x, z).shape == (4, 64)


ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_bernoulli_vae.py"


def _train_with_script(output: Path, *options: str) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output), *options],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )


def test_training_script_reproduces_its_weights_on_a_cheap_setting(tmp_path):
    cheap = ("--epochs", "2", "--warmup-epochs", "1", "--limit", "200", "--batch-size", "50")
    first, second = tmp_path / "first.safetensors", tmp_path / "second.safetensors"
    _train_with_script(first, *cheap)
    _train_with_script(second, *cheap)
    a, b = BernoulliVAE(), BernoulliVAE()
    metadata = load_weights(a, first)
    load_weights(b, second)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name  # same seed, same settings: the same weights
    assert len(metadata["history"]) == 2 and metadata["settings"]["limit"] == 200
    # stored in half precision, as the shipped files are
    assert metadata["dtype"] == "float16"
    assert {t.dtype for t in load_file(str(first)).values()} == {torch.float16}


def test_shipped_weights_were_made_with_the_scripts_defaults():
    script = runpy.run_path(str(SCRIPT))  # defines argument_parser, does not train
    defaults = vars(script["parse_settings"]([]))
    settings = shipped_bernoulli_record()["training"]["settings"]
    for option in ("epochs", "warmup_epochs", "batch_size", "lr", "seed", "limit"):
        assert settings.get(option) == defaults[option], option


def test_training_script_trains_a_vampprior_model_that_loads(tmp_path):
    output = tmp_path / "vamp.safetensors.xz"  # compressed, as the shipped file is
    cheap = ("--epochs", "1", "--limit", "200", "--batch-size", "50", "--pseudo-inputs", "6")
    _train_with_script(output, "--prior", "vamp", *cheap)
    model = load_vampprior_vae(output, sha256=None)
    assert model.prior.pseudo_inputs.shape == (6, 784)
    assert read_metadata(output)["settings"]["prior"] == "vamp"
    script = runpy.run_path(str(SCRIPT))
    assert script["parse_settings"](["--prior", "vamp"]).epochs == 300


def test_the_shipped_vampprior_model_loads_checksummed_with_its_pseudo_inputs():
    model = load_vampprior_vae()  # checksum verified
    assert isinstance(model.prior, VampPrior)
    assert model.prior.pseudo_inputs.shape == (500, 784)
    z = model.prior.sample(3, 40, model.encode, torch.Generator().manual_seed(0))
    assert torch.isfinite(model.log_prior(z)).all()


def test_the_vampprior_record_was_made_with_the_scripts_defaults_and_the_full_protocol():
    record = shipped_bernoulli_record(prior="vamp")
    defaults = vars(runpy.run_path(str(SCRIPT))["parse_settings"](["--prior", "vamp"]))
    for option in ("epochs", "warmup_epochs", "batch_size", "lr", "seed", "limit", "prior"):
        assert record["training"]["settings"].get(option) == defaults[option], option
    assert record["training"]["settings"]["pseudo_inputs"] == defaults["pseudo_inputs"] == 500
    evaluation = record["evaluation"]
    assert evaluation["prior"] == "vamp"
    assert evaluation["num_samples"] == 5000 and evaluation["num_images"] == 10_000
    with pytest.raises(ValueError, match="prior must be 'standard' or 'vamp'"):
        shipped_bernoulli_record(prior="flow")
