"""Execute page notebooks with papermill: in parallel, only when their inputs changed, each in isolation.

- A page whose input key (see `pages.page_key`) matches the last successful run is skipped.
- Pages run in a process pool (default: one per core) or on a Dask cluster (`executors.make_executor`).
  The worker returns the executed notebook as text; only this (client) process writes outputs and the
  cache, the same way whichever executor ran the page. One page raising does not stop the others;
  the report names the page, its area, the cell and the error, and the executed notebook is kept in
  `_build/failed/` for inspection.
- Outputs are written to a temporary file and renamed into place, and the cache record is updated
  after each page, so a build killed part-way leaves nothing half-written and the next run resumes.
- Volatile metadata (timestamps, durations) is stripped so two runs of the same inputs give identical
  notebooks.
"""
from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .executors import _quiet_worker, make_executor  # noqa: F401  (_quiet_worker: kept importable from here)
from .pages import DataIndex, Page, discover, lock_hash, page_key, select
from .project import Project

MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Make a data value safe to place in a Markdown heading: every special character escaped."""
    return MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


@dataclass
class Outcome:
    page: str
    label: str
    status: str  # "ran", "cached", "failed"
    seconds: float = 0.0
    error: str = ""
    kept: str = ""
    notebook: str = ""  # the executed (or failed) notebook as JSON text, written by the client, then dropped


@dataclass
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0

    @property
    def ok(self) -> bool:
        return all(o.status != "failed" for o in self.outcomes)

    @property
    def ran(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "ran"]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> str:
        lines = [f"notebooks: {len(self.ran)} ran, {sum(o.status == 'cached' for o in self.outcomes)} unchanged, "
                 f"{len(self.failed)} failed ({self.wall:.1f} s)"]
        if self.ran:
            lines.append("ran: " + ", ".join(o.page for o in self.ran))
        for o in self.failed:
            lines.append(f"FAILED {o.label}: {o.error}")
            if o.kept:
                lines.append(f"  executed notebook kept for inspection: {o.kept}")
        return "\n".join(lines)


def _cache_path(project: Project) -> Path:
    return project.work / "cache.json"


def load_cache(project: Project) -> dict:
    try:
        return json.loads(_cache_path(project).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_cache(project: Project, cache: dict) -> None:
    _atomic_write_text(_cache_path(project), json.dumps(cache, indent=1, sort_keys=True))


def strip_volatile(nb) -> None:
    """Remove what differs between two runs of the same inputs: times, durations, papermill paths, and
    the random cell ids jupytext gives (numbered instead, so two runs, or two executors, give the same bytes)."""
    nb.metadata.pop("papermill", None)
    for i, cell in enumerate(nb.cells):
        if "id" in cell:
            cell["id"] = f"cell-{i + 1}"
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            if "injected-parameters" in tags and "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]


def _prepare(page: Page):
    import jupytext

    nb = jupytext.read(page.source)
    if page.title is not None:
        safe = escape_markdown(page.title)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and "{{ title }}" in cell.source:
                cell.source = cell.source.replace("{{ title }}", safe)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    return nb


def execute_page(page: Page, root: str, failed_dir: str | None = None) -> Outcome:
    """Run one page (in a worker process, local or Dask) and return its notebook as text in the Outcome.
    Never raises: failures come back as an Outcome carrying the failed notebook. Writes no output and
    no cache record: the client does (`_record`). `failed_dir` is unused, kept for older callers."""
    import papermill as pm

    start = time.perf_counter()
    out = Path(page.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.running.ipynb")
    try:
        nb = _prepare(page)
        has_code = any(c.cell_type == "code" and c.source.strip() for c in nb.cells)
        if has_code:
            os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
            os.environ["LANCS_EVIDENCE_ROOT"] = root
            for attempt in (1, 2):
                try:
                    nb = pm.execute_notebook(_prepare(page), str(tmp), parameters=page.params, cwd=root, kernel_name="python3",
                                             progress_bar=False, log_output=False, report_mode=False)
                    break
                except Exception as exc:  # a kernel that died or never started is retried once; a notebook error is not
                    if attempt == 2 or type(exc).__name__ == "PapermillExecutionError":
                        raise
        strip_volatile(nb)
        nb.metadata["lancs_evidence"] = {"page": page.key, "params": page.params}
        return Outcome(page.key, page.label, "ran", time.perf_counter() - start, notebook=_notebook_text(nb))
    except Exception as exc:  # a page's failure is reported, not raised: the others go on
        error = _describe_error(exc)
        text = tmp.read_text(encoding="utf-8") if tmp.exists() else ""
        return Outcome(page.key, page.label, "failed", time.perf_counter() - start, error, notebook=text)
    finally:
        if tmp.exists():
            tmp.unlink()


def _notebook_text(nb) -> str:
    """The notebook as `nbformat.write` would save it (same bytes as before outputs moved to the client)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _remove_leftovers(pages: list[Page]) -> None:
    """Delete in-progress files a killed run left beside the page outputs (never a finished output)."""
    for folder in {p.output.parent for p in pages}:
        if folder.is_dir():
            for leftover in [*folder.glob(".*.running.ipynb"), *folder.glob(".*.tmp")]:
                leftover.unlink(missing_ok=True)


def _describe_error(exc: Exception) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        cell = getattr(exc, "exec_count", None)
        idx = getattr(exc, "cell_index", None)
        where = f"cell {idx + 1}" if isinstance(idx, int) else f"execution {cell}"
        first = next((ln.strip() for ln in str(getattr(exc, "source", "")).splitlines() if ln.strip() and not ln.startswith("#")), "")
        if first:
            where += f" (the cell starting `{first[:60]}`)"
        return f"{where} raised {exc.ename}: {exc.evalue}"
    return f"{name}: {exc}"


def _record(outcome: Outcome, page: Page, failed_dir: Path) -> Outcome:
    """Client side: write what a worker returned (atomically), then drop the text from the report."""
    if outcome.status == "ran":
        _atomic_write_text(page.output, outcome.notebook)
    elif outcome.notebook:
        dest = failed_dir / (page.key.replace("/", "--") + ".ipynb")
        _atomic_write_text(dest, outcome.notebook)
        outcome.kept = str(dest)
    outcome.notebook = ""
    return outcome


def _lost(page: Page, exc: BaseException) -> Outcome:
    """A task that raised instead of returning: its worker died twice (KilledWorker) or was cancelled."""
    name = type(exc).__name__
    why = "the worker running it died, twice" if name == "KilledWorker" else f"{name}: {exc}"
    return Outcome(page.key, page.label, "failed", 0.0, f"the page did not finish: {why}")


def run_pages(project: Project, areas: list[str] | None = None, jobs: int | None = None, force: bool = False,
              progress: bool = True, pages: list[Page] | None = None, executor: str = "local",
              scheduler: str | None = None) -> RunReport:
    from tqdm import tqdm

    started = time.perf_counter()
    pages = select(pages if pages is not None else discover(project), areas, project)
    index = DataIndex(project)
    lock = lock_hash(project)
    cache = load_cache(project)
    report = RunReport()
    _remove_leftovers(pages)
    todo: list[tuple[Page, str]] = []
    for page in pages:
        key = page_key(page, project, index, lock)
        if not force and cache.get(page.key, {}).get("key") == key and page.output.exists():
            report.outcomes.append(Outcome(page.key, page.label, "cached", cache[page.key].get("seconds", 0.0)))
        else:
            todo.append((page, key))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    failed_dir = project.build_dir / "failed"
    if todo:
        bar = tqdm(total=len(todo), desc="notebooks", unit="nb", disable=not progress, leave=True)
        project.work.mkdir(parents=True, exist_ok=True)
        log = str(project.work / "kernels.log")
        with make_executor(executor, jobs, scheduler, log=log) as pool:
            futures = {pool.submit(execute_page, page, str(project.root)): (page, key) for page, key in todo}
            for fut in as_completed(futures):
                page, key = futures[fut]
                try:
                    outcome = _record(fut.result(), page, failed_dir)
                except Exception as exc:
                    outcome = _lost(page, exc)
                report.outcomes.append(outcome)
                if outcome.status == "ran":
                    cache[page.key] = {"key": key, "seconds": round(outcome.seconds, 2)}
                else:
                    cache.pop(page.key, None)
                save_cache(project, cache)
                bar.set_postfix_str(page.key.rsplit("/", 1)[-1])
                bar.update(1)
        bar.close()
        _remove_leftovers(pages)  # in-progress files of a worker that was lost mid-page
    report.wall = time.perf_counter() - started
    order = {p.key: i for i, p in enumerate(pages)}
    report.outcomes.sort(key=lambda o: order.get(o.page, 0))
    return report
