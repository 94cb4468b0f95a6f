"""vae_utils end to end on a device: train, score, sample and walk the latent space with every
tensor on it (issue 29, item 7).

The course never needs an accelerator, but a reader on a GPU runtime may pass ``device="cuda"``
to ``vu.fit``. Each test runs on the CPU and on every accelerator this machine has (CUDA, MPS),
or on the devices named in ``$VAE_UTILS_TEST_DEVICES`` (``cuda:0,cpu``). On an accelerator, each
result must also equal the CPU's up to float rounding. On a CPU-only machine the tests take the
same path, ``.to(device)`` included, with ``device="cpu"``.
"""

from __future__ import annotations

import os
from functools import partial

import pytest
import torch

import vae_utils as vu


def devices() -> list[str]:
    named = os.environ.get("VAE_UTILS_TEST_DEVICES")
    if named:
        return [name.strip() for name in named.split(",") if name.strip()]
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return found


DEVICES = devices()
CONFIG = vu.TrainConfig(num_epochs=2, batch_size=32, lr=1e-3)


def images(n: int = 96) -> torch.Tensor:
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(0))


def on(device: str, t: torch.Tensor) -> bool:
    return t.device.type == torch.device(device).type


def trained_vae(device: str) -> tuple[vu.VAE, list[float]]:
    vu.set_seed(0)
    model = vu.VAE(784, (32,), 2)
    history = vu.fit(
        model, images(), partial(vu.vae_objective, C=10.0), CONFIG, device=device, progress=False
    )
    return model, history


@pytest.mark.parametrize("device", DEVICES)
def test_a_vae_trains_and_is_scored_and_sampled_on_the_device(device):
    model, history = trained_vae(device)
    assert all(on(device, p) for p in model.parameters())
    assert len(history) == CONFIG.num_epochs and all(map(torch.isfinite, torch.tensor(history)))
    x = images(16).to(device)
    vu.set_seed(1)
    results = {
        "elbo": vu.elbo(model, x, 0.05, num_samples=4),
        "bound": vu.importance_weighted_bound(model, x, 0.05, 8),
        "samples": model.sample(5),
        "kl": vu.kl_to_standard_normal(*model.encode(x)),
        "error": vu.reconstruction_error(x, model(x)[0]),
    }
    z = model.encode(x)[0].detach()
    results["walk"] = model.decode(vu.interpolate(z[0], z[1], 5))
    results["traverse"] = model.decode(vu.traverse(z[0], torch.linspace(-2, 2, 5).to(device)))
    for name, value in results.items():
        assert on(device, value), f"{name} left the device: {value.device}"
        assert bool(torch.isfinite(value).all()), name
    assert results["elbo"].shape == results["bound"].shape == (16,)
    if device != "cpu":  # the same training and the same draws on the CPU
        reference, _ = trained_vae("cpu")
        for a, b in zip(model.parameters(), reference.parameters(), strict=True):
            torch.testing.assert_close(a.cpu(), b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_models_trained_together_stay_on_the_device(device):
    vu.set_seed(0)
    models = [vu.VAE(784, (16,), 2) for _ in range(3)]
    histories = vu.fit_together(
        models,
        images(),
        vu.vae_objective,
        CONFIG,
        loss_kwargs={"C": [1.0, 10.0, 100.0]},
        device=device,
        progress=False,
    )
    assert len(histories) == 3 and all(len(h) == CONFIG.num_epochs for h in histories)
    assert all(on(device, p) for model in models for p in model.parameters())


@pytest.mark.parametrize("device", DEVICES)
def test_the_convolutional_and_vq_vaes_train_on_the_device(device):
    vu.set_seed(0)
    conv = vu.ConvVAE(4, (4, 8))
    vu.fit(conv, images(), partial(vu.vae_objective, C=10.0), CONFIG, device=device, progress=False)
    x = images(8).to(device)
    assert on(device, vu.elbo(conv, x, 0.05, num_samples=2))
    vq = vu.vq.VQVAE(8, 4, (4, 8))
    loss = vu.vq.VQVAELoss(reinit_every=2)  # restarts dead codes: indices drawn on the CPU
    vu.fit(vq, images(), loss, CONFIG, device=device, progress=False)
    assert loss.restarts > 0
    assert all(on(device, p) for p in vq.parameters())
    assert on(device, vq(x)[0])
