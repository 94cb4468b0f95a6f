"""A VAE with two stochastic layers (chapter 15, ``ch-hierarchical``).

The generative model is ``p(z2) p(z1 | z2) p(x | z1, z2)``: a top code ``z2`` drawn from N(0, I),
a bottom code ``z1`` drawn from a Gaussian whose mean and variance ``z2`` sets, and an image
decoded from both. The inference model runs the other way, ``q(z2 | x) q(z1 | x, z2)``: the
two-level model of Tomczak and Welling (2018), with one hidden layer (the trunk) shared by both
encoders. Given ``z2`` every distribution is a diagonal Gaussian, so both KL terms of the ELBO have
a closed form (:func:`kl_diagonal_gaussians`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from vae_utils.losses import gaussian_log_likelihood, kl_to_standard_normal, reconstruction_error
from vae_utils.models import mlp, reparameterize
from vae_utils.priors import diagonal_gaussian_log_prob
from vae_utils.validation import (
    check_generator,
    check_input,
    check_int,
    check_loss_weight,
    check_same_shape,
)


def kl_diagonal_gaussians(
    mu_q: torch.Tensor, log_var_q: torch.Tensor, mu_p: torch.Tensor, log_var_p: torch.Tensor
) -> torch.Tensor:
    """KL[N(mu_q, diag(exp(log_var_q))) || N(mu_p, diag(exp(log_var_p)))] in closed form (eq.
    ``eq-kl-diagonal``, chapter 15; the solution of chapter 5's exercise ``ex-maths-kl-diagonal``),
    summed over the last dimension.

    With ``mu_p = 0`` and ``log_var_p = 0`` it is :func:`vae_utils.kl_to_standard_normal`.

    Args:
        mu_q, log_var_q, mu_p, log_var_p: ``(..., latent_dim)``, all of one shape.

    Returns:
        ``(...)``, non-negative, zero exactly when the two Gaussians are equal.

    Example:
        >>> zeros = torch.zeros(2, 3)
        >>> kl_diagonal_gaussians(zeros, zeros, torch.ones(2, 3), zeros)
        tensor([1.5000, 1.5000])
    """
    for name, value in (("log_var_q", log_var_q), ("mu_p", mu_p), ("log_var_p", log_var_p)):
        check_same_shape("mu_q", mu_q, name, value)
    ratio = (log_var_q.exp() + (mu_q - mu_p) ** 2) / log_var_p.exp()  # (..., latent_dim)
    return 0.5 * (log_var_p - log_var_q + ratio - 1).sum(dim=-1)


class TwoLevelPass(NamedTuple):
    """One pass of :class:`TwoLevelVAE` through an image batch: the drawn codes, the Gaussians
    they were drawn from (``(mu, log_var)`` pairs), and the decoded image."""

    x_hat: torch.Tensor  # (..., input_dim), the mean of p(x | z1, z2)
    z1: torch.Tensor  # (..., z1_dim), drawn from q(z1 | x, z2)
    z2: torch.Tensor  # (..., z2_dim), drawn from q(z2 | x)
    q1: tuple[torch.Tensor, torch.Tensor]  # q(z1 | x, z2)
    q2: tuple[torch.Tensor, torch.Tensor]  # q(z2 | x)
    p1: tuple[torch.Tensor, torch.Tensor]  # p(z1 | z2)


class TwoLevelVAE(nn.Module):
    """A VAE with a top code ``z2`` and a bottom code ``z1`` (see the module's docstring).

    Args:
        input_dim: length of a flattened image (784).
        hidden_dim: width of the trunk (the encoders' shared hidden layer) and of the decoder's.
        latent_dims: ``(z1_dim, z2_dim)``, the sizes of the bottom and the top code.
        side_dim: width of the hidden layer of ``q(z1 | x, z2)`` and of ``p(z1 | z2)``.

    Example:
        >>> out = TwoLevelVAE(784, 256, (8, 2))(torch.zeros(5, 784))
        >>> out.x_hat.shape, out.z1.shape, out.z2.shape
        (torch.Size([5, 784]), torch.Size([5, 8]), torch.Size([5, 2]))
    """

    def __init__(
        self,
        input_dim: int = 784,
        hidden_dim: int = 256,
        latent_dims: tuple[int, int] = (8, 2),
        side_dim: int = 64,
    ) -> None:
        super().__init__()
        if not (isinstance(latent_dims, tuple | list) and len(latent_dims) == 2):
            raise ValueError(
                f"latent_dims must be two ints (z1_dim, z2_dim), got {latent_dims!r}; try (8, 2)"
            )
        z1_dim, z2_dim = latent_dims
        sizes = {"input_dim": input_dim, "hidden_dim": hidden_dim, "side_dim": side_dim}
        for name, size in {**sizes, "z1_dim": z1_dim, "z2_dim": z2_dim}.items():
            check_int(name, size, "try TwoLevelVAE(784, 256, (8, 2), side_dim=64)")
        self.input_dim, self.latent_dims = input_dim, (z1_dim, z2_dim)
        self.trunk = nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU())  # h(x)
        self.q_top = nn.Linear(hidden_dim, 2 * z2_dim)  # q(z2 | x) from h(x)
        self.q_bottom = mlp((hidden_dim + z2_dim, side_dim, 2 * z1_dim))  # q(z1 | x, z2)
        self.p_bottom = mlp((z2_dim, side_dim, 2 * z1_dim))  # p(z1 | z2)
        self.decoder = mlp((z1_dim + z2_dim, hidden_dim, input_dim), nn.Sigmoid())  # p(x | z)

    def decode(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """``z1: (..., z1_dim)``, ``z2: (..., z2_dim)`` -> the mean of ``p(x | z1, z2)``,
        ``(..., input_dim)``."""
        return self.decoder(torch.cat([z1, z2], dim=-1))

    def forward(
        self, x: torch.Tensor, num_samples: int = 1, generator: torch.Generator | None = None
    ) -> TwoLevelPass:
        """Encode ``x: (batch, input_dim)``, draw ``z2`` then ``z1``, and decode.

        With ``num_samples = 1`` every tensor of the pass has the batch first, ``(batch, ...)``;
        otherwise ``(num_samples, batch, ...)`` for the draws and what depends on them.
        """
        check_input(x, self.input_dim, self)  # floats (batch, input_dim) of the weights' type
        h = self.trunk(x)  # (batch, hidden_dim)
        mu2, log_var2 = self.q_top(h).chunk(2, dim=-1)
        if num_samples != 1:
            check_int("num_samples", num_samples, "try num_samples=100")
            shape = (num_samples, *mu2.shape)
            mu2, log_var2, h = mu2.expand(shape), log_var2.expand(shape), h.expand(*shape[:2], -1)
        z2 = reparameterize(mu2, log_var2, generator)
        mu1, log_var1 = self.q_bottom(torch.cat([h, z2], dim=-1)).chunk(2, dim=-1)
        z1 = reparameterize(mu1, log_var1, generator)
        prior_mu1, prior_log_var1 = self.p_bottom(z2).chunk(2, dim=-1)
        x_hat = self.decode(z1, z2)
        return TwoLevelPass(
            x_hat, z1, z2, (mu1, log_var1), (mu2, log_var2), (prior_mu1, prior_log_var1)
        )

    def log_weights(
        self,
        x: torch.Tensor,
        variance: float,
        num_samples: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``log p(x, z1, z2) - log q(z1, z2 | x)`` at ``num_samples`` draws per image: their mean
        estimates the ELBO, their log-mean-exp the bound ``L_k`` (eq. ``eq-iwae-bound``).

        Args:
            x: ``(n, input_dim)``.
            variance: the decoder variance ``c``.
            num_samples: draws of ``(z1, z2)`` per image.
            generator: draws from this generator; the global one by default.

        Returns:
            ``(num_samples, n)``.
        """
        out = self(x, num_samples, generator)
        log_p = (
            gaussian_log_likelihood(x, out.x_hat, variance)
            + diagonal_gaussian_log_prob(out.z1, *out.p1)
            + diagonal_gaussian_log_prob(out.z2, torch.zeros_like(out.z2), torch.zeros_like(out.z2))
        )
        log_q = diagonal_gaussian_log_prob(out.z1, *out.q1) + diagonal_gaussian_log_prob(
            out.z2, *out.q2
        )
        return (log_p - log_q).reshape(num_samples, len(x))

    @torch.no_grad()
    def sample(
        self,
        num_samples: int,
        generator: torch.Generator | None = None,
        z2: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw ``z2`` from N(0, I) (or take the given ``z2: (num_samples, z2_dim)``), then ``z1``
        from ``p(z1 | z2)``, and decode: ``(num_samples, input_dim)``."""
        check_int("num_samples", num_samples, "try num_samples=16")
        check_generator(generator)
        z2_dim = self.latent_dims[1]
        weight = next(self.parameters())
        if z2 is None:
            z2 = torch.randn(
                num_samples, z2_dim, generator=generator, dtype=weight.dtype, device=weight.device
            )
        elif not isinstance(z2, torch.Tensor) or z2.shape != (num_samples, z2_dim):
            raise ValueError(
                f"z2 must be a tensor ({num_samples}, {z2_dim}), one top code per sample, got "
                f"{getattr(z2, 'shape', type(z2).__name__)}; repeat one code with "
                "z2.expand(num_samples, -1)"
            )
        mu1, log_var1 = self.p_bottom(z2).chunk(2, dim=-1)
        return self.decode(reparameterize(mu1, log_var1, generator), z2)


def two_level_terms(out: TwoLevelPass, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``(distortion, kl_bottom, kl_top)`` of each image, ``(batch,)`` each: ``||x - x_hat||^2``,
    ``KL[q(z1 | x, z2) || p(z1 | z2)]`` at the drawn ``z2``, and ``KL[q(z2 | x) || N(0, I)]``."""
    distortion = reconstruction_error(x, out.x_hat)
    return distortion, kl_diagonal_gaussians(*out.q1, *out.p1), kl_to_standard_normal(*out.q2)


def two_level_objective(model: TwoLevelVAE, x: torch.Tensor, C: float) -> torch.Tensor:
    """Training loss of a :class:`TwoLevelVAE` on a batch ``x: (batch, input_dim)``: the batch
    mean of ``C * ||x - x_hat||^2 + KL_bottom + KL_top`` (eq. ``eq-two-level-loss``), each KL in
    closed form, at one draw of ``(z2, z1)`` per image. A scalar."""
    check_loss_weight("C", C, "try C=10.0")
    distortion, kl_bottom, kl_top = two_level_terms(model(x), x)
    return (C * distortion + kl_bottom + kl_top).mean()
