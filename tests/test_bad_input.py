"""Bad input to every public function of vae_utils: a clear error, or a correct result (issue 29,
item 3).

Each case is one call with one bad argument: a wrong shape, dtype or type, NaN or Inf, an empty
tensor, a zero, negative or huge number, an out-of-range label, images outside [0, 1].
:func:`refuses` expects a ``ValueError`` or ``TypeError`` whose message holds the argument's name
and a word of the fix; :func:`gives` expects a result and checks it against an independent
computation. Functions that compute one value per example pass a NaN on to that example's result
(as PyTorch does); functions that summarise the data (a fit, a statistic, a count, a choice)
refuse it.

``PYTHONPATH=. python tests/test_bad_input.py -v`` (from the repository's root, so that this
checkout's vae_utils is imported) sorts what every case does now into clear errors, deep errors
(raised inside PyTorch, NumPy or Python), unclear errors (raised by vae_utils, without the
argument or the fix), silent wrong results and correct results.
"""

import matplotlib

matplotlib.use("Agg")

import dataclasses
import inspect
import math
import os
import re
import sys
import tempfile
import traceback
import types
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
import torch

import vae_utils as vu
from vae_utils.code_prior import CodeGridPrior
from vae_utils.hierarchical import TwoLevelVAE, kl_diagonal_gaussians, two_level_objective

nan, inf = math.nan, math.inf

# --- what a case expects --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One call with one bad argument, and what it must do."""

    id: str
    call: Callable[[], Any]
    words: tuple[str, ...] = ()  # the error message holds each; () when a result is expected
    check: Callable[[Any], bool] | None = None  # is the result right?
    errors: tuple[type[BaseException], ...] = (ValueError, TypeError)


def refuses(id: str, call: Callable[[], Any], *words: str, errors=()) -> Case:
    """A case whose call must raise, with every one of ``words`` in the message."""
    return Case(id, call, words, errors=errors or (ValueError, TypeError))


def gives(id: str, call: Callable[[], Any], check: Callable[[Any], bool]) -> Case:
    """A case whose call must return a result for which ``check`` is true."""
    return Case(id, call, check=check)


def probe(name: str, *cases: Case) -> list[Case]:
    """The cases of the function or class ``name``, each id prefixed with it."""
    return [dataclasses.replace(case, id=f"{name}-{case.id}") for case in cases]


def holds(message: str, word: str) -> bool:
    """``word`` appears in ``message`` on its own (the ``x`` of ``x.view``, not of ``max``)."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message) is not None


def run(case: Case) -> None:
    """Make ``case``'s call and assert that it does what the case expects."""
    if case.words:
        with pytest.raises(case.errors) as info:
            case.call()
        missing = [word for word in case.words if not holds(str(info.value), word)]
        assert not missing, f"the message {str(info.value)!r} lacks {missing}"
    else:
        assert case.check is not None
        result = case.call()
        assert case.check(result), f"wrong result: {result!r}"


# --- inputs ---------------------------------------------------------------------------------


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 4, width: int = 784, seed: int = 0) -> torch.Tensor:
    """``n`` flat images in [0, 1]."""
    return torch.rand(n, width, generator=seeded(seed))


def bad(t: torch.Tensor, value: float = nan) -> torch.Tensor:
    """A copy of ``t`` with ``value`` as its first entry."""
    t = t.clone()
    t.view(-1)[0] = value
    return t


def as_bytes(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] as the bytes 0..255 of the files."""
    return (x * 255).round().to(torch.uint8)


def long(*shape: int, value: int = 1) -> torch.Tensor:
    return torch.full(shape, value, dtype=torch.long)


def labels(*values: int) -> torch.Tensor:
    return torch.tensor(values)


def close(a: torch.Tensor, b: torch.Tensor, **tolerance: float) -> bool:
    return a.shape == b.shape and torch.allclose(
        a.double(), b.double(), equal_nan=True, **tolerance
    )


def nan_first_only(result: torch.Tensor) -> bool:
    """The first example's result is NaN, every other one finite: a NaN stays where it was."""
    return bool(result[0].isnan().any()) and bool(result[1:].isfinite().all())


def shape(*size: int) -> Callable[[Any], bool]:
    """The check of a result that must be a tensor of this shape (an empty input, say)."""
    return lambda result: isinstance(result, torch.Tensor) and result.shape == size


@contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def with_shift(value: str, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` with ``$VAE_UTILS_SEED_SHIFT`` set to ``value``."""

    def inner() -> Any:
        with environment("VAE_UTILS_SEED_SHIFT", value):
            return call()

    return inner


torch.manual_seed(0)
X = images()  # (4, 784)
Y = labels(0, 3, 9, 1)
Y10, Y_NEG = labels(0, 1, 2, 10), labels(0, 1, 2, -1)
MU, LV = torch.randn(4, 2, generator=seeded(3)), 0.1 * torch.randn(4, 2, generator=seeded(4))
TINY = vu.TrainConfig(num_epochs=1, batch_size=8)
SMALL = {"hidden_dims": (8,), "config": TINY}  # a recipe's tiny model and one short epoch
AE = vu.Autoencoder(784, (8,), 2)
VAE = vu.VAE(784, (8,), 2)
BERNOULLI = vu.bernoulli.BernoulliVAE(784, (8,), 2)
VAMP_VAE = vu.VAE(784, (8,), 2)
VAMP_VAE.prior = vu.priors.VampPrior(torch.rand(4, 784, generator=torch.Generator().manual_seed(0)))
CONV = vu.ConvVAE(2, (2, 4))
VQVAE = vu.vq.VQVAE(8, 3, (2, 4))
CLASSIFIER = vu.classifier.Classifier(784, (8,), 10)
CVAE = vu.ConditionalVAE(784, (8,), 2, 10)
X5 = images(20, 5)
PPCA, PCA = vu.fit_ppca(X5, 2), vu.fit_pca(X5)
GRIDS = torch.randint(0, 4, (6, 3, 3), generator=seeded(2))
GRID_PRIOR = vu.code_prior.fit_code_prior(GRIDS, 4, neighbour=True)


def quantizer() -> vu.vq.VectorQuantizer:
    return vu.vq.VectorQuantizer(8, 3)


def fit_ae(x: Any, config: Any = TINY, **kwargs: Any) -> list[float]:
    return vu.fit(AE, x, vu.losses.autoencoder_objective, config, progress=False, **kwargs)


def fit_classifier(y: Any) -> list[float]:
    return vu.fit(CLASSIFIER, X, vu.classifier.classifier_objective, TINY, labels=y, progress=False)


def fit_vaes(x: Any, models: Any = None, config: Any = TINY, C: Any = (1.0,)) -> list:
    models = [vu.VAE(784, (8,), 2)] if models is None else models
    kwargs = {"C": list(C)}
    return vu.fit_together(models, x, vu.vae_objective, config, loss_kwargs=kwargs, progress=False)


def png() -> bytes:
    return vu.widgets.figure_to_png(plt.figure(figsize=(1, 1)))


def slider(**changes: Any) -> Any:
    arguments = {"frames": [png()], "labels": ["1"], "description": "C", "alt": "a"}
    return vu.widgets.image_slider(**(arguments | changes))


def live(**changes: Any) -> Any:
    arguments = {"frames": [png()], "values": [1.0], "description": "C", "alt": "a"}
    arguments |= {"minimum": 1.0, "maximum": 10.0, "value": 1.0}
    return vu.widgets.live_slider(lambda value: png(), **(arguments | changes))


def manual_squared_error(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    return ((x.double() - x_hat.double()) ** 2).sum(dim=1)


def manual_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    mu, log_var = mu.double(), log_var.double()
    return 0.5 * (mu**2 + log_var.exp() - 1 - log_var).sum(dim=-1)


def manual_log_normal(z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    z, mu, log_var = z.double(), mu.double(), log_var.double()
    variance = log_var.exp()
    return (-0.5 * (z - mu) ** 2 / variance - 0.5 * torch.log(2 * math.pi * variance)).sum(-1)


# --- the cases, by module ---------------------------------------------------------------------

LOSSES = [
    *probe(
        "reconstruction_error",
        refuses("x-1d", lambda: vu.reconstruction_error(X[0], X[0]), "x", "x_hat", "flatten"),
        refuses("shapes-differ", lambda: vu.reconstruction_error(X, X[:, :5]), "x_hat", "flatten"),
        refuses("x-list", lambda: vu.reconstruction_error([[0.0]], X[:1, :1]), "x", "list"),
        refuses("x-uint8", lambda: vu.reconstruction_error(as_bytes(X), X), "x", "255"),
        refuses("int64", lambda: vu.reconstruction_error(long(2, 3), long(2, 3)), "x", "float"),
        gives(
            "float64",
            lambda: vu.reconstruction_error(X.double(), X.flip(0).double()),
            lambda r: r.dtype == torch.float64 and close(r, manual_squared_error(X, X.flip(0))),
        ),
        gives("nan", lambda: vu.reconstruction_error(bad(X), X.flip(0)), nan_first_only),
        gives(
            "inf",
            lambda: vu.reconstruction_error(X, bad(X, inf)),
            lambda r: r[0] == inf and bool(r[1:].isfinite().all()),
        ),
        gives("empty", lambda: vu.reconstruction_error(X[:0], X[:0]), shape(0)),
    ),
    *probe(
        "kl_to_standard_normal",
        refuses(
            "1d",
            lambda: vu.kl_to_standard_normal(MU[0], LV[0]),
            "mu",
            "log_var",
            "(batch, features)",
        ),
        refuses(
            "shapes-differ",
            lambda: vu.kl_to_standard_normal(MU, LV[:, :1]),
            "mu",
            "log_var",
            "(batch, features)",
        ),
        refuses("list", lambda: vu.kl_to_standard_normal([[0.0]], LV[:1, :1]), "mu", "list"),
        gives("nan", lambda: vu.kl_to_standard_normal(bad(MU), LV), nan_first_only),
        gives(
            "log_var-minus-inf",
            lambda: vu.kl_to_standard_normal(MU, bad(LV, -inf)),
            lambda r: r[0] == inf and close(r[1:], manual_kl(MU, LV)[1:], atol=1e-6),
        ),
        gives(
            "huge-mu",
            lambda: vu.kl_to_standard_normal(bad(MU, 1e30), LV),  # 5e59: beyond float32
            lambda r: r[0] == inf and bool(r[1:].isfinite().all()),
        ),
        gives(
            "int64",
            lambda: vu.kl_to_standard_normal(long(2, 3), long(2, 3, value=0)),
            lambda r: close(r, torch.full((2,), 1.5)),
        ),
        gives("empty", lambda: vu.kl_to_standard_normal(MU[:0], LV[:0]), shape(0)),
    ),
    *probe(
        "vae_loss",
        refuses("C-negative", lambda: vu.vae_loss(X, X, MU, LV, C=-1.0), "C", "positive"),
        refuses("C-zero", lambda: vu.vae_loss(X, X, MU, LV, C=0.0), "C", "positive"),
        refuses("C-nan", lambda: vu.vae_loss(X, X, MU, LV, C=nan), "C", "positive"),
        refuses("C-str", lambda: vu.vae_loss(X, X, MU, LV, C="1"), "C", "positive"),
        gives(
            "C-0d-tensor",
            lambda: vu.vae_loss(X, X.flip(0), MU, LV, C=torch.tensor(0.5)),
            lambda r: close(
                r, (0.5 * manual_squared_error(X, X.flip(0)) + manual_kl(MU, LV)).mean()
            ),
        ),
        refuses("batches-differ", lambda: vu.vae_loss(X, X, MU[:2], LV[:2], C=1.0), "mu", "x"),
    ),
    *probe(
        "autoencoder_objective",
        refuses("x-1d", lambda: vu.losses.autoencoder_objective(AE, X[0]), "x", "x_hat", "flatten"),
    ),
    *probe(
        "vae_objective",
        refuses("C-negative", lambda: vu.vae_objective(VAE, X, C=-1.0), "C", "positive"),
    ),
    *probe(
        "calibrated_vae_objective",
        refuses("x-1d", lambda: vu.calibrated_vae_objective(VAE, X[0]), "x", "(n, features)"),
    ),
    *probe(
        "gaussian_log_likelihood",
        *[
            refuses(
                f"variance-{name}",
                lambda v=v: vu.gaussian_log_likelihood(X, X, v),
                "variance",
                "c = 1 / (2 C)",
            )
            for name, v in [
                ("zero", 0.0),
                ("negative", -1.0),
                ("nan", nan),
                ("inf", inf),
                ("str", "1"),
                ("none", None),
                ("bool", True),
            ]
        ],
        refuses(
            "shapes-differ", lambda: vu.gaussian_log_likelihood(X, X[:, :5], 1.0), "x", "x_hat"
        ),
        gives("nan", lambda: vu.gaussian_log_likelihood(bad(X), X.flip(0), 0.5), nan_first_only),
        gives(
            "huge-variance",
            lambda: vu.gaussian_log_likelihood(X, X.flip(0), 1e300),
            lambda r: close(
                r, -392 * math.log(2e300 * math.pi) - manual_squared_error(X, X.flip(0)) / 2e300
            ),
        ),
    ),
]

MODELS = [
    *probe(
        "mlp",
        refuses("one-size", lambda: vu.models.mlp((784,)), "sizes", "(784, 2)"),
        refuses("zero-width", lambda: vu.models.mlp((784, 0)), "sizes", "positive"),
        refuses("negative-width", lambda: vu.models.mlp((784, -1)), "sizes", "positive"),
        refuses("float-width", lambda: vu.models.mlp((784.0, 2)), "sizes", "positive"),
        refuses("sizes-none", lambda: vu.models.mlp(None), "sizes", "(784, 2)"),
        refuses(
            "output_activation-str",
            lambda: vu.models.mlp((784, 2), "sigmoid"),
            "output_activation",
            "nn.Sigmoid()",
        ),
    ),
    *probe(
        "mlp_encoder_decoder",
        refuses(
            "input_dim-zero",
            lambda: vu.models.mlp_encoder_decoder(0, (8,), 2, encoder_outputs=4),
            "input_dim",
            "784",
        ),
        refuses(
            "latent_dim-negative",
            lambda: vu.models.mlp_encoder_decoder(784, (8,), -1, encoder_outputs=4),
            "latent_dim",
            "latent_dim=2",
        ),
        refuses(
            "hidden_dims-zero",
            lambda: vu.models.mlp_encoder_decoder(784, (8, 0), 2, encoder_outputs=4),
            "hidden_dims",
            "hidden_dims=(256,)",
        ),
        refuses(
            "encoder_outputs-zero",
            lambda: vu.models.mlp_encoder_decoder(784, (8,), 2, encoder_outputs=0),
            "encoder_outputs",
            "2 * latent_dim",
        ),
    ),
    *probe(
        "Autoencoder",
        refuses("input_dim-zero", lambda: vu.Autoencoder(0), "input_dim", "784"),
        refuses("input_dim-str", lambda: vu.Autoencoder("784"), "input_dim", "784"),
        refuses(
            "latent_dim-float", lambda: vu.Autoencoder(784, (8,), 2.5), "latent_dim", "latent_dim=2"
        ),
        refuses(
            "latent_dim-bool", lambda: vu.Autoencoder(784, (8,), True), "latent_dim", "latent_dim=2"
        ),
        refuses(
            "hidden_dims-int",
            lambda: vu.Autoencoder(784, 256, 2),
            "hidden_dims",
            "hidden_dims=(256,)",
        ),
        refuses(
            "hidden_dims-str",
            lambda: vu.Autoencoder(784, "256", 2),
            "hidden_dims",
            "hidden_dims=(256,)",
        ),
        refuses("x-wrong-width", lambda: AE(images(3, 10)), "x", "784"),
        refuses("x-uint8", lambda: AE(as_bytes(X)), "x", "255"),
        refuses("x-float64", lambda: AE(X.double()), "x", "float32"),
        gives("x-empty", lambda: AE(X[:0]), shape(0, 784)),
        gives("x-nan", lambda: AE(bad(X)), nan_first_only),
        gives("x-1d", lambda: AE(X[0]), lambda r: close(r, AE(X[:1])[0], atol=1e-6)),
    ),
    *probe(
        "reparameterize",
        refuses("shapes-differ", lambda: vu.reparameterize(MU, LV[:, :1]), "mu", "log_var"),
        refuses("mu-list", lambda: vu.reparameterize([[0.0]], LV[:1, :1]), "mu", "tensor"),
        refuses("int64", lambda: vu.reparameterize(long(2, 2), long(2, 2)), "mu", "float"),
        refuses(
            "generator-str", lambda: vu.reparameterize(MU, LV, "0"), "generator", "vu.generator(0)"
        ),
        gives("nan", lambda: vu.reparameterize(bad(MU), LV, seeded()), nan_first_only),
        gives("empty", lambda: vu.reparameterize(MU[:0], LV[:0]), shape(0, 2)),
        gives(
            "float64",
            lambda: vu.reparameterize(MU.double(), LV.double(), seeded()),
            lambda r: (
                r.dtype == torch.float64
                and close(
                    r,
                    MU
                    + (0.5 * LV).exp() * torch.randn(4, 2, generator=seeded(), dtype=torch.float64),
                    atol=1e-6,
                )
            ),
        ),
    ),
    *probe(
        "VAE",
        refuses("latent_dim-zero", lambda: vu.VAE(784, (8,), 0), "latent_dim", "latent_dim=2"),
        refuses(
            "hidden_dims-zero", lambda: vu.VAE(784, (0,), 2), "hidden_dims", "hidden_dims=(256,)"
        ),
        refuses("input_dim-negative", lambda: vu.VAE(-784), "input_dim", "784"),
        refuses("encode-x-wrong-width", lambda: VAE.encode(images(3, 10)), "x", "784"),
        refuses("encode-x-uint8", lambda: VAE.encode(as_bytes(X)), "x", "255"),
        refuses("forward-x-float64", lambda: VAE(X.double()), "x", "float32"),
        gives(
            "forward-x-empty",
            lambda: VAE(X[:0]),
            lambda r: r[0].shape == (0, 784) and r[1].shape == (0, 2),
        ),
        *[
            refuses(f"sample-{name}", lambda n=n: VAE.sample(n), "num_samples", "num_samples=16")
            for name, n in [("zero", 0), ("negative", -1), ("float", 2.5), ("str", "3")]
        ],
        refuses("sample-generator-str", lambda: VAE.sample(2, "0"), "generator", "vu.generator(0)"),
        refuses(
            "log_likelihood-variance-none",
            lambda: VAE.log_likelihood(X, MU),
            "variance",
            "c = 1 / (2 C)",
        ),
        refuses(
            "log_likelihood-variance-negative",
            lambda: VAE.log_likelihood(X, MU, -1.0),
            "variance",
            "c = 1 / (2 C)",
        ),
        refuses(
            "kl_divergence-shapes-differ",
            lambda: VAE.kl_divergence(MU, LV[:, :1], MU),
            "mu",
            "log_var",
        ),
    ),
]

PRIORS = [
    *probe(
        "diagonal_gaussian_log_prob",
        refuses(
            "dims-differ",
            lambda: vu.priors.diagonal_gaussian_log_prob(MU, MU[0, :1], LV[0, :1]),
            "z",
            "mu",
            "latent_dim",
        ),
        refuses(
            "z-list",
            lambda: vu.priors.diagonal_gaussian_log_prob([[0.0, 0.0]], MU, LV),
            "z",
            "tensor",
        ),
        gives(
            "nan",
            lambda: vu.priors.diagonal_gaussian_log_prob(bad(MU), MU.flip(0), LV),
            nan_first_only,
        ),
        gives(
            "int64",
            lambda: vu.priors.diagonal_gaussian_log_prob(
                long(2, 2), long(2, value=0), long(2, value=0)
            ),
            lambda r: close(r, manual_log_normal(torch.ones(2, 2), torch.zeros(2), torch.zeros(2))),
        ),
        gives(
            "empty", lambda: vu.priors.diagonal_gaussian_log_prob(MU[:0], MU[0], LV[0]), shape(0)
        ),
    ),
    *probe(
        "gaussian_component_log_probs",
        refuses(
            "means-1d",
            lambda: vu.priors.gaussian_component_log_probs(MU, MU[0], LV[0]),
            "means",
            "log_vars",
            "(K, latent_dim)",
        ),
        refuses(
            "dims-differ",
            lambda: vu.priors.gaussian_component_log_probs(MU, images(3, 5), images(3, 5)),
            "means",
            "z.shape[-1]",
        ),
        refuses(
            "log_vars-shape",
            lambda: vu.priors.gaussian_component_log_probs(MU, MU[:3], LV),
            "log_vars",
            "(K, latent_dim)",
        ),
        refuses(
            "means-list",
            lambda: vu.priors.gaussian_component_log_probs(MU, [[0.0, 0.0]], LV[:1]),
            "means",
            "(K, latent_dim)",
        ),
        gives(
            "z-int64",
            lambda: vu.priors.gaussian_component_log_probs(long(3, 2), MU, LV),
            lambda r: close(r, manual_log_normal(torch.ones(3, 1, 2), MU, LV)),
        ),
        gives(
            "no-components",
            lambda: vu.priors.gaussian_component_log_probs(MU, MU[:0], LV[:0]),
            shape(4, 0),
        ),
        gives(
            "z-empty", lambda: vu.priors.gaussian_component_log_probs(MU[:0], MU, LV), shape(0, 4)
        ),
    ),
    *probe(
        "gaussian_mixture_log_prob",
        refuses(
            "no-components",
            lambda: vu.priors.gaussian_mixture_log_prob(MU, MU[:0], LV[:0]),
            "means",
            "component",
        ),
        refuses(
            "log_weights-shape",
            lambda: vu.priors.gaussian_mixture_log_prob(MU, MU, LV, torch.zeros(5)),
            "log_weights",
            "(K,)",
        ),
        refuses(
            "log_weights-unnormalised",
            lambda: vu.priors.gaussian_mixture_log_prob(MU, MU, LV, torch.zeros(4)),
            "log_weights",
            "log_softmax",
        ),
        gives("nan", lambda: vu.priors.gaussian_mixture_log_prob(bad(MU), MU, LV), nan_first_only),
    ),
    *probe(
        "StandardNormalPrior",
        refuses(
            "sample-negative",
            lambda: vu.priors.StandardNormalPrior().sample(-1, 2),
            "num_samples",
            "num_samples=16",
        ),
    ),
    *probe(
        "MixturePrior",
        refuses(
            "num_components-zero",
            lambda: vu.priors.MixturePrior(0, 2),
            "num_components",
            "num_components=10",
        ),
        refuses(
            "num_components-str",
            lambda: vu.priors.MixturePrior("10", 2),
            "num_components",
            "num_components=10",
        ),
        refuses(
            "latent_dim-negative",
            lambda: vu.priors.MixturePrior(10, -1),
            "latent_dim",
            "latent_dim",
        ),
        refuses(
            "sample-latent_dim-differs",
            lambda: vu.priors.MixturePrior(10, 2).sample(3, 5),
            "latent_dim",
            "2",
        ),
        refuses(
            "log_prob-z-dims-differ",
            lambda: vu.priors.MixturePrior(10, 2).log_prob(torch.zeros(3, 5)),
            "z.shape[-1]",
            "(K, latent_dim)",
        ),
    ),
    *probe(
        "VampPrior",
        refuses("init-1d", lambda: vu.priors.VampPrior(X[0]), "init", "x[:500]"),
        refuses("init-list", lambda: vu.priors.VampPrior(X.tolist()), "init", "list"),
        refuses("init-above-one", lambda: vu.priors.VampPrior(X * 2), "init", "[0, 1]"),
        refuses("init-uint8", lambda: vu.priors.VampPrior(as_bytes(X)), "init", "[0, 1]"),
        refuses("init-nan", lambda: vu.priors.VampPrior(bad(X)), "init", "NaN"),
        refuses("init-empty", lambda: vu.priors.VampPrior(X[:0]), "init", "x[:500]"),
        refuses(
            "components-no-encode",
            lambda: vu.priors.VampPrior(X).components(None),
            "encode",
            "encode=model.encode",
        ),
    ),
]

TRAIN = [
    *probe(
        "TrainConfig",
        *[
            refuses(f"{field}-{name}", lambda kw={field: v}: vu.TrainConfig(**kw), field, fix)
            for field, fix, values in [
                (
                    "num_epochs",
                    "num_epochs=10",
                    [("zero", 0), ("negative", -1), ("float", 2.5), ("str", "10"), ("none", None)],
                ),
                ("batch_size", "batch_size=128", [("zero", 0), ("float", 128.0)]),
                (
                    "lr",
                    "lr=1e-3",
                    [("zero", 0), ("negative", -1e-3), ("nan", nan), ("inf", inf), ("str", "1e-3")],
                ),
                ("seed", "seed=0", [("negative", -1), ("float", 1.5)]),
            ]
            for name, v in values
        ],
    ),
    *probe(
        "fit",
        refuses("x-1d", lambda: fit_ae(X[0]), "x", "x.view(len(x), -1)"),
        refuses("x-uint8", lambda: fit_ae(as_bytes(X)), "x", "255"),
        refuses("x-int64", lambda: fit_ae(as_bytes(X).long()), "x", "255"),
        refuses("x-bool", lambda: fit_ae(X > 0.5), "x", "floats"),
        refuses("x-float64", lambda: fit_ae(X.double()), "x", "x.to(torch.float32)"),
        refuses("x-nan", lambda: fit_ae(bad(X)), "x", "NaN"),
        refuses("x-inf", lambda: fit_ae(bad(X, inf)), "x", "infinite"),
        refuses("x-empty", lambda: fit_ae(X[:0]), "x", "(n, features)"),
        refuses("x-list", lambda: fit_ae(X.tolist()), "x", "list"),
        refuses(
            "config-dict",
            lambda: fit_ae(X, {"num_epochs": 1}),
            "config",
            "TrainConfig(num_epochs=5)",
        ),
        refuses("seed-huge", lambda: fit_ae(X, vu.TrainConfig(seed=2**32)), "seed", "seed=0"),
        refuses("labels-wrong-length", lambda: fit_classifier(Y[:3]), "labels", "one per row of x"),
        refuses("labels-list", lambda: fit_classifier(Y.tolist()), "labels", "list"),
        refuses(
            "model-str",
            lambda: vu.fit("AE", X, vu.losses.autoencoder_objective, TINY),
            "model",
            "nn.Module",
        ),
        refuses(
            "loss_fn-str",
            lambda: vu.fit(AE, X, "autoencoder_objective", TINY),
            "loss_fn",
            "autoencoder_objective",
        ),
    ),
    *probe(
        "fit_together",
        refuses("models-empty", lambda: fit_vaes(X, []), "models", "VAE(784, (256,), 2)"),
        refuses(
            "models-differ",
            lambda: fit_vaes(X, [VAE, vu.VAE(784, (4,), 2)], C=(1, 2)),
            "models",
            "same arguments",
        ),
        refuses("x-1d", lambda: fit_vaes(X[0]), "x", "x.view(len(x), -1)"),
        refuses(
            "loss_kwargs-length",
            lambda: fit_vaes(X, C=(1.0, 2.0)),
            "loss_kwargs['C']",
            "one value per model",
        ),
        refuses(
            "config-dict", lambda: fit_vaes(X, config={}), "config", "TrainConfig(num_epochs=5)"
        ),
        refuses("x-uint8", lambda: fit_vaes(as_bytes(X)), "x", "255"),
        refuses("x-float64", lambda: fit_vaes(X.double()), "x", "x.to(torch.float32)"),
        refuses("x-nan", lambda: fit_vaes(bad(X)), "x", "NaN"),
    ),
]

SEEDS = [
    *probe(
        "set_seed",
        *[
            refuses(name, lambda s=s: vu.set_seed(s), "seed", "seed=0")
            for name, s in [
                ("negative", -1),
                ("huge", 2**32),
                ("float", 1.5),
                ("str", "0"),
                ("none", None),
                ("bool", True),
            ]
        ],
    ),
    *probe(
        "generator",
        refuses("negative", lambda: vu.generator(-1), "seed", "seed=0"),
        refuses("huge", lambda: vu.generator(2**40), "seed", "seed=0"),
    ),
    *probe(
        "seed_shift",
        refuses(
            "not-int",
            with_shift("abc", vu.seeds.seed_shift),
            "VAE_UTILS_SEED_SHIFT",
            "VAE_UTILS_SEED_SHIFT=1",
        ),
        refuses(
            "negative",
            with_shift("-3", vu.seeds.seed_shift),
            "VAE_UTILS_SEED_SHIFT",
            "VAE_UTILS_SEED_SHIFT=1",
        ),
        refuses(
            "past-max",
            with_shift(str(2**32), lambda: vu.set_seed(1)),
            "VAE_UTILS_SEED_SHIFT",
            "smaller",
        ),
    ),
]

CONV_STACKS = [
    case
    for name in ("downsampling", "upsampling")
    for case in probe(
        name,
        refuses("channels-one", lambda n=name: getattr(vu.conv, n)((16,)), "channels", "(16, 32)"),
        refuses(
            "channels-zero", lambda n=name: getattr(vu.conv, n)((0, 4)), "channels", "(16, 32)"
        ),
        refuses("channels-str", lambda n=name: getattr(vu.conv, n)("ab"), "channels", "(16, 32)"),
    )
]

CONV_CASES = CONV_STACKS + probe(
    "ConvVAE",
    refuses("latent_dim-zero", lambda: vu.ConvVAE(0), "latent_dim", "latent_dim=10"),
    refuses("latent_dim-str", lambda: vu.ConvVAE("10"), "latent_dim", "latent_dim=10"),
    refuses("channels-one", lambda: vu.ConvVAE(2, (16,)), "channels", "channels=(16, 32)"),
    refuses("channels-zero", lambda: vu.ConvVAE(2, (0, 32)), "channels", "channels=(16, 32)"),
    refuses("channels-float", lambda: vu.ConvVAE(2, (16.5, 32)), "channels", "channels=(16, 32)"),
    refuses("x-wrong-width", lambda: CONV(images(3, 100)), "x", "784"),
    refuses("x-float64", lambda: CONV(X.double()), "x", "float32"),
    refuses("decode-z-wrong-latent_dim", lambda: CONV.decode(torch.zeros(3, 5)), "z", "latent_dim"),
    gives(
        "decode-leading-dims",
        lambda: CONV.decode(torch.zeros(2, 3, 2)),
        lambda r: r.shape == (2, 3, 784) and close(r[1, 2], CONV.decode(torch.zeros(1, 2))[0]),
    ),
    gives("x-empty", lambda: CONV(X[:0]), lambda r: r[0].shape == (0, 784)),
)

VQ = [
    *probe(
        "VectorQuantizer",
        refuses("num_codes-zero", lambda: vu.vq.VectorQuantizer(0, 3), "num_codes", "num_codes=64"),
        refuses(
            "num_codes-float", lambda: vu.vq.VectorQuantizer(2.5, 3), "num_codes", "num_codes=64"
        ),
        refuses(
            "code_dim-negative", lambda: vu.vq.VectorQuantizer(8, -1), "code_dim", "code_dim=16"
        ),
        refuses("z_e-wrong-code_dim", lambda: quantizer()(torch.zeros(5, 4)), "z_e", "code_dim=3"),
        refuses("z_e-list", lambda: quantizer()([[0.0] * 3]), "z_e", "list"),
        refuses("z_e-0d", lambda: quantizer()(torch.tensor(1.0)), "z_e", "code_dim=3"),
        refuses("z_e-int64", lambda: quantizer()(long(5, 3)), "z_e", "float"),
        refuses("z_e-float64", lambda: quantizer()(torch.zeros(5, 3).double()), "z_e", "float32"),
        refuses("z_e-empty", lambda: quantizer()(torch.zeros(0, 3)), "z_e", "at least one"),
    ),
    *probe(
        "code_usage",
        refuses(
            "float",
            lambda: vu.vq.code_usage(torch.tensor([0.0, 1.0]), 4),
            "indices",
            "VQOutput.indices",
        ),
        refuses("negative", lambda: vu.vq.code_usage(labels(-1, 1), 4), "indices", "num_codes"),
        refuses("too-large", lambda: vu.vq.code_usage(labels(0, 4), 4), "indices", "num_codes"),
        refuses("empty", lambda: vu.vq.code_usage(long(0), 4), "indices", "non-empty"),
        refuses(
            "bool",
            lambda: vu.vq.code_usage(torch.tensor([True, False]), 4),
            "indices",
            "VQOutput.indices",
        ),
        refuses("list", lambda: vu.vq.code_usage([0, 1], 4), "indices", "list"),
        refuses(
            "num_codes-zero",
            lambda: vu.vq.code_usage(labels(0), 0),
            "num_codes",
            "quantizer.num_codes",
        ),
        refuses(
            "num_codes-str",
            lambda: vu.vq.code_usage(labels(0), "4"),
            "num_codes",
            "quantizer.num_codes",
        ),
        gives(
            "int32",
            lambda: vu.vq.code_usage(labels(0, 0, 3).int(), 4),
            lambda r: close(r, torch.tensor([2 / 3, 0, 0, 1 / 3])),
        ),
        gives(
            "uint8",
            lambda: vu.vq.code_usage(labels(1, 1).byte(), 3),
            lambda r: close(r, torch.tensor([0.0, 1.0, 0.0])),
        ),
    ),
    *probe(
        "perplexity",
        refuses(
            "float", lambda: vu.vq.perplexity(torch.tensor([0.5]), 4), "indices", "VQOutput.indices"
        ),
        refuses("too-large", lambda: vu.vq.perplexity(labels(9), 4), "indices", "num_codes"),
    ),
    *probe(
        "reinit_dead_codes",
        refuses(
            "quantizer-VQVAE",
            lambda: vu.vq.reinit_dead_codes(VQVAE, torch.zeros(5, 3), labels(0)),
            "quantizer",
            "model.quantizer",
        ),
        refuses(
            "z_e-wrong-code_dim",
            lambda: vu.vq.reinit_dead_codes(quantizer(), torch.zeros(5, 4), labels(0)),
            "z_e",
            "code_dim=3",
        ),
        refuses(
            "indices-too-large",
            lambda: vu.vq.reinit_dead_codes(quantizer(), torch.zeros(5, 3), labels(8)),
            "indices",
            "num_codes",
        ),
        refuses(
            "z_e-empty",
            lambda: vu.vq.reinit_dead_codes(quantizer(), torch.zeros(0, 3), labels(0)),
            "z_e",
            "at least one",
        ),
        refuses(
            "z_e-nan",
            lambda: vu.vq.reinit_dead_codes(quantizer(), bad(torch.zeros(1, 3)), labels(0)),
            "z_e",
            "NaN",
        ),
    ),
    *probe(
        "VQVAE",
        refuses("num_codes-zero", lambda: vu.vq.VQVAE(0), "num_codes", "num_codes=64"),
        refuses("code_dim-zero", lambda: vu.vq.VQVAE(8, 0), "code_dim", "code_dim=16"),
        refuses("channels-one", lambda: vu.vq.VQVAE(8, 3, (16,)), "channels", "channels=(16, 32)"),
        refuses(
            "channels-zero", lambda: vu.vq.VQVAE(8, 3, (0, 32)), "channels", "channels=(16, 32)"
        ),
        refuses("encode-x-wrong-width", lambda: VQVAE.encode(images(3, 100)), "x", "784"),
        refuses("encode-x-1d", lambda: VQVAE.encode(X[0]), "x", "x.view(len(x), -1)"),
        refuses("encode-x-uint8", lambda: VQVAE.encode(as_bytes(X)), "x", "255"),
        refuses("encode-x-float64", lambda: VQVAE.encode(X.double()), "x", "float32"),
        gives("encode-x-nan", lambda: VQVAE.encode(bad(X)), nan_first_only),
        refuses(
            "decode-indices-too-large",
            lambda: VQVAE.decode(long(2, 7, 7, value=8)),
            "indices",
            "num_codes",
        ),
        refuses(
            "decode-indices-wrong-grid", lambda: VQVAE.decode(long(2, 7)), "z", "VQOutput.indices"
        ),
        refuses(
            "decode-z-wrong-shape",
            lambda: VQVAE.decode(torch.zeros(2, 7, 7, 5)),
            "z",
            "VQOutput.z_q_straight_through",
        ),
        refuses(
            "decode-bool",
            lambda: VQVAE.decode(torch.zeros(2, 7, 7, dtype=torch.bool)),
            "indices",
            "VQOutput.indices",
        ),
        refuses("decode-list", lambda: VQVAE.decode([[0]]), "z", "list"),
    ),
    *probe(
        "vqvae_objective",
        *[
            refuses(
                f"beta-{name}",
                lambda b=b: vu.vq.vqvae_objective(VQVAE, X, beta=b),
                "beta",
                "beta=0.25",
            )
            for name, b in [
                ("negative", -1.0),
                ("nan", nan),
                ("inf", inf),
                ("str", "0.25"),
                ("bool", True),
            ]
        ],
        refuses("x-wrong-width", lambda: vu.vq.vqvae_objective(VQVAE, images(3, 10)), "x", "784"),
    ),
    *probe(
        "VQVAELoss",
        refuses("beta-negative", lambda: vu.vq.VQVAELoss(beta=-0.1), "beta", "beta=0.25"),
        refuses(
            "reinit_every-zero",
            lambda: vu.vq.VQVAELoss(reinit_every=0),
            "reinit_every",
            "reinit_every=50",
        ),
        refuses(
            "reinit_every-float",
            lambda: vu.vq.VQVAELoss(reinit_every=2.5),
            "reinit_every",
            "reinit_every=50",
        ),
        refuses("seed-negative", lambda: vu.vq.VQVAELoss(seed=-1), "seed", "seed=0"),
        refuses("model-VAE", lambda: vu.vq.VQVAELoss()(VAE, X), "model", "VQVAE"),
    ),
]

LIKELIHOOD = [
    *probe(
        "fit_ppca",
        refuses("latent_dim-zero", lambda: vu.fit_ppca(X5, 0), "latent_dim", "latent_dim=2"),
        refuses(
            "latent_dim-too-large", lambda: vu.fit_ppca(X5, 5), "latent_dim", "discarded direction"
        ),
        refuses("latent_dim-str", lambda: vu.fit_ppca(X5, "2"), "latent_dim", "latent_dim=2"),
        refuses("x-1d", lambda: vu.fit_ppca(X[0], 2), "x", "x.view(len(x), -1)"),
        refuses("x-one-row", lambda: vu.fit_ppca(X[:1], 2), "x", "n >= 2"),
        refuses("x-nan", lambda: vu.fit_ppca(bad(X5), 2), "x", "NaN"),
        refuses("x-constant", lambda: vu.fit_ppca(torch.ones(20, 5), 2), "latent_dim", "add noise"),
        gives(
            "x-uint8",
            lambda: vu.fit_ppca(as_bytes(X5), 2),
            lambda r: math.isclose(
                r.noise_variance, vu.fit_ppca(as_bytes(X5).double(), 2).noise_variance
            ),
        ),
    ),
    *probe(
        "ppca_log_likelihood",
        refuses("x-wrong-width", lambda: vu.ppca_log_likelihood(images(3, 4), PPCA), "x", "5"),
        refuses("model-PCA", lambda: vu.ppca_log_likelihood(X5, PCA), "model", "fit_ppca"),
        gives("nan", lambda: vu.ppca_log_likelihood(bad(X5), PPCA), nan_first_only),
    ),
    *probe(
        "ppca_posterior",
        refuses("x-wrong-width", lambda: vu.ppca_posterior(images(3, 4), PPCA), "x", "5"),
        refuses("model-PCA", lambda: vu.ppca_posterior(X5, PCA), "model", "fit_ppca"),
    ),
    *probe(
        "elbo",
        refuses(
            "num_samples-zero",
            lambda: vu.elbo(VAE, X, 0.5, num_samples=0),
            "num_samples",
            "num_samples=100",
        ),
        refuses(
            "num_samples-float",
            lambda: vu.elbo(VAE, X, 0.5, num_samples=2.5),
            "num_samples",
            "num_samples=100",
        ),
        refuses("variance-none", lambda: vu.elbo(VAE, X, None), "variance", "c = 1 / (2 C)"),
        refuses("variance-negative", lambda: vu.elbo(VAE, X, -0.5), "variance", "c = 1 / (2 C)"),
        refuses(
            "variance-for-bernoulli",
            lambda: vu.elbo(BERNOULLI, X.round(), 0.5),
            "variance",
            "variance=None",
        ),
        refuses("x-wrong-width", lambda: vu.elbo(VAE, images(3, 10), 0.5), "x", "784"),
        gives("x-nan", lambda: vu.elbo(VAE, bad(X), 0.5, generator=seeded()), nan_first_only),
    ),
    *probe(
        "importance_weighted_bound",
        refuses(
            "num_samples-zero",
            lambda: vu.importance_weighted_bound(VAE, X, 0.5, 0),
            "num_samples",
            "num_samples=100",
        ),
        refuses(
            "num_samples-negative",
            lambda: vu.importance_weighted_bound(VAE, X, 0.5, -5),
            "num_samples",
            "num_samples=100",
        ),
        refuses(
            "max_elements-zero",
            lambda: vu.importance_weighted_bound(VAE, X, 0.5, 4, max_elements=0),
            "max_elements",
            "2_000_000",
        ),
        refuses(
            "max_elements-str",
            lambda: vu.importance_weighted_bound(VAE, X, 0.5, 4, max_elements="2e6"),
            "max_elements",
            "2_000_000",
        ),
        refuses(
            "variance-negative",
            lambda: vu.importance_weighted_bound(VAE, X, -0.5, 4),
            "variance",
            "c = 1 / (2 C)",
        ),
        refuses(
            "x-wrong-width",
            lambda: vu.importance_weighted_bound(VAE, images(3, 10), 0.5, 4),
            "x",
            "784",
        ),
        gives(
            "x-nan",
            lambda: vu.importance_weighted_bound(VAE, bad(X), 0.5, 4, generator=seeded()),
            nan_first_only,
        ),
        gives("x-empty", lambda: vu.importance_weighted_bound(VAE, X[:0], 0.5, 4), shape(0)),
    ),
]

PCA_CASES = [
    *probe(
        "fit_pca",
        refuses("x-1d", lambda: vu.fit_pca(X[0]), "x", "x.view(len(x), -1)"),
        refuses("x-one-row", lambda: vu.fit_pca(X[:1]), "x", "n >= 2"),
        refuses("x-list", lambda: vu.fit_pca(X.tolist()), "x", "list"),
        refuses("x-nan", lambda: vu.fit_pca(bad(X5)), "x", "NaN"),
        refuses("x-inf", lambda: vu.fit_pca(bad(X5, inf)), "x", "infinite"),
        refuses("x-empty", lambda: vu.fit_pca(X5[:0]), "x", "n >= 2"),
        gives(
            "x-int64",
            lambda: vu.fit_pca(as_bytes(X5).long()),
            lambda r: close(r.eigenvalues, vu.fit_pca(as_bytes(X5).double()).eigenvalues),
        ),
    ),
    *probe(
        "PCA",
        *[
            refuses(
                f"encode-num_components-{name}",
                lambda k=k: PCA.encode(X5, k),
                "num_components",
                "between 1 and 5",
            )
            for name, k in [("zero", 0), ("too-many", 6), ("str", "2")]
        ],
        refuses("encode-x-wrong-width", lambda: PCA.encode(images(3, 4), 2), "x", "5"),
        refuses("encode-x-uint8", lambda: PCA.encode(as_bytes(X5), 2), "x", "x.float()"),
        gives(
            "encode-x-1d",
            lambda: PCA.encode(X5[0], 2),
            lambda r: close(r, PCA.encode(X5, 2)[0], atol=1e-6),
        ),
        refuses(
            "decode-z-too-many",
            lambda: PCA.decode(torch.zeros(3, 6)),
            "num_components",
            "between 1 and 5",
        ),
        refuses(
            "decode-z-no-columns",
            lambda: PCA.decode(torch.zeros(3, 0)),
            "num_components",
            "between 1 and 5",
        ),
        refuses("decode-z-int64", lambda: PCA.decode(long(3, 2)), "z", "z.float()"),
        refuses("reconstruct-x-uint8", lambda: PCA.reconstruct(as_bytes(X5), 2), "x", "x.float()"),
    ),
    *probe(
        "principal_angles",
        refuses(
            "1d", lambda: vu.principal_angles(torch.zeros(5), torch.zeros(5, 2)), "a", "(784, k)"
        ),
        refuses(
            "rows-differ", lambda: vu.principal_angles(X5[:5, :2], X5[:4, :2]), "a", "b", "(784, k)"
        ),
        refuses("nan", lambda: vu.principal_angles(bad(X5[:5, :2]), X5[:5, :2]), "a", "NaN"),
        gives(
            "int64",
            lambda: vu.principal_angles(torch.eye(3).long()[:, :2], torch.eye(3)[:, 1:]),
            lambda r: close(r, torch.tensor([0.0, math.pi / 2]), atol=1e-12),
        ),
        gives("no-columns", lambda: vu.principal_angles(X5[:5, :0], X5[:5, :2]), shape(0)),
    ),
]

BANDWIDTHS = [
    ("zero", 0.0),
    ("negative", -1.0),
    ("nan", nan),
    ("inf", inf),
    ("str", "1"),
    ("none", None),
]
METRICS = [
    *probe(
        "median_bandwidth",
        refuses("x-one-row", lambda: vu.median_bandwidth(X[:1]), "x", "n >= 2"),
        refuses("x-1d", lambda: vu.median_bandwidth(X[0]), "x", "x.view(len(x), -1)"),
        refuses("x-nan", lambda: vu.median_bandwidth(bad(X)), "x", "NaN"),
        gives(
            "x-uint8",
            lambda: vu.median_bandwidth(as_bytes(X)),
            lambda r: math.isclose(r, vu.median_bandwidth(as_bytes(X).double())),
        ),
    ),
    *probe(
        "mmd",
        *[
            refuses(
                f"bandwidth-{name}",
                lambda h=h: vu.mmd(X, X.flip(0), h),
                "bandwidth",
                "median_bandwidth(y)",
            )
            for name, h in BANDWIDTHS
        ],
        refuses("features-differ", lambda: vu.mmd(X, images(4, 10), 1.0), "x", "y", "features"),
        refuses("y-one-row", lambda: vu.mmd(X, X[:1], 1.0), "y", "n >= 2"),
        refuses("x-nan", lambda: vu.mmd(bad(X), X.flip(0), 1.0), "x", "NaN"),
    ),
]

LATENT = [
    *probe(
        "interpolate",
        refuses("2d", lambda: vu.interpolate(MU, MU, 5), "z_start", "z[0]"),
        refuses("lengths-differ", lambda: vu.interpolate(MU[0], X[0, :3], 5), "z_end", "z[0]"),
        refuses(
            "num_steps-one", lambda: vu.interpolate(MU[0], MU[1], 1), "num_steps", "num_steps=10"
        ),
        refuses(
            "num_steps-str", lambda: vu.interpolate(MU[0], MU[1], "5"), "num_steps", "num_steps=10"
        ),
        refuses("z_start-list", lambda: vu.interpolate([0.0, 0.0], MU[1], 5), "z_start", "z[0]"),
        gives(
            "int64",
            lambda: vu.interpolate(long(2, value=0), long(2), 5),
            lambda r: close(r, torch.linspace(0, 1, 5)[:, None].expand(5, 2)),
        ),
        gives(
            "nan",
            lambda: vu.interpolate(torch.tensor([nan, 0.0]), torch.ones(2), 3),
            lambda r: (
                bool(r[:2, 0].isnan().all()) and close(r[:, 1], torch.tensor([0.0, 0.5, 1.0]))
            ),
        ),
    ),
    *probe(
        "latent_grid",
        refuses("high-below-low", lambda: vu.latent_grid(1.0, -1.0, 3), "high", "low"),
        refuses(
            "num_per_side-one",
            lambda: vu.latent_grid(-1.0, 1.0, 1),
            "num_per_side",
            "num_per_side=10",
        ),
        refuses("low-nan", lambda: vu.latent_grid(nan, 1.0, 3), "high", "low"),
        refuses("low-minus-inf", lambda: vu.latent_grid(-inf, 1.0, 3), "low", "finite"),
        refuses("low-str", lambda: vu.latent_grid("-1", 1.0, 3), "low", "finite"),
        gives(
            "bounds-0d-tensors",
            lambda: vu.latent_grid(torch.tensor(-1.0), torch.tensor(1.0), 3),
            lambda r: torch.equal(r, vu.latent_grid(-1.0, 1.0, 3)),
        ),
    ),
    *probe(
        "sample_box",
        refuses(
            "num_samples-zero",
            lambda: vu.sample_box(MU, 0, seeded()),
            "num_samples",
            "num_samples=100",
        ),
        refuses(
            "num_samples-negative",
            lambda: vu.sample_box(MU, -1, seeded()),
            "num_samples",
            "num_samples=100",
        ),
        refuses("z-1d", lambda: vu.sample_box(MU[0], 5, seeded()), "z", "(n, features)"),
        refuses("z-empty", lambda: vu.sample_box(MU[:0], 5, seeded()), "z", "(n, features)"),
        refuses("z-nan", lambda: vu.sample_box(bad(MU), 5, seeded()), "z", "NaN"),
        gives(
            "generator-none",
            lambda: vu.sample_box(MU, 50, None),
            lambda r: (
                r.shape == (50, 2)
                and bool((r >= MU.min(0).values).all() and (r <= MU.max(0).values).all())
            ),
        ),
    ),
    *probe(
        "sample_fitted_normal",
        refuses("z-one-row", lambda: vu.sample_fitted_normal(MU[:1], 5, seeded()), "z", "n >= 2"),
        refuses(
            "z-collapsed",
            lambda: vu.sample_fitted_normal(torch.ones(5, 2), 5, seeded()),
            "z",
            "spread",
        ),
        refuses(
            "num_samples-negative",
            lambda: vu.sample_fitted_normal(MU, -1, seeded()),
            "num_samples",
            "num_samples=100",
        ),
        refuses("z-1d", lambda: vu.sample_fitted_normal(MU[0], 5, seeded()), "z", "(n, features)"),
        refuses("z-nan", lambda: vu.sample_fitted_normal(bad(MU), 5, seeded()), "z", "NaN"),
    ),
    *probe(
        "traverse",
        refuses("z-2d", lambda: vu.traverse(MU, torch.zeros(3)), "z", "mu[0]"),
        refuses(
            "values-empty",
            lambda: vu.traverse(MU[0], torch.zeros(0)),
            "values",
            "torch.linspace(-3, 3, 7)",
        ),
        refuses(
            "values-2d",
            lambda: vu.traverse(MU[0], torch.zeros(3, 1)),
            "values",
            "torch.linspace(-3, 3, 7)",
        ),
        refuses("z-list", lambda: vu.traverse([0.0, 0.0], torch.zeros(3)), "z", "mu[0]"),
        gives(
            "z-int64",
            lambda: vu.traverse(long(2, value=0), torch.tensor([-0.5, 0.5])),
            lambda r: close(r, torch.tensor([[-0.5, 0.0], [0.5, 0.0], [0.0, -0.5], [0.0, 0.5]])),
        ),
    ),
]

COLLAPSE = [
    *probe(
        "kl_per_dimension",
        refuses("shapes-differ", lambda: vu.kl_per_dimension(MU, LV[:, :1]), "log_var", "mu"),
        refuses("1d", lambda: vu.kl_per_dimension(MU[0], LV[0]), "mu", "model.encode(x)[0]"),
        refuses("empty", lambda: vu.kl_per_dimension(MU[:0], LV[:0]), "mu", "model.encode(x)[0]"),
        gives(
            "nan",
            lambda: vu.kl_per_dimension(bad(MU), LV),
            lambda r: (
                bool(r[0].isnan())
                and close(r[1:], manual_kl(MU[:, 1:], LV[:, 1:]).mean().reshape(1))
            ),
        ),
    ),
    *probe(
        "active_units",
        *[
            refuses(f"threshold-{name}", lambda t=t: vu.active_units(MU, t), "threshold", "0.01")
            for name, t in [
                ("zero", 0.0),
                ("negative", -1.0),
                ("nan", nan),
                ("inf", inf),
                ("str", "0.01"),
            ]
        ],
        refuses("mu-one-row", lambda: vu.active_units(MU[:1]), "mu", "n >= 2"),
        refuses("mu-nan", lambda: vu.active_units(bad(MU)), "mu", "NaN"),
        gives(
            "mu-int64",
            lambda: vu.active_units(torch.tensor([[0, 5], [0, 6], [0, 7]])),
            lambda r: r.tolist() == [False, True],
        ),
    ),
]

SHARPNESS = [
    *probe(
        "gradient_energy",
        refuses("x-wrong-width", lambda: vu.sharpness.gradient_energy(images(3, 100)), "x", "784"),
        refuses("x-1d", lambda: vu.sharpness.gradient_energy(X[0]), "x", "x_test[:100]"),
        refuses("x-empty", lambda: vu.sharpness.gradient_energy(X[:0]), "x", "x_test[:100]"),
        refuses("x-uint8", lambda: vu.sharpness.gradient_energy(as_bytes(X)), "x", "255"),
        gives("x-nan", lambda: vu.sharpness.gradient_energy(bad(X)), nan_first_only),
    ),
    *probe(
        "high_frequency_power",
        *[
            refuses(
                f"cutoff-{name}",
                lambda c=c: vu.sharpness.high_frequency_power(X, c),
                "cutoff",
                "0.5",
            )
            for name, c in [
                ("zero", 0.0),
                ("half", 0.5),
                ("nan", nan),
                ("str", "0.25"),
                ("bool", True),
            ]
        ],
        refuses(
            "x-wrong-width", lambda: vu.sharpness.high_frequency_power(images(3, 100)), "x", "784"
        ),
        gives(
            "x-uint8",
            lambda: vu.sharpness.high_frequency_power(as_bytes(X)),  # a share: the scale cancels
            lambda r: close(r, vu.sharpness.high_frequency_power(as_bytes(X).double() / 255)),
        ),
    ),
    *probe(
        "posterior_weights",
        refuses(
            "z-1d",
            lambda: vu.sharpness.posterior_weights(MU[0], MU, LV),
            "z",
            "torch.randn(8, model.latent_dim)",
        ),
        refuses(
            "shapes-differ",
            lambda: vu.sharpness.posterior_weights(MU, MU, LV[:, :1]),
            "log_var",
            "z.shape[1]",
        ),
        refuses(
            "latent_dim-differs",
            lambda: vu.sharpness.posterior_weights(torch.zeros(3, 5), MU, LV),
            "mu",
            "z.shape[1]",
        ),
        refuses(
            "log_var-list",
            lambda: vu.sharpness.posterior_weights(MU, MU, LV.tolist()),
            "log_var",
            "model.encode(x)",
        ),
        refuses(
            "mu-empty",
            lambda: vu.sharpness.posterior_weights(MU, MU[:0], LV[:0]),
            "mu",
            "model.encode(x)",
        ),
    ),
    *probe(
        "effective_sample_size",
        refuses(
            "negative",
            lambda: vu.sharpness.effective_sample_size(torch.tensor([[1.5, -0.5]])),
            "weights",
            "normalise",
        ),
        refuses(
            "rows-not-summing",
            lambda: vu.sharpness.effective_sample_size(torch.tensor([[0.2, 0.2]])),
            "weights",
            "normalise",
        ),
        refuses(
            "nan",
            lambda: vu.sharpness.effective_sample_size(torch.tensor([[nan, 1.0]])),
            "weights",
            "normalise",
        ),
        refuses(
            "1d",
            lambda: vu.sharpness.effective_sample_size(torch.tensor([0.5, 0.5])),
            "weights",
            "posterior_weights(z, mu, log_var)",
        ),
    ),
]

CODE_PRIOR = [
    *probe(
        "fit_code_prior",
        refuses(
            "num_codes-zero",
            lambda: vu.code_prior.fit_code_prior(GRIDS, 0, True),
            "num_codes",
            "model.num_codes",
        ),
        *[
            refuses(
                f"smoothing-{name}",
                lambda s=s: vu.code_prior.fit_code_prior(GRIDS, 4, True, s),
                "smoothing",
                "smoothing=0.1",
            )
            for name, s in [("zero", 0.0), ("negative", -1.0), ("nan", nan)]
        ],
        refuses(
            "indices-2d",
            lambda: vu.code_prior.fit_code_prior(GRIDS[0], 4, True),
            "indices",
            "VQOutput.indices",
        ),
        refuses(
            "indices-float",
            lambda: vu.code_prior.fit_code_prior(GRIDS.float(), 4, True),
            "indices",
            "VQOutput.indices",
        ),
        refuses(
            "indices-too-large",
            lambda: vu.code_prior.fit_code_prior(GRIDS, 3, True),
            "indices",
            "num_codes",
        ),
        refuses(
            "indices-negative",
            lambda: vu.code_prior.fit_code_prior(-GRIDS - 1, 4, True),
            "indices",
            "num_codes",
        ),
        refuses(
            "indices-bool",
            lambda: vu.code_prior.fit_code_prior(GRIDS > 1, 4, True),
            "indices",
            "VQOutput.indices",
        ),
        refuses(
            "indices-empty",
            lambda: vu.code_prior.fit_code_prior(GRIDS[:0], 4, True),
            "indices",
            "at least one",
        ),
        refuses(
            "indices-list",
            lambda: vu.code_prior.fit_code_prior(GRIDS.tolist(), 4, True),
            "indices",
            "VQOutput.indices",
        ),
    ),
    *probe(
        "CodeGridPrior",
        refuses(
            "log_prob-wrong-grid",
            lambda: GRID_PRIOR.log_prob(long(2, 4, 4)),
            "indices",
            "VQOutput.indices",
        ),
        refuses(
            "log_prob-too-large", lambda: GRID_PRIOR.log_prob(GRIDS + 4), "indices", "num_codes"
        ),
        refuses(
            "log_prob-float",
            lambda: GRID_PRIOR.log_prob(GRIDS.float()),
            "indices",
            "VQOutput.indices",
        ),
        refuses("sample-zero", lambda: GRID_PRIOR.sample(0), "num_samples", "num_samples=16"),
        refuses("sample-negative", lambda: GRID_PRIOR.sample(-2), "num_samples", "num_samples=16"),
        refuses(
            "parents-later-cell",
            lambda: CodeGridPrior(torch.zeros(2, 3, 3), [1, -1], (1, 2)),
            "parent",
            "earlier cell",
        ),
        refuses(
            "log_tables-2d",
            lambda: CodeGridPrior(torch.zeros(2, 3), [-1, 0], (1, 2)),
            "log_tables",
            "(cells, K, K)",
        ),
    ),
]

CLASSIFIER_CASES = [
    *probe(
        "Classifier",
        refuses(
            "hidden_dims-zero",
            lambda: vu.classifier.Classifier(784, (0,), 10),
            "hidden_dims",
            "hidden_dims=(256,)",
        ),
        refuses(
            "num_classes-zero",
            lambda: vu.classifier.Classifier(784, (8,), 0),
            "num_classes",
            "num_classes=10",
        ),
        refuses(
            "num_classes-str",
            lambda: vu.classifier.Classifier(784, (8,), "10"),
            "num_classes",
            "num_classes=10",
        ),
        refuses(
            "input_dim-zero", lambda: vu.classifier.Classifier(0, (8,), 10), "input_dim", "784"
        ),
        refuses("x-wrong-width", lambda: CLASSIFIER(images(3, 10)), "x", "784"),
        refuses("predict-x-uint8", lambda: CLASSIFIER.predict(as_bytes(X)), "x", "255"),
    ),
    *probe(
        "classifier_objective",
        refuses(
            "y-ten", lambda: vu.classifier.classifier_objective(CLASSIFIER, X, Y10), "y", "0..9"
        ),
        refuses(
            "y-negative",
            lambda: vu.classifier.classifier_objective(CLASSIFIER, X, Y_NEG),
            "y",
            "0..9",
        ),
        refuses(
            "y-float",
            lambda: vu.classifier.classifier_objective(CLASSIFIER, X, Y.float()),
            "y",
            "int64",
        ),
    ),
    *probe(
        "accuracy",
        refuses(
            "lengths-differ",
            lambda: vu.classifier.accuracy(CLASSIFIER, X, Y[:3]),
            "x",
            "y",
            "equally long",
        ),
        refuses(
            "empty", lambda: vu.classifier.accuracy(CLASSIFIER, X[:0], Y[:0]), "x", "y", "non-empty"
        ),
        refuses("y-ten", lambda: vu.classifier.accuracy(CLASSIFIER, X, Y10), "y", "0..9"),
        refuses("y-list", lambda: vu.classifier.accuracy(CLASSIFIER, X, Y.tolist()), "y", "int64"),
        refuses(
            "x-wrong-width",
            lambda: vu.classifier.accuracy(CLASSIFIER, images(4, 10), Y),
            "x",
            "784",
        ),
        gives(
            "y-int32",
            lambda: vu.classifier.accuracy(CLASSIFIER, X, CLASSIFIER.predict(X).int()),
            lambda r: r == 1.0,
        ),
    ),
]

CONDITIONAL = [
    *probe(
        "ConditionalVAE",
        refuses(
            "num_classes-zero", lambda: vu.ConditionalVAE(784, (8,), 2, 0), "num_classes", "10"
        ),
        refuses(
            "latent_dim-str",
            lambda: vu.ConditionalVAE(784, (8,), "2"),
            "latent_dim",
            "latent_dim=2",
        ),
        refuses(
            "hidden_dims-int",
            lambda: vu.ConditionalVAE(784, 8),
            "hidden_dims",
            "hidden_dims=(256,)",
        ),
        refuses("input_dim-zero", lambda: vu.ConditionalVAE(0), "input_dim", "784"),
        refuses("encode-y-float", lambda: CVAE.encode(X, Y.float()), "y", "int64"),
        refuses(
            "encode-y-wrong-length", lambda: CVAE.encode(X, Y[:3]), "y", "torch.full((n,), label)"
        ),
        refuses("encode-y-ten", lambda: CVAE.encode(X, Y10), "y", "0..9"),
        refuses("encode-y-negative", lambda: CVAE.encode(X, Y_NEG), "y", "0..9"),
        refuses("encode-x-wrong-width", lambda: CVAE.encode(images(4, 10), Y), "x", "784"),
        refuses(
            "decode-y-wrong-length", lambda: CVAE.decode(MU, Y[:2]), "y", "torch.full((n,), label)"
        ),
    ),
    *probe(
        "conditional_vae_objective",
        refuses(
            "C-negative",
            lambda: vu.conditional.conditional_vae_objective(CVAE, X, Y, C=-1.0),
            "C",
            "C=0.5",
        ),
        refuses(
            "y-ten",
            lambda: vu.conditional.conditional_vae_objective(CVAE, X, Y10, C=0.5),
            "y",
            "0..9",
        ),
    ),
]

REMEDIES = [
    *probe(
        "kl_warmup",
        refuses(
            "step-negative", lambda: vu.remedies.kl_warmup(-1, 10), "step", "count steps from 0"
        ),
        refuses("step-float", lambda: vu.remedies.kl_warmup(1.5, 10), "step", "count steps from 0"),
        refuses(
            "warmup_steps-zero",
            lambda: vu.remedies.kl_warmup(0, 0),
            "warmup_steps",
            "warmup_steps=10",
        ),
        refuses(
            "warmup_steps-str",
            lambda: vu.remedies.kl_warmup(0, "10"),
            "warmup_steps",
            "warmup_steps=10",
        ),
        gives("huge-step", lambda: vu.remedies.kl_warmup(10**18, 10), lambda r: r == 1.0),
    ),
    *probe(
        "free_bits_kl",
        *[
            refuses(
                f"free_bits-{name}",
                lambda f=f: vu.free_bits_kl(MU, LV, f),
                "free_bits",
                "free_bits=0.5",
            )
            for name, f in [("negative", -1.0), ("nan", nan), ("inf", inf), ("str", "0.5")]
        ],
        refuses("shapes-differ", lambda: vu.free_bits_kl(MU, LV[:, :1], 0.5), "log_var", "mu"),
        refuses("mu-1d", lambda: vu.free_bits_kl(MU[0], LV[0], 0.5), "mu", "model.encode(x)[0]"),
    ),
    *probe(
        "elbo_objective",
        refuses("C-zero", lambda: vu.elbo_objective(VAE, X, 0.0), "C", "C=1.0"),
        refuses("C-str", lambda: vu.elbo_objective(VAE, X, "1"), "C", "C=1.0"),
        refuses("C-nan", lambda: vu.elbo_objective(VAE, X, nan), "C", "C=1.0"),
        refuses(
            "kl_weight-negative",
            lambda: vu.elbo_objective(VAE, X, 1.0, -0.1),
            "kl_weight",
            "kl_weight=1.0",
        ),
        refuses(
            "kl_weight-nan",
            lambda: vu.elbo_objective(VAE, X, 1.0, nan),
            "kl_weight",
            "kl_weight=1.0",
        ),
        refuses(
            "kl_weight-str",
            lambda: vu.elbo_objective(BERNOULLI, X.round(), kl_weight="1"),
            "kl_weight",
            "kl_weight=1.0",
        ),
        refuses(
            "free_bits-negative",
            lambda: vu.elbo_objective(VAE, X, 1.0, 1.0, -1.0),
            "free_bits",
            "free_bits=0.5",
        ),
        refuses(
            "free_bits-learned-prior",
            lambda: vu.elbo_objective(VAMP_VAE, X, 1.0, free_bits=0.5),
            "free_bits",
            "learned prior",
        ),
        refuses(
            "bernoulli-x-grey-above-one",
            lambda: vu.elbo_objective(BERNOULLI, X * 2),
            "x",
            "binarize",
        ),
    ),
    *probe(
        "KLWarmup",
        refuses("C-zero", lambda: vu.remedies.KLWarmup(0.0, 10), "C", "C=1.0"),
        refuses(
            "warmup_steps-zero",
            lambda: vu.remedies.KLWarmup(1.0, 0),
            "warmup_steps",
            "warmup_steps=1000",
        ),
        refuses(
            "free_bits-negative",
            lambda: vu.remedies.KLWarmup(1.0, 10, free_bits=-1.0),
            "free_bits",
            "free_bits=0.5",
        ),
        refuses(
            "cycle_steps-zero",
            lambda: vu.remedies.KLWarmup(1.0, 10, cycle_steps=0),
            "cycle_steps",
            "None",
        ),
        refuses(
            "cycle_steps-below-warmup",
            lambda: vu.remedies.KLWarmup(1.0, 10, cycle_steps=5),
            "cycle_steps",
            "cycle_steps=2 * warmup_steps",
        ),
    ),
]

LEARNED_PRIOR = [
    *probe(
        "train_vae_with_prior",
        refuses(
            "prior-unknown",
            lambda: vu.train_vae_with_prior(X, 1.0, "gauss", **SMALL),
            "prior",
            "'vamp'",
        ),
        refuses(
            "num_components-zero",
            lambda: vu.train_vae_with_prior(X, 1.0, "mixture", num_components=0, **SMALL),
            "num_components",
            "num_components=10",
        ),
        refuses(
            "C-zero", lambda: vu.train_vae_with_prior(X, 0.0, "standard", **SMALL), "C", "C=1.0"
        ),
        refuses(
            "num_components-above-n",
            lambda: vu.train_vae_with_prior(X, 1.0, "vamp", num_components=10, **SMALL),
            "num_components",
            "len(x)",
        ),
        refuses(
            "x-1d",
            lambda: vu.train_vae_with_prior(X[0], 1.0, "standard", **SMALL),
            "x",
            "x.view(len(x), -1)",
        ),
    ),
    *probe(
        "elbo_surgery",
        refuses(
            "x-wrong-width", lambda: vu.learned_prior.elbo_surgery(VAE, images(3, 10)), "x", "784"
        ),
        refuses("x-empty", lambda: vu.learned_prior.elbo_surgery(VAE, X[:0]), "x", "x_test"),
        refuses("x-nan", lambda: vu.learned_prior.elbo_surgery(VAE, bad(X)), "x", "NaN"),
    ),
]

BERNOULLI_CASES = [
    *probe(
        "binarize",
        refuses("x-above-one", lambda: vu.bernoulli.binarize(X * 2), "x", "[0, 1]"),
        refuses("x-negative", lambda: vu.bernoulli.binarize(X - 1), "x", "[0, 1]"),
        refuses("x-nan", lambda: vu.bernoulli.binarize(bad(X)), "x", "NaN"),
        refuses("x-uint8", lambda: vu.bernoulli.binarize(as_bytes(X)), "x", "255"),
        refuses("x-list", lambda: vu.bernoulli.binarize(X.tolist()), "x", "load_fashion_mnist"),
        gives("x-empty", lambda: vu.bernoulli.binarize(X[:0]), shape(0, 784)),
        gives(
            "x-float64",
            lambda: vu.bernoulli.binarize(X.double(), seeded()),
            lambda r: (
                r.dtype == torch.float64
                and set(r.unique().tolist()) <= {0.0, 1.0}
                and abs(r.mean() - X.mean()) < 0.05
            ),
        ),
    ),
    *probe(
        "bernoulli_log_likelihood",
        refuses(
            "shapes-differ",
            lambda: vu.bernoulli.bernoulli_log_likelihood(X.round(), X[:, :5]),
            "x",
            "logits",
        ),
        refuses(
            "x-above-one",
            lambda: vu.bernoulli.bernoulli_log_likelihood(2 * X.round(), X),
            "x",
            "binarize",
        ),
        refuses(
            "x-int64",
            lambda: vu.bernoulli.bernoulli_log_likelihood(long(2, 3), torch.zeros(2, 3)),
            "x",
            "x.float()",
        ),
        gives(
            "logits-nan",
            lambda: vu.bernoulli.bernoulli_log_likelihood(X.round(), bad(torch.zeros(4, 784))),
            nan_first_only,
        ),
        gives(
            "logits-huge",
            lambda: vu.bernoulli.bernoulli_log_likelihood(
                torch.tensor([[1.0, 0.0]]), torch.tensor([[1e4, -1e4]])
            ),
            lambda r: close(r, torch.zeros(1)),
        ),
    ),
    *probe(
        "BernoulliVAE",
        refuses(
            "latent_dim-zero",
            lambda: vu.bernoulli.BernoulliVAE(784, (8,), 0),
            "latent_dim",
            "latent_dim=2",
        ),
        refuses(
            "log_likelihood-variance",
            lambda: BERNOULLI.log_likelihood(X.round(), MU, 1.0),
            "variance",
            "variance=None",
        ),
    ),
    *probe(
        "shipped_bernoulli_record",
        refuses(
            "prior-unknown",
            lambda: vu.bernoulli.shipped_bernoulli_record("gauss"),
            "prior",
            "'vamp'",
        ),
    ),
    *probe(
        "load_shipped_bernoulli_vae",
        refuses(
            "path-missing",
            lambda: vu.bernoulli.load_shipped_bernoulli_vae("/nonexistent/b.safetensors"),
            "/nonexistent/b.safetensors",
            "reinstall",
            errors=(FileNotFoundError,),
        ),
        refuses(
            "sha256-wrong",
            lambda: vu.bernoulli.load_shipped_bernoulli_vae(sha256="0" * 64),
            "sha256=None",
            "restore",
        ),
    ),
    *probe(
        "load_vampprior_vae",
        refuses(
            "path-missing",
            lambda: vu.bernoulli.load_vampprior_vae("/nonexistent/v.safetensors"),
            "/nonexistent/v.safetensors",
            "reinstall",
            errors=(FileNotFoundError,),
        ),
    ),
]

RECIPES = [
    *probe(
        "train_autoencoder",
        refuses("x-1d", lambda: vu.train_autoencoder(X[0], config=TINY), "x", "x.view(len(x), -1)"),
        refuses("x-list", lambda: vu.train_autoencoder(X.tolist(), config=TINY), "x", "list"),
        refuses("x-uint8", lambda: vu.train_autoencoder(as_bytes(X), **SMALL), "x", "255"),
        refuses("x-nan", lambda: vu.train_autoencoder(bad(X), **SMALL), "x", "NaN"),
        refuses(
            "latent_dim-zero",
            lambda: vu.train_autoencoder(X, latent_dim=0, config=TINY),
            "latent_dim",
            "latent_dim=2",
        ),
        refuses(
            "hidden_dims-zero",
            lambda: vu.train_autoencoder(X, hidden_dims=(0,), config=TINY),
            "hidden_dims",
            "hidden_dims=(256,)",
        ),
        refuses(
            "config-dict",
            lambda: vu.train_autoencoder(X, config={"num_epochs": 1}),
            "config",
            "TrainConfig(num_epochs=5)",
        ),
    ),
    *probe(
        "train_vae",
        *[
            refuses(f"C-{name}", lambda c=c: vu.train_vae(X, c, config=TINY), "C", "C=1.0")
            for name, c in [
                ("zero", 0.0),
                ("negative", -1.0),
                ("nan", nan),
                ("inf", inf),
                ("str", "1"),
                ("none", None),
            ]
        ],
        refuses("x-1d", lambda: vu.train_vae(X[0], 1.0, config=TINY), "x", "x.view(len(x), -1)"),
    ),
    *probe(
        "train_vae_sweep",
        *[
            refuses(
                f"C_values-{name}",
                lambda c=c: vu.train_vae_sweep(X, c, config=TINY),
                "C_values",
                "C_values=[0.1, 1, 10]",
            )
            for name, c in [
                ("empty", []),
                ("zero", [0.0]),
                ("nan", [nan]),
                ("str", "abc"),
                ("float", 1.0),
            ]
        ],
        refuses("C_values-inf", lambda: vu.train_vae_sweep(X, [inf], config=TINY), "C", "C=1.0"),
        refuses(
            "x-nan", lambda: vu.train_vae_sweep(bad(X), [1.0], progress=False, **SMALL), "x", "NaN"
        ),
        refuses(
            "x-uint8",
            lambda: vu.train_vae_sweep(as_bytes(X), [1.0], progress=False, **SMALL),
            "x",
            "255",
        ),
    ),
    *probe(
        "train_vqvae",
        refuses(
            "num_codes-zero",
            lambda: vu.train_vqvae(X, num_codes=0, config=TINY),
            "num_codes",
            "num_codes=64",
        ),
        refuses(
            "beta-negative", lambda: vu.train_vqvae(X, beta=-1.0, config=TINY), "beta", "beta=0.25"
        ),
        refuses(
            "reinit_every-zero",
            lambda: vu.train_vqvae(X, reinit_every=0, config=TINY),
            "reinit_every",
            "reinit_every=50",
        ),
        refuses(
            "x-wrong-width",
            lambda: vu.train_vqvae(images(4, 100), num_codes=8, code_dim=3, config=TINY),
            "x",
            "784",
        ),
        refuses(
            "config-dict",
            lambda: vu.train_vqvae(X, config={}),
            "config",
            "TrainConfig(num_epochs=5)",
        ),
    ),
    *probe(
        "train_calibrated_vae",
        refuses("x-nan", lambda: vu.train_calibrated_vae(bad(X), **SMALL), "x", "NaN"),
        refuses(
            "x-1d", lambda: vu.train_calibrated_vae(X[0], config=TINY), "x", "x.view(len(x), -1)"
        ),
    ),
    *probe(
        "train_classifier",
        refuses("y-ten", lambda: vu.train_classifier(X, Y10, **SMALL), "y", "0..9"),
        refuses("y-negative", lambda: vu.train_classifier(X, Y_NEG, **SMALL), "y", "0..9"),
        refuses("y-float", lambda: vu.train_classifier(X, Y.float(), **SMALL), "y", "int64"),
        refuses(
            "y-wrong-length",
            lambda: vu.train_classifier(X, Y[:3], **SMALL),
            "y",
            "one per row of x",
        ),
        refuses("y-list", lambda: vu.train_classifier(X, Y.tolist(), **SMALL), "y", "int64"),
    ),
    *probe(
        "train_conditional_vae",
        refuses("C-zero", lambda: vu.train_conditional_vae(X, Y, 0.0, config=TINY), "C", "C=0.5"),
        refuses("y-ten", lambda: vu.train_conditional_vae(X, Y10, 0.5, **SMALL), "y", "0..9"),
        refuses(
            "y-negative", lambda: vu.train_conditional_vae(X, Y_NEG, 0.5, **SMALL), "y", "0..9"
        ),
        refuses(
            "y-float", lambda: vu.train_conditional_vae(X, Y.float(), 0.5, **SMALL), "y", "int64"
        ),
    ),
    *probe(
        "train_conv_vae",
        refuses("C-zero", lambda: vu.train_conv_vae(X, 0.0, config=TINY), "C", "C=1.0"),
        refuses(
            "x-wrong-width",
            lambda: vu.train_conv_vae(
                images(4, 100), 1.0, latent_dim=2, channels=(2, 4), config=TINY
            ),
            "x",
            "784",
        ),
        refuses(
            "latent_dim-zero",
            lambda: vu.train_conv_vae(X, 1.0, latent_dim=0, config=TINY),
            "latent_dim",
            "latent_dim=10",
        ),
        refuses(
            "channels-one",
            lambda: vu.train_conv_vae(X, 1.0, channels=(16,), config=TINY),
            "channels",
            "channels=(16, 32)",
        ),
    ),
    *probe(
        "train_two_level_vae",
        refuses("C-zero", lambda: vu.train_two_level_vae(X, 0.0, config=TINY), "C", "C=10.0"),
        refuses(
            "latent_dims-one",
            lambda: vu.train_two_level_vae(X, 1.0, latent_dims=(8,), config=TINY),
            "latent_dims",
            "(8, 2)",
        ),
        refuses(
            "x-1d",
            lambda: vu.train_two_level_vae(X[0], 1.0, config=TINY),
            "x",
            "view",
        ),
    ),
    *probe(
        "train_vae_with_remedy",
        refuses("C-zero", lambda: vu.train_vae_with_remedy(X, 0.0, config=TINY), "C", "C=1.0"),
        refuses(
            "warmup_steps-zero",
            lambda: vu.train_vae_with_remedy(X, 1.0, warmup_steps=0, config=TINY),
            "warmup_steps",
            "warmup_steps=1000",
        ),
        refuses(
            "free_bits-negative",
            lambda: vu.train_vae_with_remedy(X, 1.0, free_bits=-1.0, config=TINY),
            "free_bits",
            "free_bits=0.5",
        ),
        refuses(
            "cycle_steps-below-warmup",
            lambda: vu.train_vae_with_remedy(X, 1.0, warmup_steps=10, cycle_steps=5, config=TINY),
            "cycle_steps",
            "cycle_steps=2 * warmup_steps",
        ),
    ),
    *probe(
        "train_or_load",
        refuses(
            "key-not-json",
            lambda: vu.train_or_load(
                lambda: AE, X, vu.losses.autoencoder_objective, {"f": object()}, TINY
            ),
            "key",
            "num_epochs",
        ),
    ),
    *probe(
        "data_fingerprint",
        refuses("x-list", lambda: vu.recipes.data_fingerprint([1, 2]), "x", "torch.tensor"),
    ),
]

DATA = probe(
    "load_fashion_mnist",
    refuses("split-unknown", lambda: vu.load_fashion_mnist("val"), "split", "split='train'"),
    refuses("split-none", lambda: vu.load_fashion_mnist(None), "split", "split='train'"),
    *[
        refuses(
            f"limit-{name}",
            lambda n=n: vu.load_fashion_mnist("test", limit=n),
            "limit",
            "limit=1000",
        )
        for name, n in [
            ("zero", 0),
            ("negative", -1),
            ("float", 1.5),
            ("bool", True),
            ("str", "10"),
        ]
    ],
    refuses(
        "limit-huge", lambda: vu.load_fashion_mnist("test", limit=10**9), "limit", "limit=None"
    ),
)

CLAIMS = probe(
    "check",
    refuses("claim-empty", lambda: vu.claims.check("", 1.0, below=2.0), "claim", "in words"),
    refuses(
        "value-str", lambda: vu.claims.check("a claim", "1", below=2.0), "value", "errors.max()"
    ),
    refuses(
        "value-two-elements",
        lambda: vu.claims.check("a claim", X[0, :2], below=3.0),
        "value",
        "errors.max()",
    ),
    refuses("no-bound", lambda: vu.claims.check("a claim", 1.0), "above", "below"),
    refuses(
        "above-str", lambda: vu.claims.check("a claim", 1.0, above="0"), "above", "errors.max()"
    ),
    refuses(
        "value-nan",
        lambda: vu.claims.check("a claim", nan, below=2.0),
        "nan",
        "below",
        errors=(vu.claims.ClaimError,),
    ),
)


def save_nan_model() -> None:
    model = vu.Autoencoder(784, (8,), 2)
    with torch.no_grad():
        model.encoder[0].weight[0, 0] = nan
    vu.cache.save_weights(model, Path(tempfile.mkdtemp()) / "nan.safetensors", {})


def load_into_other_model() -> None:
    path = Path(tempfile.mkdtemp()) / "ae.safetensors"
    vu.cache.save_weights(vu.Autoencoder(784, (8,), 2), path, {})
    vu.cache.load_weights(vu.Autoencoder(784, (4,), 2), path)


def save_tensor_metadata() -> None:
    vu.cache.save_weights(
        AE, Path(tempfile.mkdtemp()) / "m.safetensors", {"loss": torch.tensor(1.0)}
    )


CACHE = [
    *probe("save_weights", refuses("nan", save_nan_model, "NaN", "lr=1e-3")),
    *probe(
        "save_weights", refuses("metadata-tensor", save_tensor_metadata, "metadata", ".tolist()")
    ),
    *probe(
        "load_weights",
        refuses("other-model", load_into_other_model, "same arguments", "delete the file"),
    ),
]

PLOTS = [
    *probe(
        "image_grid",
        refuses(
            "num_columns-zero", lambda: vu.plots.image_grid(X, 0), "num_columns", "num_columns=8"
        ),
        refuses(
            "num_columns-float", lambda: vu.plots.image_grid(X, 2.5), "num_columns", "num_columns=8"
        ),
        refuses(
            "images-wrong-size",
            lambda: vu.plots.image_grid(images(3, 100), 2),
            "images",
            "image_shape=(height, width)",
        ),
        refuses(
            "images-1d",
            lambda: vu.plots.image_grid(X[0], 2),
            "images",
            "image_shape=(height, width)",
        ),
        refuses("images-empty", lambda: vu.plots.image_grid(X[:0], 2), "images", "at least one"),
    ),
    *probe(
        "plot_images",
        refuses(
            "num_columns-negative", lambda: vu.plot_images(X, -1), "num_columns", "num_columns=8"
        ),
    ),
    *probe(
        "plot_latent_scatter",
        refuses(
            "z-three-columns",
            lambda: vu.plot_latent_scatter(X[:, :3], Y, vu.CLASS_NAMES),
            "z",
            "latent_dim=2",
        ),
        refuses(
            "labels-wrong-length",
            lambda: vu.plot_latent_scatter(MU, Y[:3], vu.CLASS_NAMES),
            "labels",
            "one label per row",
        ),
        refuses(
            "class_names-eleven",
            lambda: vu.plot_latent_scatter(MU, Y, [*vu.CLASS_NAMES, "x"]),
            "class_names",
            "10",
        ),
        refuses(
            "labels-ten",
            lambda: vu.plot_latent_scatter(MU, Y10, vu.CLASS_NAMES),
            "labels",
            "class_names",
        ),
    ),
    *probe(
        "plot_loss_curves",
        refuses("empty", lambda: vu.plot_loss_curves({}), "histories", "{'autoencoder': history}"),
        refuses(
            "list", lambda: vu.plot_loss_curves([1.0, 2.0]), "histories", "{'autoencoder': history}"
        ),
    ),
    *probe(
        "figure_to_png",
        refuses("not-a-figure", lambda: vu.widgets.figure_to_png("figure"), "fig", "plt.figure()"),
    ),
    *probe(
        "image_slider",
        refuses(
            "frames-empty", lambda: slider(frames=[], labels=[]), "frames", "one label per frame"
        ),
        refuses(
            "labels-repeated",
            lambda: slider(frames=[png(), png()], labels=["1", "1"]),
            "labels",
            "format them",
        ),
        refuses("frames-not-png", lambda: slider(frames=[b"GIF89a"]), "frames", "figure_to_png"),
        refuses("index-too-large", lambda: slider(index=5), "index", "between 0 and 0"),
        refuses("alt-empty", lambda: slider(alt=" "), "alt", "alt='Reconstructions, samples'"),
    ),
    *probe(
        "live_slider",
        refuses("minimum-zero", lambda: live(minimum=0.0), "minimum", "positive numbers"),
        refuses("value-outside", lambda: live(value=20.0), "value", "minimum < maximum"),
        refuses("values-str", lambda: live(values=["1"]), "values", "positive numbers"),
        refuses("lengths-differ", lambda: live(values=[1.0, 2.0]), "frames", "one frame per value"),
    ),
]

EXPLORED = {"VAE": vu.VAE(784, (8,), 2)}
XY = (X, Y, X, Y)  # x_test, y_test, x_train, y_train
EXPLORER = probe(
    "latent_explorer",
    refuses("models-empty", lambda: vu.latent_explorer({}, *XY), "models", "dict"),
    refuses("models-list", lambda: vu.latent_explorer([VAE], *XY), "models", "dict"),
    refuses(
        "model-10d",
        lambda: vu.latent_explorer({"VAE": vu.VAE(784, (8,), 10)}, *XY),
        "model",
        "latent_dim=2",
    ),
    refuses("model-conv", lambda: vu.latent_explorer({"c": CONV}, *XY), "model", "hidden_dims"),
    refuses("label-empty", lambda: vu.latent_explorer({"": VAE}, *XY), "labels", "strings"),
    refuses("initial-unknown", lambda: vu.latent_explorer(EXPLORED, *XY, initial="AE"), "initial"),
    refuses("x_test-uint8", lambda: vu.latent_explorer(EXPLORED, as_bytes(X), Y, X, Y), "x_test"),
    refuses("x_test-255", lambda: vu.latent_explorer(EXPLORED, X * 255, Y, X, Y), "x_test", "255"),
    refuses("x_test-nan", lambda: vu.latent_explorer(EXPLORED, bad(X), Y, X, Y), "x_test"),
    refuses("x_test-1d", lambda: vu.latent_explorer(EXPLORED, X[0], Y, X, Y), "x_test", "784"),
    refuses("y_test-short", lambda: vu.latent_explorer(EXPLORED, X, Y[:2], X, Y), "y_test"),
    refuses("y_test-10", lambda: vu.latent_explorer(EXPLORED, X, Y10, X, Y), "y_test", "9"),
    refuses("y_train-negative", lambda: vu.latent_explorer(EXPLORED, X, Y, X, Y_NEG), "y_train"),
)

TWO_LEVEL = TwoLevelVAE(784, 8, (3, 2), side_dim=4)
HIERARCHICAL = [
    *probe(
        "kl_diagonal_gaussians",
        refuses(
            "mu_p-shape",
            lambda: kl_diagonal_gaussians(MU, LV, MU[:, :1], LV),
            "mu_p",
            "mu_q",
        ),
        gives(
            "nan",
            lambda: kl_diagonal_gaussians(bad(MU), LV, MU, LV),
            nan_first_only,
        ),
    ),
    *probe(
        "TwoLevelVAE",
        refuses("latent_dims-int", lambda: TwoLevelVAE(784, 8, 5), "latent_dims", "(8, 2)"),
        refuses("z2_dim-zero", lambda: TwoLevelVAE(784, 8, (3, 0)), "z2_dim", "(8, 2)"),
        refuses("x-wrong-width", lambda: TWO_LEVEL(images(4, 100)), "x", "784"),
        refuses("num_samples-zero", lambda: TWO_LEVEL(X, num_samples=0), "num_samples"),
        refuses(
            "sample-z2-shape",
            lambda: TWO_LEVEL.sample(4, z2=torch.zeros(2, 2)),
            "z2",
            "expand",
        ),
        refuses(
            "log_weights-variance-none",
            lambda: TWO_LEVEL.log_weights(X, None, 2),
            "variance",
            "c = 1 / (2 C)",
        ),
    ),
    *probe(
        "two_level_objective",
        refuses("C-negative", lambda: two_level_objective(TWO_LEVEL, X, -1.0), "C", "C=10.0"),
    ),
]

EXERCISES = probe(
    "exercises.check",
    refuses(
        "name-unknown", lambda: vu.exercises.check("kl", print), "exercise", "the exercises are"
    ),
    refuses(
        "fn-not-callable",
        lambda: vu.exercises.check("kl_to_standard_normal", 42),
        "fn",
        "without calling it",
    ),
)

CASES: list[Case] = [
    *LOSSES, *MODELS, *PRIORS, *TRAIN, *SEEDS, *CONV_CASES, *VQ, *LIKELIHOOD, *PCA_CASES,
    *METRICS, *LATENT, *COLLAPSE, *SHARPNESS, *CODE_PRIOR, *CLASSIFIER_CASES, *CONDITIONAL,
    *REMEDIES, *LEARNED_PRIOR, *BERNOULLI_CASES, *RECIPES, *DATA, *CLAIMS, *CACHE, *PLOTS,
    *EXERCISES, *EXPLORER, *HIERARCHICAL,
]  # fmt: skip


@pytest.fixture(autouse=True)
def cache_in(tmp_path, monkeypatch):
    """Recipes cache nothing outside the test's folder, and figures are closed."""
    monkeypatch.setenv("VAE_UTILS_CACHE", str(tmp_path))
    monkeypatch.delenv("VAE_UTILS_SEED_SHIFT", raising=False)
    yield
    plt.close("all")


def test_the_cases_have_unique_ids_and_probe_the_public_api():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 175
    probed = {case.id.split("-")[0] for case in CASES}
    # constants, classes of results, and the cache's bookkeeping (tests/test_cache.py): no
    # argument of theirs is a tensor or a number that a learner passes
    others = {
        "CLASS_COLORS", "CLASS_NAMES", "LINE_COLORS", "ClaimError", "VQOutput", "BaseVAE",
        "PPCA", "cache_root", "code_fingerprint", "read_metadata", "load_or_train", "glue",
        "exercises", "LatentExplorer", "margin", "Prior",
        # the priors' interface (its subclasses are probed), the exercises' own records
        # (tests/test_exercises.py checks them), the code prior's
        # neighbour list (no argument but a shape it is given by fit_code_prior)
        "Case", "Exercise", "Feedback", "Mistake", "reading_order_parents",
    }  # fmt: skip
    assert public_names() - others <= probed, public_names() - others - probed


def public_names() -> set[str]:
    """The names of ``vu.__all__``, and the functions and classes that its modules (``vu.vq``,
    ``vu.claims``, ...) define without a leading underscore."""
    names = set()
    for name in vu.__all__:
        value = getattr(vu, name)
        if not isinstance(value, types.ModuleType):
            names.add(name)
            continue
        names.update(
            inner
            for inner, obj in vars(value).items()
            if not inner.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == value.__name__
        )
    return names


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_bad_input(case):
    run(case)


# --- what each case does now ------------------------------------------------------------------

PACKAGE = Path(vu.__file__).parent


def raised_by_the_package(error: BaseException) -> bool:
    """Whether a ``raise`` statement of vae_utils raised ``error`` (not PyTorch, NumPy, Python)."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return Path(frame.filename).parent == PACKAGE and (frame.line or "").startswith("raise")


def outcome(case: Case) -> str:
    """What ``case``'s call does now: a clear error, a deep error (PyTorch's, NumPy's or Python's),
    an unclear error (vae_utils', without the argument or the fix), a silent wrong result or a
    correct result."""
    try:
        result = case.call()
    except BaseException as error:
        words = case.words and all(holds(str(error), word) for word in case.words)
        if isinstance(error, case.errors) and words:
            return "clear error"
        return "unclear error" if raised_by_the_package(error) else "deep error"
    finally:
        plt.close("all")
    if case.words:
        return "silent wrong result"
    try:
        right = case.check is not None and bool(case.check(result))
    except Exception:
        right = False
    return "correct result" if right else "silent wrong result"


if __name__ == "__main__":  # PYTHONPATH=. python tests/test_bad_input.py [-v | -vv]
    with tempfile.TemporaryDirectory() as cache, environment("VAE_UTILS_CACHE", cache):
        os.environ.pop("VAE_UTILS_SEED_SHIFT", None)
        counts: Counter[str] = Counter()
        for case in CASES:
            found = outcome(case)
            counts[found] += 1
            if "-vv" in sys.argv or (
                "-v" in sys.argv and found not in ("clear error", "correct result")
            ):
                print(f"{found:20} {case.id}")
        print(dict(counts), "total", sum(counts.values()))
