"""The trained models that several chapters share, each trained once and then loaded from the cache.

A chapter calls e.g. ``train_vae(x_train, c=1.0)``; the first call trains (with a progress bar) and
saves the weights under :func:`vae_utils.cache_root`, later calls in any chapter load them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch

from vae_utils.cache import load_or_train
from vae_utils.losses import autoencoder_objective, vae_objective
from vae_utils.models import VAE, Autoencoder
from vae_utils.train import LossFn, fit, set_seed


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
) -> list[float]:
    """Train ``model`` with :func:`fit` unless a run with the same key and data is cached."""
    key = {
        "data": data_fingerprint(x),
        **key,
        "num_epochs": num_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
    }

    def train(m: torch.nn.Module) -> list[float]:
        return fit(m, x, loss_fn, num_epochs=num_epochs, batch_size=batch_size, lr=lr, seed=seed)

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
