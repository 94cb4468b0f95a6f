"""Exercises that answer back: :func:`check` runs a learner's function against the reference and
says in words what is wrong.

A chapter's exercise asks the learner to write a function; the next cell checks it::

    from vae_utils import exercises

    def kl_to_standard_normal(mu, log_var):
        ...  # the learner's code

    exercises.check("kl_to_standard_normal", kl_to_standard_normal)

The check calls the function on a few seeded random inputs and edge cases (zeros, a batch of one,
large values) and compares it with the reference by ``torch.allclose``. Where the values differ it
looks for a known mistake (a missing -1, a mean for a sum, C on the wrong term) and prints that
mistake's hint. It never raises because of the learner's code: an unfinished stub, an exception or
a wrong shape is reported in words. :data:`EXERCISES` holds the exercises, one
:class:`Exercise` each.
"""

from __future__ import annotations

import difflib
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

# float32 rounding of a correct answer passes; a wrong term or factor does not
RTOL, ATOL = 1e-5, 1e-6
WIDTH = 88  # columns of a printed message


@dataclass(frozen=True)
class Feedback:
    """What :func:`check` found: whether the function passed, and the message it printed."""

    passed: bool
    message: str

    def __str__(self) -> str:
        return textwrap.fill(self.message, width=WIDTH, break_on_hyphens=False)

    def _ipython_display_(self) -> None:
        # check() has printed the message already; as a cell's last value, show nothing more
        pass


@dataclass(frozen=True)
class Case:
    """One input of an exercise: the arguments, and the few words that name them in messages."""

    label: str
    args: tuple[object, ...]
    edge: bool = False  # an edge case (zeros, a batch of one, large values), else a random input


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer, written as a learner would, and the hint that fixes it."""

    function: Callable[..., torch.Tensor]
    hint: str


@dataclass(frozen=True)
class Exercise:
    """A function that the learner writes, the reference it must match and the mistakes to spot.

    Attributes:
        name: the name passed to :func:`check`, which is also the function's usual name.
        signature: how the check calls the learner's function, e.g. ``"vae_loss(x, x_hat, mu,
            log_var, C)"``.
        returns: what the function must return, in words.
        shape_hint: said when the result has the wrong shape.
        reference: the correct function.
        make_cases: builds the inputs, seeded, so that every check sees the same ones.
        mistakes: known wrong answers; each differs from the reference and from every other on at
            least one case, so that a hint is never given for the wrong mistake.
    """

    name: str
    signature: str
    returns: str
    shape_hint: str
    reference: Callable[..., torch.Tensor]
    make_cases: Callable[[], list[Case]]
    mistakes: tuple[Mistake, ...]


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(shape, generator=generator, dtype=torch.float64)


def _rand(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.rand(shape, generator=generator, dtype=torch.float64)


# (batch, latent_dim) and (batch, pixels) of the random inputs; never square, so that a reduction
# over the wrong dimension shows as a wrong shape
LATENT_SHAPES = ((4, 2), (8, 3), (3, 5), (6, 2), (2, 10))
IMAGE_SHAPES = ((4, 12), (8, 6), (3, 20), (5, 49), (2, 9))


# The references: the course's equations, written plainly.


def _squared_error(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    return ((x - x_hat) ** 2).sum(dim=1)  # (batch,), eq. (eq-reconstruction-error)


def _kl_terms(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return 0.5 * (mu**2 + log_var.exp() - 1 - log_var)  # (batch, latent_dim), one per dimension


def _kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return _kl_terms(mu, log_var).sum(dim=1)  # (batch,), eq. (eq-kl-closed-form)


def _gaussian_log_likelihood(x: torch.Tensor, x_hat: torch.Tensor, variance: float) -> torch.Tensor:
    pixels = x.shape[-1]
    squared_error = ((x - x_hat) ** 2).sum(dim=-1)
    return -0.5 * pixels * math.log(2 * math.pi * variance) - squared_error / (2 * variance)


def _kl_diagonal(
    mu_q: torch.Tensor, log_var_q: torch.Tensor, mu_p: torch.Tensor, log_var_p: torch.Tensor
) -> torch.Tensor:
    ratio = (log_var_q.exp() + (mu_q - mu_p) ** 2) / log_var_p.exp()
    return 0.5 * (log_var_p - log_var_q + ratio - 1).sum(dim=-1)


# The three terms of the KL of two diagonal Gaussians, functions of (mu_q, log_var_q, mu_p,
# log_var_p): a mistake below gets one of them wrong.
_LOG_TERM = lambda mq, lq, mp, lp: lp - lq  # noqa: E731
_VARIANCE_RATIO = lambda mq, lq, mp, lp: lq.exp() / lp.exp()  # noqa: E731
_MEAN_TERM = lambda mq, lq, mp, lp: (mq - mp) ** 2 / lp.exp()  # noqa: E731
Term = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _kl_from_terms(
    log_term: Term, variance_ratio: Term, mean_term: Term, one: float = 1.0
) -> Callable[..., torch.Tensor]:
    """``0.5 * sum(log_term + variance_ratio + mean_term - one)`` over the last dimension, as a
    function of ``(mu_q, log_var_q, mu_p, log_var_p)``."""

    def kl(*args: torch.Tensor) -> torch.Tensor:
        terms = log_term(*args) + variance_ratio(*args) + mean_term(*args)
        return 0.5 * (terms - one).sum(dim=-1)

    return kl


# The inputs of each exercise: five random ones, then the edge cases.


def _random_cases(
    generator: torch.Generator,
    names: str,
    shapes: Sequence[tuple[int, ...]],
    draw: Callable[..., torch.Tensor],
) -> list[Case]:
    """One case per shape: a random tensor for each of ``names`` (``"x, x_hat"``), drawn in
    order by ``draw(generator, *shape)``."""
    count = len(names.split(", "))
    return [
        Case(
            f"random {names} of shape {shape}",
            tuple(draw(generator, *shape) for _ in range(count)),
        )
        for shape in shapes
    ]


def _pca_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(0)
    cases = []
    for m in (1, 2, 3, 5, 8):
        eigenvalues = _rand(generator, 10).mul(4).sort(descending=True).values
        cases.append(Case(f"10 random eigenvalues and m = {m}", (eigenvalues, m)))
    eigenvalues = cases[0].args[0]
    hand_worked = torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64)
    return [
        *cases,
        Case("m = 0 (the total variance)", (eigenvalues, 0), edge=True),
        Case("m = 10 of 10 (error 0)", (eigenvalues, 10), edge=True),
        Case("eigenvalues (4, 1, 0.25) and m = 1 (error 1.25)", (hand_worked, 1), edge=True),
    ]


def _image_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(1)
    cases = _random_cases(generator, "x, x_hat", IMAGE_SHAPES, _rand)
    x = cases[0].args[0]
    ones = torch.ones(3, 12, dtype=torch.float64)
    return [
        *cases,
        Case("x_hat = x (error 0)", (x, x.clone()), edge=True),
        Case("a batch of one", (_rand(generator, 1, 12), _rand(generator, 1, 12)), edge=True),
        Case("x = 1, x_hat = 0 (every pixel off by 1)", (ones, torch.zeros_like(ones)), edge=True),
    ]


def _latent_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(2)
    cases = _random_cases(generator, "mu, log_var", LATENT_SHAPES, _randn)
    zeros = torch.zeros(3, 2, dtype=torch.float64)
    large_mu = torch.tensor([[5.0, -5.0, 0.0]], dtype=torch.float64)
    large_log_var = torch.tensor([[-10.0, 10.0, 0.0]], dtype=torch.float64)
    return [
        *cases,
        Case("mu = 0, log_var = 0 (KL 0)", (zeros, zeros.clone()), edge=True),
        Case("a batch of one", (_randn(generator, 1, 4), _randn(generator, 1, 4)), edge=True),
        Case("large values, mu = ±5 and log_var = ±10", (large_mu, large_log_var), edge=True),
    ]


def _reparameterize_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(3)
    cases = _random_cases(generator, "mu, log_var, eps", LATENT_SHAPES, _randn)
    mu, log_var, eps = cases[0].args
    return [
        *cases,
        Case("eps = 0 (z = mu)", (mu, log_var, torch.zeros_like(eps)), edge=True),
        Case("log_var = 0 (z = mu + eps)", (mu, torch.zeros_like(log_var), eps), edge=True),
        Case("a batch of one", tuple(_randn(generator, 1, 4) for _ in range(3)), edge=True),
    ]


def _vae_loss_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(4)
    cases = []
    # several C, so that a C on the wrong term shows
    for (batch, pixels), latent_dim, C in zip(
        IMAGE_SHAPES, (2, 3, 5, 2, 4), (0.5, 2, 10, 1, 0.25), strict=True
    ):
        x, x_hat = _rand(generator, batch, pixels), _rand(generator, batch, pixels)
        mu, log_var = _randn(generator, batch, latent_dim), _randn(generator, batch, latent_dim)
        label = f"a random batch of {batch} ({pixels} pixels, latent_dim {latent_dim}) and C = {C}"
        cases.append(Case(label, (x, x_hat, mu, log_var, C)))
    x, x_hat, mu, log_var, _ = cases[0].args
    zeros = torch.zeros_like(mu)
    one = tuple(_rand(generator, 1, 12) for _ in range(2)) + tuple(
        _randn(generator, 1, 3) for _ in range(2)
    )
    return [
        *cases,
        Case("x_hat = x and C = 2 (only the KL)", (x, x.clone(), mu, log_var, 2), edge=True),
        Case("mu = 0, log_var = 0 and C = 0.5 (no KL)", (x, x_hat, zeros, zeros, 0.5), edge=True),
        Case("a batch of one and C = 10", (*one, 10), edge=True),
    ]


def _gaussian_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(5)
    cases = []
    for shape, variance in zip(IMAGE_SHAPES, (0.5, 0.1, 2.0, 0.05, 1.0), strict=True):
        x, x_hat = _rand(generator, *shape), _rand(generator, *shape)
        cases.append(
            Case(f"random x, x_hat of shape {shape} and variance {variance}", (x, x_hat, variance))
        )
    x, x_hat, _ = cases[0].args
    one = (_rand(generator, 1, 12), _rand(generator, 1, 12), 0.2)
    return [
        *cases,
        Case("x_hat = x and variance 0.5 (only the constant)", (x, x.clone(), 0.5), edge=True),
        Case("a batch of one and variance 0.2", one, edge=True),
        Case("a sharp decoder, variance 0.001", (x, x_hat, 0.001), edge=True),
    ]


def _kl_diagonal_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(6)
    cases = _random_cases(generator, "mu_q, log_var_q, mu_p, log_var_p", LATENT_SHAPES, _randn)
    mu_q, log_var_q, _, _ = cases[0].args
    zeros = torch.zeros_like(mu_q)
    return [
        *cases,
        Case("q = p (KL 0)", (mu_q, log_var_q, mu_q.clone(), log_var_q.clone()), edge=True),
        Case("p = N(0, I)", (mu_q, log_var_q, zeros, zeros.clone()), edge=True),
        Case("a batch of one", tuple(_randn(generator, 1, 4) for _ in range(4)), edge=True),
    ]


def _importance_weighted_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(7)
    # (k, batch): never k = batch, so that a reduction over the batch shows as a wrong shape
    cases = [
        Case(
            f"random log-weights of shape (k, batch) = {shape}",
            (-100 + 3 * _randn(generator, *shape),),
        )
        for shape in ((5, 4), (10, 3), (2, 6), (50, 2), (7, 5))
    ]
    return [
        *cases,
        Case(
            "k = 1 (the bound is the log-weight)", (-100 + 3 * _randn(generator, 1, 4),), edge=True
        ),
        Case("a batch of one", (-100 + 3 * _randn(generator, 6, 1),), edge=True),
        # log p(x, z) of a real image is hundreds of nats below 0: exp() underflows to 0
        Case("log-weights near -1000", (-1000 + 3 * _randn(generator, 4, 3),), edge=True),
    ]


def _free_bits_cases() -> list[Case]:
    generator = torch.Generator().manual_seed(8)
    cases = []
    for shape, free_bits in zip(LATENT_SHAPES, (0.5, 0.25, 1.0, 0.5, 0.1), strict=True):
        mu, log_var = 0.7 * _randn(generator, *shape), _randn(generator, *shape)
        label = f"random mu, log_var of shape {shape} and free_bits = {free_bits}"
        cases.append(Case(label, (mu, log_var, free_bits)))
    mu, log_var, _ = cases[0].args
    zeros = torch.zeros(4, 3, dtype=torch.float64)
    one = (_randn(generator, 1, 4), _randn(generator, 1, 4), 0.5)
    return [
        *cases,
        Case("free_bits = 0 (the plain KL)", (mu, log_var, 0.0), edge=True),
        Case("mu = 0, log_var = 0 (every KL 0)", (zeros, zeros.clone(), 0.5), edge=True),
        Case("a batch of one", one, edge=True),
    ]


# The exercises, in the order of the chapters.

PCA_RECONSTRUCTION_ERROR = Exercise(
    name="pca_reconstruction_error",
    signature="pca_reconstruction_error(eigenvalues, m)",
    returns="a 0-d tensor, the mean squared reconstruction error per image",
    shape_hint="the error is a single number: add up the discarded eigenvalues, eigenvalues[m:]",
    reference=lambda eigenvalues, m: eigenvalues[m:].sum(),
    make_cases=_pca_cases,
    mistakes=(
        Mistake(
            lambda eigenvalues, m: eigenvalues[:m].sum(),
            "you added up the kept eigenvalues, eigenvalues[:m], the variance that PCA keeps; the "
            "error is the variance it discards: the eigenvalues after the first m, eigenvalues[m:]",
        ),
        Mistake(
            lambda eigenvalues, m: eigenvalues[m + 1 :].sum(),
            "off by one: you discarded from index m + 1, so one discarded eigenvalue is left out; "
            "the kept ones are eigenvalues[0] to eigenvalues[m - 1], the rest is eigenvalues[m:]",
        ),
        Mistake(
            lambda eigenvalues, m: eigenvalues[m - 1 :].sum(),
            "off by one: you discarded from index m - 1, so the last kept eigenvalue counts as "
            "discarded; Python counts from 0, and the discarded ones are eigenvalues[m:]",
        ),
        Mistake(
            lambda eigenvalues, m: eigenvalues[m:].sqrt().sum(),
            "you added up square roots (standard deviations, or singular values of the data); "
            "squared errors add up variances: sum the eigenvalues themselves",
        ),
        Mistake(
            lambda eigenvalues, m: eigenvalues[m:].sum() / len(eigenvalues),
            "you divided by the number of pixels, which gives the error per pixel; the error per "
            "image is the plain sum of the discarded eigenvalues",
        ),
        Mistake(
            lambda eigenvalues, m: eigenvalues[m:].mean(),
            "you averaged the discarded eigenvalues (that is probabilistic PCA's noise variance); "
            "the error per image is their sum",
        ),
    ),
)

RECONSTRUCTION_ERROR = Exercise(
    name="reconstruction_error",
    signature="reconstruction_error(x, x_hat)",
    returns="a tensor of shape (batch,), one error per image",
    shape_hint="one error per image: sum the squared differences over the pixels only, "
    ".sum(dim=1); a sum or mean over the batch (or F.mse_loss's default) gives a single number",
    reference=_squared_error,
    make_cases=_image_cases,
    mistakes=(
        Mistake(
            lambda x, x_hat: ((x - x_hat) ** 2).mean(dim=1),
            "you averaged over the pixels (as F.mse_loss does); the reconstruction error adds "
            "them up: .sum(dim=1)",
        ),
        Mistake(
            lambda x, x_hat: (x - x_hat).abs().sum(dim=1),
            "you added up absolute differences |x - x_hat|; the error adds up squared ones, "
            "(x - x_hat) ** 2",
        ),
        Mistake(
            lambda x, x_hat: ((x - x_hat) ** 2).sum(dim=1).sqrt(),
            "you took the square root: that is the distance ||x - x_hat||, and the error is its "
            "square; drop the .sqrt() (or the torch.linalg.norm)",
        ),
        Mistake(
            lambda x, x_hat: (x - x_hat).sum(dim=1),
            "you added up the differences without squaring them, so positive and negative ones "
            "cancel; square each difference first",
        ),
    ),
)

KL_TO_STANDARD_NORMAL = Exercise(
    name="kl_to_standard_normal",
    signature="kl_to_standard_normal(mu, log_var)",
    returns="a tensor of shape (batch,), one KL per example",
    shape_hint="one KL per example: sum over the latent dimensions only, .sum(dim=1), "
    "without keepdim",
    reference=_kl,
    make_cases=_latent_cases,
    mistakes=(
        Mistake(
            lambda mu, log_var: 0.5 * (mu**2 + log_var.exp() - log_var).sum(dim=1),
            "the -1 is missing: with mu = 0 and log_var = 0, q is the prior and the KL must be 0, "
            "but yours gives latent_dim / 2",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (mu**2 + log_var.exp() - 1 + log_var).sum(dim=1),
            "the log_var term has the wrong sign: the KL has - log_var, minus the log of the "
            "variance",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (mu**2 + log_var - 1 - log_var).sum(dim=1),
            "you used log_var where the variance belongs: the variance is exp(log_var)",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (mu**2 + (0.5 * log_var).exp() - 1 - log_var).sum(dim=1),
            "you used the standard deviation exp(log_var / 2) where the variance exp(log_var) "
            "belongs",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (mu**2 + log_var**2 - 1 - log_var).sum(dim=1),
            "you squared log_var as if it were the standard deviation; it is the log of the "
            "variance, so the variance is exp(log_var)",
        ),
        Mistake(
            lambda mu, log_var: (mu**2 + log_var.exp() - 1 - log_var).sum(dim=1),
            "your KL is twice too large: the factor 0.5 in front is missing",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (mu**2 + log_var.exp() - 1 - log_var).mean(dim=1),
            "you averaged over the latent dimensions; the KL of independent dimensions is the sum "
            "of their KLs: .sum(dim=1)",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (mu + log_var.exp() - 1 - log_var).sum(dim=1),
            "mu is not squared: the term is mu ** 2",
        ),
        Mistake(
            lambda mu, log_var: 0.5 * (1 + log_var - mu**2 - log_var.exp()).sum(dim=1),
            "yours is minus the KL (Kingma and Welling write -KL = 0.5 * sum(1 + log_var - mu^2 "
            "- exp(log_var))): flip the sign, a KL is never negative",
        ),
    ),
)

REPARAMETERIZE = Exercise(
    name="reparameterize",
    signature="reparameterize(mu, log_var, eps)",
    returns="z, a tensor of mu's shape (batch, latent_dim)",
    shape_hint="z has the shape of mu, (batch, latent_dim): one draw per entry, no sum or mean",
    reference=lambda mu, log_var, eps: mu + (0.5 * log_var).exp() * eps,
    make_cases=_reparameterize_cases,
    mistakes=(
        Mistake(
            lambda mu, log_var, eps: mu + log_var.exp() * eps,
            "you scaled eps by the variance exp(log_var); scale it by the standard deviation, "
            "exp(0.5 * log_var)",
        ),
        Mistake(
            lambda mu, log_var, eps: mu + log_var * eps,
            "you used log_var as the standard deviation; the standard deviation is "
            "exp(0.5 * log_var)",
        ),
        Mistake(
            lambda mu, log_var, eps: mu + log_var.sqrt() * eps,
            "you took the square root of log_var (nan where it is negative); the standard "
            "deviation is the square root of the variance: exp(0.5 * log_var)",
        ),
        Mistake(
            lambda mu, log_var, eps: (0.5 * log_var).exp() * eps,
            "mu is missing: the draw is centred on mu, z = mu + exp(0.5 * log_var) * eps",
        ),
        Mistake(
            lambda mu, log_var, eps: mu * (0.5 * log_var).exp() + eps,
            "mu and eps have swapped roles: eps is scaled by the standard deviation and mu is "
            "added, z = mu + exp(0.5 * log_var) * eps",
        ),
        Mistake(
            lambda mu, log_var, eps: mu + 0.5 * log_var.exp() * eps,
            "you wrote 0.5 * exp(log_var), half the variance; the 0.5 goes inside the "
            "exponential: exp(0.5 * log_var)",
        ),
    ),
)

VAE_LOSS = Exercise(
    name="vae_loss",
    signature="vae_loss(x, x_hat, mu, log_var, C)",
    returns="a 0-d tensor, the loss of the batch",
    shape_hint="the loss is a single number: add C * ||x - x_hat||^2 and the KL of each image, "
    "then take the mean over the batch",
    reference=lambda x, x_hat, mu, log_var, C: (
        C * _squared_error(x, x_hat) + _kl(mu, log_var)
    ).mean(),
    make_cases=_vae_loss_cases,
    mistakes=(
        Mistake(
            lambda x, x_hat, mu, log_var, C: (
                _squared_error(x, x_hat) + C * _kl(mu, log_var)
            ).mean(),
            "C multiplies the KL in yours; it weighs the reconstruction error: "
            "C * ||x - x_hat||^2 + KL",
        ),
        Mistake(
            lambda x, x_hat, mu, log_var, C: (
                C * _squared_error(x, x_hat) + _kl(mu, log_var)
            ).sum(),
            "you summed over the batch; the loss is the batch mean, .mean(), so that its scale "
            "does not depend on batch_size",
        ),
        Mistake(
            lambda x, x_hat, mu, log_var, C: (
                C * ((x - x_hat) ** 2).mean(dim=1) + _kl(mu, log_var)
            ).mean(),
            "your reconstruction term averages over the pixels (as F.mse_loss does); sum the "
            "squared differences over the pixels, and take the mean over the batch only",
        ),
        Mistake(
            lambda x, x_hat, mu, log_var, C: (C * _squared_error(x, x_hat)).mean(),
            "the KL term is missing (that is an autoencoder's loss): add "
            "KL[N(mu, exp(log_var)) || N(0, I)] of each image",
        ),
        Mistake(
            lambda x, x_hat, mu, log_var, C: (
                C * _squared_error(x, x_hat) + 2 * _kl(mu, log_var)
            ).mean(),
            "your KL is twice too large: the factor 0.5 of the KL is missing",
        ),
        Mistake(
            lambda x, x_hat, mu, log_var, C: (
                C * _squared_error(x, x_hat) - _kl(mu, log_var)
            ).mean(),
            "you subtracted the KL; the loss adds it (the ELBO subtracts it, and the loss is "
            "minus the ELBO)",
        ),
    ),
)

GAUSSIAN_LOG_LIKELIHOOD = Exercise(
    name="gaussian_log_likelihood",
    signature="gaussian_log_likelihood(x, x_hat, variance)",
    returns="a tensor of shape (batch,), one log-likelihood per example",
    shape_hint="one log-likelihood per example: sum over the last dimension, the pixels, "
    ".sum(dim=-1)",
    reference=_gaussian_log_likelihood,
    make_cases=_gaussian_cases,
    mistakes=(
        Mistake(
            lambda x, x_hat, variance: -((x - x_hat) ** 2).sum(dim=-1) / (2 * variance),
            "the normalising constant -D/2 * log(2 pi c) is missing (D = x.shape[-1] pixels, "
            "c = variance); it depends on c, so without it log-likelihoods of different variances "
            "cannot be compared",
        ),
        Mistake(
            lambda x, x_hat, variance: (
                -0.5 * x.shape[-1] * math.log(2 * math.pi * variance)
                - ((x - x_hat) ** 2).sum(dim=-1) / variance
            ),
            "the squared error is divided by 2 * variance, not by variance",
        ),
        Mistake(
            lambda x, x_hat, variance: (
                -0.5 * math.log(2 * math.pi * variance)
                - ((x - x_hat) ** 2).sum(dim=-1) / (2 * variance)
            ),
            "the constant is -D/2 * log(2 pi c), one -log(2 pi c) / 2 per pixel: multiply it by "
            "D = x.shape[-1], the number of pixels",
        ),
        Mistake(
            lambda x, x_hat, variance: _gaussian_log_likelihood(x, x_hat, variance**0.5),
            "you used the standard deviation sqrt(variance) where the variance belongs; "
            "variance is c itself",
        ),
        Mistake(
            lambda x, x_hat, variance: _gaussian_log_likelihood(x, x_hat, variance**2),
            "you squared variance as if it were the standard deviation; it is already the "
            "variance c = sigma^2",
        ),
        Mistake(
            lambda x, x_hat, variance: -_gaussian_log_likelihood(x, x_hat, variance),
            "yours is the negative log-likelihood, a loss; the log-likelihood is its negative",
        ),
    ),
)

KL_DIAGONAL_GAUSSIANS = Exercise(
    name="kl_diagonal_gaussians",
    signature="kl_diagonal_gaussians(mu_q, log_var_q, mu_p, log_var_p)",
    returns="a tensor of shape (batch,), one KL per example",
    shape_hint="one KL per example: sum over the last dimension, the latent one, .sum(dim=-1)",
    reference=_kl_diagonal,
    make_cases=_kl_diagonal_cases,
    mistakes=(
        Mistake(
            lambda mu_q, log_var_q, mu_p, log_var_p: _kl_diagonal(mu_p, log_var_p, mu_q, log_var_q),
            "you computed KL[p || q], the other direction, and the KL is not symmetric; "
            "KL[q || p] divides by p's variance, exp(log_var_p)",
        ),
        Mistake(
            _kl_from_terms(_LOG_TERM, _VARIANCE_RATIO, _MEAN_TERM, one=0.0),
            "the -1 is missing: the KL of a distribution to itself must be 0",
        ),
        Mistake(
            _kl_from_terms(_LOG_TERM, lambda mq, lq, mp, lp: lp.exp() / lq.exp(), _MEAN_TERM),
            "the variance ratio is upside down: it is q's variance over p's, "
            "exp(log_var_q) / exp(log_var_p)",
        ),
        Mistake(
            _kl_from_terms(lambda mq, lq, mp, lp: lq - lp, _VARIANCE_RATIO, _MEAN_TERM),
            "the log term has the wrong sign: it is log_var_p - log_var_q",
        ),
        Mistake(
            _kl_from_terms(_LOG_TERM, _VARIANCE_RATIO, lambda mq, lq, mp, lp: (mq - mp) ** 2),
            "(mu_q - mu_p) ** 2 must be divided by p's variance, exp(log_var_p), too",
        ),
        Mistake(
            lambda mu_q, log_var_q, mu_p, log_var_p: (
                2 * _kl_diagonal(mu_q, log_var_q, mu_p, log_var_p)
            ),
            "your KL is twice too large: the factor 0.5 in front is missing",
        ),
    ),
)

IMPORTANCE_WEIGHTED_BOUND = Exercise(
    name="importance_weighted_bound",
    signature="importance_weighted_bound(log_weights)",
    returns="a tensor of shape (batch,), one bound per example",
    shape_hint="one bound per example: log_weights is (k, batch), so reduce over the k samples, "
    "dim=0",
    reference=lambda log_weights: torch.logsumexp(log_weights, dim=0) - math.log(len(log_weights)),
    make_cases=_importance_weighted_cases,
    mistakes=(
        Mistake(
            lambda log_weights: log_weights.mean(dim=0),
            "you averaged the log-weights: that is the ELBO, which lies below the bound (Jensen's "
            "inequality); average the weights themselves, in log space: "
            "torch.logsumexp(log_weights, dim=0) - math.log(k)",
        ),
        Mistake(
            lambda log_weights: torch.logsumexp(log_weights, dim=0),
            "the - log k is missing: the bound is the log of the mean of the k weights, so "
            "subtract math.log(k), with k = log_weights.shape[0]",
        ),
        Mistake(
            lambda log_weights: log_weights.exp().mean(dim=0).log(),
            "exp(log_weights) underflows to 0 for log-weights near -1000, as for real images, "
            "and its log is -inf; use torch.logsumexp(log_weights, dim=0) - math.log(k), which "
            "subtracts the largest log-weight before the exp",
        ),
        Mistake(
            lambda log_weights: (
                torch.logsumexp(log_weights, dim=0) - math.log(log_weights.shape[1])
            ),
            "you subtracted the log of the batch size; k is the number of samples, "
            "log_weights.shape[0]",
        ),
    ),
)

FREE_BITS_KL = Exercise(
    name="free_bits_kl",
    signature="free_bits_kl(mu, log_var, free_bits)",
    returns="a 0-d tensor, the KL term with free bits",
    shape_hint="the free-bits term is a single number: average each latent dimension's KL over the "
    "batch, clamp it at free_bits, then sum over the dimensions",
    reference=lambda mu, log_var, free_bits: (
        _kl_terms(mu, log_var).mean(dim=0).clamp(min=free_bits).sum()
    ),
    make_cases=_free_bits_cases,
    mistakes=(
        Mistake(
            lambda mu, log_var, free_bits: (
                _kl_terms(mu, log_var).clamp(min=free_bits).mean(dim=0).sum()
            ),
            "you clamped each example's KL; free bits floors each dimension's batch mean KL_j: "
            "average over the batch first, then clamp",
        ),
        Mistake(
            lambda mu, log_var, free_bits: (
                _kl_terms(mu, log_var).mean(dim=0).sum().clamp(min=free_bits)
            ),
            "you put the floor on the total KL; free bits floors each latent dimension "
            "separately, then sums",
        ),
        Mistake(
            lambda mu, log_var, free_bits: (
                _kl_terms(mu, log_var).mean(dim=0).clamp(max=free_bits).sum()
            ),
            "you capped each KL at free_bits, clamp(max=...); free bits is a floor, "
            "max(KL_j, free_bits): clamp(min=free_bits)",
        ),
        Mistake(
            lambda mu, log_var, free_bits: (
                _kl_terms(mu, log_var).sum(dim=0).clamp(min=free_bits).sum()
            ),
            "you summed each dimension's KL over the batch; KL_j is its batch mean, .mean(dim=0)",
        ),
        Mistake(
            lambda mu, log_var, free_bits: _kl_terms(mu, log_var).mean(dim=0).sum(),
            "the floor is missing: that is the plain KL term; clamp each dimension's KL_j at "
            "free_bits before the sum",
        ),
    ),
)

EXERCISES: dict[str, Exercise] = {
    exercise.name: exercise
    for exercise in (
        PCA_RECONSTRUCTION_ERROR,
        RECONSTRUCTION_ERROR,
        KL_TO_STANDARD_NORMAL,
        REPARAMETERIZE,
        VAE_LOSS,
        GAUSSIAN_LOG_LIKELIHOOD,
        KL_DIAGONAL_GAUSSIANS,
        IMPORTANCE_WEIGHTED_BOUND,
        FREE_BITS_KL,
    )
}


def check(name: str, fn: Callable[..., object]) -> Feedback:
    """Run the learner's ``fn`` on the inputs of exercise ``name``, print what is right or wrong,
    and return it.

    Args:
        name: one of :data:`EXERCISES`, e.g. ``"kl_to_standard_normal"``.
        fn: the learner's function, called as the exercise's signature says.

    Returns:
        A :class:`Feedback`; its message is printed too. A wrong answer, a stub that returns
        ``None`` or an exception in ``fn`` is reported in the message, never raised.

    Raises:
        ValueError: for an unknown ``name``, or an ``fn`` that is not callable.

    Example:
        >>> def reparameterize(mu, log_var, eps):
        ...     return mu + log_var.exp() * eps
        >>> feedback = check("reparameterize", reparameterize)
        Not yet: you scaled eps by the variance exp(log_var); scale it by the standard
        deviation, exp(0.5 * log_var)
        >>> def reparameterize(mu, log_var, eps):
        ...     return mu + torch.exp(0.5 * log_var) * eps
        >>> feedback = check("reparameterize", reparameterize)
        Correct: your reparameterize matches the reference on 5 random inputs and 3 edge cases:
        eps = 0 (z = mu); log_var = 0 (z = mu + eps); a batch of one.
        >>> feedback.passed
        True
    """
    if not isinstance(name, str) or name not in EXERCISES:
        close = difflib.get_close_matches(str(name), EXERCISES, n=1)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown exercise {name!r}{suggestion}; the exercises are: {', '.join(EXERCISES)}"
        )
    if not callable(fn):
        raise ValueError(
            f"fn must be a function, got a {type(fn).__name__}; pass the function itself, "
            f"check({name!r}, my_function), without calling it"
        )
    feedback = _run(EXERCISES[name], fn)
    print(feedback)
    return feedback


def _run(exercise: Exercise, fn: Callable[..., object]) -> Feedback:
    cases = exercise.make_cases()
    expected = [exercise.reference(*case.args) for case in cases]
    outputs = []
    for case, want in zip(cases, expected, strict=True):
        # copies, so that a function that changes its inputs in place spoils no other case
        args = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in case.args)
        try:
            got = fn(*args)
        except Exception as error:  # the learner's code may fail in any way: say how
            return _not_yet(
                f"your function raised {type(error).__name__}: {error} (called as "
                f"{exercise.signature} on {case.label})"
            )
        problem = _type_or_shape_problem(got, want, exercise, case)
        if problem:
            return _not_yet(problem)
        outputs.append(got.detach())

    if all(_close(got, want) for got, want in zip(outputs, expected, strict=True)):
        edges = [case.label for case in cases if case.edge]
        return Feedback(
            True,
            f"Correct: your {exercise.name} matches the reference on "
            f"{len(cases) - len(edges)} random inputs and {len(edges)} edge cases: "
            f"{'; '.join(edges)}.",
        )
    for mistake in exercise.mistakes:
        wrong = [mistake.function(*case.args) for case in cases]
        if all(_close(got, w) for got, w in zip(outputs, wrong, strict=True)):
            return _not_yet(mistake.hint)
    index = next(
        i
        for i, (got, want) in enumerate(zip(outputs, expected, strict=True))
        if not _close(got, want)
    )
    got, want = outputs[index], expected[index]
    infinite = (
        "" if torch.isfinite(got).all() else "; yours has inf or nan: an overflow, a log of 0?"
    )
    return _not_yet(
        f"your result differs from the reference on {cases[index].label}: expected "
        f"{_brief(want)}, got {_brief(got)} (torch.allclose, rtol={RTOL}, atol={ATOL}){infinite}"
    )


def _not_yet(text: str) -> Feedback:
    return Feedback(False, f"Not yet: {text}")


def _type_or_shape_problem(
    got: object, want: torch.Tensor, exercise: Exercise, case: Case
) -> str | None:
    if got is None:
        return (
            f"your function returned None: return {exercise.returns} (is the body still `...`, "
            "or the `return` missing?)"
        )
    if not isinstance(got, torch.Tensor):
        advice = ", without .item()" if isinstance(got, int | float) else ""
        return f"your function returned a {type(got).__name__}: return {exercise.returns}{advice}"
    if got.shape != want.shape:
        return (
            f"your function returned shape {tuple(got.shape)} instead of {tuple(want.shape)} on "
            f"{case.label}; {exercise.shape_hint}"
        )
    return None


def _close(got: torch.Tensor, want: torch.Tensor) -> bool:
    """Same shape and values; nan matches nan, so that a mistake that gives nan is recognised."""
    got, want = got.to(torch.float64), want.to(torch.float64)
    return got.shape == want.shape and torch.allclose(got, want, RTOL, ATOL, equal_nan=True)


def _brief(values: torch.Tensor) -> str:
    """The first few values, to 4 significant digits: ``[0.1234, 2.5, ...]``."""
    numbers = values.flatten().tolist()
    shown = ", ".join(f"{number:.4g}" for number in numbers[:4])
    return shown if values.ndim == 0 else f"[{shown}{', ...' if len(numbers) > 4 else ''}]"
