"""`lancs-evidence build`: validate, run the notebooks, build the book, publish it atomically.

The published site is `_build/html`, a symbolic link to a complete build in `_build/site/`. A build
works in `_build/.work/` and only on success swaps the link (one atomic rename), so a failed, interrupted
or killed build leaves the previous site exactly as it was. A build killed part-way leaves a marker that
makes the next build start Sphinx from clean, so no manual clean-up is ever needed.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from lancs_evidence.analysis.audit import write_result as write_audit_result
from lancs_evidence.build.jobs import discover
from lancs_evidence.build.runner import RunReport, _atomic_write_text, load_cache, run_pages
from lancs_evidence.build.sphinxjobs import book_page_count, sphinx_jobs, sphinx_jobs_setting
from lancs_evidence.build.toc import write_toc
from lancs_evidence.data.project import Project
from lancs_evidence.data.validate import stop_on_problems

BOOK_INPUT_SUFFIXES = (".ipynb", ".md", ".yml", ".js", ".css")
# Jupyter Book 1's command line offers neither Sphinx's "write all" nor its parallel build (`-j`), but its
# `build_sphinx` function takes both (`force_all`, `jobs`) and the command imports it from
# `jupyter_book.sphinx` when it runs, so the command is run with those two arguments set. The first
# argument after `-c` is the number of Sphinx processes.
JB_COMMAND = ("import functools, sys, jupyter_book.sphinx as s, jupyter_book.cli.main as m\n"
              "jobs = int(sys.argv.pop(1))\n"
              "s.build_sphinx = functools.partial(s.build_sphinx, force_all=True, jobs=jobs)\n"
              "sys.argv[0] = 'jupyter-book'\n"
              "m.main()\n")
LOCK_WAIT_EXIT = 3  # exit code when another build holds the lock and --wait was not given


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
    """chapters/status.ipynb: each page and how many data queries it read (a Markdown-only notebook).

    Nothing here changes from build to build for the same inputs (the site must be byte-identical): the
    per-build timings go to a reviewers' file outside the published site, `_build/reviewers/timings.csv`."""
    cache = load_cache(project)
    lines = ["# Build status", "",
             "Each page of this book is a notebook executed by the build. The build records every table, set of rows",
             "and file the data layer hands to a page while it runs, and runs a page again only when one of those",
             "reads would now give a different answer, or when its own text or code changed.", "",
             "| Page | Data reads recorded |", "|---|---|"]
    for key in sorted(cache):
        lines.append(f"| `{key}` | {len(cache[key].get('reads') or {})} |")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell["id"] = "build-status"  # a fixed id: nbformat's random ids would make every build differ
    nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = project.chapters / "status.ipynb"
    text = nbformat.writes(nb)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        _atomic_write_text(path, text)
    timings = ["page,seconds_at_last_run"] + [f"{k},{cache[k].get('seconds', 0):.2f}" for k in sorted(cache)]
    _atomic_write_text(project.build_dir / "reviewers" / "timings.csv", "\n".join(timings) + "\n")


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
    h.update(Path(__file__).with_name("theme.py").read_bytes())
    return h.hexdigest()


def jb_command(project: Project, out: Path, builder: str = "html", jobs: int = 1, quiet: bool = True) -> list[str]:
    """The `jupyter-book build` command, strict (warnings fail it, references are checked, and every
    warning is reported before it fails), writing every page, with `jobs` Sphinx processes."""
    cmd = [sys.executable, "-c", JB_COMMAND, str(jobs), "build", str(project.root), "--path-output", str(out),
           "--builder", builder, "-W", "-n", "--keep-going"]
    return cmd + ["--quiet"] if quiet else cmd


def sphinx_build(project: Project, out: Path, builder: str = "html", clean: bool = False, quiet: bool = True,
                 jobs: int = 1) -> tuple[int, str]:
    """Run jupyter-book (strict: warnings fail) into `out` with `jobs` Sphinx processes; return its exit
    code and log."""
    if clean and out.exists():
        shutil.rmtree(out)
    # The HTML output folder is always made afresh (the parsed environment in .doctrees is kept): pages
    # written over an earlier output link assets with a checksum (`?v=`) that a clean build leaves off,
    # so reusing the folder would make an incremental site differ from a clean one.
    shutil.rmtree(out / "_build" / builder, ignore_errors=True)
    # Every page is written afresh (Sphinx's "write all"), reusing the parsed environment of unchanged pages:
    # the search index is then made only from this build's pages (no terms left from earlier builds) and a
    # page citing another is never left showing an old value.
    proc = subprocess.run(jb_command(project, out, builder, jobs, quiet), capture_output=True, text=True, cwd=project.root)
    return proc.returncode, proc.stdout + proc.stderr


def export_downloads(project: Project, site: Path) -> list[Path]:
    """Copy every described table (and the descriptor, metadata and boundaries) into site/downloads,
    plus the audit findings as CSV. The copies are byte-for-byte the validated files."""
    from lancs_evidence.analysis.audit import export_csv, load_result

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
    # the audit CSV is the build's one audit result (the same one every page read), not a recomputation
    written.append(export_csv(load_result(project), out_dir / "audit.csv"))
    return written


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 10**9:09d}-{os.getpid()}"


COMPLETE = ".lx-complete"


def complete_sites(sites: Path) -> list[Path]:
    """Published-or-publishable sites, oldest first: fully copied folders, renamed from their temporary
    name and marked complete. A folder a killed publish left half-copied is never among them."""
    if not sites.is_dir():
        return []
    out = [p for p in sites.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / COMPLETE).exists()]
    return sorted(out, key=lambda p: p.name.removeprefix("manual-"))


def publish(project: Project, built: Path) -> Path:
    """Copy a finished build into a temporary folder, mark it complete, rename it into _build/site/, then
    point _build/html at it with one atomic rename. Pruning only ever removes complete sites older than the
    one before the current one (and half-copied leftovers, which were never published)."""
    sites = project.build_dir / "site"
    sites.mkdir(parents=True, exist_ok=True)
    for leftover in sites.glob(".partial-*"):  # a publish killed part-way: never complete, never published
        shutil.rmtree(leftover, ignore_errors=True)
    stamp = _stamp()
    tmp = sites / f".partial-{stamp}"
    shutil.copytree(built, tmp)
    export_downloads(project, tmp)
    (tmp / COMPLETE).write_text("complete\n", encoding="utf-8")
    dest = sites / stamp
    os.replace(tmp, dest)
    link = project.site
    if link.exists() and not link.is_symlink():  # a site built by hand: keep it beside the others
        kept = sites / f"manual-{stamp}"
        os.replace(link, kept)
        (kept / COMPLETE).write_text("complete\n", encoding="utf-8")
    tmp_link = project.build_dir / f".html-{stamp}"
    os.symlink(os.path.relpath(dest, project.build_dir), tmp_link)
    os.replace(tmp_link, link)
    prune_sites(project)
    return dest


def prune_sites(project: Project) -> None:
    """Keep the current site and the newest complete one before it; remove older complete ones."""
    sites = project.build_dir / "site"
    current = project.site.resolve() if project.site.is_symlink() else None
    complete = [p for p in complete_sites(sites) if p.resolve() != current]
    for p in complete[:-1]:
        shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def build_lock(project: Project, wait: bool = False, what: str = "build"):
    """Hold _build/.lock for the whole build (fcntl.flock): a second build says who holds it, then waits
    (wait=True) or stops with exit code 3. The lock dies with its holder, so a killed build never leaves it."""
    project.build_dir.mkdir(parents=True, exist_ok=True)
    path = project.build_dir / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", errors="replace").strip() or "another process"
            if not wait:
                raise LockHeld(f"{path}: another build is running in this project ({holder}); "
                               "wait for it to finish, or run again with --wait") from None
            print(f"waiting for the build that holds {path} ({holder}) to finish", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"lancs-evidence {what}, process {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class LockHeld(Exception):
    exit_code = LOCK_WAIT_EXIT


def build(project: Project, jobs: int | None = None, force: bool = False, progress: bool = True,
          builder: str = "html", publish_site: bool = True, timeout: float | None = None, wait: bool = False,
          executor: str = "local", scheduler: str | None = None, sphinx_jobs_option=None) -> int:
    """`sphinx_jobs_option`: --sphinx-jobs as given (a number, "auto" or None for the configured default)."""
    try:
        with build_lock(project, wait=wait):
            return _build(project, jobs, force, progress, builder, publish_site, timeout, executor, scheduler,
                          sphinx_jobs_option)
    except LockHeld as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code


def data_stamp(project: Project) -> str:
    """A hash of every file under data/, the package's code and the locked versions: validation is
    skipped when all of these are exactly as they were at the last successful validation."""
    h = hashlib.sha256()
    for p in sorted(q for q in project.data.rglob("*") if q.is_file()):
        h.update(p.relative_to(project.data).as_posix().encode() + b"\0" + p.read_bytes())
    for p in (*sorted(project.src_package.rglob("*.py")), project.root / "constraints.txt"):
        if p.exists():
            h.update(b"\0code\0" + p.read_bytes())
    return h.hexdigest()


def _build(project: Project, jobs, force, progress, builder, publish_site, timeout, executor, scheduler,
           sphinx_jobs_option=None) -> int:
    from lancs_evidence.data.ledger import _cached

    t0 = time.perf_counter()
    sphinx_setting = sphinx_jobs_setting(project, sphinx_jobs_option)  # a wrong setting stops the build before it starts
    _cached.cache_clear()  # a long-lived process (tests, a Dask client) must not keep tables from an earlier build
    stamp_path = project.work / "validated.json"
    stamp = data_stamp(project)
    try:
        validated = json.loads(stamp_path.read_text(encoding="utf-8")).get("stamp") == stamp
    except (OSError, ValueError, AttributeError):
        validated = False
    if not validated:
        if stop_on_problems(project.data, "nothing was built and the published site was left as it was"):
            return 1
        _atomic_write_text(stamp_path, json.dumps({"stamp": stamp}))
    project.work.mkdir(parents=True, exist_ok=True)
    marker = project.work / "BUILDING"
    jb_out = project.work / "jb"
    if marker.exists():
        print("the last build did not finish; starting the book build from clean", file=sys.stderr)
        shutil.rmtree(jb_out, ignore_errors=True)
    marker.write_text(str(os.getpid()), encoding="utf-8")
    ensure_vega_bundle(project)
    write_audit_result(project)  # once per build, before pages run: every page reads this one result
    pages = discover(project)
    write_toc(project, pages)
    report = run_pages(project, jobs=jobs, force=force, progress=progress, pages=pages, timeout=timeout,
                       executor=executor, scheduler=scheduler)
    print(report.summary())
    if report.interrupted:
        print("interrupted: the book was not built; the published site was left as it was.", file=sys.stderr)
        return 130
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
            and project.site.is_symlink() and project.site.resolve().name == state.get("site")
            and (project.site / "index.html").exists()):
        marker.unlink(missing_ok=True)
        print(f"nothing changed: {project.site} is up to date ({time.perf_counter() - t0:.1f} s)")
        return 0
    t1 = time.perf_counter()
    n_sphinx = sphinx_jobs(sphinx_setting, book_page_count(project))
    code, log = sphinx_build(project, jb_out, builder=builder, jobs=n_sphinx)
    if code != 0:
        print(log.strip()[-20000:], file=sys.stderr)
        print("the book build failed (warnings count as failures); the published site was left as it was.", file=sys.stderr)
        marker.unlink(missing_ok=True)
        return 1
    built = jb_out / "_build" / builder
    if publish_site and builder == "html":
        dest = publish(project, built)
        _atomic_write_text(state_path, json.dumps({"inputs": inputs, "site": dest.name}))
        procs = "1 Sphinx process" if n_sphinx == 1 else f"{n_sphinx} Sphinx processes"
        print(f"book built in {time.perf_counter() - t1:.1f} s ({procs}); published to {project.site} -> {dest.name} "
              f"(total {time.perf_counter() - t0:.1f} s)")
    marker.unlink(missing_ok=True)
    return 0
