"""Repairs to the built HTML that the theme offers no setting for, applied before a site is published.

- remove Thebe (live code), which the book never uses: its script names a CDN and is included twice,
  which logs a console error on every page;
- accessibility: the search and colour-mode buttons' accessible names must contain their visible
  text (WCAG 2.5.3), and the sidebar's title must sit inside a landmark.
Each repair is a plain text substitution on markup the theme version pinned in constraints.txt emits;
`tests/test_browser.py` checks the result with axe in a real browser.
"""
from __future__ import annotations

import re
from pathlib import Path

THEBE_PATTERNS = [
    re.compile(r'<script[^>]*src="[^"]*sphinx-thebe\.js[^"]*"[^>]*>\s*</script>\s*'),
    re.compile(r"<script>\s*const THEBE_JS_URL = .*?</script>\s*", re.S),
    re.compile(r'<script type="text/x-thebe-config">.*?</script>\s*', re.S),
    re.compile(r'<link[^>]*href="[^"]*sphinx-thebe\.css[^"]*"[^>]*/?>\s*'),
]
TOGGLE = '<summary><span class="toctree-toggle" role="presentation">'
TOGGLE_FIXED = '<summary><span class="visually-hidden">Show or hide the pages in this part</span><span class="toctree-toggle" role="presentation">'
SIDEBAR_START = '<div class="sidebar-primary-items__start sidebar-primary__section">'
SIDEBAR_START_FIXED = '<div class="sidebar-primary-items__start sidebar-primary__section" role="region" aria-label="Book title and contents">'


def repair_html(html: str) -> str:
    for pat in THEBE_PATTERNS:
        html = pat.sub("", html)
    # search buttons: the visible text is "Search" plus a keyboard shortcut; an aria-label of just "Search"
    # does not contain that text. Drop the label so the name comes from the content, and label the shortcut.
    html = re.sub(r'(<button[^>]*class="[^"]*search-button[^"]*"[^>]*?)\s+aria-label="Search"', r"\1", html)
    html = html.replace('aria-label="Color mode"', 'aria-label="Colour mode"')
    # the navigation's expand/collapse toggles are icons only: give each a name
    html = html.replace(TOGGLE, TOGGLE_FIXED)
    # the sidebar's book title sits outside any landmark
    html = html.replace(SIDEBAR_START, SIDEBAR_START_FIXED)
    return html


def repair_site(site: Path) -> int:
    n = 0
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        fixed = repair_html(text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")
            n += 1
    return n
