"""The trained models that several chapters share, each trained once and then loaded from the cache.

A chapter calls e.g. ``train_vae(x_train, c=1.0)``; the first call trains (with a progress bar) and
saves the weights under :func:`vae_utils.cache_root`, later calls in any chapter load them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from vae_utils.cache import code_fingerprint, load_or_train
from vae_utils.classifier import Classifier, classifier_objective
from vae_utils.conditional import ConditionalVAE, conditional_vae_objective
from vae_utils.conv import ConvVAE
from vae_utils.losses import (
    autoencoder_objective,
    calibrated_vae_objective,
    reconstruction_error,
    vae_objective,
)
from vae_utils.models import VAE, Autoencoder
from vae_utils.seeds import generator, set_seed, shifted_seed
from vae_utils.train import LossFn, fit


def data_fingerprint(x: torch.Tensor) -> str:
    """A short SHA-256 of the data's shape, dtype and values: the same data, the same key."""
    digest = hashlib.sha256(f"{tuple(x.shape)} {x.dtype}".encode())
    digest.update(x.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _load_or_fit(
    model: torch.nn.Module,
    x: torch.Tensor,
    loss_fn: LossFn,
    key: dict[str, Any],
    num_epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    directory: str | Path | None,
    labels: torch.Tensor | None = None,
) -> list[float]:
    """Train ``model`` with :func:`fit` unless a run with the same key and data is cached."""
    key = {
        "data": data_fingerprint(x),
        **({"labels": data_fingerprint(labels)} if labels is not None else {}),
        **key,
        "num_epochs": num_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": shifted_seed(seed),
        "code": code_fingerprint(model, loss_fn),  # retrain when the code that trains changes
    }

    def train(m: torch.nn.Module) -> list[float]:
        return fit(
            m,
            x,
            loss_fn,
            num_epochs=num_epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            labels=labels,
        )

    return load_or_train(model, train, key, directory)


def train_autoencoder(
    x: torch.Tensor,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    linear: bool = False,
    num_epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    directory: str | Path | None = None,
) -> tuple[Autoencoder, list[float]]:
    """Build an :class:`Autoencoder` seeded by ``seed``, and train it on ``x: (n, 784)`` or load it.

    Returns:
        The model (in eval mode) and its loss history per epoch.
    """
    set_seed(seed)
    model = Autoencoder(x.shape[1], hidden_dims, latent_dim, linear=linear)
    key = {"latent_dim": latent_dim, "hidden_dims": list(hidden_dims), "linear": linear}
    history = _load_or_fit(
        model, x, autoencoder_objective, key, num_epochs, batch_size, lr, seed, directory
    )
    return model, history


def train_vae(
    x: torch.Tensor,
    c: float,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    linear: bool = False,
    num_epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    directory: str | Path | None = None,
) -> tuple[VAE, list[float]]:
    """Build a :class:`VAE` seeded by ``seed``, and train it with loss weight ``c`` or load it.

    Returns:
        The model (in eval mode) and its loss history per epoch.
    """
    set_seed(seed)
    model = VAE(x.shape[1], hidden_dims, latent_dim, linear=linear)
    key = {"c": c, "latent_dim": latent_dim, "hidden_dims": list(hidden_dims), "linear": linear}
    loss_fn = partial(vae_objective, c=c)
    history = _load_or_fit(model, x, loss_fn, key, num_epochs, batch_size, lr, seed, directory)
    return model, history


def train_calibrated_vae(
    x: torch.Tensor,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    num_epochs: int = 10,
    seed: int = 0,
    directory: str | Path | None = None,
) -> tuple[VAE, float]:
    """A :class:`VAE` whose decoder variance is learned (:func:`calibrated_vae_objective`).

    Returns:
        The model (in eval mode) and the variance ``c`` it settled on: the mean squared error per
        pixel of its reconstructions of ``x`` (one draw of ``z`` per image). Its ``C`` is
        ``1 / (2 c)``.
    """
    set_seed(seed)
    model = VAE(x.shape[1], hidden_dims, latent_dim)
    key = {"loss": "calibrated", "latent_dim": latent_dim, "hidden_dims": list(hidden_dims)}
    _load_or_fit(model, x, calibrated_vae_objective, key, num_epochs, 128, 1e-3, seed, directory)
    with torch.no_grad():  # c* = E_q ||x - d(z)||^2 / D, the variance its loss settles on
        mu, log_var = model.encode(x)
        noise = torch.randn(mu.shape, generator=generator(seed))
        x_hat = model.decode(mu + torch.exp(0.5 * log_var) * noise)
    return model, reconstruction_error(x, x_hat).mean().item() / x.shape[1]


def train_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    hidden_dims: Sequence[int] = (256,),
    num_epochs: int = 5,
    seed: int = 0,
    directory: str | Path | None = None,
) -> tuple[Classifier, list[float]]:
    """A :class:`Classifier` trained on images ``x: (n, 784)`` with labels ``y: (n,)``, or loaded.

    About 88% accuracy on the Fashion-MNIST test images after 5 epochs (a few seconds).
    """
    set_seed(seed)
    model = Classifier(x.shape[1], hidden_dims, int(y.max()) + 1)
    key = {"hidden_dims": list(hidden_dims)}
    history = _load_or_fit(
        model, x, classifier_objective, key, num_epochs, 128, 1e-3, seed, directory, labels=y
    )
    return model, history


def train_conditional_vae(
    x: torch.Tensor,
    y: torch.Tensor,
    c: float,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    num_epochs: int = 10,
    seed: int = 0,
    directory: str | Path | None = None,
) -> tuple[ConditionalVAE, list[float]]:
    """A :class:`ConditionalVAE` trained with weight ``c`` on ``x`` and labels ``y``, or loaded."""
    set_seed(seed)
    model = ConditionalVAE(x.shape[1], hidden_dims, latent_dim, int(y.max()) + 1)
    key = {"c": c, "latent_dim": latent_dim, "hidden_dims": list(hidden_dims)}
    loss_fn = partial(conditional_vae_objective, c=c)
    history = _load_or_fit(model, x, loss_fn, key, num_epochs, 128, 1e-3, seed, directory, labels=y)
    return model, history


def train_conv_vae(
    x: torch.Tensor,
    c: float,
    *,
    latent_dim: int = 10,
    num_epochs: int = 10,
    seed: int = 0,
    directory: str | Path | None = None,
) -> tuple[ConvVAE, list[float]]:
    """A :class:`ConvVAE` trained with loss weight ``c`` on ``x: (n, 784)``, or loaded."""
    set_seed(seed)
    model = ConvVAE(latent_dim)
    key = {"c": c, "latent_dim": latent_dim}
    loss_fn = partial(vae_objective, c=c)
    history = _load_or_fit(model, x, loss_fn, key, num_epochs, 128, 1e-3, seed, directory)
    return model, history


def train_vae_sweep(
    x: torch.Tensor,
    c_values: Sequence[float],
    *,
    progress: bool | None = None,
    **kwargs: Any,
) -> list[VAE]:
    """Train (or load) one :func:`train_vae` model per loss weight in ``c_values``.

    The first call trains every model, about 15 s each on 2 CPU cores for the full training set,
    with a progress bar over the sweep; later calls load them all from the cache in a second.

    Args:
        x: ``(n, 784)`` training images.
        c_values: the loss weights, each positive.
        progress: show the sweep's progress bar; by default shown except when ``CI`` is set.
        **kwargs: passed on to :func:`train_vae` (``latent_dim``, ``num_epochs``, ``seed``, ...).

    Returns:
        The models (in eval mode), in the order of ``c_values``.
    """
    if len(c_values) == 0 or not all(c > 0 for c in c_values):
        raise ValueError(f"c_values must be a non-empty list of positive weights, got {c_values}")
    if progress is None:
        progress = not os.environ.get("CI")
    models = []
    for c in tqdm(c_values, desc="VAEs over C", unit="model", disable=not progress):
        model, _ = train_vae(x, c, **kwargs)
        models.append(model)
    return models
