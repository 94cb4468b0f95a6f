// Loaded on pages with widgets. The ipywidgets embedder draws a slider's handle (noUiSlider,
// role="slider") without an accessible name, so a screen reader announces a nameless slider: name
// each handle after its slider's description (the label left of it, e.g. "C"), as the widgets are
// rendered.
(function () {
  "use strict";
  function nameHandles() {
    document.querySelectorAll(".widget-slider").forEach(function (slider) {
      var handle = slider.querySelector(".noUi-handle");
      var label = slider.querySelector(".widget-label");
      var name = label === null ? "" : label.textContent.trim();
      if (handle !== null && name !== "" && handle.getAttribute("aria-label") !== name) {
        handle.setAttribute("aria-label", name);
      }
    });
  }
  new MutationObserver(nameHandles).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
