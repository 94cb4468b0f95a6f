"""One small training loop for every model in the course, and the settings it takes."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm import tqdm

from vae_utils._progress import show_progress
from vae_utils.seeds import generator, set_seed
from vae_utils.validation import (
    check_finite,
    check_finite_number,
    check_float_type,
    check_int,
    check_matrix,
    check_positive_number,
)

# loss_fn(model, batch) -> scalar, or loss_fn(model, batch, batch_labels) when fit gets labels
LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`fit` trains: the settings that, with the model, the loss and the data, decide
    the weights. The recipes of :mod:`vae_utils.recipes` put them in the cache key.

    Example:
        >>> TrainConfig(num_epochs=3)
        TrainConfig(num_epochs=3, batch_size=512, lr=0.003, seed=0)
    """

    num_epochs: int = 10  # passes over the data
    # examples per Adam step (the last batch of an epoch may be smaller): batches this large keep
    # every core of a laptop busy, and train the course's MLPs as well as batches of 128
    batch_size: int = 512
    lr: float = 3e-3  # Adam's learning rate: thrice Kingma and Ba's 1e-3, for the larger batches
    seed: int = 0  # seeds the shuffling and the draws inside the loss, shifted by the environment

    def __post_init__(self) -> None:
        check_int("num_epochs", self.num_epochs, "try num_epochs=10")
        check_int("batch_size", self.batch_size, "try batch_size=128")
        check_positive_number("lr", self.lr, "try lr=1e-3")
        check_int("seed", self.seed, "try seed=0", minimum=0)


def adam(parameters: Sequence[torch.Tensor], lr: float) -> torch.optim.Adam:
    """Adam with its update fused into one kernel per step where PyTorch has one (CPU since
    PyTorch 2.4, CUDA), the plain update elsewhere: the same steps up to float rounding."""
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except RuntimeError:  # an older PyTorch or another device: the default, equivalent update
        return torch.optim.Adam(parameters, lr=lr)


def check_fit_arguments(
    model: nn.Module,
    x: torch.Tensor,
    loss_fn: LossFn,
    config: TrainConfig,
    labels: torch.Tensor | None = None,
) -> None:
    """Raise ``ValueError`` naming the fix unless :func:`fit` can train ``model`` on these
    arguments: ``model`` a module, ``loss_fn`` a function, ``config`` a :class:`TrainConfig`,
    ``x: (n, features)`` finite floats of the model's float type, ``labels: (n,)``."""
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model must be an nn.Module, got {type(model).__name__}; e.g. VAE(784, (256,), 2)"
        )
    if not callable(loss_fn):
        raise ValueError(
            f"loss_fn must be a function loss_fn(model, batch) -> loss, got {loss_fn!r}; pass "
            "the function itself, e.g. vu.losses.autoencoder_objective"
        )
    if not isinstance(config, TrainConfig):
        raise ValueError(
            f"config must be a TrainConfig, got {config!r}; e.g. TrainConfig(num_epochs=5)"
        )
    check_matrix("x", x, "flatten images with x.view(len(x), -1)")
    check_float_type("x", x, model)
    check_finite("x", x, "remove or replace them before training")
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != x.shape[:1]):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(
            f"labels must be a tensor of shape ({len(x)},), one per row of x, got {shape}"
        )


def fit(
    model: nn.Module,
    x: torch.Tensor,
    loss_fn: LossFn,
    config: TrainConfig | None = None,
    *,
    labels: torch.Tensor | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> list[float]:
    """Train ``model`` with Adam on mini-batches of ``x`` and return the mean loss of each epoch.

    Defined in chapter 2 (``ch-autoencoders``), where the text reads it line by line.

    Args:
        model: any module; ``loss_fn(model, batch)`` decides how it is used.
        x: training data ``(n, input_dim)``, finite floats; shuffled every epoch.
        loss_fn: maps ``(model, batch: (batch_size, input_dim))`` to a scalar loss, e.g.
            :func:`vae_utils.losses.autoencoder_objective` or ``partial(vae_objective, C=10.0)``.
        config: epochs, batch size, learning rate and seed; ``TrainConfig()`` by default. The
            seed is shifted by ``$VAE_UTILS_SEED_SHIFT`` (:mod:`vae_utils.seeds`): the same
            config, initial weights and data give the same weights on the same machine.
        labels: ``(n,)`` one label per row of ``x``, shuffled with it and passed on as
            ``loss_fn(model, batch, batch_labels)``; for conditional models and classifiers.
        device: where to train (``"cpu"`` by default; ``"cuda"`` if you have one). The model is
            moved there and stays there.
        progress: show a tqdm bar with the last epoch's loss.

    Returns:
        ``config.num_epochs`` floats: the average training loss over each epoch.

    Raises:
        FloatingPointError: when an epoch's loss is NaN or infinite (the learning rate is too high,
            or the loss divides by or takes the log of zero); nothing is returned to cache.
    """
    config = TrainConfig() if config is None else config
    check_fit_arguments(model, x, loss_fn, config, labels)
    set_seed(config.seed)  # for the noise drawn inside loss_fn, such as the VAE's eps
    shuffle = generator(config.seed)  # for the order of the examples in each epoch
    model.to(device).train()
    x = x.to(device)
    labels = None if labels is None else labels.to(device)
    optimizer = adam(list(model.parameters()), config.lr)

    history = []
    epochs = tqdm(range(config.num_epochs), desc="training", unit="epoch", disable=not progress)
    for epoch in epochs:
        order = torch.randperm(len(x), generator=shuffle).to(device)
        total = torch.zeros((), device=device)  # summed where the model is: no wait at each step
        for start in range(0, len(x), config.batch_size):
            indices = order[start : start + config.batch_size]  # (batch_size,)
            if labels is None:
                loss = loss_fn(model, x[indices])
            else:
                loss = loss_fn(model, x[indices], labels[indices])
            optimizer.zero_grad()
            loss.backward()  # the gradient of the batch's loss for every weight
            optimizer.step()
            total += loss.detach() * len(indices)
        history.append(total.item() / len(x))
        epochs.set_postfix(loss=f"{history[-1]:.4g}")
        if not math.isfinite(history[-1]):
            model.eval()
            raise FloatingPointError(
                f"the loss became {history[-1]} in epoch {epoch + 1}; try a smaller lr than "
                f"{config.lr:g}, and check the loss for a log or a division of zero"
            )
    model.eval()
    return history


def _layout(model: nn.Module) -> tuple:
    """A model's class and the names and shapes of its weights: what models stacked by
    :func:`fit_together` share."""
    return type(model), tuple((name, t.shape) for name, t in model.state_dict().items())


class _Loss(nn.Module):
    """``loss_fn(model, batch, **kwargs)`` as a module, so that ``functional_call`` can run it
    with weights of our choosing (the stacked weights of one model, inside ``vmap``)."""

    def __init__(self, model: nn.Module, loss_fn: LossFn) -> None:
        super().__init__()
        self.model, self.loss_fn = model, loss_fn

    def forward(self, batch: torch.Tensor, kwargs: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.loss_fn(self.model, batch, **kwargs)


def _batched_loss_kwargs(
    loss_kwargs: Mapping[str, Sequence[float]] | None,
    num_models: int,
    dtype: torch.dtype,
    device: str | torch.device,
) -> dict[str, torch.Tensor]:
    """``loss_kwargs`` as tensors ``(num_models,)``, each value checked here, once: ``loss_fn``
    gets each as a tensor, whose value it cannot read cheaply."""
    loss_kwargs = dict(loss_kwargs or {})
    for name, values in loss_kwargs.items():
        if len(values) != num_models:
            raise ValueError(
                f"loss_kwargs[{name!r}] must hold one value per model ({num_models}), got "
                f"{len(values)}"
            )
        # C is the loss weight of every loss of the course, positive
        check = check_positive_number if name == "C" else check_finite_number
        for value in values:
            check(f"loss_kwargs[{name!r}]", value, "pass one number per model")
    return {
        name: torch.tensor(values, dtype=dtype, device=device)
        for name, values in loss_kwargs.items()
    }


def _stacked_weights(
    models: list[nn.Module],
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The models' weights stacked, ``{name: (num_models, ...)}``: those the optimiser trains,
    and the views of them (with the buffers) that the batched model runs on."""
    params, buffers = stack_module_state(models)
    # Matrices are trained transposed, (num_models, in, out), and reach the model as views of shape
    # (num_models, out, in): the batched matmuls then write their gradients without a transposing
    # copy.
    trained = {
        name: t.detach().transpose(1, 2).contiguous().requires_grad_() if t.ndim == 3 else t
        for name, t in params.items()
    }
    weights = {
        f"model.{name}": t.transpose(1, 2) if params[name].ndim == 3 else t
        for name, t in trained.items()
    } | {f"model.{name}": t for name, t in buffers.items()}
    return trained, weights


def fit_together(
    models: Sequence[nn.Module],
    x: torch.Tensor,
    loss_fn: LossFn,
    config: TrainConfig | None = None,
    *,
    loss_kwargs: Mapping[str, Sequence[float]] | None = None,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
) -> list[list[float]]:
    """Train several models of one architecture side by side, as :func:`fit` trains each alone.

    A sweep (one model per loss weight, say) trains as one batched model: their weights are
    stacked (``torch.func.stack_module_state``) and ``torch.vmap`` runs every model on each batch
    at once, so each matrix product covers all of them: a sweep trains in less time than its models
    one after another (``make bench`` measures it). Each model sees the batches and the noise
    that :func:`fit` with the same ``config`` would give it (``vmap``'s ``randomness="same"``),
    and Adam updates each weight on its own, so one optimizer over the stacked weights is one per
    model: the result is :func:`fit`'s, up to float rounding.

    Args:
        models: modules of one class built with the same arguments (their weights may differ).
        x: training data ``(n, input_dim)``; shuffled every epoch.
        loss_fn: as for :func:`fit`; model ``i`` is trained on
            ``loss_fn(model, batch, **{name: values[i] for name, values in loss_kwargs.items()})``,
            e.g. :func:`vae_utils.vae_objective` with ``loss_kwargs={"C": [0.1, 1, 10]}``.
        config: as for :func:`fit`.
        loss_kwargs: the arguments of ``loss_fn`` that differ between the models, one value per
            model; each reaches ``loss_fn`` as a 0-d tensor.
        device: where to train.
        progress: show a tqdm bar; by default shown except when the ``CI`` variable is set.

    Returns:
        One loss history per model (``config.num_epochs`` floats each), in the order of ``models``.
    """
    config = TrainConfig() if config is None else config
    models = list(models)
    if not all(isinstance(m, nn.Module) for m in models) or len({_layout(m) for m in models}) != 1:
        raise ValueError(
            "models must be a non-empty list of models of one class and one shape; build them "
            "with the same arguments, e.g. [VAE(784, (256,), 2) for C in C_values]"
        )
    check_fit_arguments(models[0], x, loss_fn, config)  # once, as fit does
    batched_kwargs = _batched_loss_kwargs(loss_kwargs, len(models), x.dtype, device)

    set_seed(config.seed)  # fit's setup: the noise drawn inside loss_fn, and the order of x
    shuffle = generator(config.seed)
    for model in models:
        model.to(device).train()
    trained, weights = _stacked_weights(models)
    template = _Loss(copy.deepcopy(models[0]).to("meta"), loss_fn).train()

    def one_model(weights: dict, batch: torch.Tensor, kwargs: dict) -> torch.Tensor:
        return functional_call(template, weights, (batch, kwargs))

    losses_of = vmap(one_model, randomness="same")  # -> (num_models,)
    x = x.to(device)
    optimizer = adam(list(trained.values()), config.lr)

    histories: list[list[float]] = [[] for _ in models]
    bar = tqdm(
        range(config.num_epochs),
        desc=f"training {len(models)} models together",
        unit="epoch",
        disable=not show_progress(progress),
    )
    with bar:
        for _ in bar:
            order = torch.randperm(len(x), generator=shuffle).to(device)
            total = torch.zeros(len(models), device=device)
            for start in range(0, len(x), config.batch_size):
                batch = x[order[start : start + config.batch_size]]
                # a copy of the batch per model: contiguous operands for the batched matmuls
                batches = batch.expand(len(models), *batch.shape).contiguous()
                losses = losses_of(weights, batches, batched_kwargs)
                optimizer.zero_grad(set_to_none=True)
                losses.sum().backward()  # model i's weights get the gradient of its own loss
                optimizer.step()
                total += losses.detach() * len(batch)
            for history, value in zip(histories, (total / len(x)).tolist(), strict=True):
                history.append(value)
            bar.set_postfix(loss=f"{min(h[-1] for h in histories):.4g}..")
    with torch.no_grad():
        for i, model in enumerate(models):
            model.load_state_dict({name[len("model.") :]: t[i] for name, t in weights.items()})
            model.eval()
    return histories
