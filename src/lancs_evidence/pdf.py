"""`lancs-evidence pdf`: the whole book as one PDF, charts included.

Runs the notebooks (cached), builds the book as a single HTML page, then prints it with Debian's
Chromium (`--print-to-pdf`), giving the charts time to draw. The print stylesheet hides navigation
and opens every data table and provenance box.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .build import ensure_vega_bundle, sphinx_build, write_status_page
from .pages import discover
from .project import Project, UserError
from .runner import run_pages
from .toc import write_toc
from .validate import stop_on_problems

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str:
    for c in CHROMIUM_CANDIDATES:
        if Path(c).exists():
            return c
    found = shutil.which("chromium")
    if found:
        return found
    raise UserError("Chromium not found: install Debian's chromium (make system-deps) to print the PDF")


def print_to_pdf(html: Path, out: Path, budget_ms: int = 20000) -> None:
    chromium = find_chromium()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.pdf")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--virtual-time-budget={budget_ms}", "--run-all-compositor-stages-before-draw",
               f"--print-to-pdf={tmp}", html.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        raise UserError(f"Chromium could not print the PDF:\n{proc.stderr[-2000:]}")
    os.replace(tmp, out)


def build_pdf(project: Project, out: Path | None = None) -> int:
    if stop_on_problems(project.data, "no PDF was written"):
        return 1
    ensure_vega_bundle(project)
    pages = discover(project)
    write_toc(project, pages)
    report = run_pages(project, pages=pages, progress=False)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
        return 1
    write_status_page(project, report)
    work = project.work / "jb-single"
    code, log = sphinx_build(project, work, builder="singlehtml")
    if code != 0:
        print(log[-20000:], file=sys.stderr)
        print("the single-page build failed; no PDF written", file=sys.stderr)
        return 1
    single = work / "_build" / "singlehtml"
    # Sphinx writes the single page at the root document's path (chapters/index.html) but links its
    # _static files as if it sat at the top, so print a copy that does sit at the top.
    import yaml

    root_doc = yaml.safe_load((project.root / "_toc.yml").read_text(encoding="utf-8"))["root"]
    page = single / "book.html"
    shutil.copyfile(single / f"{root_doc}.html", page)
    out = out or (project.build_dir / "pdf" / "lancashire-evidence-book.pdf")
    print_to_pdf(page, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
