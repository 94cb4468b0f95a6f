"""A VAE for binary images, the model density-estimation papers report: Bernoulli pixels.

Each pixel of a binarised image is on or off; the decoder gives each one a probability of being
on, ``p(x | z) = prod_j Bernoulli(x_j; sigmoid(logit_j(z)))``. Log-likelihoods are then in nats
per image and comparable with the literature (dynamically binarised Fashion-MNIST: a fresh
binarisation ``x ~ Bernoulli(grey level)`` of the training images at every step, and the test
images binarised once with a fixed seed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from vae_utils.cache import load_weights, read_metadata, tensor_shapes
from vae_utils.models import BaseVAE, mlp_encoder_decoder
from vae_utils.priors import VampPrior
from vae_utils.validation import broadcastable, check_floats, check_sha256, check_width

# Trained by scripts/train_bernoulli_vae.py; the checksum catches a corrupted or swapped file.
BERNOULLI_WEIGHTS = Path(__file__).parent / "weights" / "bernoulli_vae.safetensors.xz"
SHIPPED_SHA256 = "b07349aa3e20d791c7c98dc01c680e2cb8480c4775e7f72afbf9198a096a5525"
# Its test log-likelihood, written by scripts/evaluate_bernoulli_vae.py.
BERNOULLI_RESULT = BERNOULLI_WEIGHTS.with_name("bernoulli_vae_test_ll.json")
# The same model with a VampPrior: scripts/train_bernoulli_vae.py --prior vamp.
VAMPPRIOR_WEIGHTS = BERNOULLI_WEIGHTS.with_name("vampprior_vae.safetensors.xz")
VAMPPRIOR_SHA256 = "4ecaa911f4286ad8548e5969f7c728112fb8f4189504f02b9f20b3aa6f1e1341"
VAMPPRIOR_RESULT = BERNOULLI_WEIGHTS.with_name("vampprior_vae_test_ll.json")


class BernoulliVAE(BaseVAE):
    """A VAE whose decoder returns one logit per pixel: ``p(x | z)`` is a product of Bernoullis.

    ``decode`` still returns images in [0, 1] (the probabilities, for plotting);
    ``decode_logits`` returns what the likelihood needs.

    Example:
        >>> model = BernoulliVAE(784, (300, 300), 40)
        >>> model.decode_logits(torch.zeros(5, 40)).shape
        torch.Size([5, 784])
    """

    def __init__(
        self, input_dim: int = 784, hidden_dims: Sequence[int] = (300, 300), latent_dim: int = 40
    ) -> None:
        encoder, decoder = mlp_encoder_decoder(
            input_dim, hidden_dims, latent_dim, encoder_outputs=2 * latent_dim
        )  # no sigmoid: the decoder's outputs are logits
        super().__init__(encoder, decoder, input_dim, latent_dim)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (..., latent_dim)`` -> logits ``(..., input_dim)``."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (..., latent_dim)`` -> pixel probabilities ``(..., input_dim)`` in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def distortion(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``-log p(x | z)``, per example: with ``C = 1`` the objective is the negative ELBO."""
        return -self.log_likelihood(x, z)

    def log_likelihood(
        self, x: torch.Tensor, z: torch.Tensor, variance: float | None = None
    ) -> torch.Tensor:
        """``log p(x | z)`` of binary ``x: (n, input_dim)`` for ``z: (..., n, latent_dim)``.

        Returns:
            ``(..., n)``. A Bernoulli decoder has no variance: ``variance`` must be ``None``.
        """
        if variance is not None:
            raise ValueError("a BernoulliVAE has no decoder variance; pass variance=None")
        return bernoulli_log_likelihood(x, self.decode_logits(z))


def _verified(path: str | Path, sha256: str | None) -> Path:
    """``path``, after checking that it exists and, unless ``sha256`` is None, its checksum."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; reinstall vae_utils, or run scripts/train_bernoulli_vae.py"
        )
    if sha256 is not None:
        fix = (
            "the file is corrupted or was retrained; restore it with git, or pass sha256=None "
            "for weights you trained"
        )
        check_sha256(str(path), path.read_bytes(), sha256, fix)
    return path


def load_shipped_bernoulli_vae(
    path: str | Path = BERNOULLI_WEIGHTS, sha256: str | None = SHIPPED_SHA256
) -> BernoulliVAE:
    """The Bernoulli VAE trained by ``scripts/train_bernoulli_vae.py``, its checksum verified.

    Args:
        path: the weights; the file shipped with the package by default.
        sha256: the expected SHA-256 of the file, or ``None`` to skip the check (a file you
            trained yourself).

    Returns:
        A :class:`BernoulliVAE` (784-300-300-40) in eval mode.
    """
    model = BernoulliVAE()
    load_weights(model, _verified(path, sha256))
    return model.eval()


def load_vampprior_vae(
    path: str | Path = VAMPPRIOR_WEIGHTS, sha256: str | None = VAMPPRIOR_SHA256
) -> BernoulliVAE:
    """The Bernoulli VAE with a VampPrior (``scripts/train_bernoulli_vae.py --prior vamp``).

    Args:
        path: the weights; the file shipped with the package by default.
        sha256: the expected SHA-256 of the file, or ``None`` to skip the check.

    Returns:
        A :class:`BernoulliVAE` (784-300-300-40) whose ``prior`` is a :class:`VampPrior` with
        the number of pseudo-inputs that the file holds, in eval mode.
    """
    path = _verified(path, sha256)
    num_pseudo_inputs, input_dim = tensor_shapes(path)["prior.pseudo_inputs"]
    model = BernoulliVAE()
    model.prior = VampPrior(torch.zeros(num_pseudo_inputs, input_dim))
    load_weights(model, path)
    return model.eval()


def shipped_bernoulli_record(prior: str = "standard") -> dict[str, dict[str, Any]]:
    """What the scripts recorded for a shipped Bernoulli VAE, without building a model.

    Args:
        prior: ``"standard"`` for the model with the prior N(0, I), ``"vamp"`` for the one with
            a VampPrior.

    Returns:
        ``{"training": ..., "evaluation": ...}``: the metadata that
        ``scripts/train_bernoulli_vae.py`` saved with the weights (settings, ``minutes``, ...) and
        the test log-likelihood that ``scripts/evaluate_bernoulli_vae.py`` wrote
        (``log_likelihood_nats``, ``standard_error_nats``, ``binarization_seed``, ...).
    """
    files = {
        "standard": (BERNOULLI_WEIGHTS, BERNOULLI_RESULT),
        "vamp": (VAMPPRIOR_WEIGHTS, VAMPPRIOR_RESULT),
    }
    if prior not in files:
        raise ValueError(f"prior must be 'standard' or 'vamp', got {prior!r}")
    weights, result = files[prior]
    return {"training": read_metadata(weights), "evaluation": json.loads(result.read_text())}


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw binary images ``x_bin ~ Bernoulli(x)`` from grey levels ``x: (n, D)`` in [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(
            f"x must be a tensor of grey levels in [0, 1], got {type(x).__name__}; load images "
            "with load_fashion_mnist"
        )
    check_floats("x", x)
    if x.numel():
        low, high = torch.aminmax(x)
        if low.isnan() or high.isnan():  # which comparisons would let through
            raise ValueError("x holds NaN values; load images with load_fashion_mnist")
        if low < 0 or high > 1:
            raise ValueError(
                "x must hold grey levels in [0, 1]; load images with load_fashion_mnist"
            )
    return torch.bernoulli(x, generator=generator)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``log p(x | z)`` of binary ``x: (..., D)`` under Bernoulli ``logits: (..., D)``; ``(...)``.

    Example:
        >>> round(bernoulli_log_likelihood(torch.ones(1, 2), torch.zeros(1, 2)).item(), 4)
        -1.3863
    """
    check_width("x", x, logits.shape[-1], "x and logits must describe the same pixels")
    if not broadcastable(x.shape, logits.shape):
        raise ValueError(
            f"x {tuple(x.shape)} must broadcast to logits {tuple(logits.shape)}; pass the images "
            "whose codes were decoded"
        )
    if x.numel():
        low, high = torch.aminmax(x)
        if low < 0 or high > 1:  # a pixel is on or off
            raise ValueError(
                f"x must be binary images, pixels 0 or 1, got values from {low.item():g} to "
                f"{high.item():g}; binarize grey levels with binarize(x)"
            )
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(
        -1
    )
