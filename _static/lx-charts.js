/* Draws every chart on the page with the vendored Vega bundle (vega-bundle.js), never a CDN.
   Each chart's spec sits in a <script type="application/json"> beside its container. */
(function () {
  "use strict";
  function draw() {
    var boxes = document.querySelectorAll("div.lx-vega[data-spec-id]");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.getAttribute("data-rendered")) { return; }
      var holder = document.getElementById(box.getAttribute("data-spec-id"));
      if (!holder || typeof window.vegaEmbed !== "function") {
        box.textContent = "This chart could not be drawn here; its data is in the table below.";
        return;
      }
      var spec = JSON.parse(holder.textContent);
      // a faceted chart cannot take its width from its container, so give each panel the room there is
      if (spec.facet && spec.spec && typeof spec.spec.width === "number" && box.clientWidth > 0) {
        spec.spec.width = Math.max(160, Math.min(640, box.clientWidth - 60));
      }
      var fitted = spec.facet && spec.spec && typeof spec.spec.width === "number", tries = 0;
      function embed(refit) {
        return window.vegaEmbed(box, spec, { actions: false, renderer: "svg" }).then(function (result) {
          var svg = box.querySelector("svg");
          // the panels' axis labels add width the first guess did not know: shrink the panels by the
          // overhang once, so the chart is drawn at its true size (text at 12 px) rather than scaled down
          var over = svg ? svg.width.baseVal.value - box.clientWidth : 0;
          if (fitted && tries < 3 && over > 1 && spec.spec.width - over - 4 >= 80) {
            tries += 1;
            spec.spec.width = spec.spec.width - over - 4;
            result.finalize();
            return embed(true);
          }
          box.setAttribute("data-rendered", "1");
          if (svg) { svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false"); }
        });
      }
      embed(false)
        .catch(function (err) {
          box.textContent = "This chart could not be drawn; its data is in the table below.";
          if (window.console) { console.warn("chart not drawn", err); }
        });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
