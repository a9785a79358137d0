"""The provenance box: what a reviewer needs to rerun a page and check they got the same figures.

The *receipt* is a short hash of the page's computed figures (every glued value and every table of
figures shown). A rerun with the same data and code prints the same receipt.
"""
from __future__ import annotations

import hashlib
import json
import math
import subprocess
from importlib import metadata
from pathlib import Path

from lancs_evidence.pages.html import esc, tag

PACKAGES = ("pandas", "altair", "papermill", "jupyter-book", "nbclient", "vl-convert-python")


def _clean(value):
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return round(value, 9)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def receipt(figures: dict) -> str:
    """A 12-character hash of the figures, stable across runs and machines."""
    text = json.dumps(_clean(figures), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def git_commit(root: Path) -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return "not a git checkout"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "templates", "chapters", "data"],
                               cwd=root, capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    import platform

    out["python"] = platform.python_version()
    return out


def box(*, params: dict, inputs: dict[str, str], root: Path, template: str, rerun: list[str], receipt_value: str) -> str:
    """HTML for the provenance box (a disclosure, closed by default; printed open)."""
    rows = []
    rows.append(("Parameters", ", ".join(f"{k} = {v}" for k, v in params.items())))
    rows.append(("Template", template))
    rows.append(("Git commit", git_commit(root)))
    rows.append(("Packages", ", ".join(f"{k} {v}" for k, v in versions().items())))
    items = "".join(tag("dt", esc(k)) + tag("dd", esc(v)) for k, v in rows)
    files = "".join(tag("tr", tag("th", esc(name), scope="row") + tag("td", tag("code", esc(h[:16]))))
                    for name, h in sorted(inputs.items()))
    table = tag("div", tag("table", tag("caption", "Data read by this page (sha256 of the rows it reads, first 16 characters)")
                           + tag("thead", tag("tr", tag("th", "File", scope="col") + tag("th", "Hash", scope="col")))
                           + tag("tbody", files), class_="lx-table"), class_="lx-table-wrap", tabindex="0", role="region",
                aria_label="Data read by this page")
    cmds = tag("pre", tag("code", esc("\n".join(rerun))))
    body = (tag("dl", items, class_="lx-facts") + table
            + tag("p", "To rerun this page and check its figures, run from the project folder:") + cmds
            + tag("p", "Receipt (a hash of every figure this page computes; a rerun prints the same): "
                  + tag("strong", tag("code", esc(receipt_value), class_="lx-receipt"))))
    return tag("details", tag("summary", "Provenance: how to reproduce this page") + body, class_="lx-provenance")
