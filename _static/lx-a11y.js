/* Small repairs to the theme's markup for screen-reader users (see the accessibility tests).
   The static HTML is also repaired at build time; this covers elements the theme adds at run time. */
(function () {
  "use strict";
  function repair() {
    document.querySelectorAll("button.search-button, button.search-button__button").forEach(function (b) {
      b.removeAttribute("aria-label");
      b.setAttribute("title", "Search this book");
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", repair); } else { repair(); }
})();
