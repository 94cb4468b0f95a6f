"""Keep in a page's saved widget state only the widgets that the page shows.

When myst-nb executes a notebook, it saves the state of every widget the kernel created into the
page, including widgets whose output a cell's ``remove-output`` tag keeps off the page (chapter
4's live C slider, which needs a kernel). That dead state is bytes for nothing, and a reader of the
state (a test, the widget manager) cannot tell it from the widgets on show.

This extension prunes the state to the models reachable from the widget views in the page: their
children, layouts and styles (every ``"IPY_MODEL_<id>"`` reference, transitively), and the links
(``jslink``/``jsdlink``) between two kept models, which nothing references but which make a static
slider work without a kernel.
"""

from __future__ import annotations

import json
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

STATE_TYPE = "application/vnd.jupyter.widget-state+json"
VIEW = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.S
)
REFERENCE = re.compile(r"IPY_MODEL_(\w+)")


def shown_models(state: dict[str, Any], views: set[str]) -> set[str]:
    """The ids of the models in ``state`` that the views ``views`` need (see the module's doc)."""
    references = {
        model_id: set(REFERENCE.findall(json.dumps(model["state"])))
        for model_id, model in state.items()
    }
    kept: set[str] = set()
    todo = [model_id for model_id in views if model_id in state]
    while todo:
        model_id = todo.pop()
        if model_id not in kept:
            kept.add(model_id)
            todo.extend(references[model_id] & state.keys())
    links = {
        model_id
        for model_id, model in state.items()
        if model["model_name"].endswith("LinkModel") and references[model_id] <= kept
    }
    return kept | links


def _model_id(view: str) -> str:
    """The model id of a widget view as myst-nb writes it: JSON, or a JSON string of JSON."""
    data = json.loads(view.replace(r"<\/script>", "</script>"))
    return (json.loads(data) if isinstance(data, str) else data)["model_id"]


def prune(app: Sphinx, doctree: nodes.document) -> None:
    """At ``doctree-read``: prune this page's saved widget state, if it has one."""
    js_files = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {}).get("js_files", {})
    uri, attributes = js_files.get("ipywidgets_state", (None, {}))
    if attributes.get("type") != STATE_TYPE:
        return
    saved = json.loads(attributes["body"])
    views = {
        _model_id(view) for raw in doctree.findall(nodes.raw) for view in VIEW.findall(raw.astext())
    }
    keep = shown_models(saved["state"], views)
    saved["state"] = {k: v for k, v in saved["state"].items() if k in keep}
    attributes["body"] = json.dumps(saved).replace("</script>", r"<\/script>")  # as myst-nb does
    js_files["ipywidgets_state"] = (uri, attributes)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", prune)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
