"""How close generated images are to real ones: a kernel two-sample statistic (MMD)."""

from __future__ import annotations

import torch

from vae_utils.validation import check_finite, check_matrix, check_positive_number


def _check_samples(name: str, value: torch.Tensor) -> None:
    check_matrix(name, value, "pass flat images, e.g. x.view(len(x), -1)", min_rows=2)
    check_finite(name, value)  # one NaN turns the whole statistic into NaN


def median_bandwidth(x: torch.Tensor) -> float:
    """Median pairwise Euclidean distance within ``x: (n, features)``: a scale for the kernel."""
    _check_samples("x", x)
    distances = torch.cdist(x.double(), x.double())
    upper = distances[torch.triu_indices(len(x), len(x), offset=1).unbind()]
    return upper.median().item()


def mmd(x: torch.Tensor, y: torch.Tensor, bandwidth: float) -> float:
    """Squared maximum mean discrepancy between two samples, Gaussian kernel, unbiased estimate.

    ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)`` with ``k(a, b) = exp(-|a - b|^2 / (2 h^2))``
    (Gretton et al. 2012; eq. ``eq-mmd``, chapter 2). It is zero in expectation when both samples
    come from the same distribution and grows as the distributions part; the unbiased estimate can
    dip below zero.

    Args:
        x: ``(n, features)`` one sample, e.g. generated images.
        y: ``(m, features)`` the other, e.g. held-out test images.
        bandwidth: the kernel width ``h > 0``; use one fixed value (e.g. :func:`median_bandwidth`
            of the test images) to compare several models.

    Returns:
        The estimate, a float.

    Example:
        >>> x = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
        >>> mmd(x, x + 3.0, bandwidth=1.0) > 0.3 > abs(mmd(x[:100], x[100:], bandwidth=1.0))
        True
    """
    _check_samples("x", x)
    _check_samples("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must have the same number of features, got {x.shape[1]} and {y.shape[1]}"
        )
    check_positive_number("bandwidth", bandwidth, "try median_bandwidth(y)")
    x, y = x.float(), y.float()

    def kernel_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # the kernels in float32 (a third of float64's time; they differ by about 1e-7), their
        # sum in float64, where millions of terms would otherwise round
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth**2)).double().sum()

    n, m = len(x), len(y)
    k_xx = (kernel_sum(x, x) - n) / (n * (n - 1))  # the diagonal k(a, a) = 1 is left out
    k_yy = (kernel_sum(y, y) - m) / (m * (m - 1))
    return (k_xx + k_yy - 2 * kernel_sum(x, y) / (n * m)).item()
