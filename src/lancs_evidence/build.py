"""`lancs-evidence build`: validate, run the notebooks, build the book, publish it atomically.

The published site is `_build/html`, a symbolic link to a complete build in `_build/site/`. A build
works in `_build/.work/` and only on success swaps the link (one atomic rename), so a failed, interrupted
or killed build leaves the previous site exactly as it was. A build killed part-way leaves a marker that
makes the next build start Sphinx from clean, so no manual clean-up is ever needed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from .pages import discover
from .project import Project
from .runner import RunReport, load_cache, run_pages
from .toc import write_toc
from .validate import stop_on_problems

BOOK_INPUT_SUFFIXES = (".ipynb", ".md", ".yml", ".js", ".css")


def ensure_vega_bundle(project: Project) -> Path:
    """Vendor vega + vega-lite + vega-embed (from vl-convert, matching altair) into _static, once per version."""
    import vl_convert

    static = project.root / "_static"
    static.mkdir(exist_ok=True)
    path = static / "vega-bundle.js"
    stamp = f"/* vega bundle from vl-convert-python {vl_convert.__version__} */\n"
    if path.exists() and path.read_text(encoding="utf-8", errors="replace").startswith(stamp):
        return path
    bundle = vl_convert.javascript_bundle()
    # an IIFE keeps the bundle's top-level names (such as `_`) from clashing with Sphinx's scripts
    tmp = path.with_suffix(".tmp")
    tmp.write_text(stamp + "(function(){\n" + bundle + "\n})();\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_status_page(project: Project, report: RunReport) -> None:
    """chapters/status.ipynb: each notebook's last execution time (a Markdown-only notebook)."""
    cache = load_cache(project)
    lines = ["# Build status", "",
             "Each page of this book is a notebook executed by the build. This table lists how long each took the last",
             "time its inputs changed and it was run. Pages whose inputs have not changed are not run again.", "",
             "| Page | Seconds at last run |", "|---|---|"]
    for key in sorted(cache):
        lines.append(f"| `{key}` | {cache[key].get('seconds', 0):.1f} |")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell["id"] = "build-status"  # a fixed id: nbformat's random ids would make every build differ
    nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = project.chapters / "status.ipynb"
    text = nbformat.writes(nb)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def book_inputs_hash(project: Project) -> str:
    """Hash of everything Sphinx reads, to skip Sphinx entirely when nothing changed."""
    h = hashlib.sha256()
    files = [project.root / "_config.yml", project.root / "_toc.yml"]
    files += sorted(p for p in (project.root / "_static").glob("*") if p.is_file())
    # the theme's template overrides and the Sphinx extension that applies the theme fixes
    files += sorted(p for p in (project.root / "_templates").rglob("*") if p.is_file())
    files += sorted(p for p in project.chapters.rglob("*") if p.is_file() and p.suffix in BOOK_INPUT_SUFFIXES)
    for p in files:
        if p.exists():
            h.update(p.relative_to(project.root).as_posix().encode() + b"\0" + p.read_bytes())
    h.update(Path(__file__).with_name("postprocess.py").read_bytes())
    return h.hexdigest()


def sphinx_build(project: Project, out: Path, builder: str = "html", clean: bool = False, quiet: bool = True) -> tuple[int, str]:
    """Run jupyter-book (strict: warnings fail) into `out`; return its exit code and log."""
    if clean and out.exists():
        shutil.rmtree(out)
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(project.root), "--path-output", str(out),
           "--builder", builder, "-W", "-n", "--keep-going"]
    if quiet:
        cmd.append("--quiet")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=project.root)
    return proc.returncode, proc.stdout + proc.stderr


def export_downloads(project: Project, site: Path) -> list[Path]:
    """Copy every described table (and the descriptor, metadata and boundaries) into site/downloads,
    plus the audit findings as CSV. The copies are byte-for-byte the validated files."""
    from .audit import audit
    from .ledger import Data

    out_dir = site / "downloads"
    descriptor = json.loads((project.data / "datapackage.json").read_text(encoding="utf-8"))
    files = [project.data / "datapackage.json"] + [project.data / r["path"] for r in descriptor["resources"]]
    files += sorted((project.data / "reference").glob("*.meta.json")) + sorted((project.data / "reference").glob("*.geojson"))
    written = []
    for f in files:
        if f.exists():
            dest = out_dir / f.relative_to(project.data)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
            written.append(dest)
    data = Data.load(project)
    findings = audit(data.outcomes, data.relations)
    cols = ["relation_id", "relation", "claim", "inputs", "stated", "recomputed", "status", "explanation", "source", "section"]
    findings[cols].to_csv(out_dir / "audit.csv", index=False, lineterminator="\n", float_format="%.6g")
    written.append(out_dir / "audit.csv")
    return written


def publish(project: Project, built: Path) -> Path:
    """Copy a finished build into _build/site/<n> and point _build/html at it with one atomic rename."""
    sites = project.build_dir / "site"
    sites.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    dest = sites / stamp
    shutil.copytree(built, dest)
    export_downloads(project, dest)
    link = project.site
    if link.exists() and not link.is_symlink():  # a site built by hand: keep it beside the others
        os.replace(link, sites / f"manual-{stamp}")
    tmp_link = project.build_dir / f".html-{stamp}"
    os.symlink(os.path.relpath(dest, project.build_dir), tmp_link)
    os.replace(tmp_link, link)
    # keep the current site and the one before it
    current = dest.resolve()
    old = sorted((p for p in sites.iterdir() if p.is_dir() and p.resolve() != current), key=lambda p: p.stat().st_mtime)
    for p in old[:-1]:
        shutil.rmtree(p, ignore_errors=True)
    return dest


def build(project: Project, jobs: int | None = None, force: bool = False, progress: bool = True,
          builder: str = "html", publish_site: bool = True) -> int:
    t0 = time.perf_counter()
    if stop_on_problems(project.data, "nothing was built and the published site was left as it was"):
        return 1
    project.work.mkdir(parents=True, exist_ok=True)
    marker = project.work / "BUILDING"
    jb_out = project.work / "jb"
    if marker.exists():
        print("the last build did not finish; starting the book build from clean", file=sys.stderr)
        shutil.rmtree(jb_out, ignore_errors=True)
    marker.write_text(str(os.getpid()), encoding="utf-8")
    ensure_vega_bundle(project)
    pages = discover(project)
    write_toc(project, pages)
    report = run_pages(project, jobs=jobs, force=force, progress=progress, pages=pages)
    print(report.summary())
    if not report.ok:
        print("the book was not built; the published site was left as it was.", file=sys.stderr)
        marker.unlink(missing_ok=True)
        return 1
    write_status_page(project, report)
    state_path = project.work / "published.json"
    inputs = book_inputs_hash(project)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    if (publish_site and builder == "html" and not force and state.get("inputs") == inputs
            and project.site.exists() and (project.site / "index.html").exists()):
        marker.unlink(missing_ok=True)
        print(f"nothing changed: {project.site} is up to date ({time.perf_counter() - t0:.1f} s)")
        return 0
    t1 = time.perf_counter()
    code, log = sphinx_build(project, jb_out, builder=builder)
    if code != 0:
        print(log.strip()[-20000:], file=sys.stderr)
        print("the book build failed (warnings count as failures); the published site was left as it was.", file=sys.stderr)
        marker.unlink(missing_ok=True)
        return 1
    built = jb_out / "_build" / builder
    if publish_site and builder == "html":
        dest = publish(project, built)
        state_path.write_text(json.dumps({"inputs": inputs, "site": dest.name}), encoding="utf-8")
        print(f"book built in {time.perf_counter() - t1:.1f} s; published to {project.site} -> {dest.name} "
              f"(total {time.perf_counter() - t0:.1f} s)")
    marker.unlink(missing_ok=True)
    return 0
