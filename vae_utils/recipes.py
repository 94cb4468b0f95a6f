"""The trained models that several chapters share, each trained once and then loaded from the cache.

A chapter calls e.g. ``train_vae(x_train, C=1.0)``; the first call trains (with a progress bar) and
saves the weights under :func:`vae_utils.cache.cache_root`, later calls in any chapter load
them. The runs whose weights the course ships (``vae_utils/weights/course``, made by
``scripts/train_course_models.py``) load those from the first call. Every recipe is the same
template, :func:`train_or_load`: seed, build the model, then train it with :func:`vae_utils.fit`
unless a run with the same key is shipped or cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
import weakref
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from vae_utils._progress import show_progress
from vae_utils.cache import code_fingerprint, load_known, load_or_train, save_trained
from vae_utils.classifier import Classifier, classifier_objective
from vae_utils.conditional import ConditionalVAE, conditional_vae_objective
from vae_utils.conv import ConvVAE
from vae_utils.hierarchical import TwoLevelVAE, two_level_objective
from vae_utils.learned_prior import PriorName
from vae_utils.losses import (
    autoencoder_objective,
    calibrated_vae_objective,
    reconstruction_error,
    vae_objective,
)
from vae_utils.models import VAE, Autoencoder, reparameterize
from vae_utils.objective import elbo_objective
from vae_utils.priors import MixturePrior, VampPrior
from vae_utils.remedies import KLWarmup
from vae_utils.seeds import generator, set_seed, shifted_seed
from vae_utils.train import LossFn, TrainConfig, fit, fit_together
from vae_utils.validation import (
    check_channels,
    check_columns,
    check_int,
    check_labels,
    check_matrix,
    check_positive_number,
)
from vae_utils.vq import VQVAE, VQVAELoss

Model = TypeVar("Model", bound=nn.Module)
History = TypeVar("History")  # what a recipe keeps of a training: the losses, or more


# id(tensor) -> (a weak reference to it, its version counter then, its fingerprint)
_fingerprints: dict[int, tuple[weakref.ref, int, str]] = {}


def _check_data(x: torch.Tensor, config: TrainConfig | None) -> TrainConfig:
    """``config``, ``TrainConfig()`` if ``None``, after checking that ``x`` is a matrix: the
    recipes read ``x.shape[1]`` and the key reads the config before :func:`fit` checks them."""
    check_matrix("x", x, "flatten images with x.view(len(x), -1)")
    if config is None:
        return TrainConfig()
    if not isinstance(config, TrainConfig):
        raise ValueError(
            f"config must be a TrainConfig, got {config!r}; e.g. TrainConfig(num_epochs=5)"
        )
    return config


def data_fingerprint(x: torch.Tensor) -> str:
    """A short SHA-256 of the data's shape, dtype and values: the same data, the same key.

    Hashing the 60,000 training images takes a third of a second, and a sweep asks once per model:
    the fingerprint is remembered for the tensor object until PyTorch's version counter says that
    it was changed in place (``x += 1``, ``x[0] = 0``; writes through ``x.numpy()`` go unnoticed).
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a tensor, got {type(x).__name__}; make one with torch.tensor")
    known = _fingerprints.get(id(x))
    if known is not None and known[0]() is x and known[1] == x._version:
        return known[2]
    digest = hashlib.sha256(f"{tuple(x.shape)} {x.dtype}".encode())
    digest.update(x.detach().cpu().contiguous().numpy().tobytes())
    fingerprint = digest.hexdigest()[:16]
    _fingerprints[id(x)] = (weakref.ref(x), x._version, fingerprint)
    return fingerprint


def _key_value(value: Any) -> Any:
    """A float to 12 significant digits, other values as they are: a setting computed from data
    (chapter 5's C = 1 / (2 c*)) rounds differently in its last bits at another thread count, and
    the run must keep its key (and its shipped weights) there."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


def run_key(
    model: nn.Module,
    x: torch.Tensor,
    loss_fn: LossFn,
    key: dict[str, Any],
    config: TrainConfig,
    labels: torch.Tensor | None = None,
) -> dict[str, Any]:
    """The cache key of a training run: ``key`` (what defines the model and its loss; its floats
    to 12 significant digits), the config (its seed shifted), fingerprints of the data and labels,
    and of the code that trains (:func:`vae_utils.cache.code_fingerprint`). Change any of them
    and the model is trained again."""
    return {
        "data": data_fingerprint(x),
        **({"labels": data_fingerprint(labels)} if labels is not None else {}),
        **{name: _key_value(value) for name, value in key.items()},
        **dataclasses.asdict(config),
        "seed": shifted_seed(config.seed),
        "code": code_fingerprint(model, loss_fn),  # retrain when the code that trains changes
    }


def train_or_load(
    build: Callable[[], Model],
    x: torch.Tensor,
    loss_fn: LossFn,
    key: dict[str, Any],
    config: TrainConfig | None = None,
    *,
    labels: torch.Tensor | None = None,
    directory: str | Path | None = None,
    record: Callable[[list[float]], History] = list,
) -> tuple[Model, History]:
    """The template of every recipe: seed, ``build()`` the model, train it or load it.

    Args:
        build: makes the untrained model; called right after the seed is set, so that its initial
            weights are reproducible.
        x: ``(n, input_dim)`` training data.
        loss_fn: as for :func:`vae_utils.fit`.
        key: JSON-serialisable settings of the model and loss, e.g. ``{"C": 1.0, "latent_dim": 2}``;
            the cache key adds the rest (:func:`run_key`).
        config: as for :func:`vae_utils.fit`; ``TrainConfig()`` by default.
        labels: ``(n,)``, as for :func:`vae_utils.fit`.
        directory: the cache; :func:`vae_utils.cache.cache_root` by default.
        record: makes the history to keep from the loss per epoch that :func:`vae_utils.fit`
            returns, e.g. adding curves that ``loss_fn`` collected; the losses themselves by
            default.

    Returns:
        The model (in eval mode) and its history: ``record`` of a training, or what it made
        when the run was cached.
    """
    config = _check_data(x, config)
    set_seed(config.seed)
    model = build()

    def train(model: Model) -> History:
        return record(fit(model, x, loss_fn, config, labels=labels, progress=show_progress(None)))

    history = load_or_train(
        model, train, run_key(model, x, loss_fn, key, config, labels), directory
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


def _vae_run(
    x: torch.Tensor, C: float, latent_dim: int, hidden_dims: Sequence[int], linear: bool
) -> tuple[Callable[[], VAE], LossFn, dict[str, Any]]:
    """The build, loss and key that :func:`train_or_load` needs for a VAE with weight ``C``."""
    check_positive_number("C", C, "try C=1.0")
    return (
        lambda: VAE(x.shape[1], hidden_dims, latent_dim, linear=linear),
        partial(vae_objective, C=C),
        {"C": C, "latent_dim": latent_dim, "hidden_dims": list(hidden_dims), "linear": linear},
    )


def train_vae(
    x: torch.Tensor,
    C: float,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    linear: bool = False,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[VAE, list[float]]:
    """A :class:`VAE` trained with loss weight ``C`` on ``x: (n, 784)`` (or loaded), and its loss
    per epoch."""
    build, loss_fn, key = _vae_run(x, C, latent_dim, hidden_dims, linear)
    return train_or_load(build, x, loss_fn, key, config, directory=directory)


def train_vae_with_remedy(
    x: torch.Tensor,
    C: float,
    *,
    warmup_steps: int = 1,
    free_bits: float = 0.0,
    cycle_steps: int | None = None,
    latent_dim: int = 10,
    hidden_dims: Sequence[int] = (256,),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[VAE, dict[str, list[float]]]:
    """A :class:`VAE` trained against posterior collapse (or loaded), with its training curves.

    The loss is :class:`vae_utils.remedies.KLWarmup`: a KL warm-up over ``warmup_steps``
    optimiser steps (1: none), restarted every ``cycle_steps`` (cyclical annealing), with
    ``free_bits`` nats per dimension. The defaults train the plain VAE.

    Returns:
        The model (in eval mode) and ``{"loss": one float per epoch, "kl_weight", "rate",
        "distortion": one float per optimiser step}``, the rate and distortion being the batch
        means of the plain KL and of ``||x - x_hat||^2`` (the cache keeps them with the weights).
    """
    loss_fn = KLWarmup(C, warmup_steps, free_bits, cycle_steps)
    settings = {"warmup_steps": warmup_steps, "free_bits": free_bits, "cycle_steps": cycle_steps}
    key = {"loss": "remedy", "C": C, **settings, "latent_dim": latent_dim}
    key["hidden_dims"] = list(hidden_dims)

    def record(losses: list[float]) -> dict[str, list[float]]:
        return {
            "loss": losses,
            "kl_weight": loss_fn.kl_weights,
            "rate": loss_fn.rates,
            "distortion": loss_fn.distortions,
        }

    def build() -> VAE:  # called once x is checked
        return VAE(x.shape[1], hidden_dims, latent_dim)

    return train_or_load(build, x, loss_fn, key, config, directory=directory, record=record)


def train_vae_with_prior(
    x: torch.Tensor,
    C: float,
    prior: PriorName,
    *,
    num_components: int = 10,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[VAE, list[float]]:
    """A :class:`VAE` trained with the prior ``prior`` (or loaded from the cache), and its losses.

    Args:
        x: ``(n, input_dim)`` training images.
        C: the loss weight of :func:`vae_utils.elbo_objective`.
        prior: ``"standard"`` (N(0, I)), ``"mixture"`` (:class:`vae_utils.priors.MixturePrior` of
            ``num_components``) or ``"vamp"`` (:class:`vae_utils.priors.VampPrior` whose
            ``num_components`` pseudo-inputs start as training images drawn with the config's
            seed).
        num_components: ``K`` of a learned prior.
        latent_dim, hidden_dims: as for :class:`vae_utils.VAE`.
        config: as for :func:`vae_utils.fit`.
        directory: the cache; :func:`vae_utils.cache.cache_root` by default.

    Returns:
        The model (in eval mode, its prior in ``model.prior``) and its loss per epoch.
    """
    if prior not in ("standard", "mixture", "vamp"):
        raise ValueError(f"prior must be 'standard', 'mixture' or 'vamp', got {prior!r}")
    check_int("num_components", num_components, "try num_components=10")
    check_positive_number("C", C, "try C=1.0")
    check_matrix("x", x, "flatten images with x.view(len(x), -1)")
    if prior == "vamp" and num_components > len(x):
        raise ValueError(
            f"num_components must be at most len(x) = {len(x)} for a VampPrior, whose "
            f"pseudo-inputs start as distinct training images, got {num_components}; pass more "
            "images or fewer components"
        )
    config = TrainConfig() if config is None else config

    def build() -> VAE:
        model = VAE(x.shape[1], hidden_dims, latent_dim)
        draws = generator(config.seed)
        if prior == "mixture":
            model.prior = MixturePrior(num_components, latent_dim, generator=draws)
        elif prior == "vamp":
            chosen = torch.randperm(len(x), generator=draws)[:num_components]
            model.prior = VampPrior(x[chosen])
        return model

    key = {"loss": "learned prior", "C": C, "prior": prior, "latent_dim": latent_dim}
    key |= {"hidden_dims": list(hidden_dims)}
    if prior != "standard":
        key["num_components"] = num_components

    # a partial, not a closure: the key's code is then that of objective.py, not of this module
    loss_fn = partial(elbo_objective, C=C)
    return train_or_load(build, x, loss_fn, key, config, directory=directory)


def train_vqvae(
    x: torch.Tensor,
    *,
    num_codes: int = 64,
    code_dim: int = 16,
    reinit_every: int | None = None,
    beta: float = 0.25,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[VQVAE, dict[str, list[float]]]:
    """A :class:`VQVAE` trained on ``x: (n, 784)`` (or loaded), with its training curves.

    The loss is :class:`vae_utils.vq.VQVAELoss`: :func:`vae_utils.vq.vqvae_objective` with
    commitment weight ``beta``, and dead codes restarted every ``reinit_every`` steps
    (``None``: never).

    Returns:
        The model (in eval mode) and ``{"loss": one float per epoch, "perplexity": the
        perplexity of each batch's codes, one float per optimiser step, "restarts": [the number
        of codes restarted]}`` (the cache keeps them with the weights).
    """
    config = _check_data(x, config)
    check_columns("x", x, 784, "pass flat 28x28 images, x.view(len(x), -1)")
    loss_fn = VQVAELoss(beta, reinit_every, seed=config.seed)
    key = {"loss": "vqvae", "num_codes": num_codes, "code_dim": code_dim, "beta": beta}
    key["reinit_every"] = reinit_every

    def record(losses: list[float]) -> dict[str, list[float]]:
        return {
            "loss": losses,
            "perplexity": loss_fn.perplexities,
            "restarts": [float(loss_fn.restarts)],
        }

    build = partial(VQVAE, num_codes, code_dim)
    return train_or_load(build, x, loss_fn, key, config, directory=directory, record=record)


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
    config = _check_data(x, config)
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


def _check_labels(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> None:
    """``num_classes`` fixes the model's outputs; the labels must lie below it (else a label 10
    would silently make an eleventh class)."""
    check_int("num_classes", num_classes, "use 10 for Fashion-MNIST")
    check_matrix("x", x, "flatten images with x.view(len(x), -1)")
    check_labels("y", y, len(x), num_classes)


def train_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    hidden_dims: Sequence[int] = (256,),
    num_classes: int = 10,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[Classifier, list[float]]:
    """A :class:`Classifier` trained on images ``x: (n, 784)`` with labels ``y: (n,)`` in
    ``0..num_classes - 1``, or loaded.

    By default 5 epochs (a few seconds), about 88% accuracy on the Fashion-MNIST test images.
    """
    _check_labels(x, y, num_classes)
    return train_or_load(
        lambda: Classifier(x.shape[1], hidden_dims, num_classes),
        x,
        classifier_objective,
        {"hidden_dims": list(hidden_dims), "num_classes": num_classes},
        TrainConfig(num_epochs=5) if config is None else config,
        labels=y,
        directory=directory,
    )


def train_conditional_vae(
    x: torch.Tensor,
    y: torch.Tensor,
    C: float,
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    num_classes: int = 10,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[ConditionalVAE, list[float]]:
    """A :class:`ConditionalVAE` trained with weight ``C`` on ``x`` and labels ``y`` in
    ``0..num_classes - 1``, or loaded."""
    check_positive_number("C", C, "try C=0.5")
    _check_labels(x, y, num_classes)
    key = {"C": C, "latent_dim": latent_dim, "hidden_dims": list(hidden_dims)}
    key["num_classes"] = num_classes
    return train_or_load(
        lambda: ConditionalVAE(x.shape[1], hidden_dims, latent_dim, num_classes),
        x,
        partial(conditional_vae_objective, C=C),
        key,
        config,
        labels=y,
        directory=directory,
    )


def train_conv_vae(
    x: torch.Tensor,
    C: float,
    *,
    latent_dim: int = 10,
    channels: tuple[int, int] = (16, 32),
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[ConvVAE, list[float]]:
    """A :class:`ConvVAE` trained with loss weight ``C`` on ``x: (n, 784)``, or loaded."""
    check_positive_number("C", C, "try C=1.0")
    check_columns("x", x, 784, "pass flat 28x28 images, x.view(len(x), -1)")
    check_channels(channels)
    return train_or_load(
        lambda: ConvVAE(latent_dim, channels),
        x,
        partial(vae_objective, C=C),
        {"C": C, "latent_dim": latent_dim, "channels": list(channels)},
        config,
        directory=directory,
    )


def train_two_level_vae(
    x: torch.Tensor,
    C: float,
    *,
    latent_dims: tuple[int, int] = (8, 2),
    hidden_dim: int = 256,
    side_dim: int = 64,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
) -> tuple[TwoLevelVAE, list[float]]:
    """A :class:`vae_utils.hierarchical.TwoLevelVAE` with codes ``latent_dims = (z1_dim,
    z2_dim)``, trained with loss weight ``C`` on ``x: (n, input_dim)`` (or loaded), and its loss
    per epoch."""
    check_positive_number("C", C, "try C=10.0")
    key = {"C": C, "latent_dims": list(latent_dims), "hidden_dim": hidden_dim}
    key["side_dim"] = side_dim
    return train_or_load(
        lambda: TwoLevelVAE(x.shape[1], hidden_dim, tuple(latent_dims), side_dim),
        x,
        partial(two_level_objective, C=C),
        key,
        config,
        directory=directory,
    )


def train_vae_sweep(
    x: torch.Tensor,
    C_values: Sequence[float],
    *,
    latent_dim: int = 2,
    hidden_dims: Sequence[int] = (256,),
    linear: bool = False,
    config: TrainConfig | None = None,
    directory: str | Path | None = None,
    progress: bool | None = None,
) -> list[VAE]:
    """One :func:`train_vae` model per loss weight in ``C_values``, trained together or loaded.

    Each model is the one :func:`train_vae` gives for its ``C`` (the same initial weights, batches
    and noise, the same cache entry), but those neither shipped nor cached train side by side as one
    batched model (:func:`vae_utils.fit_together`), in less time than one after another.

    Args:
        x: ``(n, 784)`` training images.
        C_values: the loss weights, each positive.
        latent_dim, hidden_dims, linear, config, directory: as for :func:`train_vae`.
        progress: show the progress bar; by default shown except when ``CI`` is set.

    Returns:
        The models (in eval mode), in the order of ``C_values``.
    """
    iterable = isinstance(C_values, Iterable) and not isinstance(C_values, str)
    values = list(C_values) if iterable else []
    if not values or not all(
        isinstance(C, int | float) and not isinstance(C, bool) and C > 0 for C in values
    ):
        raise ValueError(
            f"C_values must be a non-empty list of positive weights, got {C_values!r}; "
            "e.g. C_values=[0.1, 1, 10]"
        )
    C_values = values
    config = _check_data(x, config)
    models, keys, missing = [], [], []
    for C in C_values:
        build, loss_fn, key = _vae_run(x, C, latent_dim, hidden_dims, linear)
        set_seed(config.seed)  # as train_or_load: every model starts from its own seeded weights
        model = build()
        keys.append(run_key(model, x, loss_fn, key, config))
        if load_known(model, keys[-1], directory) is None:
            missing.append(len(models))
        models.append(model)
    if missing:
        histories = fit_together(
            [models[i] for i in missing],
            x,
            vae_objective,
            config,
            loss_kwargs={"C": [C_values[i] for i in missing]},
            progress=progress,
        )
        for i, history in zip(missing, histories, strict=True):
            save_trained(models[i], keys[i], history, directory)
    return models
