"""One small training loop for every model in the course, and the settings it takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from vae_utils._checks import check_int, check_matrix, check_positive_number
from vae_utils._progress import show_progress
from vae_utils.seeds import generator, shifted_seed

# loss_fn(model, batch) -> scalar, or loss_fn(model, batch, batch_labels) when fit gets labels
LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`fit` trains: the settings that, with the model, the loss and the data, decide
    the weights. The recipes of :mod:`vae_utils.recipes` put them in the cache key.

    Example:
        >>> TrainConfig(num_epochs=3)
        TrainConfig(num_epochs=3, batch_size=128, lr=0.001, seed=0)
    """

    num_epochs: int = 10  # passes over the data
    batch_size: int = 128  # examples per Adam step; the last batch of an epoch may be smaller
    lr: float = 1e-3  # Adam's learning rate (Kingma and Ba 2015's default)
    seed: int = 0  # seeds the shuffling and the draws inside the loss, shifted by the environment

    def __post_init__(self) -> None:
        check_int("num_epochs", self.num_epochs, "try num_epochs=10")
        check_int("batch_size", self.batch_size, "try batch_size=128")
        check_positive_number("lr", self.lr, "try lr=1e-3")
        check_int("seed", self.seed, "try seed=0", minimum=0)


def fit(
    model: nn.Module,
    x: torch.Tensor,
    loss_fn: LossFn,
    config: TrainConfig | None = None,
    *,
    labels: torch.Tensor | None = None,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
) -> list[float]:
    """Train ``model`` with Adam on mini-batches of ``x`` and return the mean loss of each epoch.

    Args:
        model: any module; ``loss_fn(model, batch)`` decides how it is used.
        x: training data ``(n, input_dim)``; shuffled every epoch.
        loss_fn: maps ``(model, batch: (batch_size, input_dim))`` to a scalar loss, e.g.
            :func:`vae_utils.autoencoder_objective` or ``partial(vae_objective, C=10.0)``.
        config: epochs, batch size, learning rate and seed; ``TrainConfig()`` by default. The
            seed is shifted by ``$VAE_UTILS_SEED_SHIFT`` (:mod:`vae_utils.seeds`): the same
            config, initial weights and data give the same weights on the same machine.
        labels: ``(n,)`` one label per row of ``x``, shuffled with it and passed on as
            ``loss_fn(model, batch, batch_labels)``; for conditional models and classifiers.
        device: where to train (``"cpu"`` by default; ``"cuda"`` if you have one).
        progress: show a tqdm bar; by default shown except when the ``CI`` variable is set.

    Returns:
        ``config.num_epochs`` floats: the average training loss over each epoch.
    """
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise ValueError(
            f"config must be a TrainConfig, got {config!r}; e.g. TrainConfig(num_epochs=5)"
        )
    check_matrix("x", x, "flatten images with x.view(len(x), -1)")
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != x.shape[:1]):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(
            f"labels must be a tensor of shape ({len(x)},), one per row of x, got {shape}"
        )

    torch.manual_seed(shifted_seed(config.seed))  # the noise drawn inside loss_fn (the VAE's eps)
    shuffle = generator(config.seed)
    model.to(device).train()
    x = x.to(device)
    labels = labels.to(device) if labels is not None else None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    history: list[float] = []
    bar = tqdm(
        range(config.num_epochs), desc="training", unit="epoch", disable=not show_progress(progress)
    )
    with bar:
        for _ in bar:
            order = torch.randperm(len(x), generator=shuffle).to(device)
            total = torch.zeros((), device=device)  # summed on the device: no sync per step
            for start in range(0, len(x), config.batch_size):
                indices = order[start : start + config.batch_size]
                batch = x[indices]
                if labels is None:
                    loss = loss_fn(model, batch)
                else:
                    loss = loss_fn(model, batch, labels[indices])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(batch)
            history.append(total.item() / len(x))
            bar.set_postfix(loss=f"{history[-1]:.4g}")
    model.eval()
    return history
