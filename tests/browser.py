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
