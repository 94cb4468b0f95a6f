"""Exercise checks: the reference passes, each common mistake gets its own hint, and a stub, an
exception or a wrong shape gets a message, never an error. The wrong answers below are written
here as a learner would write them, not taken from the module's list of mistakes."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Independent, Normal, kl_divergence

from vae_utils import exercises
from vae_utils.collapse import free_bits_kl
from vae_utils.exercises import EXERCISES, RTOL, check
from vae_utils.losses import (
    gaussian_log_likelihood,
    kl_to_standard_normal,
    reconstruction_error,
    vae_loss,
)
from vae_utils.models import reparameterize
from vae_utils.pca import fit_pca

NAMES = list(EXERCISES)


def _kl(mu, log_var):  # a learner's own KL, for the vae_loss answers
    return 0.5 * torch.sum(mu**2 + torch.exp(log_var) - 1 - log_var, dim=1)


# (exercise, wrong answer, a phrase of the hint it must get)
WRONG_ANSWERS = {
    "pca_reconstruction_error": [
        (lambda eigenvalues, m: torch.sum(eigenvalues[0:m]), "added up the kept eigenvalues"),
        (lambda eigenvalues, m: eigenvalues[m + 1 :].sum(), "from index m + 1"),
        (lambda eigenvalues, m: eigenvalues[m - 1 :].sum(), "from index m - 1"),
        (lambda eigenvalues, m: torch.sqrt(eigenvalues[m:]).sum(), "square roots"),
        (lambda eigenvalues, m: eigenvalues[m:].sum() / eigenvalues.numel(), "error per pixel"),
        (lambda eigenvalues, m: eigenvalues[m:].mean(), "noise variance"),
    ],
    "reconstruction_error": [
        (
            lambda x, x_hat: F.mse_loss(x_hat, x, reduction="none").mean(dim=1),
            "averaged over the pixels",
        ),
        (lambda x, x_hat: torch.sum(torch.abs(x - x_hat), dim=1), "absolute differences"),
        (lambda x, x_hat: torch.linalg.norm(x - x_hat, dim=1), "took the square root"),
        (lambda x, x_hat: torch.sum(x - x_hat, dim=1), "without squaring them"),
    ],
    "kl_to_standard_normal": [
        (
            lambda mu, log_var: 0.5 * torch.sum(mu.pow(2) + torch.exp(log_var) - log_var, dim=1),
            "the -1 is missing",
        ),
        (
            lambda mu, log_var: 0.5 * (mu**2 + log_var.exp() - 1 + log_var).sum(1),
            "the log_var term has the wrong sign",
        ),
        (
            lambda mu, log_var: 0.5 * (mu**2 + log_var - 1 - log_var).sum(1),
            "used log_var where the variance belongs",
        ),
        (
            lambda mu, log_var: 0.5 * (mu**2 + torch.exp(log_var / 2) - 1 - log_var).sum(1),
            "the standard deviation exp(log_var / 2)",
        ),
        (
            lambda mu, log_var: 0.5 * (mu**2 + log_var**2 - 1 - log_var).sum(1),
            "squared log_var",
        ),
        (lambda mu, log_var: (mu**2 + log_var.exp() - 1 - log_var).sum(1), "twice too large"),
        (
            lambda mu, log_var: 0.5 * (mu**2 + log_var.exp() - 1 - log_var).mean(1),
            "averaged over the latent dimensions",
        ),
        (
            lambda mu, log_var: 0.5 * torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=1),
            "minus the KL",
        ),
    ],
    "reparameterize": [
        (lambda mu, log_var, eps: mu + torch.exp(log_var) * eps, "by the variance exp(log_var)"),
        (lambda mu, log_var, eps: mu + log_var * eps, "used log_var as the standard deviation"),
        (lambda mu, log_var, eps: mu + torch.sqrt(log_var) * eps, "square root of log_var"),
        (lambda mu, log_var, eps: torch.exp(0.5 * log_var) * eps, "mu is missing"),
        (lambda mu, log_var, eps: mu * torch.exp(0.5 * log_var) + eps, "swapped roles"),
        (lambda mu, log_var, eps: mu + 0.5 * torch.exp(log_var) * eps, "half the variance"),
    ],
    "vae_loss": [
        (
            lambda x, x_hat, mu, log_var, C: torch.mean(
                torch.sum((x - x_hat) ** 2, dim=1) + C * _kl(mu, log_var)
            ),
            "C multiplies the KL",
        ),
        (
            lambda x, x_hat, mu, log_var, C: torch.sum(
                C * torch.sum((x - x_hat) ** 2, dim=1) + _kl(mu, log_var)
            ),
            "summed over the batch",
        ),
        (
            lambda x, x_hat, mu, log_var, C: C * F.mse_loss(x_hat, x) + _kl(mu, log_var).mean(),
            "averages over the pixels",
        ),
        (
            lambda x, x_hat, mu, log_var, C: (C * ((x - x_hat) ** 2).sum(1)).mean(),
            "the KL term is missing",
        ),
        (
            lambda x, x_hat, mu, log_var, C: (
                C * ((x - x_hat) ** 2).sum(1) + 2 * _kl(mu, log_var)
            ).mean(),
            "twice too large",
        ),
        (
            lambda x, x_hat, mu, log_var, C: (
                C * ((x - x_hat) ** 2).sum(1) - _kl(mu, log_var)
            ).mean(),
            "you subtracted the KL",
        ),
    ],
    "gaussian_log_likelihood": [
        (
            lambda x, x_hat, variance: -torch.sum((x - x_hat) ** 2, dim=-1) / (2 * variance),
            "normalising constant",
        ),
        (
            lambda x, x_hat, variance: (
                -x.shape[1] / 2 * math.log(2 * math.pi * variance)
                - torch.sum((x - x_hat) ** 2, dim=-1) / variance
            ),
            "divided by 2 * variance",
        ),
        (
            lambda x, x_hat, variance: (
                -0.5 * math.log(2 * math.pi * variance)
                - torch.sum((x - x_hat) ** 2, dim=-1) / (2 * variance)
            ),
            "multiply it by",
        ),
        (
            lambda x, x_hat, variance: (
                -x.shape[1] / 2 * math.log(2 * math.pi * math.sqrt(variance))
                - torch.sum((x - x_hat) ** 2, dim=-1) / (2 * math.sqrt(variance))
            ),
            "standard deviation sqrt(variance)",
        ),
        (
            lambda x, x_hat, variance: (
                -x.shape[1] / 2 * math.log(2 * math.pi * variance**2)
                - torch.sum((x - x_hat) ** 2, dim=-1) / (2 * variance**2)
            ),
            "squared variance",
        ),
        (
            lambda x, x_hat, variance: (
                x.shape[1] / 2 * math.log(2 * math.pi * variance)
                + torch.sum((x - x_hat) ** 2, dim=-1) / (2 * variance)
            ),
            "negative log-likelihood",
        ),
    ],
    "kl_diagonal_gaussians": [
        (
            lambda mu_q, log_var_q, mu_p, log_var_p: (
                0.5
                * torch.sum(
                    log_var_q
                    - log_var_p
                    + (log_var_p.exp() + (mu_p - mu_q) ** 2) / log_var_q.exp()
                    - 1,
                    dim=-1,
                )
            ),
            "the other direction",
        ),
        (
            lambda mu_q, log_var_q, mu_p, log_var_p: (
                0.5
                * torch.sum(
                    log_var_p
                    - log_var_q
                    + (log_var_q.exp() + (mu_q - mu_p) ** 2) / log_var_p.exp(),
                    dim=-1,
                )
            ),
            "the KL of a distribution to itself must be 0",
        ),
        (
            lambda mu_q, log_var_q, mu_p, log_var_p: (
                0.5
                * torch.sum(
                    log_var_p
                    - log_var_q
                    + torch.exp(log_var_p - log_var_q)
                    + (mu_q - mu_p) ** 2 / log_var_p.exp()
                    - 1,
                    dim=-1,
                )
            ),
            "upside down",
        ),
        (
            lambda mu_q, log_var_q, mu_p, log_var_p: (
                0.5
                * torch.sum(
                    log_var_p
                    - log_var_q
                    + torch.exp(log_var_q - log_var_p)
                    + (mu_q - mu_p) ** 2
                    - 1,
                    dim=-1,
                )
            ),
            "must be divided by p's variance",
        ),
        (
            lambda mu_q, log_var_q, mu_p, log_var_p: (
                0.5
                * torch.sum(
                    log_var_q
                    - log_var_p
                    + (log_var_q.exp() + (mu_q - mu_p) ** 2) / log_var_p.exp()
                    - 1,
                    dim=-1,
                )
            ),
            "the log term has the wrong sign",
        ),
    ],
    "importance_weighted_bound": [
        (lambda log_weights: torch.mean(log_weights, dim=0), "that is the ELBO"),
        (lambda log_weights: torch.logsumexp(log_weights, dim=0), "the - log k is missing"),
        (
            lambda log_weights: torch.log(torch.mean(torch.exp(log_weights), dim=0)),
            "underflows to 0",
        ),
        (
            lambda log_weights: torch.logsumexp(log_weights, 0) - math.log(log_weights.shape[1]),
            "log of the batch size",
        ),
    ],
    "free_bits_kl": [
        (
            lambda mu, log_var, free_bits: (
                torch.clamp(0.5 * (mu**2 + log_var.exp() - 1 - log_var), min=free_bits)
                .mean(0)
                .sum()
            ),
            "clamped each example's KL",
        ),
        (
            lambda mu, log_var, free_bits: torch.clamp(_kl(mu, log_var).mean(), min=free_bits),
            "floor on the total KL",
        ),
        (
            lambda mu, log_var, free_bits: torch.clamp(
                (0.5 * (mu**2 + log_var.exp() - 1 - log_var)).mean(0), max=free_bits
            ).sum(),
            "capped each KL",
        ),
        (
            lambda mu, log_var, free_bits: torch.clamp(
                (0.5 * (mu**2 + log_var.exp() - 1 - log_var)).sum(0), min=free_bits
            ).sum(),
            "over the batch",
        ),
        (lambda mu, log_var, free_bits: _kl(mu, log_var).mean(), "the floor is missing"),
    ],
}

# right answers written another way than the reference
RIGHT_ANSWERS = {
    "kl_to_standard_normal": lambda mu, log_var: (
        -0.5 * torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=1)
    ),  # Kingma and Welling's form
    "reparameterize": lambda mu, log_var, eps: mu + eps * torch.sqrt(torch.exp(log_var)),
    "gaussian_log_likelihood": lambda x, x_hat, variance: (
        Normal(x_hat, math.sqrt(variance)).log_prob(x).sum(-1)
    ),
    "kl_diagonal_gaussians": lambda mu_q, log_var_q, mu_p, log_var_p: kl_divergence(
        Independent(Normal(mu_q, (0.5 * log_var_q).exp()), 1),
        Independent(Normal(mu_p, (0.5 * log_var_p).exp()), 1),
    ),
    "importance_weighted_bound": lambda log_weights: (
        log_weights.max(0).values
        + torch.log(torch.exp(log_weights - log_weights.max(0).values).mean(0))
    ),
    "free_bits_kl": lambda mu, log_var, free_bits: torch.maximum(
        (0.5 * (mu**2 + log_var.exp() - 1 - log_var)).mean(0), torch.tensor(free_bits)
    ).sum(),
}

WRONG = [
    pytest.param(name, function, phrase, id=f"{name}-{phrase}")
    for name, answers in WRONG_ANSWERS.items()
    for function, phrase in answers
]


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_passes(name):
    feedback = check(name, EXERCISES[name].reference)
    assert feedback.passed
    assert feedback.message.startswith("Correct")
    assert "5 random inputs and 3 edge cases" in feedback.message


@pytest.mark.parametrize("name", RIGHT_ANSWERS)
def test_a_right_answer_written_another_way_passes(name):
    assert check(name, RIGHT_ANSWERS[name]).passed


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("reconstruction_error", reconstruction_error),
        ("kl_to_standard_normal", kl_to_standard_normal),
        ("vae_loss", vae_loss),
        ("gaussian_log_likelihood", gaussian_log_likelihood),
        ("free_bits_kl", free_bits_kl),
    ],
)
def test_the_package_function_passes(name, function):
    assert check(name, function).passed


@pytest.mark.parametrize("name", NAMES)
def test_float32_rounding_passes(name):
    exercise = EXERCISES[name]

    def in_float32(*args):
        args = [a.float() if isinstance(a, torch.Tensor) else a for a in args]
        return exercise.reference(*args)

    assert check(name, in_float32).passed


def test_the_pca_reference_is_the_error_of_fit_pca():
    x = torch.rand(200, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    pca = fit_pca(x)
    reference = EXERCISES["pca_reconstruction_error"].reference
    for m in range(1, 7):
        error = reconstruction_error(x, pca.reconstruct(x, m)).mean()
        assert torch.allclose(reference(pca.eigenvalues, m), error, rtol=1e-10, atol=1e-12)
    total = reconstruction_error(x, pca.mean.expand_as(x)).mean()  # m = 0: reconstruct the mean
    assert torch.allclose(reference(pca.eigenvalues, 0), total, rtol=1e-10)


def test_the_kl_references_match_torch_distributions():
    for case in EXERCISES["kl_diagonal_gaussians"].make_cases():
        mu_q, log_var_q, mu_p, log_var_p = case.args
        q = Independent(Normal(mu_q, (0.5 * log_var_q).exp()), 1)
        p = Independent(Normal(mu_p, (0.5 * log_var_p).exp()), 1)
        got = EXERCISES["kl_diagonal_gaussians"].reference(*case.args)
        assert torch.allclose(got, kl_divergence(q, p), rtol=1e-10, atol=1e-12), case.label
    for case in EXERCISES["kl_to_standard_normal"].make_cases():
        mu, log_var = case.args
        prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
        expected = kl_divergence(Independent(Normal(mu, (0.5 * log_var).exp()), 1), prior)
        got = EXERCISES["kl_to_standard_normal"].reference(*case.args)
        assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12), case.label


def test_the_reparameterize_reference_matches_the_package_draw():
    mu, log_var = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(1))
    z = reparameterize(mu, log_var, torch.Generator().manual_seed(2))
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(EXERCISES["reparameterize"].reference(mu, log_var, eps), z)


def test_the_importance_weighted_reference_lies_between_the_elbo_and_the_largest_weight():
    for case in EXERCISES["importance_weighted_bound"].make_cases():
        (log_weights,) = case.args
        bound = EXERCISES["importance_weighted_bound"].reference(log_weights)
        assert torch.isfinite(bound).all(), case.label
        assert (bound >= log_weights.mean(0) - 1e-9).all(), case.label  # Jensen's inequality
        assert (bound <= log_weights.max(0).values + 1e-9).all(), case.label
    log_weights = torch.tensor([[0.0], [math.log(3.0)]], dtype=torch.float64)  # weights 1 and 3
    assert torch.allclose(
        EXERCISES["importance_weighted_bound"].reference(log_weights),
        torch.tensor([math.log(2.0)], dtype=torch.float64),
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_mistake_differs_from_the_reference_and_the_others(name):
    exercise = EXERCISES[name]
    cases = exercise.make_cases()
    functions = [exercise.reference] + [mistake.function for mistake in exercise.mistakes]
    outputs = [[function(*case.args) for case in cases] for function in functions]
    for reference_output in outputs[0]:
        assert torch.isfinite(reference_output).all()
    for (i, a), (j, b) in itertools.combinations(enumerate(outputs), 2):
        differs = [not exercises._close(x, y) for x, y in zip(a, b, strict=True)]
        assert any(differs), (
            f"{name}: functions {i} and {j} (0 = the reference) agree on every case"
        )
    for mistake, mistake_outputs in zip(exercise.mistakes, outputs[1:], strict=True):
        # else a learner who makes this mistake would hear about the shape, not the hint
        for output, reference_output in zip(mistake_outputs, outputs[0], strict=True):
            assert output.shape == reference_output.shape, mistake.hint
    hints = [mistake.hint for mistake in exercise.mistakes]
    assert len(set(hints)) == len(hints)


@pytest.mark.parametrize("name", NAMES)
def test_each_exercise_has_three_wrong_answers_here(name):
    assert len(WRONG_ANSWERS[name]) >= 3


@pytest.mark.parametrize(("name", "function", "phrase"), WRONG)
def test_a_wrong_answer_gets_its_hint(name, function, phrase):
    feedback = check(name, function)
    assert not feedback.passed
    assert feedback.message.startswith("Not yet: ")
    assert phrase in feedback.message


@pytest.mark.parametrize("name", NAMES)
def test_different_mistakes_get_different_hints(name):
    messages = [check(name, function).message for function, _ in WRONG_ANSWERS[name]]
    assert len(set(messages)) == len(messages)


@pytest.mark.parametrize("name", NAMES)
def test_an_unfinished_stub_gets_a_message(name):
    def stub(*args): ...

    feedback = check(name, stub)
    assert not feedback.passed
    assert "returned None: return" in feedback.message


@pytest.mark.parametrize("name", NAMES)
def test_an_exception_is_reported_not_raised(name):
    def broken(*args):
        return 1 / 0

    feedback = check(name, broken)
    assert not feedback.passed
    assert "your function raised ZeroDivisionError: division by zero" in feedback.message


def test_a_wrong_number_of_arguments_shows_the_signature():
    feedback = check("kl_to_standard_normal", lambda mu: mu)
    assert "raised TypeError" in feedback.message
    assert "called as kl_to_standard_normal(mu, log_var)" in feedback.message


@pytest.mark.parametrize(
    ("name", "function", "phrase"),
    [
        (
            "kl_to_standard_normal",
            lambda mu, log_var: 0.5 * (mu**2 + log_var.exp() - 1 - log_var),
            "returned shape (4, 2) instead of (4,)",
        ),
        ("kl_to_standard_normal", lambda mu, log_var: _kl(mu, log_var)[:, None], "keepdim"),
        ("reconstruction_error", lambda x, x_hat: F.mse_loss(x_hat, x), "one error per image"),
        (
            "importance_weighted_bound",
            lambda log_weights: torch.logsumexp(log_weights, dim=1) - math.log(len(log_weights)),
            "reduce over the k samples, dim=0",
        ),
        (
            "vae_loss",
            lambda x, x_hat, mu, log_var, C: C * ((x - x_hat) ** 2).sum(1) + _kl(mu, log_var),
            "then take the mean over the batch",
        ),
    ],
)
def test_a_wrong_shape_gets_a_shape_hint(name, function, phrase):
    feedback = check(name, function)
    assert not feedback.passed
    assert "your function returned shape" in feedback.message
    assert phrase in feedback.message


def test_a_python_number_is_not_a_tensor():
    def loss(x, x_hat, mu, log_var, C):
        return (C * ((x - x_hat) ** 2).sum(1) + _kl(mu, log_var)).mean().item()

    feedback = check("vae_loss", loss)
    assert "returned a float" in feedback.message
    assert "without .item()" in feedback.message


def test_an_unknown_mistake_shows_one_case_with_expected_and_got():
    feedback = check("kl_to_standard_normal", lambda mu, log_var: _kl(mu**3, log_var))
    assert not feedback.passed
    assert "differs from the reference on random mu, log_var of shape" in feedback.message
    assert "expected [" in feedback.message
    assert ", got [" in feedback.message
    hints = [mistake.hint for mistake in EXERCISES["kl_to_standard_normal"].mistakes]
    assert not any(hint in feedback.message for hint in hints)


def test_an_infinite_result_is_pointed_out():
    feedback = check(
        "importance_weighted_bound",
        lambda log_weights: torch.log(torch.zeros(log_weights.shape[1])),
    )
    assert "yours has inf or nan" in feedback.message


def test_a_function_that_changes_its_inputs_in_place_is_still_judged_fairly():
    right = check("reconstruction_error", lambda x, x_hat: x.sub_(x_hat).pow_(2).sum(dim=1))
    assert right.passed
    wrong = check("reconstruction_error", lambda x, x_hat: x.sub_(x_hat).pow_(2).mean(dim=1))
    assert "averaged over the pixels" in wrong.message


def test_check_prints_the_message(capsys):
    feedback = check("reparameterize", EXERCISES["reparameterize"].reference)
    printed = capsys.readouterr().out
    assert printed == str(feedback) + "\n"
    assert " ".join(printed.split()) == feedback.message
    assert max(len(line) for line in printed.splitlines()) <= exercises.WIDTH


def test_an_unknown_name_is_an_error_that_lists_the_exercises():
    with pytest.raises(ValueError, match="did you mean 'kl_to_standard_normal'") as error:
        check("kl_to_standard_norml", lambda mu, log_var: mu)
    for name in NAMES:
        assert name in str(error.value)
    with pytest.raises(ValueError, match="unknown exercise 3"):
        check(3, lambda: None)


def test_a_value_instead_of_a_function_is_an_error():
    mu = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="fn must be a function, got a Tensor"):
        check("kl_to_standard_normal", _kl(mu, mu))


def test_the_tolerance_is_relative():
    assert RTOL <= 1e-4  # a wrong factor of 1 + 1e-3 must fail

    def off(mu, log_var):
        return 1.001 * _kl(mu, log_var)

    assert not check("kl_to_standard_normal", off).passed
