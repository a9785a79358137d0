/* Small behaviours the theme lacks (Jupyter Book lists every _static script on every page, deferred).
   - The visible menu and on-this-page buttons (_templates/components/toggle-primary-sidebar.html): the theme binds its
     menu to the first `.primary-toggle` on the page only, a copy hidden in the top header, so this
     button forwards its click there. That opens the menu as a dialog on narrow screens and folds the
     sidebar away on wide ones, exactly as the theme intends.
   - Search buttons the theme adds at run time get a name that contains their visible text.
   - A table of five or more columns (`lx-many`) is marked `lx-stacked`, which lays each row out as
     "column: value" pairs (lx-book.css), only while its columns do not fit its box; it is measured
     again whenever the box changes width (a rotated phone, a folded sidebar). Before printing, each is
     measured at the width of an A4 page and marked `lx-print-fits` if it fits there, so the printed
     book keeps the tables that fit on paper (`lxTables.fitForPrint()`, which the PDF calls too).
   - Search results: Sphinx quotes each page's text around the word found, taken from the page's main
     landmark with `textContent`, which ran table cells together ("ContradictedWhat is compared") and
     began with the page's own buttons ("....pdf Preston Contents"). The quoted text now leaves out those
     buttons and the previous/next links and keeps a space between cells, items and paragraphs. */
(function () {
  "use strict";
  function wireMenu() {
    [[".lx-menu-toggle", ".primary-toggle"], [".lx-page-toggle", ".secondary-toggle"]].forEach(function (pair) {
      document.querySelectorAll(pair[0]).forEach(function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          var target = document.querySelector(pair[1]);
          if (target && target !== button) { target.click(); }
        });
      });
    });
  }
  function repair() {
    document.querySelectorAll("button.search-button, button.search-button__button").forEach(function (b) {
      b.removeAttribute("aria-label");
      b.setAttribute("title", "Search this book");
    });
  }
  function fit(table) {
    var box = table.parentElement;
    table.classList.remove("lx-stacked");
    if (table.scrollWidth > box.clientWidth + 1) { table.classList.add("lx-stacked"); }
  }
  function fitTables() {
    var tables = Array.prototype.slice.call(document.querySelectorAll(".lx-table-wrap > table.lx-many"));
    if (typeof ResizeObserver !== "function") { tables.forEach(fit); return; }
    var widths = new WeakMap();
    var watch = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) {
        var width = Math.round(entry.contentRect.width);
        if (widths.get(entry.target) === width) { return; }  // a height change (stacking itself) is not a reason
        widths.set(entry.target, width);
        fit(entry.target.firstElementChild);
      });
    });
    tables.forEach(function (t) { watch.observe(t.parentElement); });  // its first report fits each table
  }
  var PRINT_WIDTH = "680px";  // A4 (210 mm) less the PDF's 15 mm margins, in CSS pixels
  function fitForPrint() {
    document.querySelectorAll(".lx-table-wrap > table.lx-many").forEach(function (table) {
      var box = table.parentElement, width = box.style.width, stacked = table.classList.contains("lx-stacked");
      box.style.width = PRINT_WIDTH;
      // measured as a table whatever it is now (printing may already have stacked it), so the answer is
      // the same however often the browser asks
      table.classList.remove("lx-stacked");
      table.classList.add("lx-print-fits");
      table.classList.toggle("lx-print-fits", table.scrollWidth <= box.clientWidth + 1);
      if (stacked) { table.classList.add("lx-stacked"); }
      box.style.width = width;
    });
  }
  window.lxTables = { fitForPrint: fitForPrint };
  window.addEventListener("beforeprint", fitForPrint);
  var NOT_TEXT = ".bd-header-article, .prev-next-area, .headerlink, script, style";
  var BLOCKS = "p, ul, ol, li, dl, dt, dd, table, tr, td, th, caption, h1, h2, h3, h4, h5, h6, div, section, " +
               "figure, figcaption, blockquote, .lx-big";
  function pageText(htmlString, anchor) {
    var doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(NOT_TEXT).forEach(function (el) { el.remove(); });
    var main = doc.querySelector('[role="main"]');
    var part = main && anchor ? main.querySelector(anchor) : null;
    var root = part || main;
    if (!root) { return ""; }
    root.querySelectorAll(BLOCKS).forEach(function (el) {  // a space on each side of every block
      el.insertBefore(doc.createTextNode(" "), el.firstChild);
      el.appendChild(doc.createTextNode(" "));
    });
    return root.textContent.replace(/\s+/g, " ").trim();
  }
  function searchText() {
    // Sphinx declares `Search` with `const`: a global name, but not a property of `window`
    if (typeof Search === "object" && Search && typeof Search.htmlToText === "function") { Search.htmlToText = pageText; }
  }
  window.lxSearchText = pageText;
  function start() { wireMenu(); repair(); fitTables(); searchText(); }
  // should the search page's scripts ever be deferred, Sphinx's search script runs after this one
  if (document.readyState !== "complete") { document.addEventListener("DOMContentLoaded", searchText); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
