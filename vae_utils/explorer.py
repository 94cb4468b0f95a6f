"""The latent explorer: a 2-D decoder that runs in the page, with no kernel.

The reader drags a handle (or moves it with the arrow keys) across the latent plane of a model
with ``latent_dim = 2``, and the page decodes the handle's code ``z`` on every move, in JavaScript
(``explorer.js``, next to this file): the decoder ``2 -> hidden -> 784`` (ReLU, then sigmoid) is
about 200,000 multiply-adds. Beside it: the scatter of test codes coloured by class, the prior's
circles, the training image whose code is nearest, and an interpolation mode (two handles and the
decoded straight line between them).

This module exports what the page needs, in half precision, gzipped and base64-encoded, into one
HTML output: the same output works in JupyterLab, the classic Notebook and Colab (an inline script)
and in the book. There, the book's Sphinx extension (``book/_ext/explorer_blobs.py``) moves each
model's data into a file of its own (:func:`split_blobs`) that the page loads only when the reader
picks that model.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae_utils.data import CLASS_NAMES
from vae_utils.models import Autoencoder, BaseVAE
from vae_utils.plots import CLASS_COLORS
from vae_utils.validation import check_columns, check_floats, check_labels

SCRIPT = Path(__file__).with_name("explorer.js")
IMAGE_SIZE = 28  # Fashion-MNIST: 28 x 28 pixels, 784 per image
PLANE_MARGIN = 1.1  # the plane shows the middle 99 % of the codes, and a tenth more
PRIOR_EXTENT = 3.2  # a VAE's plane shows at least the prior's 3-sigma circle
# One blob of the page: base64 text in a script the browser does not run (text/plain).
BLOB = re.compile(
    r'<script type="text/plain" class="vae-explorer-blob" data-hash="([0-9a-f]{16})">'
    r"([A-Za-z0-9+/=]*)</script>"
)


def decoder_weights(model: nn.Module) -> dict[str, np.ndarray]:
    """The decoder's weights and biases in half precision, as the page uses them.

    Args:
        model: a :class:`vae_utils.Autoencoder` or a VAE (:class:`vae_utils.models.BaseVAE`) whose
            decoder is ``Linear(2, hidden), ReLU, Linear(hidden, 784), Sigmoid``.

    Returns:
        ``{"W1": (hidden, 2), "b1": (hidden,), "W2": (784, hidden), "b2": (784,)}``, float16:
        ``x_hat = sigmoid(W2 @ relu(W1 @ z + b1) + b2)``.

    Example:
        >>> from vae_utils.models import VAE
        >>> decoder_weights(VAE(784, (256,), 2))["W2"].shape
        (784, 256)
    """
    if not isinstance(model, Autoencoder | BaseVAE):
        raise ValueError(
            f"model must be a vu.Autoencoder or a VAE, got {type(model).__name__}; pass a model "
            "of chapter 2 or 3 with latent_dim=2"
        )
    layers = list(model.decoder) if isinstance(model.decoder, nn.Sequential) else []
    kinds = [type(layer) for layer in layers]
    if (
        kinds != [nn.Linear, nn.ReLU, nn.Linear, nn.Sigmoid]
        or layers[0].in_features != 2
        or layers[2].out_features != IMAGE_SIZE**2
    ):
        raise ValueError(
            "model must have a 2-D latent space and a decoder Linear(2, hidden), ReLU, "
            f"Linear(hidden, 784), Sigmoid, got {model.decoder}; train one with latent_dim=2 and "
            "hidden_dims=(256,), as chapter 4 does"
        )
    first, second = layers[0], layers[2]
    tensors = {"W1": first.weight, "b1": first.bias, "W2": second.weight, "b2": second.bias}
    return {name: t.detach().cpu().numpy().astype(np.float16) for name, t in tensors.items()}


def decode(weights: Mapping[str, np.ndarray], z: np.ndarray) -> np.ndarray:
    """The page's decoder in numpy: what ``explorer.js`` computes for each code.

    Args:
        weights: from :func:`decoder_weights`.
        z: ``(batch, 2)`` codes.

    Returns:
        ``x_hat: (batch, 784)`` float64 in ``[0, 1]``, from the float16 weights.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must have shape (batch, 2), got {z.shape}; e.g. z = [[0.5, -1.0]]")
    w = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    hidden = np.maximum(z @ w["W1"].T + w["b1"], 0)  # (batch, hidden)
    return 1 / (1 + np.exp(-(hidden @ w["W2"].T + w["b2"])))  # (batch, 784)


def encode_codes(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """The codes the scatter shows: ``mu`` of a VAE, ``z`` of an autoencoder.

    Args:
        model: a :class:`vae_utils.Autoencoder` or a VAE with ``latent_dim = 2``.
        x: ``(batch, 784)`` images in ``[0, 1]``.

    Returns:
        ``(batch, 2)`` float32 codes.
    """
    with torch.no_grad():
        encoded = model.encode(x)
    z = encoded[0] if isinstance(encoded, tuple) else encoded  # a VAE's mu
    return z.detach().cpu().numpy().astype(np.float32)


def plane_bounds(codes: np.ndarray, prior: bool) -> tuple[float, float, float, float]:
    """A square view of the plane around the middle 99 % of ``codes: (n, 2)`` (each axis), and
    around the prior's 3-sigma circle if ``prior``: ``(z1_min, z1_max, z2_min, z2_max)``."""
    low, high = np.quantile(codes, [0.005, 0.995], axis=0)  # (2,) each
    if prior:
        low, high = np.minimum(low, -PRIOR_EXTENT), np.maximum(high, PRIOR_EXTENT)
    center, half = (low + high) / 2, PLANE_MARGIN * float(np.max(high - low)) / 2
    return (
        float(center[0] - half),
        float(center[0] + half),
        float(center[1] - half),
        float(center[1] + half),
    )


def _blob(data: bytes) -> tuple[str, str]:
    """``(hash, base64 of the gzipped data)``; the hash names the data (16 hex digits)."""
    packed = gzip.compress(data, compresslevel=9, mtime=0)  # mtime 0: the same bytes every run
    return hashlib.sha256(packed).hexdigest()[:16], base64.b64encode(packed).decode("ascii")


def _check_images(name: str, x: object, labels_name: str, labels: object) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(n, 784)`` images of floats in [0, 1] (NaN
    fails) and ``labels`` their ``n`` class labels."""
    hint = "pass images from vu.load_fashion_mnist, e.g. x_test[:2000]"
    check_columns(name, x, IMAGE_SIZE**2, hint)
    assert isinstance(x, torch.Tensor)  # checked just above
    check_floats(name, x)
    if not bool(((x >= 0) & (x <= 1)).all()):  # NaN fails both comparisons
        raise ValueError(
            f"{name} must hold images in [0, 1], with no NaN; bytes 0..255 are {name}.float() / 255"
        )
    check_labels(labels_name, labels, len(x), len(CLASS_NAMES))


class LatentExplorer:
    """The explorer's HTML: a notebook shows it (``_repr_html_``); :meth:`save` writes a page.

    Made by :func:`latent_explorer`; ``html`` is the output, with everything inlined.
    """

    def __init__(self, html_text: str, title: str) -> None:
        self.html, self.title = html_text, title

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<LatentExplorer: {self.title}; {len(self.html):,} bytes of HTML>"

    def save(self, path: str | Path, *, split: bool = False) -> Path:
        """Write a standalone page (``<main>`` holds the explorer) to ``path`` and return it.

        With ``split``, each model's data goes into a file of its own in ``explorer/`` next to the
        page, loaded when the reader picks the model, as in the book (:func:`split_blobs`).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = self.html
        if split:
            body, files = split_blobs(body, "explorer/")
            (path.parent / "explorer").mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (path.parent / "explorer" / name).write_text(text, encoding="utf-8")
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n</head>\n<body>\n<main>\n"
            f"<h1>{html.escape(self.title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
        )
        path.write_text(page, encoding="utf-8")
        return path


_explorers_made = 0  # numbers each explorer of a kernel session: ids that repeat run after run


def latent_explorer(
    models: Mapping[str, nn.Module],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    *,
    initial: str | None = None,
    title: str = "Latent explorer",
    class_names: Sequence[str] = CLASS_NAMES,
) -> LatentExplorer:
    """The latent explorer of ``models``, decoded in the page by JavaScript.

    Args:
        models: ``{label: model}``, each a :class:`vae_utils.Autoencoder` or VAE with
            ``latent_dim = 2`` and the decoder of :func:`decoder_weights`; the label names it in
            the page's menu, e.g. ``{"VAE, C = 1": model}``. VAEs get the prior's circles.
        x_test: ``(n, 784)`` images whose codes the scatter shows, e.g. ``x_test[:2000]``.
        y_test: ``(n,)`` their class labels, which colour the scatter.
        x_train: ``(m, 784)`` training images; the page shows the one whose code is nearest to
            the handle's (each image costs the page 784 bytes, before compression).
        y_train: ``(m,)`` their class labels.
        initial: the label of the model shown first; the first model if ``None``.
        title: the explorer's name, for screen readers and a saved page's title.
        class_names: the name of each class, for the legend.

    Returns:
        A :class:`LatentExplorer`: a notebook shows it; ``.save(path)`` writes a page.
    """
    global _explorers_made
    if not isinstance(models, Mapping) or not models:
        raise ValueError(
            f"models must be a non-empty dict {{label: model}}, got {models!r}; e.g. "
            "{'autoencoder': autoencoder, 'VAE, C = 1': vae}"
        )
    if not all(isinstance(label, str) and label.strip() for label in models):
        raise ValueError(f"models' labels must be non-empty strings, got {list(models)}")
    if initial is not None and initial not in models:
        raise ValueError(f"initial must be one of the labels {list(models)}, got {initial!r}")
    _check_images("x_test", x_test, "y_test", y_test)
    _check_images("x_train", x_train, "y_train", y_train)
    if len(class_names) > len(CLASS_COLORS):
        raise ValueError(f"class_names must name at most {len(CLASS_COLORS)} classes")

    blobs: dict[str, str] = {}  # hash -> base64
    described = []
    for label, model in models.items():
        weights = decoder_weights(model)  # checks the model first
        test_codes, train_codes = encode_codes(model, x_test), encode_codes(model, x_train)
        prior = isinstance(model, BaseVAE)
        data = b"".join(
            array.astype("<f2").tobytes() for array in (*weights.values(), test_codes, train_codes)
        )
        key, blobs_text = _blob(data)
        blobs[key] = blobs_text
        described.append(
            {
                "label": label,
                "blob": key,
                "hidden": int(weights["b1"].shape[0]),
                "prior": prior,
                "bounds": plane_bounds(test_codes, prior),
            }
        )
    pixels = (x_train * 255).round().to(torch.uint8).cpu().numpy()  # (m, 784)
    shared = np.concatenate(
        [y_test.cpu().numpy().astype(np.uint8), y_train.cpu().numpy().astype(np.uint8)]
    )
    shared_key, shared_text = _blob(shared.tobytes() + pixels.tobytes())
    blobs[shared_key] = shared_text
    config = {
        "title": title,
        "models": described,
        "initial": list(models).index(initial) if initial is not None else 0,
        "shared": shared_key,
        "numTest": len(x_test),
        "numTrain": len(x_train),
        "classNames": list(class_names),
        "colors": list(CLASS_COLORS[: len(class_names)]),
    }
    _explorers_made += 1
    digest = hashlib.sha256(json.dumps(config).encode()).hexdigest()[:8]
    element_id = f"vae-explorer-{digest}-{_explorers_made}"
    return LatentExplorer(_html(element_id, config, blobs), title)


def _html(element_id: str, config: dict, blobs: Mapping[str, str]) -> str:
    """The explorer's element: its configuration, its data blobs and the script that runs it."""
    script = SCRIPT.read_text(encoding="utf-8")
    assert "</script" not in script.lower(), "explorer.js must not close its own script tag"
    data = "".join(
        f'<script type="text/plain" class="vae-explorer-blob" data-hash="{key}">{text}</script>'
        for key, text in blobs.items()
    )
    return (
        f'<div class="vae-explorer" id="{element_id}" '
        f"data-config='{html.escape(json.dumps(config), quote=True)}'>"
        '<p class="vae-explorer-status" role="status">The latent explorer needs JavaScript: '
        "if this line stays, the page did not run its script (in a notebook, run the cell "
        "again, or trust the notebook).</p>"
        f"{data}</div>\n<script>\n{script}\n</script>\n"
    )


def split_blobs(page: str, prefix: str) -> tuple[str, dict[str, str]]:
    """Move the data of every explorer in ``page`` (HTML) into files the page loads on demand.

    Args:
        page: HTML with explorers made by :func:`latent_explorer`.
        prefix: the files' URL relative to the page, ending with ``/``, e.g. ``"../_explorer/"``.

    Returns:
        ``(page, files)``: the page with each blob's text replaced by ``data-src`` (its file's
        URL), and ``{file name: text}``; each file is a script that hands its blob to the page
        (``VaeExplorer.receive(hash, base64)``), which works from ``file://`` too.
    """
    if not prefix.endswith("/"):
        raise ValueError(f"prefix must end with '/', got {prefix!r}; e.g. '../_explorer/'")
    files: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        key, text = match[1], match[2]
        if text:
            files[f"{key}.js"] = f'VaeExplorer.receive("{key}", "{text}");\n'
        return (
            f'<script type="text/plain" class="vae-explorer-blob" data-hash="{key}" '
            f'data-src="{html.escape(prefix + key)}.js"></script>'
        )

    return BLOB.sub(replace, page), files
