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

import itertools
import math
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from vae_utils.bernoulli import BernoulliVAE, bernoulli_log_likelihood
from vae_utils.cache import load_weights, tensor_shapes
from vae_utils.models import BaseVAE, reparameterize
from vae_utils.priors import Prior, StandardNormalPrior, VampPrior, diagonal_gaussian_log_prob
from vae_utils.validation import check_input, check_int


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
    """``layers`` gated layers, then the mean and the log-variance of a diagonal Gaussian, the
    log-variance clipped to ``[-6, 2]`` (a hardtanh, as the reference code):
    ``(batch, input_dim) -> (batch, 2 * latent_dim)``, as :class:`vae_utils.models.BaseVAE`
    expects of an encoder."""

    def __init__(self, input_dim: int, hidden_dim: int, latent_dim: int, layers: int = 2) -> None:
        super().__init__()
        for name, size in (("input_dim", input_dim), ("hidden_dim", hidden_dim)):
            check_int(name, size, "try GatedEncoder(784, 300, 40)")
        check_int("latent_dim", latent_dim, "try GatedEncoder(784, 300, 40)")
        check_int("layers", layers, "use 2, or 1 for the joint layer of q(z1 | x, z2)")
        widths = [input_dim] + [hidden_dim] * layers
        self.trunk = nn.Sequential(*(GatedDense(a, b) for a, b in itertools.pairwise(widths)))
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


class GatedTwoLevelVAE(nn.Module):
    """The record's two-level model, Tomczak and Welling (2018)'s ``HVAE_2level``:
    ``p(z2) p(z1 | z2) p(x | z1, z2)`` with Bernoulli pixels, inferred by ``q(z2 | x)
    q(z1 | x, z2)``, every network gated and 300 units wide, both codes 40 numbers. The prior of
    the top code is ``self.prior`` (N(0, I), or a VampPrior over ``q(z2 | x)``, :meth:`encode`).
    Unlike chapter 15's :class:`vae_utils.hierarchical.TwoLevelVAE`, the encoders share no layer
    and ``x`` and ``z2`` enter ``q(z1 | x, z2)`` (and ``z1`` and ``z2`` the decoder) through a
    gated layer each before they are joined, as in the reference code.
    """

    def __init__(
        self, input_dim: int = 784, hidden_dim: int = 300, latent_dims: tuple[int, int] = (40, 40)
    ) -> None:
        super().__init__()
        if not (isinstance(latent_dims, tuple | list) and len(latent_dims) == 2):
            raise ValueError(
                f"latent_dims must be two ints (z1_dim, z2_dim), got {latent_dims!r}; try (40, 40)"
            )
        z1_dim, z2_dim = latent_dims
        for name, size in (("z1_dim", z1_dim), ("z2_dim", z2_dim)):
            check_int(name, size, "try latent_dims=(40, 40)")
        self.input_dim, self.latent_dims = input_dim, (z1_dim, z2_dim)
        self.q_top = GatedEncoder(input_dim, hidden_dim, z2_dim)  # q(z2 | x)
        self.q_bottom_x = GatedDense(input_dim, hidden_dim)
        self.q_bottom_z2 = GatedDense(z2_dim, hidden_dim)
        self.q_bottom = GatedEncoder(2 * hidden_dim, hidden_dim, z1_dim, layers=1)  # q(z1 | x, z2)
        self.p_bottom = GatedEncoder(z2_dim, hidden_dim, z1_dim)  # p(z1 | z2)
        self.p_x_z1 = GatedDense(z1_dim, hidden_dim)
        self.p_x_z2 = GatedDense(z2_dim, hidden_dim)
        self.p_x = nn.Sequential(
            GatedDense(2 * hidden_dim, hidden_dim), nn.Linear(hidden_dim, input_dim)
        )
        self.prior: Prior = StandardNormalPrior()

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``q(z2 | x)``: ``x: (batch, input_dim)`` -> ``mu, log_var: (batch, z2_dim)``."""
        return self.q_top(x).chunk(2, dim=-1)

    def decode_logits(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """``(..., z1_dim)``, ``(..., z2_dim)`` -> the pixels' logits, ``(..., input_dim)``."""
        return self.p_x(torch.cat([self.p_x_z1(z1), self.p_x_z2(z2)], dim=-1))

    def terms(
        self, x: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``log p(x | z1, z2)`` and ``log q(z1, z2 | x) - log p(z1, z2)`` (the KL terms' one-draw
        estimate, as the reference code takes it) at ``num_samples`` draws per image of binary
        ``x: (n, input_dim)``: ``(num_samples, n)`` each."""
        check_int("num_samples", num_samples, "try num_samples=1")
        check_input(x, self.input_dim, self)  # floats (n, input_dim) of the weights' type
        mu2, log_var2 = self.encode(x)
        shape = (num_samples, *mu2.shape)
        z2 = reparameterize(mu2.expand(shape), log_var2.expand(shape), generator)
        h_x = self.q_bottom_x(x).expand(num_samples, -1, -1)
        mu1, log_var1 = self.q_bottom(torch.cat([h_x, self.q_bottom_z2(z2)], dim=-1)).chunk(2, -1)
        z1 = reparameterize(mu1, log_var1, generator)
        prior_mu1, prior_log_var1 = self.p_bottom(z2).chunk(2, dim=-1)
        likelihood = bernoulli_log_likelihood(x, self.decode_logits(z1, z2))
        kl = (
            diagonal_gaussian_log_prob(z1, mu1, log_var1)
            + diagonal_gaussian_log_prob(z2, mu2, log_var2)
            - diagonal_gaussian_log_prob(z1, prior_mu1, prior_log_var1)
            - self.prior.log_prob(z2, self.encode)
        )
        return likelihood, kl

    def log_weights(
        self, x: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``log p(x, z1, z2) - log q(z1, z2 | x)`` at ``num_samples`` draws per image:
        ``(num_samples, n)``. Their mean estimates the ELBO, their log-mean-exp ``L_k``."""
        likelihood, kl = self.terms(x, num_samples, generator)
        return likelihood - kl

    def objective(self, x: torch.Tensor, kl_weight: float = 1.0) -> torch.Tensor:
        """The training loss on a batch of binary ``x``: the batch mean of ``-log p(x | z1, z2) +
        kl_weight * (log q(z1, z2 | x) - log p(z1, z2))`` at one draw (with ``kl_weight = 1``,
        the negative ELBO). A scalar."""
        likelihood, kl = self.terms(x)
        return (-likelihood + kl_weight * kl).mean()


def importance_weighted_bound(
    model: GatedTwoLevelVAE, x: torch.Tensor, num_samples: int, chunk: int = 100
) -> torch.Tensor:
    """``L_k`` of each image of binary ``x: (n, input_dim)`` from ``k = num_samples`` draws, taken
    ``chunk`` at a time: ``(n,)``."""
    check_int("num_samples", num_samples, "try num_samples=5000")
    total = torch.full((len(x),), -math.inf, dtype=torch.float64, device=x.device)
    with torch.no_grad():
        for start in range(0, num_samples, chunk):
            weights = model.log_weights(x, min(chunk, num_samples - start)).double()
            total = torch.logaddexp(total, torch.logsumexp(weights, dim=0))
    return total - math.log(num_samples)


def load_record_vae(path: str | Path) -> GatedBernoulliVAE | GatedTwoLevelVAE:
    """A record model trained by ``scripts/train_record.py``, from its weights ``path``: the
    two-level model if the file holds one, with a VampPrior of as many pseudo-inputs as the file
    holds, if it holds any; in eval mode."""
    shapes = tensor_shapes(path)
    two_levels = any(name.startswith("q_top.") for name in shapes)
    model = GatedTwoLevelVAE() if two_levels else GatedBernoulliVAE()
    if "prior.pseudo_inputs" in shapes:
        model.prior = VampPrior(torch.zeros(shapes["prior.pseudo_inputs"]))
    load_weights(model, path)
    return model.eval()
