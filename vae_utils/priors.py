"""Priors over the latent code: the standard normal, a learned mixture of Gaussians, the VampPrior.

A VAE's prior ``p(z)`` need not be ``N(0, I)``. A learned prior can follow the codes that the
encoder actually uses (the *aggregate posterior*), so that fewer prior samples land where no
image's code lies. Two learned priors are mixtures of diagonal Gaussians:

- :class:`MixturePrior`: ``K`` components with free means, variances and weights;
- :class:`VampPrior` (Tomczak and Welling 2018): the mixture of the encoder's own posteriors at
  ``K`` learned *pseudo-inputs*, ``p(z) = (1/K) sum_k q(z | u_k)``.

A model holds its prior as ``model.prior`` (:class:`vae_utils.models.BaseVAE`); every prior has
``log_prob(z, encode)`` and ``sample(num_samples, latent_dim, encode, generator, device)``, where
``encode`` is the model's encoder (only the VampPrior uses it). With a learned prior the KL term
of the ELBO has no closed form; :meth:`vae_utils.models.BaseVAE.kl_divergence` then estimates
it from the drawn ``z``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from vae_utils.validation import check_finite, check_int, check_matrix, shape_or_type

Encode = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
Generator = torch.Generator | None
Device = torch.device | str | None


def diagonal_gaussian_log_prob(
    z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """``log N(z; mu, diag(exp(log_var)))``, summed over the last dimension.

    Args:
        z, mu, log_var: broadcastable shapes ``(..., latent_dim)``.

    Returns:
        ``(...)``, the broadcast shape without its last dimension.

    Example:
        >>> round(diagonal_gaussian_log_prob(torch.zeros(1, 2), torch.zeros(2), torch.zeros(2))
        ...       .item(), 4)  # -log(2 pi)
        -1.8379
    """
    if not all(isinstance(t, torch.Tensor) and t.ndim > 0 for t in (z, mu, log_var)) or not (
        z.shape[-1] == mu.shape[-1] == log_var.shape[-1]
    ):
        raise ValueError(
            f"z, mu and log_var must each be a tensor (..., latent_dim), of one latent_dim, got "
            f"{shape_or_type(z)}, {shape_or_type(mu)} and {shape_or_type(log_var)}; pass the "
            "encoder's mu and log_var, and codes z of its latent space"
        )
    return -0.5 * ((z - mu).pow(2) / log_var.exp() + log_var + math.log(2 * math.pi)).sum(-1)


def gaussian_component_log_probs(
    z: torch.Tensor, means: torch.Tensor, log_vars: torch.Tensor
) -> torch.Tensor:
    """``log N(z; m_k, diag(v_k))`` of every ``z`` under each of ``K`` diagonal Gaussians, float64.

    The log-density is linear in the features ``(z^2, z, 1)``: one matrix product of those
    features with the components' coefficients gives every value, so that no
    ``(..., K, latent_dim)`` tensor and no other ``(..., K)`` intermediate is formed: the
    importance-weighted bound evaluates millions of ``z`` against hundreds of components.

    Args:
        z: ``(..., latent_dim)``.
        means, log_vars: ``(K, latent_dim)``, the components' means and log-variances.

    Returns:
        ``(..., K)`` float64.

    Example:
        >>> means, log_vars = torch.zeros(4, 2), torch.zeros(4, 2)  # four components
        >>> gaussian_component_log_probs(torch.zeros(3, 2), means, log_vars).shape
        torch.Size([3, 4])
    """
    if (
        not all(isinstance(t, torch.Tensor) for t in (z, means, log_vars))
        or z.ndim == 0
        or means.ndim != 2
        or means.shape != log_vars.shape
        or z.shape[-1] != means.shape[1]
    ):
        width = z.shape[-1] if isinstance(z, torch.Tensor) and z.ndim else shape_or_type(z)
        raise ValueError(
            f"means and log_vars must both be (K, latent_dim) with latent_dim = z.shape[-1] = "
            f"{width}; got {shape_or_type(means)} and {shape_or_type(log_vars)}"
        )
    # float64: the three terms are large and nearly cancel for a narrow component close to z
    # (float32 errs by 0.01 nats at posterior standard deviations of 0.08)
    z64, means, log_vars = z.double(), means.double(), log_vars.double()
    precision = (-log_vars).exp()  # (K, latent_dim)
    # -1/2 sum_j (z_j - m_kj)^2 / v_kj - 1/2 sum_j log(2 pi v_kj), as coefficients of (z^2, z, 1)
    constant = -0.5 * (
        (means.pow(2) * precision).sum(-1)
        + log_vars.sum(-1)
        + means.shape[1] * math.log(2 * math.pi)
    )  # (K,)
    coefficients = torch.cat([-0.5 * precision, means * precision, constant[:, None]], dim=1)
    features = torch.cat([z64.pow(2), z64, torch.ones_like(z64[..., :1])], dim=-1)
    return features @ coefficients.T  # (..., K)


def gaussian_mixture_log_prob(
    z: torch.Tensor,
    means: torch.Tensor,
    log_vars: torch.Tensor,
    log_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """``log sum_k w_k N(z; m_k, diag(v_k))`` for every ``z``, in ``O(K)`` memory per ``z``.

    Computed in float64 (:func:`gaussian_component_log_probs`) and returned in the dtype of ``z``.

    Args:
        z: ``(..., latent_dim)``.
        means, log_vars: ``(K, latent_dim)``, the components' means and log-variances.
        log_weights: ``(K,)`` log mixture weights that sum to 1 in probability; uniform
            (``-log K`` each) if ``None``.

    Returns:
        ``(...)``.

    Example:
        >>> z = torch.zeros(3, 2)  # two equal components: the mixture is one N(0, I)
        >>> gaussian_mixture_log_prob(z, torch.zeros(2, 2), torch.zeros(2, 2)).shape
        torch.Size([3])
    """
    return _mixture_log_prob(z, means, log_vars, log_weights, weights_checked=False)


def _mixture_log_prob(
    z: torch.Tensor,
    means: torch.Tensor,
    log_vars: torch.Tensor,
    log_weights: torch.Tensor | None,
    *,
    weights_checked: bool,
) -> torch.Tensor:
    """:func:`gaussian_mixture_log_prob`; ``weights_checked``: skip the check that the weights sum
    to 1, which reads their values (a wait for a GPU at every batch), where a prior's
    ``log_softmax`` made them so."""
    log_components = partial(gaussian_component_log_probs, means=means, log_vars=log_vars)
    rows = z.shape[:-1].numel() if isinstance(z, torch.Tensor) and z.ndim else 0
    num_components = means.shape[0] if isinstance(means, torch.Tensor) and means.ndim == 2 else 0
    if rows * num_components > _BLOCK_VALUES:
        # many z against many components (an aggregate posterior): a block of z at a time, so
        # that its (block, K) values stay in the CPU's cache through the passes over them, 1.3
        # to 2 times faster than one large block; each row's result is the same
        block_rows = max(1, _BLOCK_VALUES // num_components)
        flat = z.reshape(rows, z.shape[-1])
        log_weights = _checked_log_weights(log_weights, means.shape, weights_checked)
        blocks = [
            _mixture_of(log_components(block), log_weights) for block in flat.split(block_rows)
        ]
        return torch.cat(blocks).view(z.shape[:-1]).to(z.dtype)
    components = log_components(z)  # (..., K), checks the shapes
    log_weights = _checked_log_weights(log_weights, means.shape, weights_checked)
    return _mixture_of(components, log_weights).to(z.dtype)


# values of one block of z in _mixture_log_prob: 8 MB of float64, within a CPU's cache
_BLOCK_VALUES = 2**20


def _checked_log_weights(
    log_weights: torch.Tensor | None, means_shape: torch.Size, weights_checked: bool
) -> torch.Tensor | None:
    """``log_weights`` of the components of means ``means_shape = (K, latent_dim)`` (``None``:
    equal weights), their sum checked unless ``weights_checked``."""
    num_components = means_shape[0]
    if num_components == 0:
        raise ValueError(
            f"means must hold at least one component, got {tuple(means_shape)}; pass K >= 1 "
            "rows of means and log_vars"
        )
    if log_weights is None:
        return None
    if not isinstance(log_weights, torch.Tensor) or log_weights.shape != (num_components,):
        raise ValueError(
            f"log_weights must have shape (K,) = ({num_components},), one per component, got "
            f"{shape_or_type(log_weights)}; pass None for equal weights"
        )
    if not weights_checked:
        total = torch.logsumexp(log_weights.detach().double(), dim=0).item()  # log sum w_k
        if not abs(total) <= 1e-4:  # also refuses a NaN
            raise ValueError(
                f"log_weights must be log-probabilities, whose exp sums to 1, got "
                f"logsumexp(log_weights) = {total:.4g}; normalise them with "
                "torch.log_softmax(logits, dim=0)"
            )
    return log_weights


def _mixture_of(log_components: torch.Tensor, log_weights: torch.Tensor | None) -> torch.Tensor:
    """``log sum_k w_k exp(log_components[..., k])``, float64: ``(..., K)`` -> ``(...)``."""
    if log_weights is None:
        return _logsumexp(log_components) - math.log(log_components.shape[-1])
    return _logsumexp(log_components + log_weights.double())


def _logsumexp(x: torch.Tensor) -> torch.Tensor:
    """``torch.logsumexp(x, dim=-1)``, the same steps and the same result, faster where many
    terms underflow, as when an aggregate posterior is evaluated: its far components lie
    millions of nats below its nearest, and ``exp`` of a finite argument below about -745 is 0
    by a path three times slower. Those terms are set to ``-inf`` first, whose ``exp`` is the
    same 0. Under a gradient (training) it is ``torch.logsumexp`` itself, whose backward pass
    the weights were trained with.

    ``x``: ``(..., K)`` -> ``(...)``.
    """
    if torch.is_grad_enabled() and x.requires_grad:
        return torch.logsumexp(x, dim=-1)
    maxes = x.amax(dim=-1, keepdim=True)
    maxes.masked_fill_(maxes.abs() == math.inf, 0)  # as torch: no inf - inf
    shifted = x - maxes
    terms = shifted.masked_fill_(shifted < -750, -math.inf).exp_()
    return terms.sum(dim=-1).log_().add_(maxes.squeeze(-1))


class Prior(nn.Module):
    """What every prior of the course offers a VAE (``model.prior``,
    :class:`vae_utils.models.BaseVAE`).

    ``log_prob(z, encode)`` and ``sample(num_samples, latent_dim, encode, generator, device)``;
    ``encode`` is the model's encoder (only the VampPrior uses it). ``closed_form_kl`` says
    whether the KL from a diagonal Gaussian posterior has a closed form (only for ``N(0, I)``);
    otherwise :meth:`vae_utils.models.BaseVAE.kl_divergence` estimates it from the drawn ``z``.
    """

    closed_form_kl = False

    def log_prob(self, z: torch.Tensor, encode: Encode | None = None) -> torch.Tensor:
        """``log p(z)``: ``z: (..., latent_dim)`` -> ``(...)``."""
        raise NotImplementedError

    def sample(
        self,
        num_samples: int,
        latent_dim: int,
        encode: Encode | None = None,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """``(num_samples, latent_dim)`` draws."""
        check_int("num_samples", num_samples, "try num_samples=16")
        return self._draw(num_samples, latent_dim, encode, generator, device)

    def _draw(
        self, n: int, latent_dim: int, encode: Encode | None, generator: Generator, device: Device
    ) -> torch.Tensor:
        """``(n, latent_dim)`` draws, ``n`` checked."""
        raise NotImplementedError


class StandardNormalPrior(Prior):
    """The prior of the basic VAE, ``N(0, I)``; it has no parameters, and its KL has a closed form.

    Example:
        >>> prior = StandardNormalPrior()
        >>> round(prior.log_prob(torch.zeros(1, 2)).item(), 4)
        -1.8379
    """

    closed_form_kl = True

    def log_prob(self, z: torch.Tensor, encode: Encode | None = None) -> torch.Tensor:
        """``log N(z; 0, I)``: ``z: (..., latent_dim)`` -> ``(...)``."""
        return (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(dim=-1)

    def _draw(
        self, n: int, latent_dim: int, encode: Encode | None, generator: Generator, device: Device
    ) -> torch.Tensor:
        return torch.randn(n, latent_dim, generator=generator, device=device)


class _GaussianMixture(Prior):
    """A mixture of diagonal Gaussians given by ``components(encode)``: its log-density and
    its draws."""

    def components(
        self, encode: Encode | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``means, log_vars: (K, latent_dim)`` and ``log_weights: (K,)`` or ``None``."""
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor, encode: Encode | None = None) -> torch.Tensor:
        """``log p(z)``: ``z: (..., latent_dim)`` -> ``(...)``."""
        # a MixturePrior's weights are a log_softmax, a VampPrior's equal: no need to read them
        return _mixture_log_prob(z, *self.components(encode), weights_checked=True)

    @torch.no_grad()
    def _draw(
        self, n: int, latent_dim: int, encode: Encode | None, generator: Generator, device: Device
    ) -> torch.Tensor:
        """A component each, then a point of it."""
        means, log_vars, log_weights = self.components(encode)
        if means.shape[1] != latent_dim:
            raise ValueError(f"the prior's latent_dim is {means.shape[1]}, not {latent_dim}")
        if log_weights is None:
            log_weights = torch.zeros(len(means), device=means.device)
        which = torch.multinomial(log_weights.softmax(0), n, replacement=True, generator=generator)
        noise = torch.randn(n, latent_dim, generator=generator, device=means.device)
        return means[which] + (0.5 * log_vars[which]).exp() * noise


class MixturePrior(_GaussianMixture):
    """A mixture of ``K`` diagonal Gaussians whose means, variances and weights are learned.

    Args:
        num_components: ``K``.
        latent_dim: size of ``z``.
        generator: draws the initial means, ``N(0, I)``; the components start with unit variance
            and equal weights.

    Example:
        >>> prior = MixturePrior(10, 2)
        >>> prior.log_prob(torch.zeros(4, 2)).shape, prior.sample(3, 2).shape
        (torch.Size([4]), torch.Size([3, 2]))
    """

    def __init__(
        self, num_components: int, latent_dim: int, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        check_int("num_components", num_components, "try num_components=10")
        check_int("latent_dim", latent_dim, "pass the model's latent_dim")
        self.means = nn.Parameter(torch.randn(num_components, latent_dim, generator=generator))
        self.log_vars = nn.Parameter(torch.zeros(num_components, latent_dim))
        self.logits = nn.Parameter(torch.zeros(num_components))

    def components(
        self, encode: Encode | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``means, log_vars: (K, latent_dim)`` and ``log_weights: (K,)``."""
        return self.means, self.log_vars, F.log_softmax(self.logits, dim=0)


class VampPrior(_GaussianMixture):
    """The VampPrior (Tomczak and Welling 2018): ``p(z) = (1/K) sum_k q(z | u_k)``.

    The components are the encoder's posteriors at ``K`` learned pseudo-inputs ``u_k``, images
    that the optimiser shapes along with the encoder and the decoder. They start as the images
    ``init`` (e.g. ``K`` training images) and are kept in ``[0, 1]`` by a clamp (hardtanh, as in
    the paper).

    Args:
        init: ``(K, input_dim)`` the initial pseudo-inputs, in [0, 1].

    Example:
        >>> from vae_utils.models import VAE
        >>> model = VAE(784, (32,), 2)
        >>> model.prior = VampPrior(torch.rand(5, 784))
        >>> model.prior.log_prob(torch.zeros(3, 2), model.encode).shape
        torch.Size([3])
    """

    def __init__(self, init: torch.Tensor) -> None:
        super().__init__()
        check_matrix("init", init, "pass K images, e.g. x[:500] of load_fashion_mnist")
        check_finite("init", init, "pass K training images, e.g. x[:500] of load_fashion_mnist")
        if init.min() < 0 or init.max() > 1:
            raise ValueError("init must hold images in [0, 1], e.g. training images")
        self.pseudo_inputs = nn.Parameter(init.detach().clone().float())

    def components(self, encode: Encode | None) -> tuple[torch.Tensor, torch.Tensor, None]:
        """The encoder's ``mu, log_var: (K, latent_dim)`` at the pseudo-inputs; equal weights."""
        if encode is None:
            raise ValueError("a VampPrior needs the encoder: pass encode=model.encode")
        mu, log_var = encode(F.hardtanh(self.pseudo_inputs, 0.0, 1.0))
        return mu, log_var, None
