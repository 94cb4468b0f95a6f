"""The book's own Sphinx extensions (book/_ext), tested without a build."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from prune_widget_state import shown_models


def test_pruning_keeps_the_shown_widgets_their_parts_and_links_between_them():
    def model(name: str, **state: object) -> dict:
        return {"model_name": name, "state": state}

    state = {
        "box": model("VBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_stack"]),
        "slider": model("SelectionSliderModel", layout="IPY_MODEL_layout"),
        "layout": model("LayoutModel"),
        "stack": model("StackModel", children=["IPY_MODEL_picture"]),
        "picture": model("HTMLModel", value="<img>"),
        "link": model("DirectionalLinkModel", source=["IPY_MODEL_slider", "index"],
                      target=["IPY_MODEL_stack", "selected_index"]),
        "live": model("VBoxModel", children=["IPY_MODEL_live_slider", "IPY_MODEL_button"]),
        "live_slider": model("SelectionSliderModel", layout="IPY_MODEL_layout"),
        "button": model("ButtonModel"),
        "half_link": model("LinkModel", source=["IPY_MODEL_live_slider", "index"],
                           target=["IPY_MODEL_stack", "selected_index"]),
    }  # fmt: skip
    assert shown_models(state, {"box"}) == {"box", "slider", "layout", "stack", "picture", "link"}
    assert shown_models(state, {"live"}) == {"live", "live_slider", "layout", "button"}
    assert shown_models(state, set()) == set()
