/* Small behaviours the theme lacks (loaded with defer on every page; see src/lancs_evidence/postprocess.py).
   - The visible menu and on-this-page buttons (_templates/components/toggle-primary-sidebar.html): the theme binds its
     menu to the first `.primary-toggle` on the page only, a copy hidden in the top header, so this
     button forwards its click there. That opens the menu as a dialog on narrow screens and folds the
     sidebar away on wide ones, exactly as the theme intends.
   - Search buttons the theme adds at run time get a name that contains their visible text. */
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
  function start() { wireMenu(); repair(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
