"""The shared argument checks: what they accept, what they refuse, and that each names the fix."""

import hashlib
import math

import pytest
import torch
from torch import nn

from vae_utils._progress import show_progress
from vae_utils.validation import (
    broadcastable,
    check_channels,
    check_generator,
    check_hidden_dims,
    check_input,
    check_int,
    check_loss_weight,
    check_matrix,
    check_positive_number,
    check_reparameterize_arguments,
    check_same_shape,
    check_sha256,
    check_vae_loss_arguments,
    is_int,
)


def test_is_int_refuses_bools_and_floats():
    assert is_int(3) and is_int(0) and is_int(-2)
    assert not is_int(True) and not is_int(3.0) and not is_int("3")


@pytest.mark.parametrize("value", [0, -1, 2.0, True, "2", None])
def test_check_int_refuses_what_is_not_a_positive_int(value):
    with pytest.raises(ValueError, match=r"num_steps must be a positive int, got .*; try 10"):
        check_int("num_steps", value, "try 10")


def test_check_int_with_a_minimum():
    check_int("seed", 0, "try 0", minimum=0)
    check_int("num_steps", 2, "try 10", minimum=2)
    with pytest.raises(ValueError, match="num_steps must be an int >= 2, got 1"):
        check_int("num_steps", 1, "try 10", minimum=2)


@pytest.mark.parametrize("value", [0.0, -1e-9, math.nan, math.inf, True, "1", None])
def test_check_positive_number_refuses_what_is_not_finite_and_positive(value):
    with pytest.raises(ValueError, match=r"C must be a positive number, got .*; try C=1.0"):
        check_positive_number("C", value, "try C=1.0")


def test_check_positive_number_accepts_ints_and_floats():
    check_positive_number("lr", 1, "")
    check_positive_number("lr", 1e-3, "")


def test_check_hidden_dims_returns_a_tuple_or_shows_the_fix():
    assert check_hidden_dims([256, 128]) == (256, 128)
    assert check_hidden_dims(()) == ()
    for bad in (256, (256, 0), (True,), (2.5,)):
        with pytest.raises(ValueError, match=r"try hidden_dims=\(256,\)"):
            check_hidden_dims(bad)


def test_check_matrix_and_check_same_shape():
    check_matrix("x", torch.zeros(3, 2), "")
    with pytest.raises(
        ValueError, match=r"x must be a tensor of shape \(n, features\), got \(3,\)"
    ):
        check_matrix("x", torch.zeros(3), "")
    with pytest.raises(ValueError, match=r"with n >= 2, got \(1, 2\); flatten"):
        check_matrix("x", torch.zeros(1, 2), "flatten", min_rows=2)
    with pytest.raises(ValueError, match="got list"):
        check_matrix("x", [[0.0]], "")
    check_same_shape("a", torch.zeros(2, 3), "b", torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"a and b must both have shape .* \(2, 3\) and \(2, 4\)"):
        check_same_shape("a", torch.zeros(2, 3), "b", torch.zeros(2, 4))


def test_check_loss_weight_checks_numbers_and_passes_tensors():
    check_loss_weight("C", 0.5, "")
    check_loss_weight("C", torch.tensor(-1.0), "")  # fit_together's, checked where it is built
    with pytest.raises(ValueError, match=r"C must be a positive number, got -1.0; try C=1"):
        check_loss_weight("C", -1.0, "try C=1")


@pytest.mark.parametrize("channels", [(16,), (0, 32), (16.5, 32), 16, (16, 32, 64), "ab"])
def test_check_channels_refuses_what_is_not_two_positive_ints(channels):
    check_channels((16, 32))
    check_channels([4, 8])
    with pytest.raises(
        ValueError, match=r"channels must be two positive ints.*channels=\(16, 32\)"
    ):
        check_channels(channels)


def test_broadcastable_agrees_with_torch_on_every_pair_of_small_shapes():
    sizes = [0, 1, 2, 3]
    shapes = [()] + [(a,) for a in sizes] + [(a, b) for a in sizes for b in sizes]
    shapes += [(2, 1, 3), (1, 3, 1), (4, 2, 3)]
    for first in shapes:
        for second in shapes:
            try:
                torch.broadcast_shapes(first, second)
                expected = True
            except RuntimeError:
                expected = False
            assert broadcastable(first, second) == expected, (first, second)
    assert broadcastable((5, 1, 784), (3, 784), (1, 784)) and not broadcastable((2,), (3,), (1,))


def test_check_sha256_compares_the_digest_of_the_bytes_and_names_the_fix():
    digest = hashlib.sha256(b"weights").hexdigest()
    check_sha256("weights.bin", b"weights", digest, "restore it")  # equal: nothing raised
    check_sha256("weights.bin", b"weights", digest.upper(), "restore it")  # either case
    other = hashlib.sha256(b"weights!").hexdigest()
    with pytest.raises(ValueError) as caught:
        check_sha256("weights.bin", b"weights!", digest, "restore it with git")
    assert str(caught.value) == (
        f"weights.bin: checksum mismatch: SHA-256 {other}, expected {digest}; restore it with git"
    )

    class Damaged(Exception):
        pass

    with pytest.raises(Damaged, match="checksum mismatch"):
        check_sha256("data.gz", b"", digest, "download it again", error=Damaged)


def test_check_generator_takes_none_or_a_generator():
    check_generator(None)
    check_generator(torch.Generator())
    with pytest.raises(ValueError, match=r"generator must be a torch.Generator.*vu.generator\(0\)"):
        check_generator(0)


def test_check_input_wants_the_width_and_the_float_type_of_the_weights():
    model = nn.Linear(3, 2)
    check_input(torch.zeros(5, 3), 3, model)
    check_input(torch.zeros(2, 5, 3), 3, model)  # leading dimensions are the model's business
    with pytest.raises(ValueError, match=r"x must be a tensor \(\.\.\., 3\), got \(5, 4\)"):
        check_input(torch.zeros(5, 4), 3, model)
    with pytest.raises(
        ValueError, match=r"x must hold floats, got torch.uint8; .*x.float\(\) / 255"
    ):
        check_input(torch.zeros(5, 3, dtype=torch.uint8), 3, model)
    with pytest.raises(ValueError, match=r"x holds torch.float64 .* x.to\(torch.float32\)"):
        check_input(torch.zeros(5, 3, dtype=torch.float64), 3, model)
    check_input(torch.zeros(5, 3, dtype=torch.float64), 3, model.double())


def test_check_vae_loss_arguments():
    x, mu = torch.zeros(4, 6), torch.zeros(4, 2)
    check_vae_loss_arguments(x, mu, 0.5)
    check_vae_loss_arguments(x, mu, torch.tensor(0.5))
    with pytest.raises(ValueError, match="C must be a positive number, got 0"):
        check_vae_loss_arguments(x, mu, 0)
    with pytest.raises(ValueError, match="mu must have one row per row of x, got 2 and 4 rows"):
        check_vae_loss_arguments(x, mu[:2], 0.5)


def test_check_reparameterize_arguments():
    mu = torch.zeros(3, 2)
    check_reparameterize_arguments(mu, mu, None)
    with pytest.raises(ValueError, match=r"each be a tensor, of one shape, got list and \(3, 2\)"):
        check_reparameterize_arguments([[0.0]], mu, None)
    with pytest.raises(ValueError, match=r"mu must hold floats, got torch\.int64"):
        check_reparameterize_arguments(mu.long(), mu.long(), None)
    with pytest.raises(ValueError, match=r"generator must be a torch\.Generator"):
        check_reparameterize_arguments(mu, mu, 0)


def test_progress_bars_follow_the_argument_then_ci(monkeypatch):
    monkeypatch.setenv("CI", "1")
    assert show_progress(None) is False and show_progress(True) is True
    monkeypatch.delenv("CI")
    assert show_progress(None) is True and show_progress(False) is False
