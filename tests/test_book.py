"""The built site: figures made it onto the pages and nothing is loaded from outside.

`make test` builds the book before it runs pytest; run `make book` first when running this alone.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Pages of the current notebooks only: a renamed notebook's old page may linger in _build.
CHAPTERS = [HTML / "notebooks" / f"{notebook.stem}.html" for notebook in NOTEBOOKS]

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").is_file(), reason="the book is not built; run `make book`"
)


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda page: page.stem)
def test_every_chapter_has_a_page_that_shows_its_figures(page):
    assert page.is_file(), f"{page.name} is missing from the built book: is it in _toc.yml?"
    html = page.read_text()
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / f"{page.stem}.ipynb"
    cells = json.loads(notebook.read_text())["cells"]
    expected = sum(
        "".join(cell["source"]).count("plt.show()")
        for cell in cells
        if cell["cell_type"] == "code" and "remove-cell" not in cell["metadata"].get("tags", [])
    )
    images = re.findall(r'<img[^>]+src="[^"]+\.png"', html)
    assert len(images) >= expected, f"{page.name}: {len(images)} images for {expected} figures"


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda page: page.stem)
def test_every_figure_has_alt_text_and_a_numbered_caption(page):
    """Every PNG output sits in a numbered figure with a caption (cell metadata ``mystnb.figure``)
    and has an alt text of its own (``mystnb.image.alt``), not its file name."""
    html = page.read_text()
    # the notebook's image outputs (myst-nb names them by their hash), not the theme's logos
    images = re.findall(r'<img[^>]+src="[^"]*_images/[0-9a-f]{64}\.png"[^>]*>', html)
    assert images, f"{page.name} shows no figure"
    for image in images:
        alt = re.search(r'alt="([^"]*)"', image)
        assert alt and len(alt.group(1).split()) >= 8, f"{page.name}: {image[:160]}"
        assert not alt.group(1).endswith(".png"), image[:160]
    figures = re.findall(r"<figure[^>]*>.*?</figure>", html, flags=re.S)
    numbered = [f for f in figures if ".png" in f and re.search(r'class="caption-number">Fig', f)]
    assert len(numbered) == len(images), f"{page.name}: {len(numbered)} of {len(images)} numbered"


def test_no_page_loads_a_script_or_stylesheet_from_another_host():
    remote = re.compile(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//[^"]+"')
    offenders = {
        str(page.relative_to(HTML)): remote.findall(page.read_text())
        for page in HTML.rglob("*.html")
        if "vendor" not in page.parts
    }
    assert not {page: found for page, found in offenders.items() if found}


def test_equations_are_typeset_by_a_local_mathjax():
    html = (HTML / "notebooks" / "01_dimensionality_reduction.html").read_text()
    assert re.search(
        r'<script[^>]+src="[./]*_static/\.\./vendor/mathjax/tex-mml-chtml\.js(\?[^"]*)?"', html
    )
    assert (HTML / "vendor" / "mathjax" / "tex-mml-chtml.js").is_file()


def test_no_page_is_over_5_mb():
    sizes = {str(page.relative_to(HTML)): page.stat().st_size for page in HTML.rglob("*.html")}
    assert max(sizes.values()) < 5e6, sorted(sizes.items(), key=lambda item: -item[1])[:3]


def test_the_slider_page_embeds_one_frame_per_c():
    html = (HTML / "notebooks" / "04_loss_weight.html").read_text()
    state = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S
    )
    assert state, "no saved widget state: the slider would not render without a kernel"
    models = json.loads(state.group(1))["state"].values()
    names = [model["model_name"] for model in models]
    slider = next(m for m in models if m["model_name"] == "SelectionSliderModel")
    pictures = [
        m for m in models if m["model_name"] == "HTMLModel" and '<img src="data:image/png' in str(m)
    ]
    assert len(pictures) == len(slider["state"]["_options_labels"]) >= 8
    assert all('alt="' in m["state"]["value"] for m in pictures)  # every picture has alt text
    assert "DirectionalLinkModel" in names  # the browser-side link that makes it work statically


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda page: page.stem)
def test_launch_buttons_open_this_chapter_on_colab_and_binder(page):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    slug = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"]["branch"]
    notebook = f"notebooks/{page.stem}.ipynb"
    assert (ROOT / notebook).is_file()
    links = set(re.findall(r'href="(https://[^"]+)"', page.read_text()))
    assert f"https://colab.research.google.com/github/{slug}/blob/{branch}/{notebook}" in links
    assert f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/{notebook}" in links
