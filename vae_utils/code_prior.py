"""Priors over a VQ-VAE's grid of code indices, fitted by counting.

A VQ-VAE (:class:`vae_utils.vq.VQVAE`) stores an image as a 7x7 grid of indices into a codebook of
``K`` codes. To generate images, a prior over whole grids is needed. Two simple ones, both exact
to evaluate and to sample:

- *independent*: each cell drawn from the frequencies of the codes at that position;
- *neighbour* (a first-order Markov model): cells drawn in reading order, each from the
  frequencies of its code given the code of one earlier neighbour, the cell to its left (the
  cell above, in the first column).

Both are :class:`CodeGridPrior`; fit them with :func:`fit_code_prior`. The paper's prior, a
PixelCNN over the grid (van den Oord et al. 2017), conditions each cell on all earlier ones.
"""

from __future__ import annotations

import math

import torch

from vae_utils.validation import check_int, check_positive_number


class CodeGridPrior:
    """A distribution over ``(height, width)`` grids of code indices, in reading order.

    Cell ``t`` (row-major) has a *parent*, the index of an earlier cell or ``-1``;
    ``p(grid) = prod_t p_t(k_t | k_parent(t))``, each factor a table.

    Args:
        log_tables: ``(height * width, K, K)``; row ``j`` of table ``t`` holds
            ``log p_t(k | parent code j)`` (for a cell without a parent, every row is the same).
        parents: one parent index per cell, each ``-1`` or less than the cell's own.
        shape: ``(height, width)``.
    """

    def __init__(
        self, log_tables: torch.Tensor, parents: list[int], shape: tuple[int, int]
    ) -> None:
        cells = shape[0] * shape[1]
        if log_tables.ndim != 3 or log_tables.shape[0] != cells or len(parents) != cells:
            raise ValueError(
                f"log_tables must be (cells, K, K) and parents one per cell, for {cells} cells; "
                f"got {tuple(log_tables.shape)} and {len(parents)} parents"
            )
        if any(not -1 <= parent < t for t, parent in enumerate(parents)):
            raise ValueError("each parent must be -1 or an earlier cell (reading order)")
        self.log_tables, self.parents, self.shape = log_tables, list(parents), shape
        self.num_codes = log_tables.shape[1]

    def log_prob(self, indices: torch.Tensor) -> torch.Tensor:
        """``log p(grid)`` in nats: ``indices: (n, height, width)`` -> ``(n,)`` float64."""
        flat = self._flat(indices)  # (n, cells)
        parent_codes = self._parent_codes(flat)
        cells = torch.arange(flat.shape[1])
        return self.log_tables[cells, parent_codes, flat].sum(dim=1)

    def bits_per_grid(self, indices: torch.Tensor) -> float:
        """The mean of ``-log2 p(grid)`` over the grids: what an ideal code for them costs."""
        return -self.log_prob(indices).mean().item() / math.log(2)

    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(num_samples, height, width)`` long: grids drawn cell by cell in reading order."""
        check_int("num_samples", num_samples, "try num_samples=16")
        flat = torch.zeros(num_samples, len(self.parents), dtype=torch.long)
        for t, parent in enumerate(self.parents):
            given = flat[:, parent] if parent >= 0 else torch.zeros(num_samples, dtype=torch.long)
            probabilities = self.log_tables[t, given].exp()  # (num_samples, K)
            flat[:, t] = torch.multinomial(probabilities, 1, generator=generator).squeeze(1)
        return flat.view(num_samples, *self.shape)

    def _flat(self, indices: torch.Tensor) -> torch.Tensor:
        if (
            not isinstance(indices, torch.Tensor)
            or indices.dtype.is_floating_point
            or indices.dtype.is_complex
            or indices.dtype == torch.bool  # a bool tensor would index as a mask
            or indices.ndim != 3
            or tuple(indices.shape[1:]) != self.shape
        ):
            got = (
                f"{indices.dtype} {tuple(indices.shape)}"
                if isinstance(indices, torch.Tensor)
                else type(indices).__name__
            )
            raise ValueError(
                f"indices must be integer grids (n, {self.shape[0]}, {self.shape[1]}), got "
                f"{got}; pass VQOutput.indices"
            )
        if len(indices) == 0:
            raise ValueError(
                "indices must hold at least one grid, got none; pass VQOutput.indices of images"
            )
        low, high = indices.min().item(), indices.max().item()
        if low < 0 or high >= self.num_codes:
            raise ValueError(
                f"indices must lie in [0, {self.num_codes}), got values from {low} to {high}; "
                "pass the num_codes of the VQ-VAE that made them, model.num_codes"
            )
        return indices.reshape(len(indices), -1).cpu()

    def _parent_codes(self, flat: torch.Tensor) -> torch.Tensor:
        """The code of each cell's parent, 0 for cells without one: ``(n, cells)``."""
        parents = torch.tensor(self.parents)
        return torch.where(parents >= 0, flat[:, parents.clamp(min=0)], 0)


def reading_order_parents(shape: tuple[int, int]) -> list[int]:
    """Each cell's earlier neighbour: the cell to its left, or above in the first column.

    Example:
        >>> reading_order_parents((2, 3))
        [-1, 0, 1, 0, 3, 4]
    """
    height, width = shape
    return [-1 if t == 0 else (t - 1 if t % width else t - width) for t in range(height * width)]


def fit_code_prior(
    indices: torch.Tensor, num_codes: int, neighbour: bool, smoothing: float = 0.1
) -> CodeGridPrior:
    """Fit a :class:`CodeGridPrior` to grids of code indices by counting.

    Args:
        indices: ``(n, height, width)`` integer codes in ``[0, num_codes)``, e.g. the
            ``VQOutput.indices`` of the training images.
        num_codes: ``K``, the codebook size.
        neighbour: condition each cell on its earlier neighbour (:func:`reading_order_parents`);
            ``False``: each cell on its own, with the code frequencies of its position.
        smoothing: added to every count, so that unseen codes keep a small probability
            (Laplace's rule with 1).

    Returns:
        The fitted prior.

    Example:
        >>> grids = torch.tensor([[[0, 1], [1, 0]]] * 3)  # one grid, three times
        >>> prior = fit_code_prior(grids, num_codes=2, neighbour=True, smoothing=0.01)
        >>> round(prior.log_prob(grids[:1]).exp().item(), 3)
        0.987
    """
    check_int("num_codes", num_codes, "pass the codebook size, e.g. model.num_codes")
    check_positive_number("smoothing", smoothing, "try smoothing=0.1")
    if not isinstance(indices, torch.Tensor) or indices.ndim != 3:
        raise ValueError("indices must be integer grids (n, height, width); pass VQOutput.indices")
    shape = (indices.shape[1], indices.shape[2])
    cells = shape[0] * shape[1]
    parents = reading_order_parents(shape) if neighbour else [-1] * cells
    prior = CodeGridPrior(torch.zeros(cells, num_codes, num_codes), parents, shape)
    flat = prior._flat(indices)  # checks the values against num_codes
    parent_codes = prior._parent_codes(flat)
    counts = torch.full((cells, num_codes, num_codes), smoothing, dtype=torch.float64)
    cell_index = torch.arange(cells).expand_as(flat)
    counts.index_put_(
        (cell_index.reshape(-1), parent_codes.reshape(-1), flat.reshape(-1)),
        torch.ones(flat.numel(), dtype=torch.float64),
        accumulate=True,
    )
    prior.log_tables = (counts / counts.sum(dim=2, keepdim=True)).log()
    return prior
