"""Serve a built site on loopback and drive Debian's Chromium through Playwright, network blocked.

Never `playwright install`: the browser is /usr/bin/chromium from Debian (make test installs it)."""
from __future__ import annotations

import functools
import http.server
import socketserver
import threading
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

# Console messages that are known and harmless, each with the reason.
CONSOLE_ALLOW = [
    # pydata-sphinx-theme reads a saved colour mode; a fresh profile has none, and it says so as an error
    "Got invalid theme mode",
    # vega-lite notes about layout choices it made (warnings, not errors; listed for completeness)
    "WARN ",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401
        pass


@contextmanager
def serve(site: Path):
    handler = functools.partial(_Quiet, directory=str(Path(site).resolve()))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def new_context(b, base: str, width: int = 1280, height: int = 900, blocked: list | None = None):
    ctx = b.new_context(viewport={"width": width, "height": height})

    def route(r):
        url = r.request.url
        if url.startswith(base) or url.startswith("data:") or url.startswith("blob:"):
            return r.continue_()
        if blocked is not None:
            blocked.append(url)
        return r.abort()

    ctx.route("**/*", route)
    return ctx


def site_pages(site: Path) -> list[str]:
    """Every HTML page of a built book, relative to its root (the redirecting index excluded)."""
    site = Path(site).resolve()
    out = []
    for p in sorted(site.rglob("*.html")):
        rel = p.relative_to(site).as_posix()
        if rel.startswith(("_static/", "_sources/", "downloads/")) or rel == "index.html":
            continue
        out.append(rel)
    return out


def set_scheme(page, scheme: str) -> None:
    """Switch the page between the light and dark colour schemes as a device setting would, then wait
    until the theme has followed it (its `data-theme` attribute says which scheme is drawn)."""
    page.emulate_media(color_scheme=scheme)
    page.wait_for_function("s => document.documentElement.dataset.theme === s", arg=scheme, timeout=5000)


def charts_drawn(page, timeout: int = 20000, everywhere: bool = True) -> None:
    """Wait until every chart has been drawn (or says why not), as the PDF does (`pdf.draw_charts`):
    by default the page is first asked to draw them all; `everywhere=False` waits for what it drew by itself."""
    from lancs_evidence.build.pdf import draw_charts

    draw_charts(page, timeout, everywhere)


def settle_charts(page) -> None:
    """After a viewport change, wait until every chart has been redrawn at its container's new width."""
    page.wait_for_function("""Array.from(document.querySelectorAll('.lx-vega svg')).every(svg => {
        const box = svg.closest('.lx-vega'); return svg.getBoundingClientRect().width <= box.getBoundingClientRect().width + 1; })""",
                           timeout=10000)


# Measures what a reader on this viewport meets: sideways scroll, tables wider than their box, wide tables
# laid out as stacked pairs although their columns would fit, chart text outside its chart or cut with an
# ellipsis, chart text smaller than 12 px as drawn. Opens every disclosure first, and lets the page react
# to that for two frames (lx-a11y.js re-fits the tables whose box changed), so tables inside them are
# measured too (run it after axe).
LAYOUT_JS = r"""async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const vw = document.documentElement.clientWidth;
  const wide = [], clipped = [], small = [], cut = [], needless = [];
  document.querySelectorAll('table.lx-stacked').forEach(t => {
    t.classList.remove('lx-stacked');
    if (t.scrollWidth <= t.parentElement.clientWidth + 1) needless.push(((t.caption && t.caption.textContent) || '').slice(0, 70));
    t.classList.add('lx-stacked');
  });
  document.querySelectorAll('table').forEach(t => {
    const r = t.getBoundingClientRect();
    if (r.width === 0) return;
    const box = t.closest('.lx-table-wrap') || t.parentElement;
    if (r.right > vw + 1 || t.scrollWidth > box.clientWidth + 1)
      wide.push(((t.caption && t.caption.textContent) || t.className).slice(0, 70));
  });
  document.querySelectorAll('.lx-vega svg').forEach(svg => {
    const sr = svg.getBoundingClientRect();
    if (sr.width === 0) return;
    const fig = svg.closest('figure').getBoundingClientRect();
    if (sr.right > Math.min(vw, fig.right) + 1) clipped.push('chart wider than its figure');
    const scale = sr.width / (svg.width.baseVal.value || sr.width);
    svg.querySelectorAll('text').forEach(t => {
      const txt = t.textContent.trim();
      if (!txt) return;
      const r = t.getBoundingClientRect();
      if (r.width === 0) return;
      if (r.left < sr.left - 1 || r.right > sr.right + 1 || r.top < sr.top - 1 || r.bottom > sr.bottom + 1) clipped.push(txt);
      if (txt.endsWith('\u2026')) cut.push(txt);
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < 11.9) small.push(txt + ' (' + px.toFixed(1) + ' px)');
    });
  });
  return {overflow: document.documentElement.scrollWidth - vw, wide_tables: wide, needless_stacks: needless,
          many_as_tables: Array.from(document.querySelectorAll('table.lx-many')).filter(t => getComputedStyle(t).display === 'table').length,
          clipped_text: clipped,
          small_text: small, cut_labels: cut};
}"""

# Opens the menu with the visible control, as a reader would, and lists the links then on screen.
MENU_JS = r"""() => {
  const seen = [];
  document.querySelectorAll('dialog[open] a, .bd-sidebar-primary a').forEach(a => {
    const r = a.getBoundingClientRect();
    const visible = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.left >= 0 && r.right <= innerWidth
      && getComputedStyle(a).visibility !== 'hidden';
    if (visible && a.closest('dialog[open], .bd-sidebar-primary')) seen.push(a.href);
  });
  return seen;
}"""


def open_menu(page) -> list[str]:
    """Click the visible menu control; return the hrefs of navigation links then visible on screen."""
    if page.viewport_size["width"] >= 992:  # the sidebar is already open beside the page
        return page.evaluate(MENU_JS)
    control = page.locator(".lx-menu-toggle:visible").first
    control.click()
    page.wait_for_function("""(() => { const d = document.querySelector('#pst-primary-sidebar-modal');
        return (d && d.open) || innerWidth >= 992; })()""", timeout=5000)
    links = page.evaluate(MENU_JS)
    page.keyboard.press("Escape")
    return links
