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


def _saved_widget_state(page: Path) -> dict[str, dict]:
    """The widget models a page saved for use without a kernel, by model id."""
    state = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
        page.read_text(),
        re.S,
    )
    assert state, f"{page.name}: no saved widget state; its widgets would not render"
    return json.loads(state.group(1))["state"]


def _reference(value: str) -> str:
    return value.removeprefix("IPY_MODEL_")


def test_the_slider_page_embeds_one_frame_per_c():
    """The static slider, found by what it is: a SelectionSlider whose index is linked in the
    browser (jsdlink) to the selected index of a Stack of pictures, one per value of C."""
    models = _saved_widget_state(HTML / "notebooks" / "04_loss_weight.html")
    static = [
        (models[_reference(link["source"][0])], models[_reference(link["target"][0])])
        for link in (m["state"] for m in models.values())
        if "source" in link
        and link["source"][1] == "index"
        and link["target"][1] == "selected_index"
    ]
    assert len(static) == 1, f"{len(static)} sliders linked to a stack of pictures, not 1"
    slider, stack = static[0]
    assert slider["model_name"] == "SelectionSliderModel" and stack["model_name"] == "StackModel"
    pictures = [models[_reference(child)]["state"]["value"] for child in stack["state"]["children"]]
    assert len(pictures) == len(slider["state"]["_options_labels"]) >= 8
    assert all('<img src="data:image/png' in p and 'alt="' in p for p in pictures)


def test_a_page_saves_the_state_of_the_widgets_it_shows_only():
    """Chapter 4's live slider needs a kernel and its output is removed from the page; its state
    (another slider, a button) must not be saved there either (book/_ext/prune_widget_state.py)."""
    models = _saved_widget_state(HTML / "notebooks" / "04_loss_weight.html")
    names = [model["model_name"] for model in models.values()]
    assert names.count("SelectionSliderModel") == 1, names
    assert "ButtonModel" not in names


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
