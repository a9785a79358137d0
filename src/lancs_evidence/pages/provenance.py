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

from markupsafe import Markup

from lancs_evidence.pages.html import render

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


def box(*, params: dict, inputs: dict[str, str], root: Path, template: str, rerun: list[str], receipt_value: str) -> Markup:
    """HTML for the provenance box (templates/provenance.html.j2)."""
    facts = [("Parameters", ", ".join(f"{k} = {v}" for k, v in params.items())),
             ("Template", template),
             ("Git commit", git_commit(root)),
             ("Packages", ", ".join(f"{k} {v}" for k, v in versions().items()))]
    files = [(name, h[:16]) for name, h in sorted(inputs.items())]
    return render("provenance.html.j2", facts=facts, files=files, rerun="\n".join(rerun), receipt=receipt_value)
