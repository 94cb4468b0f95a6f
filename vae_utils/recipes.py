"""The trained models that several chapters share, each trained once and then loaded from the cache.

A chapter calls e.g. ``train_vae(x_train, C=1.0)``; the first call trains (with a progress bar) and
saves the weights under :func:`vae_utils.cache_root`, later calls in any chapter load them. Every
recipe is the same template, :func:`train_or_load`: seed, build the model, then train it with
:func:`vae_utils.fit` unless a run with the same key is cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn
from tqdm import tqdm

from vae_utils._checks import check_positive_number
from vae_utils._progress import show_progress
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
from vae_utils.models import VAE, Autoencoder, reparameterize
from vae_utils.seeds import generator, set_seed, shifted_seed
from vae_utils.train import LossFn, TrainConfig, fit

Model = TypeVar("Model", bound=nn.Module)


def data_fingerprint(x: torch.Tensor) -> str:
    """A short SHA-256 of the data's shape, dtype and values: the same data, the same key."""
    digest = hashlib.sha256(f"{tuple(x.shape)} {x.dtype}".encode())
    digest.update(x.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def train_or_load(
    build: Callable[[], Model],
    x: torch.Tensor,
    loss_fn: LossFn,
    key: dict[str, Any],
    config: TrainConfig | None = None,
    *,
    labels: torch.Tensor | None = None,
    directory: str | Path | None = None,
) -> tuple[Model, list[float]]:
    """The template of every recipe: seed, ``build()`` the model, train it or load it.

    The cache key holds ``key`` (what defines the model and its loss), the training config (its
    seed shifted), fingerprints of the data and labels, and of the code that trains
    (:func:`vae_utils.code_fingerprint`): change any of them and the model is trained again.

    Args:
        build: makes the untrained model; called right after the seed is set, so that its initial
            weights are reproducible.
        x: ``(n, input_dim)`` training data.
        loss_fn: as for :func:`vae_utils.fit`.
        key: JSON-serialisable settings of the model and loss, e.g. ``{"C": 1.0, "latent_dim": 2}``.
        config: as for :func:`vae_utils.fit`; ``TrainConfig()`` by default.
        labels: ``(n,)``, as for :func:`vae_utils.fit`.
        directory: the cache; :func:`vae_utils.cache_root` by default.

    Returns:
        The model (in eval mode) and its loss history per epoch.
    """
    config = TrainConfig() if config is None else config
    set_seed(config.seed)
    model = build()
    full_key = {
        "data": data_fingerprint(x),
        **({"labels": data_fingerprint(labels)} if labels is not None else {}),
        **key,
        **dataclasses.asdict(config),
        "seed": shifted_seed(config.seed),
        "code": code_fingerprint(model, loss_fn),  # retrain when the code that trains changes
    }
    history = load_or_train(
        model, lambda m: fit(m, x, loss_fn, config, labels=labels), full_key, directory
    )
    return model, history


def train_autoencoder(
    x: torch.Tensor,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[Autoencoder, list[float]]:
    """An :class:`Autoencoder` trained on ``x: (n, 784)`` (or loaded), and its loss per epoch."""
    return train_or_load(
        lambda: Autoencoder(x.shape[1], hidden_dims, latent_dim),
        x,
        autoencoder_objective,
        {"latent_dim": latent_dim, "hidden_dims": list(hidden_dims)},
        config,
        directory=directory,
    )


def train_vae(
    x: torch.Tensor,
    C: float,  # upper case: the book's loss weight, as scikit-learn's C
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    linear: bool = False,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[VAE, list[float]]:
    """A :class:`VAE` trained with loss weight ``C`` on ``x: (n, 784)`` (or loaded), and its loss
    per epoch."""
    check_positive_number("C", C, "try C=1.0")
    return train_or_load(
        lambda: VAE(x.shape[1], hidden_dims, latent_dim, linear=linear),
        x,
        partial(vae_objective, C=C),
        {"C": C, "latent_dim": latent_dim, "hidden_dims": list(hidden_dims), "linear": linear},
        config,
        directory=directory,
    )


def train_calibrated_vae(
    x: torch.Tensor,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[VAE, float]:
    """A :class:`VAE` whose decoder variance is learned (:func:`calibrated_vae_objective`).

    Returns:
        The model (in eval mode) and the variance ``c`` it settled on: the mean squared error per
        pixel of its reconstructions of ``x`` (one draw of ``z`` per image). Its ``C`` is
        ``1 / (2 c)``.
    """
    config = TrainConfig() if config is None else config
    model, _ = train_or_load(
        lambda: VAE(x.shape[1], hidden_dims, latent_dim),
        x,
        calibrated_vae_objective,
        {"loss": "calibrated", "latent_dim": latent_dim, "hidden_dims": list(hidden_dims)},
        config,
        directory=directory,
    )
    with torch.no_grad():  # c* = E_q ||x - d(z)||^2 / D, the variance its loss settles on
        mu, log_var = model.encode(x)
        x_hat = model.decode(reparameterize(mu, log_var, generator(config.seed)))
    return model, reconstruction_error(x, x_hat).mean().item() / x.shape[1]


def train_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    hidden_dims: Sequence[int] = (256,),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[Classifier, list[float]]:
    """A :class:`Classifier` trained on images ``x: (n, 784)`` with labels ``y: (n,)``, or loaded.

    By default 5 epochs (a few seconds), about 88% accuracy on the Fashion-MNIST test images.
    """
    return train_or_load(
        lambda: Classifier(x.shape[1], hidden_dims, int(y.max()) + 1),
        x,
        classifier_objective,
        {"hidden_dims": list(hidden_dims)},
        TrainConfig(num_epochs=5) if config is None else config,
        labels=y,
        directory=directory,
    )


def train_conditional_vae(
    x: torch.Tensor,
    y: torch.Tensor,
    C: float,  # upper case: the book's loss weight
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[ConditionalVAE, list[float]]:
    """A :class:`ConditionalVAE` trained with weight ``C`` on ``x`` and labels ``y``, or loaded."""
    check_positive_number("C", C, "try C=0.5")
    return train_or_load(
        lambda: ConditionalVAE(x.shape[1], hidden_dims, latent_dim, int(y.max()) + 1),
        x,
        partial(conditional_vae_objective, C=C),
        {"C": C, "latent_dim": latent_dim, "hidden_dims": list(hidden_dims)},
        config,
        labels=y,
        directory=directory,
    )


def train_conv_vae(
    x: torch.Tensor,
    C: float,  # upper case: the book's loss weight
    *,
    latent_dim: int = 10,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[ConvVAE, list[float]]:
    """A :class:`ConvVAE` trained with loss weight ``C`` on ``x: (n, 784)``, or loaded."""
    check_positive_number("C", C, "try C=1.0")
    return train_or_load(
        lambda: ConvVAE(latent_dim),
        x,
        partial(vae_objective, C=C),
        {"C": C, "latent_dim": latent_dim},
        config,
        directory=directory,
    )


def train_vae_sweep(
    x: torch.Tensor,
    C_values: Sequence[float],  # upper case: the book's loss weight
    *,
    progress: bool | None = None,
    **kwargs: Any,
) -> list[VAE]:
    """Train (or load) one :func:`train_vae` model per loss weight in ``C_values``.

    The first call trains every model, about 15 s each on 2 CPU cores for the full training set,
    with a progress bar over the sweep; later calls load them all from the cache in a second.

    Args:
        x: ``(n, 784)`` training images.
        C_values: the loss weights, each positive.
        progress: show the sweep's progress bar; by default shown except when ``CI`` is set.
        **kwargs: passed on to :func:`train_vae` (``latent_dim``, ``config``, ...).

    Returns:
        The models (in eval mode), in the order of ``C_values``.
    """
    if len(C_values) == 0 or not all(C > 0 for C in C_values):
        raise ValueError(
            f"C_values must be a non-empty list of positive weights, got {C_values}; "
            "e.g. C_values=[0.1, 1, 10]"
        )
    models = []
    sweep = tqdm(C_values, desc="VAEs over C", unit="model", disable=not show_progress(progress))
    for C in sweep:
        model, _ = train_vae(x, C, **kwargs)
        models.append(model)
    return models
