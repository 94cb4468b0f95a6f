"""The likelihood record's models and its resumable training script (issue 32)."""

import json
import math
import runpy
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from vae_utils.cache import read_metadata
from vae_utils.record import (
    GatedBernoulliVAE,
    GatedDense,
    GatedEncoder,
    GatedTwoLevelVAE,
    importance_weighted_bound,
    load_record_vae,
    normalise_gradients,
)

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_record.py"
EVALUATE = SCRIPT.with_name("evaluate_bernoulli_vae.py")


def test_a_gated_layer_is_a_linear_map_gated_by_a_sigmoid():
    torch.manual_seed(0)
    layer = GatedDense(784, 300)
    x = torch.randn(5, 784)
    expected = (x @ layer.linear.weight.T + layer.linear.bias) * torch.sigmoid(
        x @ layer.gate.weight.T + layer.gate.bias
    )
    torch.testing.assert_close(layer(x), expected)
    # He initialisation: weights of standard deviation sqrt(2 / fan_in)
    for weight in (layer.linear.weight, layer.gate.weight):
        assert abs(weight.std().item() / math.sqrt(2 / 784) - 1) < 0.02


def test_the_encoders_log_variances_are_clipped_to_minus_six_and_two():
    encoder = GatedEncoder(20, 8, 4)
    x = torch.randn(3, 20)
    with torch.no_grad():
        encoder.log_var[0].weight.zero_()
        encoder.log_var[0].bias.copy_(torch.tensor([100.0, -100.0, 1.0, -5.0]))
    log_var = encoder(x).chunk(2, dim=-1)[1]
    assert torch.equal(log_var, torch.tensor([2.0, -6.0, 1.0, -5.0]).expand(3, 4))


def test_the_model_is_a_bernoulli_vae_with_gated_networks():
    model = GatedBernoulliVAE()
    x = torch.bernoulli(torch.full((4, 784), 0.3))
    mu, log_var = model.encode(x)
    assert mu.shape == log_var.shape == (4, 40)
    z = torch.randn(2, 4, 40)
    assert model.log_likelihood(x, z).shape == (2, 4)
    assert sum(isinstance(m, GatedDense) for m in model.modules()) == 4


def test_normalised_gradients_have_unit_length():
    model = GatedDense(6, 3)
    model(torch.randn(10, 6)).pow(2).sum().backward()
    normalise_gradients(model.parameters())
    for parameter in model.parameters():
        assert abs(parameter.grad.norm().item() - 1) < 1e-5


def _train(checkpoint: Path, *extra: str) -> None:
    cheap = ["--limit", "200", "--batch-size", "50", "--pseudo-inputs", "4"]
    runpy.run_path(str(SCRIPT))["main"](
        ["--checkpoint", str(checkpoint), *cheap, "--warmup-epochs", "2", *extra]
    )


def test_a_run_resumed_from_its_checkpoint_ends_as_one_that_never_stopped(tmp_path):
    _train(tmp_path / "straight", "--epochs", "3")
    _train(tmp_path / "resumed", "--epochs", "1")  # a first sitting of one epoch
    _train(tmp_path / "resumed", "--epochs", "3")  # continues at epoch 2
    runs = ("straight", "resumed")
    straight = load_file(tmp_path / "straight" / "state.safetensors")
    resumed = load_file(tmp_path / "resumed" / "state.safetensors")
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name
    records = [json.loads((tmp_path / run / "state.json").read_text()) for run in runs]
    for key in ("epoch", "train_loss", "validation_elbo", "best_epoch"):
        assert records[0][key] == records[1][key], key
    assert records[0]["epoch"] == 3
    # the best weights went to the output, in half precision, and load into the model
    output = tmp_path / "resumed" / "best.safetensors.xz"
    assert load_record_vae(output).prior.pseudo_inputs.shape == (4, 784)
    assert read_metadata(output)["record"]["best_epoch"] == records[1]["best_epoch"]


def test_a_checkpoint_of_other_settings_is_refused(tmp_path):
    _train(tmp_path / "run", "--epochs", "1")
    try:
        _train(tmp_path / "run", "--epochs", "2", "--lr", "1e-3")
    except SystemExit as error:
        assert "other settings" in str(error)
    else:
        raise AssertionError("a checkpoint of another learning rate was resumed")


def test_the_evaluation_keeps_every_images_bound_for_paired_differences(tmp_path):
    _train(tmp_path / "run", "--epochs", "1")
    weights = tmp_path / "run" / "best.safetensors.xz"
    model = load_record_vae(weights)
    assert model.prior.pseudo_inputs.shape == (4, 784) and not model.training
    evaluate = runpy.run_path(str(EVALUATE))["main"]
    result_path = tmp_path / "result.json"
    arguments = ["--record", str(weights), "--seed", "777", "--limit", "20", "--num-samples", "5"]
    evaluate([*arguments, "--output", str(result_path)])
    result = json.loads(result_path.read_text())
    per_image = load_file(result_path.with_suffix(".per_image.safetensors"))
    assert result["prior"] == "vamp" and result["num_images"] == 20
    assert result["binarization_seed"] == 777
    assert per_image["log_likelihood"].shape == per_image["elbo"].shape == (20,)
    mean = per_image["log_likelihood"].mean().item()
    assert math.isclose(mean, result["log_likelihood_nats"], abs_tol=1e-3)


def test_the_two_level_model_has_the_reference_codes_size_and_a_consistent_elbo():
    torch.manual_seed(0)
    model = GatedTwoLevelVAE()
    # HVAE_2level of Tomczak and Welling's code: about 2.43 million parameters
    assert abs(sum(p.numel() for p in model.parameters()) - 2.43e6) < 0.01e6
    x = torch.bernoulli(torch.full((6, 784), 0.3))
    torch.manual_seed(1)
    loss = model.objective(x)
    torch.manual_seed(1)
    assert torch.allclose(loss, -model.log_weights(x).mean())  # the same draw: the negative ELBO
    with torch.no_grad():
        _, kl = model.terms(x, 2000)
    assert kl.mean() > 0  # a KL, estimated from 2,000 draws per image
    torch.manual_seed(2)
    bound = importance_weighted_bound(model, x, 4, chunk=3)
    torch.manual_seed(2)
    with torch.no_grad():
        weights = torch.cat([model.log_weights(x, 3), model.log_weights(x, 1)]).double()
    torch.testing.assert_close(bound, torch.logsumexp(weights, 0) - math.log(4))


def test_the_two_level_record_model_trains_loads_and_is_evaluated(tmp_path):
    _train(tmp_path / "hvae", "--epochs", "1", "--levels", "2")
    weights = tmp_path / "hvae" / "best.safetensors.xz"
    model = load_record_vae(weights)
    assert isinstance(model, GatedTwoLevelVAE) and model.prior.pseudo_inputs.shape == (4, 784)
    result_path = tmp_path / "result.json"
    arguments = ["--record", str(weights), "--limit", "10", "--num-samples", "3"]
    runpy.run_path(str(EVALUATE))["main"]([*arguments, "--output", str(result_path)])
    per_image = load_file(result_path.with_suffix(".per_image.safetensors"))
    assert per_image["log_likelihood"].shape == (10,) and torch.isfinite(per_image["elbo"]).all()


def test_the_two_level_model_refuses_bad_settings_and_images():
    with pytest.raises(ValueError, match="latent_dims"):
        GatedTwoLevelVAE(latent_dims=40)
    with pytest.raises(ValueError, match="z1_dim"):
        GatedTwoLevelVAE(latent_dims=(0, 40))
    with pytest.raises(ValueError, match="layers"):
        GatedEncoder(784, 300, 40, layers=0)
    model = GatedTwoLevelVAE()
    with pytest.raises(ValueError, match="784"):
        model.log_weights(torch.zeros(3, 100))
    with pytest.raises(ValueError, match="num_samples"):
        model.log_weights(torch.zeros(3, 784), 0)
