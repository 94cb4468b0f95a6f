"""The conditional VAE, the convolutional VAE, the judge classifier, and fit with labels."""

from functools import partial

import pytest
import torch

from vae_utils.classifier import Classifier, accuracy, classifier_objective
from vae_utils.conditional import ConditionalVAE, conditional_vae_objective
from vae_utils.conv import ConvVAE
from vae_utils.likelihood import elbo
from vae_utils.losses import vae_loss
from vae_utils.train import TrainConfig, fit


def _two_classes(n=200, seed=0):
    """Two easy classes of 16-pixel 'images': the left half bright, or the right half."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=generator)
    x = 0.1 * torch.rand(n, 16, generator=generator)
    x[y == 0, :8] += 0.8
    x[y == 1, 8:] += 0.8
    return x, y


def test_fit_with_labels_trains_a_classifier_that_separates_two_classes():
    x, y = _two_classes()
    torch.manual_seed(0)
    model = Classifier(16, (8,), 2)
    config = TrainConfig(num_epochs=20, lr=1e-2)
    history = fit(model, x, classifier_objective, config, labels=y, progress=False)
    assert history[-1] < 0.5 * history[0]
    test_x, test_y = _two_classes(seed=1)
    assert accuracy(model, test_x, test_y) == 1.0
    assert accuracy(model, test_x, 1 - test_y) == 0.0


def test_fit_refuses_labels_of_the_wrong_length():
    x, y = _two_classes()
    with pytest.raises(ValueError, match=r"labels must be a tensor of shape \(200,\)"):
        fit(Classifier(16, (8,), 2), x, classifier_objective, labels=y[:10], progress=False)


def test_the_conditional_decoder_uses_the_label():
    x, y = _two_classes()
    torch.manual_seed(0)
    model = ConditionalVAE(16, (16,), 1, num_classes=2)
    loss_fn = partial(conditional_vae_objective, C=10.0)
    fit(model, x, loss_fn, TrainConfig(30, batch_size=32, lr=1e-2), labels=y, progress=False)
    z = torch.zeros(1, 1)
    with torch.no_grad():
        left, right = model.decode(z, torch.tensor([0])), model.decode(z, torch.tensor([1]))
    # the same code drawn as each class: the bright half follows the label
    assert left[0, :8].mean() > left[0, 8:].mean() + 0.5
    assert right[0, 8:].mean() > right[0, :8].mean() + 0.5


def test_conditional_objective_is_the_course_loss():
    model, (x, y) = ConditionalVAE(16, (8,), 2, num_classes=2), _two_classes(n=10)
    torch.manual_seed(0)
    loss = conditional_vae_objective(model, x, y, C=3.0)
    torch.manual_seed(0)
    x_hat, mu, log_var = model(x, y)
    assert loss.item() == pytest.approx(vae_loss(x, x_hat, mu, log_var, 3.0).item())


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (torch.tensor([0, 1, 2]), r"labels must lie in 0..1"),
        (torch.tensor([0.0, 1.0, 0.0]), "y must be int64 labels"),
        (torch.tensor([0, 1]), r"y must be int64 labels of shape \(3,\)"),
    ],
)
def test_conditional_vae_refuses_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        ConditionalVAE(16, (8,), 2, num_classes=2).encode(torch.zeros(3, 16), labels)


def test_conv_vae_keeps_the_flat_interface_and_works_with_the_likelihood_functions():
    model = ConvVAE(latent_dim=3)
    x = torch.rand(4, 784)
    x_hat, mu, log_var = model(x)
    assert x_hat.shape == (4, 784) and mu.shape == (4, 3) and log_var.shape == (4, 3)
    assert 0 <= x_hat.min() and x_hat.max() <= 1
    assert model.decode(torch.zeros(5, 4, 3)).shape == (5, 4, 784)  # k draws per image
    assert elbo(model, x, 0.1, num_samples=3).shape == (4,)


def test_conv_vae_is_translation_aware_unlike_a_pixel_permutation():
    # A convolution sees neighbourhoods: shifting an image by one pixel changes the encoder's
    # output less than scrambling its pixels does.
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=4)
    image = torch.zeros(1, 28, 28)
    image[0, 10:18, 10:18] = 1.0
    shifted = torch.roll(image, shifts=1, dims=2)
    scrambled = image.flatten()[torch.randperm(784)].view(1, 28, 28)
    with torch.no_grad():
        mu, _ = model.encode(image.view(1, 784))
        mu_shifted, _ = model.encode(shifted.view(1, 784))
        mu_scrambled, _ = model.encode(scrambled.reshape(1, 784))
    assert (mu - mu_shifted).norm() < (mu - mu_scrambled).norm()
