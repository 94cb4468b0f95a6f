"""PCA against numpy's SVD and against its own identities."""

import numpy as np
import pytest
import torch

from vae_utils.pca import fit_pca


def _data() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    scales = torch.tensor([3.0, 2.0, 1.0, 0.5, 0.1])
    return torch.randn(500, 5, generator=generator) * scales + torch.arange(5.0)


def test_eigenvalues_and_directions_match_numpy_svd():
    x = _data()
    pca = fit_pca(x)
    centred = x.double().numpy() - x.double().numpy().mean(axis=0)
    _, singular_values, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(pca.eigenvalues.numpy(), singular_values**2 / len(x), rtol=1e-10)
    # the same directions up to sign
    np.testing.assert_allclose(np.abs(vt @ pca.components.numpy()), np.eye(5), atol=1e-8)


def test_reconstruction_error_is_the_sum_of_discarded_eigenvalues():
    x = _data()
    pca = fit_pca(x)
    for k in range(1, 5):
        error = ((x.double() - pca.reconstruct(x.double(), k)) ** 2).sum(dim=1).mean()
        assert error.item() == pytest.approx(pca.eigenvalues[k:].sum().item(), rel=1e-9)
    assert torch.allclose(pca.reconstruct(x.double(), 5), x.double())


def test_components_are_orthonormal_and_sorted():
    pca = fit_pca(_data())
    assert torch.allclose(pca.components.T @ pca.components, torch.eye(5, dtype=torch.float64))
    assert torch.all(pca.eigenvalues[:-1] >= pca.eigenvalues[1:])


def test_bad_input_is_rejected():
    with pytest.raises(
        ValueError, match=r"x must be a tensor of shape \(n, features\) with n >= 2"
    ):
        fit_pca(torch.zeros(1, 5))
    pca = fit_pca(_data())
    with pytest.raises(ValueError, match="num_components must be between 1 and 5, got 6"):
        pca.encode(torch.zeros(2, 5), 6)
