"""A small VQ-VAE (van den Oord et al. 2017): a discrete latent code from a learned codebook.

The encoder maps an image to a grid of vectors ``z_e``; each is replaced by its nearest codebook
vector ``e_k`` (squared Euclidean distance), and the decoder sees only those codes. The loss per
batch is (eq. 3 of the paper)

    ``||x - x_hat||^2 + ||sg[z_e] - e||^2 + beta * ||z_e - sg[e]||^2``

with ``sg`` the stop-gradient: the codebook loss pulls the codes towards the encoder outputs, the
commitment loss keeps the encoder near its codes, and the straight-through estimator copies the
decoder's gradient at ``e`` onto ``z_e`` because the nearest-code choice has no gradient.

Layout: code vectors are channels-last, ``(..., code_dim)``: a batch ``(n, code_dim)`` or a grid
``(n, h, w, code_dim)``; the indices drop the last dimension, ``(...)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from vae_utils.conv import downsampling, upsampling
from vae_utils.losses import reconstruction_error
from vae_utils.seeds import generator as seeded_generator
from vae_utils.validation import (
    check_channels,
    check_finite,
    check_float_type,
    check_int,
    check_matrix,
)


class VQOutput(NamedTuple):
    """What :class:`VectorQuantizer` returns for encoder outputs ``z_e: (..., code_dim)``.

    Attributes:
        z_q_straight_through: ``(..., code_dim)``, the nearest codes in the forward pass, with
            the gradient of ``z_e`` in the backward pass (straight-through:
            ``z_e + sg[z_q - z_e]``).
        indices: ``(...)`` long, the index of the nearest code of each vector.
        codebook_loss: scalar, ``||sg[z_e] - e||^2`` per vector, averaged; moves only the codebook.
        commitment_loss: scalar, ``||z_e - sg[e]||^2`` per vector, averaged; moves only ``z_e``.
    """

    z_q_straight_through: torch.Tensor
    indices: torch.Tensor
    codebook_loss: torch.Tensor
    commitment_loss: torch.Tensor


def _check_indices(indices: object, num_codes: int) -> torch.Tensor:
    """``indices`` as a non-empty integer tensor with values in ``[0, num_codes)``, or a
    ``ValueError`` that shows the fix."""
    check_int("num_codes", num_codes, "pass the codebook size, e.g. quantizer.num_codes")
    if (
        not isinstance(indices, torch.Tensor)
        or indices.dtype.is_floating_point
        or indices.dtype.is_complex
        or indices.dtype == torch.bool
        or indices.numel() == 0
    ):
        kind = indices.dtype if isinstance(indices, torch.Tensor) else type(indices).__name__
        raise ValueError(
            f"indices must be a non-empty integer tensor, got {kind}; "
            "pass VQOutput.indices from the quantizer"
        )
    low, high = indices.min().item(), indices.max().item()
    if low < 0 or high >= num_codes:
        raise ValueError(
            f"indices must lie in [0, {num_codes}), got values from {low} to {high}; "
            "pass the same num_codes as the quantizer that made them"
        )
    return indices


class VectorQuantizer(nn.Module):
    """A codebook of ``num_codes`` vectors of size ``code_dim`` and the nearest-code lookup.

    The codes start uniform in ``[-1/V, 1/V]``, ``V = num_codes``, as in the reference code of
    the paper: small, so that the encoder outputs, not the initial codes, decide where they go.

    Args:
        num_codes: ``V``, the number of codes; an index carries ``log2(V)`` bits.
        code_dim: the size of each code vector, and of the encoder's output vectors.

    Example:
        >>> quantizer = VectorQuantizer(num_codes=8, code_dim=3)
        >>> out = quantizer(torch.randn(5, 7, 7, 3))
        >>> out.z_q_straight_through.shape, out.indices.shape, out.codebook_loss.shape
        (torch.Size([5, 7, 7, 3]), torch.Size([5, 7, 7]), torch.Size([]))
    """

    def __init__(self, num_codes: int = 64, code_dim: int = 16) -> None:
        super().__init__()
        check_int("num_codes", num_codes, "try num_codes=64 (6 bits per code)")
        check_int("code_dim", code_dim, "try code_dim=16")
        self.num_codes, self.code_dim = num_codes, code_dim
        self.codebook = nn.Embedding(num_codes, code_dim)  # weight: (num_codes, code_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / num_codes, 1.0 / num_codes)

    def nearest_codes(self, z_e: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code to each vector: ``z_e: (..., code_dim)`` -> ``(...)`` long."""
        self._check_z_e(z_e)
        check_float_type("z_e", z_e, self, "convert it with z_e.float()")  # the codebook's type
        flat = z_e.detach().reshape(-1, self.code_dim)  # (N, code_dim)
        codes = self.codebook.weight.detach()  # (V, code_dim)
        # ||z - e||^2 = ||z||^2 - 2 z.e + ||e||^2: one matrix product, no (N, V, code_dim) tensor;
        # the choice has no gradient, so no graph is kept
        distances = (
            flat.pow(2).sum(dim=1, keepdim=True) - 2 * flat @ codes.T + codes.pow(2).sum(dim=1)
        )  # (N, V)
        return distances.argmin(dim=1).view(z_e.shape[:-1])

    def forward(self, z_e: torch.Tensor) -> VQOutput:
        """Quantise ``z_e: (..., code_dim)`` to its nearest codes; see :class:`VQOutput`."""
        indices = self.nearest_codes(z_e)  # (...)
        z_q = self.codebook(indices)  # (..., code_dim), differentiable in the codebook only
        codebook_loss = (z_q - z_e.detach()).pow(2).sum(dim=-1).mean()
        commitment_loss = (z_e - z_q.detach()).pow(2).sum(dim=-1).mean()
        # straight-through: the value of z_q, the gradient of z_e (an identity Jacobian)
        z_q_straight_through = z_e + (z_q - z_e).detach()
        return VQOutput(z_q_straight_through, indices, codebook_loss, commitment_loss)

    def _check_z_e(self, z_e: object) -> None:
        if not isinstance(z_e, torch.Tensor) or z_e.ndim < 1 or z_e.shape[-1] != self.code_dim:
            shape = tuple(z_e.shape) if isinstance(z_e, torch.Tensor) else type(z_e).__name__
            raise ValueError(
                f"z_e must be a tensor of shape (..., code_dim={self.code_dim}), got {shape}; "
                "put the code vectors last, e.g. a conv output (n, c, h, w).permute(0, 2, 3, 1)"
            )
        if z_e.numel() == 0:
            raise ValueError(
                f"z_e must hold at least one vector, got {tuple(z_e.shape)}; pass a batch of "
                "encoder outputs"
            )


def code_usage(indices: torch.Tensor, num_codes: int) -> torch.Tensor:
    """How often each code is chosen: the frequencies of ``indices``.

    Args:
        indices: any shape, integers in ``[0, num_codes)``, e.g. ``VQOutput.indices``.
        num_codes: ``V``, the codebook size.

    Returns:
        ``(num_codes,)`` floats that sum to 1; a zero marks a dead code.

    Example:
        >>> code_usage(torch.tensor([0, 0, 1, 3]), num_codes=4)
        tensor([0.5000, 0.2500, 0.0000, 0.2500])
    """
    indices = _check_indices(indices, num_codes)
    counts = torch.bincount(indices.reshape(-1), minlength=num_codes)
    return counts.float() / indices.numel()


def perplexity(indices: torch.Tensor, num_codes: int) -> torch.Tensor:
    """``exp(entropy)`` of the code frequencies: the number of codes in effective use.

    ``V`` when all ``V`` codes are used equally often, 1 when one code takes everything.

    Args:
        indices: any shape, integers in ``[0, num_codes)``.
        num_codes: ``V``, the codebook size.

    Returns:
        A 0-d float tensor between 1 and ``num_codes``.

    Example:
        >>> round(perplexity(torch.tensor([0, 1, 2, 3]), num_codes=8).item(), 4)
        4.0
    """
    p = code_usage(indices, num_codes)
    entropy = -torch.xlogy(p, p).sum()  # xlogy: 0 * log 0 = 0 for unused codes
    return entropy.exp()


@torch.no_grad()
def reinit_dead_codes(
    quantizer: VectorQuantizer,
    z_e: torch.Tensor,
    indices: torch.Tensor,
    generator: torch.Generator | None = None,
) -> int:
    """Move every code that ``indices`` never chose onto a randomly chosen encoder output.

    A code far from every encoder output is never the nearest, gets no gradient from the
    codebook loss, and stays dead; placed on an encoder output it is the nearest code to at least
    that vector and starts to learn. Call it every epoch (or every few batches), with the indices
    of that epoch.

    Args:
        quantizer: its codebook is changed in place.
        z_e: ``(..., code_dim)`` encoder outputs to draw the new codes from.
        indices: any shape, the codes chosen over a batch or an epoch.
        generator: draws which rows of ``z_e`` to copy; the global one by default.

    Returns:
        The number of codes that were re-initialised.

    Example:
        >>> quantizer = VectorQuantizer(num_codes=8, code_dim=3)
        >>> z_e = torch.randn(10, 3)
        >>> reinit_dead_codes(quantizer, z_e, torch.tensor([0, 1, 1, 5]))
        5
    """
    if not isinstance(quantizer, VectorQuantizer):
        raise ValueError(
            f"quantizer must be a VectorQuantizer, got {type(quantizer).__name__}; "
            "pass model.quantizer of a VQVAE"
        )
    quantizer._check_z_e(z_e)
    check_finite("z_e", z_e, "a NaN would be copied into the codebook: pass finite encoder outputs")
    indices = _check_indices(indices, quantizer.num_codes)
    used = torch.bincount(indices.reshape(-1).cpu(), minlength=quantizer.num_codes) > 0
    dead = (~used).nonzero().squeeze(1)  # (num_dead,)
    if len(dead) == 0:
        return 0
    candidates = z_e.reshape(-1, quantizer.code_dim)  # (N, code_dim)
    if len(candidates) >= len(dead):  # distinct rows, so that no two new codes coincide
        rows = torch.randperm(len(candidates), generator=generator)[: len(dead)]
    else:
        rows = torch.randint(len(candidates), (len(dead),), generator=generator)
    weight = quantizer.codebook.weight
    weight[dead.to(weight.device)] = candidates[rows.to(candidates.device)].to(weight)
    return len(dead)


class VQVAE(nn.Module):
    """A small convolutional VQ-VAE on flat 28x28 images: a 7x7 grid of discrete codes per image.

    Encoder: the convolutions of :class:`vae_utils.ConvVAE` (28 -> 14 -> 7 pixels, 16 and 32
    channels by default, so that a training step costs about as much) and a 1x1 convolution to
    ``code_dim`` channels, read as 49 code vectors. Decoder: the mirror image, with
    transposed convolutions and a sigmoid. Each image is stored as 49 indices of ``log2(V)`` bits:
    ``49 * 6 = 294`` bits for the default ``V = 64``. Sampling new images needs a prior over the
    index grids (the paper fits a PixelCNN); :func:`vae_utils.code_prior.fit_code_prior` fits two
    simple ones by counting, and ``model.decode(prior.sample(n))`` decodes their samples.

    Args:
        num_codes: ``V``, the codebook size.
        code_dim: the size of each code vector.
        channels: the channels of the first and the second convolution.

    Example:
        >>> model = VQVAE(num_codes=64, code_dim=16)
        >>> x_hat, vq = model(torch.rand(5, 784))
        >>> x_hat.shape, model.encode(torch.rand(5, 784)).shape, vq.indices.shape
        (torch.Size([5, 784]), torch.Size([5, 7, 7, 16]), torch.Size([5, 7, 7]))
    """

    grid_size = 7  # 28 pixels halved twice

    def __init__(
        self, num_codes: int = 64, code_dim: int = 16, channels: tuple[int, int] = (16, 32)
    ) -> None:
        super().__init__()
        check_channels(channels)
        second = channels[1]
        self.quantizer = VectorQuantizer(num_codes, code_dim)
        self.num_codes, self.code_dim = num_codes, code_dim
        # the convolutions of chapter 9's ConvVAE, with a grid of code vectors between them
        self.encoder = nn.Sequential(
            *downsampling(channels),  # (batch, 784) -> (batch, second, 7, 7)
            # no activation: the code vectors may point anywhere, like the codes they are matched to
            nn.Conv2d(second, code_dim, kernel_size=1),  # (batch, code_dim, 7, 7)
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, second, kernel_size=1),
            nn.ReLU(),
            *upsampling(channels),  # (batch, second, 7, 7) -> (batch, 784)
        )
        # convolution weights stored channels last, as in ConvVAE: faster convolutions on a CPU
        self.to(memory_format=torch.channels_last)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (batch, 784)`` -> ``z_e: (batch, 7, 7, code_dim)``, before quantisation."""
        check_matrix("x", x, "flatten images with x.view(len(x), -1)")
        if x.shape[1] != 784:
            raise ValueError(
                f"x must have 784 columns (28x28 images, flattened), got {x.shape[1]}; "
                "flatten images with x.view(len(x), -1)"
            )
        check_float_type("x", x, self)
        return self.encoder(x).permute(0, 2, 3, 1)  # channels last: one code vector per cell

    def quantize(self, z_e: torch.Tensor) -> VQOutput:
        """``z_e: (batch, 7, 7, code_dim)`` -> :class:`VQOutput` (``indices: (batch, 7, 7)``)."""
        return self.quantizer(z_e)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decode a grid of codes: ``z_q: (batch, 7, 7, code_dim)`` floats, or the indices
        ``(batch, 7, 7)`` integers, -> ``x_hat: (batch, 784)``."""
        if isinstance(z, torch.Tensor) and not z.dtype.is_floating_point:
            z = self.quantizer.codebook(_check_indices(z, self.num_codes))  # (batch, 7, 7, dim)
        grid = (self.grid_size, self.grid_size)
        if not isinstance(z, torch.Tensor) or z.ndim != 4 or z.shape[1:] != (*grid, self.code_dim):
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(
                f"z must be codes (batch, 7, 7, {self.code_dim}) or indices (batch, 7, 7), got "
                f"{shape}; pass VQOutput.z_q_straight_through or VQOutput.indices"
            )
        return self.decoder(z.permute(0, 3, 1, 2))  # channels first for the convolutions

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, VQOutput]:
        """``x: (batch, 784)`` -> ``(x_hat: (batch, 784), VQOutput)``."""
        vq = self.quantize(self.encode(x))
        return self.decode(vq.z_q_straight_through), vq

    @property
    def bits_per_image(self) -> float:
        """The size of an image's code: ``7 * 7 * log2(num_codes)`` bits (294 for 64 codes)."""
        return self.grid_size**2 * math.log2(self.num_codes)


def vqvae_objective(
    model: nn.Module, x: torch.Tensor, beta: float | torch.Tensor = 0.25
) -> torch.Tensor:
    """Training loss of a VQ-VAE on a batch (eq. 3 of van den Oord et al. 2017).

    ``||x - x_hat||^2`` summed over pixels as :func:`vae_utils.reconstruction_error`, averaged
    over the batch, plus the codebook loss, plus ``beta`` times the commitment loss.

    Args:
        model: a :class:`VQVAE` (or any model returning ``(x_hat, VQOutput)``).
        x: ``(batch, 784)``.
        beta: the weight of the commitment loss; 0.25 as in the paper, which found results robust
            from 0.1 to 2.0. Use ``functools.partial(vqvae_objective, beta=...)`` with
            :func:`vae_utils.fit`.

    Returns:
        A scalar tensor.
    """
    _check_beta(beta)
    x_hat, vq = model(x)
    return _vq_loss(x, x_hat, vq, beta)


def _check_beta(beta: object) -> None:
    if not isinstance(beta, torch.Tensor) and (
        isinstance(beta, bool)
        or not isinstance(beta, int | float)
        or not math.isfinite(beta)
        or beta < 0
    ):
        raise ValueError(f"beta must be a non-negative number, got {beta!r}; try beta=0.25")


def _vq_loss(
    x: torch.Tensor, x_hat: torch.Tensor, vq: VQOutput, beta: float | torch.Tensor
) -> torch.Tensor:
    """Eq. 3 of the paper: the batch-mean reconstruction error, codebook and commitment losses."""
    return reconstruction_error(x, x_hat).mean() + vq.codebook_loss + beta * vq.commitment_loss


class VQVAELoss:
    """:func:`vqvae_objective` as a loss for :func:`vae_utils.fit`, with dead codes restarted.

    Each call is one optimiser step. Every ``reinit_every`` steps, before the step's forward
    pass, the codes that no encoder output chose since the last restart are moved onto encoder
    outputs of the previous batch (:func:`reinit_dead_codes`); ``None`` never restarts them,
    the plain VQ-VAE. (The restart waits for the next call because the codebook must not change
    between a forward pass and its backward pass.) Along the way it records the perplexity of
    each batch's codes (``perplexities``) and the number of codes restarted (``restarts``).

    Args:
        beta: the commitment weight of :func:`vqvae_objective`.
        reinit_every: restart dead codes every this many steps, or ``None``.
        seed: seeds the choice of encoder outputs that restarted codes copy (shifted by
            ``$VAE_UTILS_SEED_SHIFT``).

    Example:
        >>> loss_fn = VQVAELoss(reinit_every=2)
        >>> model = VQVAE(num_codes=8, code_dim=4)
        >>> losses = [loss_fn(model, torch.rand(16, 784)).item() for _ in range(3)]
        >>> len(loss_fn.perplexities), loss_fn.restarts >= 0
        (3, True)
    """

    def __init__(self, beta: float = 0.25, reinit_every: int | None = None, seed: int = 0) -> None:
        _check_beta(beta)
        if reinit_every is not None:
            check_int("reinit_every", reinit_every, "try reinit_every=50, or None for no restarts")
        self.beta, self.reinit_every = beta, reinit_every
        self.generator = seeded_generator(seed)
        self.step, self.restarts = 0, 0
        self.perplexities: list[float] = []
        self._chosen: list[torch.Tensor] = []  # the indices chosen since the last restart
        self._last_z_e: torch.Tensor | None = None

    def __call__(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(model, VQVAE):
            raise ValueError(f"model must be a VQVAE, got {type(model).__name__}")
        due = self.reinit_every is not None and self.step > 0 and self.step % self.reinit_every == 0
        if due and self._last_z_e is not None:
            chosen = torch.cat(self._chosen)
            self.restarts += reinit_dead_codes(
                model.quantizer, self._last_z_e, chosen, self.generator
            )
            self._chosen = []
        z_e = model.encode(x)
        vq = model.quantize(z_e)
        x_hat = model.decode(vq.z_q_straight_through)
        indices = vq.indices.reshape(-1)
        if self.reinit_every is not None:  # kept only for the next restart
            self._chosen.append(indices)
            self._last_z_e = z_e.detach()
        self.perplexities.append(perplexity(indices, model.num_codes).item())
        self.step += 1
        return _vq_loss(x, x_hat, vq, self.beta)
