"""A small convolutional VAE: the same interface as :class:`vae_utils.VAE`, on flat 28x28 images.

Encoder: two stride-2 convolutions (28 -> 14 -> 7 pixels, 16 and 32 channels by default) and a
linear layer to ``mu`` and ``log_var``. Decoder: the mirror image, with transposed convolutions and
a sigmoid.
Images enter and leave flat, ``(batch, 784)``, so that every function of the course applies.
"""

from __future__ import annotations

import torch
from torch import nn

from vae_utils.models import BaseVAE
from vae_utils.validation import check_channels, check_int, check_width


def downsampling(channels: tuple[int, int]) -> list[nn.Module]:
    """Flat images ``(batch, 784)`` -> ``(batch, second, 7, 7)``: two convolutions of stride 2,
    each halving the image, with ``channels = (first, second)`` filters."""
    check_channels(channels)  # two positive ints
    first, second = channels
    return [
        nn.Unflatten(1, (1, 28, 28)),  # (batch, 784) -> (batch, 1, 28, 28)
        nn.Conv2d(1, first, kernel_size=4, stride=2, padding=1),  # 28 -> 14
        nn.ReLU(),
        nn.Conv2d(first, second, kernel_size=4, stride=2, padding=1),  # 14 -> 7
        nn.ReLU(),
    ]


def upsampling(channels: tuple[int, int]) -> list[nn.Module]:
    """``(batch, second, 7, 7)`` -> flat images ``(batch, 784)`` in [0, 1]: the mirror image of
    :func:`downsampling`, two transposed convolutions that each double the image."""
    check_channels(channels)
    first, second = channels
    return [
        nn.ConvTranspose2d(second, first, kernel_size=4, stride=2, padding=1),  # 7 -> 14
        nn.ReLU(),
        nn.ConvTranspose2d(first, 1, kernel_size=4, stride=2, padding=1),  # 14 -> 28
        nn.Sigmoid(),
        nn.Flatten(),  # (batch, 1, 28, 28) -> (batch, 784)
    ]


class ConvVAE(BaseVAE):
    """A VAE with convolutional encoder and decoder; ``encode``/``decode`` as in :class:`VAE`
    (defined in chapter 9, ``ch-conv-vae``).

    Args:
        latent_dim: size of ``z``.
        channels: the channels of the first and the second convolution.

    Example:
        >>> x_hat, mu, log_var = ConvVAE(latent_dim=10)(torch.zeros(5, 784))
        >>> x_hat.shape, mu.shape
        (torch.Size([5, 784]), torch.Size([5, 10]))
    """

    def __init__(self, latent_dim: int = 10, channels: tuple[int, int] = (16, 32)) -> None:
        check_int("latent_dim", latent_dim, "try latent_dim=10")
        check_channels(channels)  # two positive ints
        second = channels[1]
        encoder = nn.Sequential(
            *downsampling(channels),  # (batch, 784) -> (batch, second, 7, 7)
            nn.Flatten(),
            nn.Linear(second * 7 * 7, 2 * latent_dim),  # mu and log_var side by side
        )
        decoder = nn.Sequential(
            nn.Linear(latent_dim, second * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (second, 7, 7)),
            *upsampling(channels),  # (batch, second, 7, 7) -> (batch, 784)
        )
        super().__init__(encoder, decoder, input_dim=784, latent_dim=latent_dim)
        # convolution weights stored channels last, the layout oneDNN's CPU kernels run fastest;
        # results change only by float rounding
        self.to(memory_format=torch.channels_last)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z: (..., latent_dim)`` -> ``x_hat: (..., 784)``; extra leading dimensions allowed."""
        check_width("z", z, self.latent_dim, "pass codes z of the model's latent_dim")
        return self.decoder(z.reshape(-1, self.latent_dim)).view(*z.shape[:-1], 784)
