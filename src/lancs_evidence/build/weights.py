"""Page weight: what a reader downloads to open each page of the built site.

`python -m lancs_evidence.build.weights [SITE]` prints, for every page, the bytes of the page itself plus every
local script (and the Vega bundle a chart page's script names, which it fetches to draw the charts),
stylesheet (and what it @imports), image and icon it links, as stored and as sent gzipped
(as a static host sends them, and what a reader downloads), and flags pages over the targets, as stored
(what a host that does not compress sends) or as sent: a page without charts under 500 KB, a page with
charts under 1.5 MB. Files are counted once
per page, as a browser with an empty cache would fetch them. Fonts that stylesheets only offer
(`@font-face`) are not counted: a browser fetches them only when text uses them.
"""
from __future__ import annotations

import gzip
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

TARGET_PLAIN = 500_000
TARGET_CHART = 1_500_000
CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?["']?([^"')\s]+)""")


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.chart = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
            if a.get("data-vega"):  # the chart script fetches the Vega bundle it names as a chart is drawn
                self.refs.append(a["data-vega"])
        elif tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {"stylesheet", "icon", "preload"}:
            self.refs.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "div" and "lx-vega" in (a.get("class") or "").split():
            self.chart = True


@dataclass
class PageWeight:
    page: str
    files: int
    raw: int
    gzipped: int
    chart: bool

    @property
    def target(self) -> int:
        return TARGET_CHART if self.chart else TARGET_PLAIN

    @property
    def ok_stored(self) -> bool:
        return self.raw < self.target

    @property
    def ok_sent(self) -> bool:
        return self.gzipped < self.target

    @property
    def ok(self) -> bool:
        """Under its target both as stored and as sent gzipped."""
        return self.ok_stored and self.ok_sent


def _local(site: Path, page: Path, ref: str) -> Path | None:
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    target = (page.parent / unquote(parts.path)).resolve()
    try:
        target.relative_to(site)
    except ValueError:
        return None
    return target if target.is_file() else None


def _gz(data: bytes, cache: dict, key) -> int:
    if key not in cache:
        cache[key] = len(gzip.compress(data, 6))
    return cache[key]


def page_weights(site: Path) -> list[PageWeight]:
    """Weight of every HTML page of a built site (the redirecting root page included)."""
    site = Path(site).resolve()
    gz_cache: dict = {}
    out = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        if rel.startswith(("_static/", "_sources/", "downloads/")):
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        parser = _Refs()
        parser.feed(text)
        files: dict[Path, bytes] = {}
        todo = [p for p in (_local(site, page, r) for r in parser.refs) if p]
        while todo:
            f = todo.pop()
            if f in files:
                continue
            data = f.read_bytes()
            files[f] = data
            if f.suffix == ".css":
                for ref in CSS_IMPORT.findall(data.decode("utf-8", errors="replace")):
                    p = _local(site, f, ref)
                    if p:
                        todo.append(p)
        body = text.encode("utf-8")
        raw = len(body) + sum(len(d) for d in files.values())
        gz = len(gzip.compress(body, 6)) + sum(_gz(d, gz_cache, f) for f, d in files.items())
        out.append(PageWeight(rel, len(files) + 1, raw, gz, parser.chart))
    return out


def report(weights: list[PageWeight]) -> str:
    lines = [f"{'page':<52} {'files':>5} {'stored KB':>10} {'sent KB':>8}  target (stored and sent gzipped)"]
    for w in weights:
        flag = "ok" if w.ok else "OVER as sent" if not w.ok_sent else "OVER as stored"
        lines.append(f"{w.page:<52} {w.files:>5} {w.raw / 1000:>10.0f} {w.gzipped / 1000:>8.0f}  "
                     f"{'chart' if w.chart else 'plain'} < {w.target / 1e6:g} MB: {flag}")
    over = [w for w in weights if not w.ok]
    lines.append(f"{len(weights)} pages, {len(over)} over target")
    for kind, chart in (("chart-free", False), ("with charts", True)):
        some = [w for w in weights if w.chart == chart and w.page != "index.html"]
        if some:
            lines.append(f"pages {kind}: stored {min(w.raw for w in some) / 1000:,.0f} to {max(w.raw for w in some) / 1000:,.0f} KB, "
                         f"sent {min(w.gzipped for w in some) / 1000:,.0f} to {max(w.gzipped for w in some) / 1000:,.0f} KB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0]) if argv else Path("_build/html")
    if not (site / "index.html").exists():
        print(f"{site}: no built site here (run `lancs-evidence build` first)", file=sys.stderr)
        return 2
    weights = page_weights(site)
    print(report(weights))
    return 0 if all(w.ok for w in weights) else 1


if __name__ == "__main__":
    raise SystemExit(main())
