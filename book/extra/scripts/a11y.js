// Loaded on every page. myst-nb gives each hidden-code toggle ("Show code cell source") the
// aria-label "Toggle hidden content", so a screen reader announces a name other than the words on
// the screen (WCAG 2.5.3, label in name). Without the label, the toggle is named by its own text.
(function () {
  "use strict";
  function nameByText() {
    document.querySelectorAll('summary[aria-label="Toggle hidden content"]').forEach(function (s) {
      if (s.textContent.trim() !== "") {
        s.removeAttribute("aria-label");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", nameByText);
  new MutationObserver(nameByText).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
