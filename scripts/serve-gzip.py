#!/usr/bin/env python3
"""Serve the built site on loopback the way a static host does: text files sent gzipped.

    python3 scripts/serve-gzip.py [SITE] [--port N]      (SITE defaults to _build/html, port to 8008)

Python's own `http.server` sends every file as stored, which makes a page look several times heavier
(and slower, in Lighthouse) than it is for a reader of the published site. This server compresses HTML,
CSS, JavaScript, SVG, JSON, CSV and text when the browser asks for gzip, and sends everything else as
it is. It is for measuring (scripts/lighthouse.sh) and for looking at the book locally, not for
publishing.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import os
from pathlib import Path

TEXT = {".html", ".css", ".js", ".mjs", ".svg", ".json", ".csv", ".txt", ".xml", ".map"}


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real host: every response carries its length
    _cache: dict = {}

    def log_message(self, format, *args):  # quiet: one line per request is noise while measuring
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.is_file() and path.suffix.lower() in TEXT):
            return super().send_head()  # directories (index.html, redirects), binary files, no gzip asked
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        body = self._cache.get(key)
        if body is None:
            body = self._cache[key] = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        return io.BytesIO(body)  # do_GET copies it out, do_HEAD only closes it


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", nargs="?", default="_build/html")
    ap.add_argument("--port", type=int, default=8008)
    args = ap.parse_args()
    site = os.path.abspath(args.site)
    if not os.path.isfile(os.path.join(site, "index.html")):
        ap.error(f"{site}: no built site here (run `lancs-evidence build` first)")
    handler = functools.partial(GzipHandler, directory=site)
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"serving {site} gzipped at http://127.0.0.1:{args.port}/", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
