// Loaded between require.js and the ipywidgets embedder (embed-amd.js) on pages with widgets,
// so that the embedder works from this site alone, with a clean console.
(function () {
  "use strict";
  // This file is served from <site>/scripts/; the vendored libraries from <site>/vendor/.
  var site = new URL("../", document.currentScript.src);

  // The embedder looks for its icon fonts next to its own module name, which require.js would
  // otherwise resolve relative to the page (notebooks/@jupyter-widgets/...: 404s).
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist": new URL("vendor/jupyter-widgets", site).href,
    },
  });

  // The embedder typesets widget labels with MathJax 2's MathJax.Hub.Queue; the book loads
  // MathJax 3 (deferred, so it is there by DOMContentLoaded, before the widgets render).
  // Offer that one call on top of MathJax 3.
  document.addEventListener("DOMContentLoaded", function () {
    var mathjax = window.MathJax;
    if (mathjax === undefined || mathjax.Hub !== undefined || !mathjax.startup) {
      return;
    }
    mathjax.Hub = {
      Queue: function (command) {
        var element = command[2];
        mathjax.startup.promise.then(function () {
          return mathjax.typesetPromise([element]);
        });
      },
    };
  });
})();
