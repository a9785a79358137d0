/* Draws every chart on the page with the vendored Vega bundle (vega-bundle.js, from this site: never a CDN).
   Each chart's spec sits in a <script type="application/json"> beside its container.
   The text is drawn first: charts start after the page's first frame, each when it comes within a screen
   of the visible part of the page, one chart per task, so drawing them (a second or more of work on a
   slow phone for a page of charts) neither delays the first paint nor freezes the page in one long task.
   `lxCharts.drawAll()` draws the rest at once (before printing, for the PDF and the browser tests). */
(function () {
  "use strict";
  // The Vega bundle (0.9 MB) is fetched only when the first chart is about to be drawn, so it neither
  // competes with the page's own files nor runs before the first paint. The page names it on this
  // script's tag (data-vega); a page that already loaded it itself is used as it is.
  var me = document.currentScript, vegaReady = null;
  var vegaUrl = (me && me.getAttribute("data-vega")) ||
    (me && me.src ? me.src.replace(/lx-charts\.js(\?.*)?$/, "vega-bundle.js") : "");
  function vega() {
    if (!vegaReady) {
      vegaReady = new Promise(function (resolve) {
        if (typeof window.vegaEmbed === "function" || !vegaUrl) { resolve(); return; }
        var tag = document.createElement("script");
        tag.src = vegaUrl;
        tag.onload = tag.onerror = function () { resolve(); };  // a failed load: each chart says so
        document.head.appendChild(tag);
      });
    }
    return vegaReady;
  }
  // a chart that cannot be drawn says so where it would have been; its table below still has the data
  function fail(box, err) {
    box.textContent = "This chart could not be drawn; its data is in the table below.";
    if (err && window.console) { console.warn("chart not drawn", err); }
  }
  function drawOne(box) {
    if (box.getAttribute("data-rendered")) { return null; }
    var holder = document.getElementById(box.getAttribute("data-spec-id"));
    if (!holder || typeof window.vegaEmbed !== "function") { fail(box); return; }
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
        views.set(box, { result: result, width: box.clientWidth, fits: !svg || svg.width.baseVal.value <= box.clientWidth + 1 });
        if (resized) { resized.observe(box); }
      });
    }
    return embed(false).catch(function (err) { fail(box, err); });
  }
  // A chart drawn for one width is drawn again when its box settles at another (a rotated phone, a
  // resized window, a folded sidebar). Vega's own resize handling reads the width while the page is
  // still being laid out and can leave a chart drawn far wider than its box and scaled down to tiny text.
  var views = new WeakMap(), pending = new Map();
  // does the chart in `box` need drawing again: its box has another width, or a chart that fitted its box
  // when drawn has since been redrawn wider than it by Vega?
  function stale(box) {
    var drawn = views.get(box), svg = box.querySelector("svg");
    if (!drawn || box.clientWidth === 0) { return false; }
    return Math.abs(box.clientWidth - drawn.width) > 1 ||
      (drawn.fits && !!svg && svg.width.baseVal.value > box.clientWidth + 1);
  }
  var resized = typeof ResizeObserver === "function" ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var box = entry.target;
      if (!stale(box)) { return; }
      clearTimeout(pending.get(box));
      pending.set(box, setTimeout(function () {
        pending.delete(box);
        var now = views.get(box);
        if (!stale(box)) { return; }
        resized.unobserve(box);
        views.delete(box);
        now.result.finalize();
        box.removeAttribute("data-rendered");
        box.removeAttribute("data-queued");
        ask(box);
      }, 200));
    });
  }) : null;
  // charts are drawn one per task, in the order they were asked for; `queue` holds those not yet started
  var queue = [], running = false, waiting = [];
  function pump() {
    var box = queue.shift();
    if (!box) {
      running = false;
      waiting.splice(0).forEach(function (resolve) { resolve(); });
      return;
    }
    var done;
    try { done = drawOne(box); } catch (err) { fail(box, err); }
    Promise.resolve(done).then(function () { setTimeout(pump, 0); });
  }
  function ask(box) {
    if (box.getAttribute("data-rendered") || box.getAttribute("data-queued")) { return; }
    box.setAttribute("data-queued", "1");
    queue.push(box);
    if (!running) { running = true; vega().then(function () { setTimeout(pump, 0); }); }
  }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("div.lx-vega[data-spec-id]")); }
  // every chart at once (printing, the PDF, tests); resolves when all have been drawn
  function drawAll() {
    boxes().forEach(ask);
    return new Promise(function (resolve) { if (running) { waiting.push(resolve); } else { resolve(); } });
  }
  window.lxCharts = { drawAll: drawAll };
  window.addEventListener("beforeprint", drawAll);
  function start() {
    if (!("IntersectionObserver" in window)) { drawAll(); return; }
    // a chart is drawn as it comes within a screen of being seen, so opening a page with many charts
    // costs only those at the top
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) { seen.unobserve(e.target); ask(e.target); } });
    }, { rootMargin: "100% 0px" });
    boxes().forEach(function (box) { seen.observe(box); });
  }
  function draw() {
    var started = false;
    function once() { if (!started) { started = true; start(); } }
    // after the first frame; the timer is there for a page that never gets a frame (a tab in the background)
    if (window.requestAnimationFrame) { window.requestAnimationFrame(once); }
    setTimeout(once, 250);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
