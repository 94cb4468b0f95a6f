"""The likelihood record's models, as the density-estimation papers build them (issue 32).

Tomczak and Welling (2018)'s code (vae_vampprior), which the Exemplar VAE's code (Norouzi et al.
2020) follows, builds every network from *gated* dense layers,
``h = Linear(x) * sigmoid(Linear'(x))``, 300 units wide, with He-initialised weights; clips the
encoder's log-variances to ``[-6, 2]``; and trains with Adam on gradients that are first
normalised to unit length, tensor by tensor (their ``AdamNormGrad``). The one-level model here is
their ``VAE`` (784-300-300-40, Bernoulli pixels); ``scripts/train_record.py`` trains it with a
VampPrior by their protocol.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from vae_utils.bernoulli import BernoulliVAE
from vae_utils.cache import load_weights, tensor_shapes
from vae_utils.models import BaseVAE
from vae_utils.priors import VampPrior
from vae_utils.validation import check_int


class GatedDense(nn.Module):
    """``h = Linear(x) * sigmoid(Linear'(x))``: a dense layer whose output is gated by a second
    one, the only non-linearity of the record's networks. ``(..., fan_in) -> (..., fan_out)``.

    Both weights are drawn from ``N(0, 2 / fan_in)`` (He initialisation, as the reference code
    does); the biases keep PyTorch's initialisation.
    """

    def __init__(self, fan_in: int, fan_out: int) -> None:
        super().__init__()
        check_int("fan_in", fan_in, "try GatedDense(784, 300)")
        check_int("fan_out", fan_out, "try GatedDense(784, 300)")
        self.linear = nn.Linear(fan_in, fan_out)
        self.gate = nn.Linear(fan_in, fan_out)
        for layer in (self.linear, self.gate):
            nn.init.normal_(layer.weight, 0.0, math.sqrt(2.0 / fan_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) * torch.sigmoid(self.gate(x))


class GatedEncoder(nn.Module):
    """Two gated layers, then the mean and the log-variance, clipped to ``[-6, 2]`` (a hardtanh,
    as the reference code): ``(batch, input_dim) -> (batch, 2 * latent_dim)``, as
    :class:`vae_utils.models.BaseVAE` expects."""

    def __init__(self, input_dim: int, hidden_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            GatedDense(input_dim, hidden_dim), GatedDense(hidden_dim, hidden_dim)
        )
        self.mean = nn.Linear(hidden_dim, latent_dim)
        self.log_var = nn.Sequential(nn.Linear(hidden_dim, latent_dim), nn.Hardtanh(-6.0, 2.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        return torch.cat([self.mean(h), self.log_var(h)], dim=-1)


class GatedBernoulliVAE(BernoulliVAE):
    """The record's one-level model: gated encoder and decoder (784-300-300-40 and back), one
    logit per pixel. Everything else (the likelihood, the prior in ``self.prior``, sampling) is
    :class:`vae_utils.bernoulli.BernoulliVAE`'s.

    Example:
        >>> model = GatedBernoulliVAE()
        >>> model.decode_logits(torch.zeros(3, 40)).shape
        torch.Size([3, 784])
    """

    def __init__(self, input_dim: int = 784, hidden_dim: int = 300, latent_dim: int = 40) -> None:
        check_int("input_dim", input_dim, "use 784 for 28x28 images")
        check_int("hidden_dim", hidden_dim, "use 300, as the published models")
        check_int("latent_dim", latent_dim, "use 40, as the published models")
        encoder = GatedEncoder(input_dim, hidden_dim, latent_dim)
        decoder = nn.Sequential(
            GatedDense(latent_dim, hidden_dim),
            GatedDense(hidden_dim, hidden_dim),
            nn.Linear(hidden_dim, input_dim),  # logits
        )
        BaseVAE.__init__(self, encoder, decoder, input_dim, latent_dim)


def normalise_gradients(parameters: Iterable[nn.Parameter], eps: float = 1e-7) -> None:
    """Divide each parameter's gradient by its Euclidean norm (plus ``eps``), in place: the step
    the reference code's ``AdamNormGrad`` takes before Adam's own. Call it between
    ``loss.backward()`` and ``optimizer.step()``."""
    for parameter in parameters:
        if parameter.grad is not None:
            parameter.grad.div_(parameter.grad.norm() + eps)


def load_record_vae(path: str | Path) -> GatedBernoulliVAE:
    """A record model trained by ``scripts/train_record.py``, from its weights ``path`` (with a
    VampPrior of as many pseudo-inputs as the file holds, if it holds any), in eval mode."""
    model = GatedBernoulliVAE()
    shapes = tensor_shapes(path)
    if "prior.pseudo_inputs" in shapes:
        model.prior = VampPrior(torch.zeros(shapes["prior.pseudo_inputs"]))
    load_weights(model, path)
    return model.eval()
