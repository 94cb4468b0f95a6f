"""One small training loop for every model in the course."""

from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import nn
from tqdm import tqdm

from vae_utils.seeds import generator, shifted_seed

# loss_fn(model, batch) -> scalar, or loss_fn(model, batch, batch_labels) when fit gets labels
LossFn = Callable[..., torch.Tensor]


def _check_positive_int(name: str, value: object, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}; {hint}")


def fit(
    model: nn.Module,
    x: torch.Tensor,
    loss_fn: LossFn,
    *,
    num_epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    labels: torch.Tensor | None = None,
) -> list[float]:
    """Train ``model`` with Adam on mini-batches of ``x`` and return the mean loss of each epoch.

    Args:
        model: any module; ``loss_fn(model, batch)`` decides how it is used.
        x: training data ``(n, input_dim)``; shuffled every epoch.
        loss_fn: maps ``(model, batch: (batch_size, input_dim))`` to a scalar loss, e.g.
            :func:`vae_utils.autoencoder_objective` or ``partial(vae_objective, c=10.0)``.
        num_epochs: passes over ``x``.
        batch_size: examples per gradient step (the last batch of an epoch may be smaller).
        lr: Adam's learning rate.
        seed: seeds the shuffling and any sampling inside ``loss_fn`` (shifted by
            ``$VAE_UTILS_SEED_SHIFT``, see :mod:`vae_utils.seeds`); the same seed, model
            initialisation and data give the same weights on the same machine.
        device: where to train (``"cpu"`` by default; ``"cuda"`` if you have one).
        progress: show a tqdm bar; by default shown except when the ``CI`` variable is set.
        labels: ``(n,)`` one label per row of ``x``, shuffled with it and passed on as
            ``loss_fn(model, batch, batch_labels)``; for conditional models and classifiers.

    Returns:
        ``num_epochs`` floats: the average training loss over each epoch.
    """
    _check_positive_int("num_epochs", num_epochs, "try num_epochs=10")
    _check_positive_int("batch_size", batch_size, "try batch_size=128")
    if not (isinstance(lr, int | float) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}; try lr=1e-3")
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or len(x) == 0:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"x must be a non-empty tensor of shape (n, input_dim), got {shape}; "
            "flatten images with x.view(len(x), -1)"
        )
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != x.shape[:1]):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(
            f"labels must be a tensor of shape ({len(x)},), one per row of x, got {shape}"
        )
    if progress is None:
        progress = not os.environ.get("CI")

    torch.manual_seed(shifted_seed(seed))  # the noise drawn inside loss_fn (e.g. the VAE's eps)
    shuffle = generator(seed)
    model.to(device).train()
    x = x.to(device)
    labels = labels.to(device) if labels is not None else None
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    history: list[float] = []
    with tqdm(range(num_epochs), desc="training", unit="epoch", disable=not progress) as bar:
        for _ in bar:
            order = torch.randperm(len(x), generator=shuffle).to(device)
            total = torch.zeros((), device=device)  # summed on the device: no sync per step
            for start in range(0, len(x), batch_size):
                indices = order[start : start + batch_size]
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
