"""Claims fail with the claim's words, the measured value and its range; glue hands numbers on."""

import json

import numpy as np
import pytest
import torch

from vae_utils.claims import ClaimError, check, glue, margin


def test_a_claim_that_holds_passes_quietly():
    # nothing returned: a notebook cell that ends with a check shows no output
    assert check("two is below three", torch.tensor(2.0), below=3.0) is None
    assert check("five is between four and ten", 5, above=4, below=10) is None


@pytest.mark.parametrize(
    ("value", "bounds"),
    [(3.5, {"below": 3.0}), (0.5, {"above": 1.0}), (11.0, {"above": 4.0, "below": 10.0})],
)
def test_a_claim_that_fails_names_the_claim_the_value_and_the_range(value, bounds):
    with pytest.raises(ClaimError) as error:
        check("the error is small", value, **bounds)
    message = str(error.value)
    assert "the error is small" in message and f"{value:.4g}" in message
    assert "differ slightly between machines" in message
    for side, bound in bounds.items():
        assert f"{side} {bound:.4g}" in message
    assert isinstance(error.value, AssertionError)  # nbval and pytest report it as a failed check


def test_the_bound_itself_fails_and_so_does_nan():
    with pytest.raises(ClaimError):
        check("strictly below", 3.0, below=3.0)
    with pytest.raises(ClaimError):
        check("a number", float("nan"), above=0.0)


@pytest.mark.parametrize(
    ("claim", "value", "bounds", "match"),
    [
        ("", 1.0, {"below": 2}, "claim must say in words"),
        ("no bound", 1.0, {}, "give a bound"),
        ("a vector", torch.ones(3), {"below": 2}, "value must be a real number"),
        ("a bool", True, {"below": 2}, "value must be a real number"),
    ],
)
def test_bad_calls_are_refused(claim, value, bounds, match):
    with pytest.raises(ValueError, match=match):
        check(claim, value, **bounds)


def test_margin_is_the_relative_distance_to_the_nearest_bound():
    assert margin(2.0, below=4.0) == pytest.approx(0.5)
    assert margin(5.0, above=4.0, below=10.0) == pytest.approx(0.25)
    assert margin(-1.0, above=-2.0) == pytest.approx(0.5)
    assert margin(0.3, above=0.0) == pytest.approx(0.3)  # a bound of 0: the absolute distance
    assert margin(12.0, below=10.0) == pytest.approx(-0.2)


def test_checks_are_logged_when_asked(monkeypatch, tmp_path):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("VAE_UTILS_CLAIMS_LOG", str(log))
    monkeypatch.setenv("VAE_UTILS_SEED_SHIFT", "2")
    check("first", 1.0, below=2.0)
    with pytest.raises(ClaimError):
        check("second", 3.0, above=4.0)
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["claim"] for e in entries] == ["first", "second"]
    assert [e["passed"] for e in entries] == [True, False]
    assert entries[0]["margin"] == pytest.approx(0.5) and entries[1]["margin"] == pytest.approx(
        -0.25
    )
    assert entries[0]["seed_shift"] == 2 and entries[0]["threads"] == torch.get_num_threads()


def test_glue_stores_python_numbers_for_myst_nb(monkeypatch):
    stored = {}
    import myst_nb

    monkeypatch.setattr(
        myst_nb, "glue", lambda name, value, display: stored.update({name: (value, display)})
    )
    assert glue("error", torch.tensor(0.25)) is None  # a cell ending with glue shows nothing
    assert glue("count", np.int64(7)) is None
    assert stored == {"error": (0.25, False), "count": (7, False)}
    assert type(stored["error"][0]) is float and type(stored["count"][0]) is int


def test_glue_prints_the_value_where_myst_nb_is_missing(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_myst_nb(name, *args, **kwargs):
        if name == "myst_nb":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_myst_nb)
    assert glue("rate", 0.125) is None
    assert capsys.readouterr().out == "rate = 0.125\n"
