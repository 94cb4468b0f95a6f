"""Serve each latent explorer's data as files that the page loads when the reader needs them.

A latent explorer (``vu.latent_explorer``, chapter 4) is one HTML output with every model's
weights and codes inlined, base64, so that it works in any notebook front end. Inlined in the
book, five models would add about 3 MB to the page. At ``html-page-context`` this extension moves
each blob into ``_explorer/<hash>.js`` in the built site (``vae_utils.explorer.split_blobs``): the
page loads the shared data and the model shown first, and another model's file only when the
reader picks it. The files are scripts, not JSON, so that the page also works from ``file://``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

FOLDER = "_explorer"  # in the built site, next to _static


def move_blobs(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """At ``html-page-context``: replace the page's inlined explorer data by files."""
    body = context.get("body", "")
    if "vae-explorer-blob" not in body:
        return
    from vae_utils.explorer import split_blobs  # imports torch: only for pages with an explorer

    outdir = Path(app.outdir)
    page_folder = (outdir / pagename).parent
    prefix = Path(os.path.relpath(outdir / FOLDER, page_folder)).as_posix() + "/"
    context["body"], files = split_blobs(body, prefix)
    (outdir / FOLDER).mkdir(exist_ok=True)
    for name, text in files.items():
        (outdir / FOLDER / name).write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", move_blobs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
