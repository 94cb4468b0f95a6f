"""Principal component analysis, the best linear encoder and decoder with orthonormal columns,
and probabilistic PCA.

Probabilistic PCA (Tipping and Bishop 1999) is the linear Gaussian model
``z ~ N(0, I)``, ``x | z ~ N(W z + mean, noise_variance * I)``; its marginal
``p(x) = N(mean, W W^T + noise_variance * I)`` and posterior ``p(z | x)`` are exact, which makes it
the yardstick for the bounds that a VAE optimises (:mod:`vae_utils.likelihood`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vae_utils.validation import (
    check_columns,
    check_finite,
    check_floats,
    check_int,
    check_matrix,
    check_width,
)


@dataclass(frozen=True)
class PCA:
    """A fitted PCA. It is fitted and kept in float64, so that its identities hold to float
    precision; it encodes and decodes in the dtype of its input.

    Attributes:
        mean: ``(input_dim,)`` the data mean.
        components: ``(input_dim, input_dim)``; column ``j`` is the ``j``-th principal direction.
        eigenvalues: ``(input_dim,)`` variance of the data along each direction, decreasing.
    """

    mean: torch.Tensor
    components: torch.Tensor
    eigenvalues: torch.Tensor

    def _check_num_components(self, num_components: int) -> None:
        size = len(self.eigenvalues)
        check_int("num_components", num_components, f"choose between 1 and {size} directions")
        if num_components > size:
            raise ValueError(
                f"num_components must be between 1 and {size}, got {num_components}; "
                "choose how many principal directions to keep"
            )

    def encode(self, x: torch.Tensor, num_components: int) -> torch.Tensor:
        """``x: (batch, input_dim)`` -> coordinates ``z: (batch, num_components)``, dtype of x."""
        self._check_num_components(num_components)
        # floats: an integer copy of the mean would be rounded
        check_width("x", x, len(self.mean), "pass rows like the data that fit_pca saw")
        # in x's dtype: float64 copies of 60,000 images would take most of the time
        return (x - self.mean.to(x.dtype)) @ self.components[:, :num_components].to(x.dtype)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (batch, num_components)`` -> ``x_hat: (batch, input_dim)``, dtype of z."""
        self._check_num_components(z.shape[-1])
        check_floats("z", z)
        return z @ self.components[:, : z.shape[-1]].T.to(z.dtype) + self.mean.to(z.dtype)

    def reconstruct(self, x: torch.Tensor, num_components: int) -> torch.Tensor:
        """Project ``x: (batch, input_dim)`` on the top ``num_components`` directions and back."""
        return self.decode(self.encode(x, num_components))


def fit_pca(x: torch.Tensor) -> PCA:
    """Fit PCA by the eigen-decomposition of the covariance ``(x - mean)^T (x - mean) / n``; its
    encoder and decoder are the maps of eq. ``eq-pca-maps`` (chapter 1).

    Args:
        x: ``(n, input_dim)`` data, ``n >= 2``.

    Returns:
        A :class:`PCA` with all ``input_dim`` directions; each direction's sign is fixed so that its
        largest entry is positive, which makes results reproducible.

    Example:
        >>> pca = fit_pca(torch.rand(100, 5))
        >>> pca.components.shape, pca.encode(torch.rand(3, 5), num_components=2).shape
        (torch.Size([5, 5]), torch.Size([3, 2]))
    """
    check_matrix("x", x, "pass flat images, e.g. x.view(len(x), -1)", min_rows=2)
    check_finite("x", x)  # a NaN would turn every direction into NaN
    x = x.to(torch.float64)
    mean = x.mean(dim=0)
    centred = x - mean
    covariance = centred.T @ centred / len(x)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending order
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
    largest = eigenvectors.gather(0, eigenvectors.abs().argmax(dim=0, keepdim=True))
    eigenvectors = eigenvectors * torch.sign(largest)
    return PCA(mean=mean, components=eigenvectors, eigenvalues=eigenvalues.clamp(min=0.0))


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles (radians, increasing) between the column spaces of two matrices.

    Args:
        a: ``(n, k)`` and b: ``(n, l)``; the columns need not be orthonormal.

    Returns:
        ``(min(k, l),)`` angles in ``[0, pi/2]``; all zero when one space contains the other.

    Example:
        >>> principal_angles(torch.eye(3)[:, :2], torch.eye(3)[:, 1:])
        tensor([0.0000, 1.5708], dtype=torch.float64)
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a and b must be matrices with the same number of rows, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}; pass e.g. a decoder's weight (784, k) and pca.components[:, :k]"
        )
    for name, value in (("a", a), ("b", b)):
        check_finite(name, value, "a model whose weights hold NaN diverged: train it again")
    q_a, _ = torch.linalg.qr(a.to(torch.float64))
    q_b, _ = torch.linalg.qr(b.to(torch.float64))
    cosines = torch.linalg.svdvals(q_a.T @ q_b).clamp(-1.0, 1.0)
    return torch.arccos(cosines).sort().values


@dataclass(frozen=True)
class PPCA:
    """Probabilistic PCA parameters, float64.

    Attributes:
        mean: ``(input_dim,)``.
        weight: ``(input_dim, latent_dim)`` the matrix ``W``.
        noise_variance: the isotropic noise variance ``sigma^2``.
    """

    mean: torch.Tensor
    weight: torch.Tensor
    noise_variance: float


def fit_ppca(x: torch.Tensor, latent_dim: int) -> PPCA:
    """Maximum-likelihood probabilistic PCA from the eigen-decomposition of the covariance.

    ``sigma^2`` is the mean of the discarded eigenvalues and ``W = U_k (L_k - sigma^2 I)^(1/2)``
    (Tipping and Bishop 1999, eqs. 7-8, with the rotation R = I).

    Args:
        x: ``(n, input_dim)`` data.
        latent_dim: ``k``, between 1 and ``input_dim - 1``.
    """
    pca = fit_pca(x)
    input_dim = len(pca.eigenvalues)
    check_int("latent_dim", latent_dim, "keep a few directions, e.g. latent_dim=2")
    if not latent_dim < input_dim:
        raise ValueError(
            f"latent_dim must be between 1 and {input_dim - 1}, got {latent_dim}; "
            "probabilistic PCA needs at least one discarded direction to estimate the noise"
        )
    noise_variance = pca.eigenvalues[latent_dim:].mean().item()
    if noise_variance <= 0:
        raise ValueError("the discarded eigenvalues are all zero; add noise or lower latent_dim")
    scales = (pca.eigenvalues[:latent_dim] - noise_variance).clamp(min=0).sqrt()
    weight = pca.components[:, :latent_dim] * scales
    return PPCA(mean=pca.mean, weight=weight, noise_variance=noise_variance)


def _check_ppca(x: torch.Tensor, model: PPCA) -> None:
    if not isinstance(model, PPCA):
        raise ValueError(
            f"model must be a PPCA, got {type(model).__name__}; fit one with "
            "fit_ppca(x, latent_dim)"
        )
    check_columns("x", x, len(model.mean), "pass rows like the data that fit_ppca saw")


def ppca_log_likelihood(x: torch.Tensor, model: PPCA) -> torch.Tensor:
    """Exact ``log p(x)`` under probabilistic PCA, ``(n,)`` float64, for ``x: (n, input_dim)``."""
    _check_ppca(x, model)
    covariance = model.weight @ model.weight.T
    covariance += model.noise_variance * torch.eye(len(model.mean), dtype=torch.float64)
    # unvalidated, so that a NaN image gets a NaN log-likelihood and the others their own
    distribution = torch.distributions.MultivariateNormal(
        model.mean, covariance_matrix=covariance, validate_args=False
    )
    return distribution.log_prob(x.to(torch.float64))


def ppca_posterior(x: torch.Tensor, model: PPCA) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact posterior ``p(z | x) = N(M^-1 W^T (x - mean), sigma^2 M^-1)``, ``M = W^T W +
    sigma^2 I``.

    Returns:
        ``mean: (n, latent_dim)`` and the covariance ``(latent_dim, latent_dim)``, which is the
        same for every ``x``.
    """
    _check_ppca(x, model)
    latent_dim = model.weight.shape[1]
    m = model.weight.T @ model.weight + model.noise_variance * torch.eye(latent_dim).double()
    m_inverse = torch.linalg.inv(m)
    mean = (x.to(torch.float64) - model.mean) @ model.weight @ m_inverse.T
    return mean, model.noise_variance * m_inverse
