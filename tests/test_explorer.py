"""The latent explorer's exporter (vae_utils/explorer.py); tests/test_explorer_browser.py runs
its JavaScript in Chromium."""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import vae_utils as vu
from vae_utils import explorer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from explorer_blobs import move_blobs


def small_models() -> dict[str, torch.nn.Module]:
    """An autoencoder and a VAE of chapter 4's layers, with weights large enough that the
    decoded pixels span [0, 1] (untrained ones decode to about 0.5 everywhere)."""
    vu.set_seed(0)
    models = {"autoencoder": vu.Autoencoder(784, (256,), 2), "VAE": vu.VAE(784, (256,), 2)}
    with torch.no_grad():
        for model in models.values():
            for parameter in model.decoder.parameters():
                parameter.mul_(3)
    return models


def images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 784, generator=generator)
    return x, torch.arange(n) % 10


def blobs_of(page: str) -> dict[str, bytes]:
    """{hash: decompressed bytes} of every blob inlined in ``page``."""
    return {
        key: gzip.decompress(base64.b64decode(text)) for key, text in explorer.BLOB.findall(page)
    }


def config_of(page: str) -> dict:
    return json.loads(html.unescape(re.search(r"data-config='([^']*)'", page)[1]))


def test_decoder_weights_are_the_models_in_half_precision() -> None:
    model = small_models()["VAE"]
    weights = explorer.decoder_weights(model)
    assert {name: (w.shape, w.dtype) for name, w in weights.items()} == {
        "W1": ((256, 2), np.float16),
        "b1": ((256,), np.float16),
        "W2": ((784, 256), np.float16),
        "b2": ((784,), np.float16),
    }
    first = model.decoder[0].weight.detach().numpy()
    assert np.allclose(weights["W1"], first, rtol=2**-11, atol=1e-7)
    assert not np.array_equal(weights["W1"].astype(np.float32), first)  # rounded, not copied


@pytest.mark.parametrize("name", ["autoencoder", "VAE"])
def test_the_pages_decoder_matches_pytorch_within_a_grey_level(name: str) -> None:
    model = small_models()[name]
    z = torch.tensor([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5], [0.2, 2.8], [-1.0, -1.0]])
    with torch.no_grad():
        expected = model.decode(z).numpy()
    decoded = explorer.decode(explorer.decoder_weights(model), z.numpy())
    assert decoded.shape == (5, 784)
    assert expected.min() < 0.05 and expected.max() > 0.95  # the test can see a wrong pixel
    assert np.abs(decoded - expected).max() < 1 / 255


def test_the_output_carries_the_weights_codes_labels_and_images() -> None:
    models = small_models()
    x_test, y_test = images(30, seed=1)
    x_train, y_train = images(20, seed=2)
    shown = vu.latent_explorer(models, x_test, y_test, x_train, y_train, initial="VAE")
    page = shown._repr_html_()
    config, blobs = config_of(page), blobs_of(page)
    assert [m["label"] for m in config["models"]] == ["autoencoder", "VAE"]
    assert [m["prior"] for m in config["models"]] == [False, True]
    assert config["initial"] == 1 and config["classNames"] == list(vu.CLASS_NAMES)
    assert len(blobs) == 3
    for described, model in zip(config["models"], models.values(), strict=True):
        numbers = np.frombuffer(blobs[described["blob"]], dtype="<f2")
        weights = explorer.decoder_weights(model)
        sizes = [w.size for w in weights.values()] + [60, 40]
        parts = np.split(numbers, np.cumsum(sizes)[:-1])
        for part, w in zip(parts, weights.values(), strict=False):
            assert np.array_equal(part, w.ravel())
        codes = explorer.encode_codes(model, x_test)
        assert np.allclose(parts[4].reshape(30, 2), codes, rtol=1e-3, atol=1e-3)
        assert np.allclose(parts[5].reshape(20, 2), explorer.encode_codes(model, x_train), 1e-3)
        x0, x1, y0, y1 = described["bounds"]
        assert x1 - x0 == pytest.approx(y1 - y0)  # a square
    x0, x1, y0, y1 = config["models"][1]["bounds"]  # a VAE's: the prior's 3-sigma circle
    assert x0 < -3 and x1 > 3 and y0 < -3 and y1 > 3
    shared = blobs[config["shared"]]
    assert len(shared) == 30 + 20 + 20 * 784
    assert list(shared[:30]) == y_test.tolist() and list(shared[30:50]) == y_train.tolist()
    pixels = np.frombuffer(shared[50:], dtype=np.uint8).reshape(20, 784)
    assert np.abs(pixels / 255 - x_train.numpy()).max() <= 0.5 / 255 + 1e-6


def test_the_output_is_the_same_run_after_run_and_holds_the_script_once() -> None:
    models = small_models()
    x, y = images(10, seed=1)
    first = vu.latent_explorer(models, x, y, x, y).html
    second = vu.latent_explorer(models, x, y, x, y).html
    number = re.compile(r"vae-explorer-([0-9a-f]{8})-\d+")
    assert first != second  # each explorer of a session has an id of its own
    assert number.sub("id", first) == number.sub("id", second)
    assert first.count("window.VaeExplorer") >= 1 and first.count("<script>") == 1
    assert "</script" not in explorer.SCRIPT.read_text().lower()


def test_split_moves_each_blob_into_a_file_and_save_writes_pages(tmp_path: Path) -> None:
    models = small_models()
    x, y = images(10, seed=1)
    shown = vu.latent_explorer(models, x, y, x, y)
    page, files = explorer.split_blobs(shown.html, "../_explorer/")
    inlined = blobs_of(shown.html)
    assert explorer.BLOB.findall(page) == []
    assert sorted(files) == sorted(f"{key}.js" for key in inlined)
    for key in inlined:
        assert f'data-src="../_explorer/{key}.js"' in page
        assert files[f"{key}.js"].startswith(f'VaeExplorer.receive("{key}", "')
    assert len(page) < len(shown.html) / 10

    saved = shown.save(tmp_path / "inline.html")
    assert (
        saved.read_text().startswith("<!DOCTYPE html>") and '<html lang="en">' in saved.read_text()
    )
    shown.save(tmp_path / "split" / "page.html", split=True)
    assert sorted(p.name for p in (tmp_path / "split" / "explorer").iterdir()) == sorted(files)


def test_the_books_extension_writes_the_files_next_to_the_site(tmp_path: Path) -> None:
    models = small_models()
    x, y = images(10, seed=1)
    shown = vu.latent_explorer(models, x, y, x, y)
    context = {"body": "<p>text</p>" + shown.html}
    app = SimpleNamespace(outdir=str(tmp_path))
    move_blobs(app, "notebooks/04_loss_weight", "page.html", context, None)
    assert 'data-src="../_explorer/' in context["body"]
    assert len(list((tmp_path / "_explorer").glob("*.js"))) == 3
    untouched = {"body": "<p>no explorer</p>"}
    move_blobs(app, "index", "page.html", untouched, None)
    assert untouched == {"body": "<p>no explorer</p>"}


def test_bad_input_names_the_argument() -> None:
    models = small_models()
    x, y = images(10, seed=1)
    with pytest.raises(ValueError, match="models must be a non-empty dict"):
        vu.latent_explorer({}, x, y, x, y)
    with pytest.raises(ValueError, match="models must be a non-empty dict"):
        vu.latent_explorer([models["VAE"]], x, y, x, y)
    with pytest.raises(ValueError, match="2-D latent space"):
        vu.latent_explorer({"3-D": vu.VAE(784, (256,), 3)}, x, y, x, y)
    with pytest.raises(ValueError, match="2-D latent space"):
        vu.latent_explorer({"deep": vu.VAE(784, (256, 128), 2)}, x, y, x, y)
    with pytest.raises(ValueError, match=r"model must be a vu\.Autoencoder or a VAE"):
        explorer.decoder_weights(torch.nn.Linear(2, 784))
    with pytest.raises(ValueError, match="initial must be one of the labels"):
        vu.latent_explorer(models, x, y, x, y, initial="C = 1")
    with pytest.raises(ValueError, match="x_test must have 784 columns"):
        vu.latent_explorer(models, x[:, :100], y, x, y)
    in_unit_range = r"x_train must hold images in \[0, 1\].*x_train.float\(\) / 255"
    with pytest.raises(ValueError, match=in_unit_range):
        vu.latent_explorer(models, x, y, x * 255, y)
    with pytest.raises(ValueError, match=r"y_test must be integer labels .* of shape \(10,\)"):
        vu.latent_explorer(models, x, y[:5], x, y)
    with pytest.raises(ValueError, match=r"y_train must hold labels in 0\.\.9"):
        vu.latent_explorer(models, x, y, x, y + 5)
    with pytest.raises(ValueError, match=r"z must have shape \(batch, 2\)"):
        explorer.decode(explorer.decoder_weights(models["VAE"]), np.zeros(2))
    with pytest.raises(ValueError, match="prefix must end with '/'"):
        explorer.split_blobs("", "_explorer")
