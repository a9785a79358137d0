"""`lancs-evidence bench --executors`: the scale case run with each executor, side by side (issue 17).

For each size (synthetic areas, invented data, never published) and each executor ("local" pool and a
Dask `LocalCluster` on this machine), every page is run once from cold, in this process, and the figures
are printed side by side:

- wall time, seconds per area and per page;
- peak memory per worker (the worker process plus the kernel it runs; the largest seen) and of the whole
  process tree (client, scheduler, nannies, workers and kernels);
- the executor's start-up and shut-down time (measured alone with a trivial task), the mean cost of a page
  as measured inside the worker, and the client's overhead per page (the wall time not explained by
  start-up and by the page runs spread over the workers);
- a projection to a cluster of N workers: start-up + ceil(pages / N) x page cost + pages x overhead,
  plus the Sphinx build, which runs on one machine.

Then Sphinx is measured on the book at that size, serial and with Sphinx's parallel build (`-j`), and on a
book of `sphinx_pages` pages made by copying executed partnership pages (notebooks are not re-run for the
copies: this measures the book build alone at that size). Both use the command `lancs-evidence build`
runs (`book.jb_command`), with one Sphinx process and with one per core.
"""
from __future__ import annotations

import math
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lancs_evidence.build.bench import Sampler
from lancs_evidence.data.project import Project

KERNEL_MARK = b"ipykernel_launcher"


# --- memory sampling -------------------------------------------------------------------------------

def _proc_table() -> dict[int, tuple[int, int, bytes]]:
    """pid -> (parent pid, resident bytes, command line) for every process we can read."""
    import psutil

    table = {}
    for proc in psutil.process_iter(["ppid", "memory_info", "cmdline"]):
        info = proc.info
        if info.get("memory_info") is None or info.get("ppid") is None:
            continue
        table[proc.pid] = (info["ppid"], info["memory_info"].rss, "\0".join(info.get("cmdline") or []).encode())
    return table


class WorkerMemory(Sampler):
    """Samples, under this process: the total resident memory of the tree, and per worker (a process
    that is the parent of a running kernel) its own memory plus its descendants' (the kernel)."""

    def __init__(self, every: float = 0.25):
        super().__init__(every)
        self.peak_total = 0
        self.peak_worker = 0
        self.workers: set[int] = set()

    def sample(self) -> None:
        table = _proc_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)

        def subtree(pid: int) -> list[int]:
            out, todo = [], [pid]
            while todo:
                p = todo.pop()
                out.append(p)
                todo += children.get(p, [])
            return out

        tree = subtree(os.getpid())
        self.peak_total = max(self.peak_total, sum(table[p][1] for p in tree if p in table))
        for p in tree:
            if KERNEL_MARK in table[p][2]:
                worker = table[p][0]
                self.workers.add(worker)
                self.peak_worker = max(self.peak_worker, sum(table[q][1] for q in subtree(worker) if q in table))


# --- one run -----------------------------------------------------------------------------------------

@dataclass
class ExecutorRun:
    executor: str
    areas: int
    pages: int
    workers: int
    wall: float
    startup: float
    task_seconds: list[float] = field(default_factory=list)
    peak_worker: int = 0
    peak_total: int = 0
    failed: int = 0

    @property
    def per_task(self) -> float:
        return statistics.mean(self.task_seconds) if self.task_seconds else float("nan")

    @property
    def overhead_per_task(self) -> float:
        """Client-side seconds per page not explained by start-up and by page runs over the workers."""
        spread = sum(self.task_seconds) / self.workers
        return max(0.0, (self.wall - self.startup - spread) / max(1, self.pages))

    def projected(self, n_workers: int, sphinx: float) -> float:
        return (self.startup + math.ceil(self.pages / n_workers) * self.per_task
                + self.pages * self.overhead_per_task + sphinx)


def executor_startup(kind: str, jobs: int) -> float:
    """Seconds to start the executor, run one trivial task and close it."""
    from lancs_evidence.build.executors import make_executor

    t = time.perf_counter()
    with make_executor(kind, jobs) as pool:
        pool.submit(int, "1").result()
    return time.perf_counter() - t


def run_with(project: Project, kind: str, jobs: int) -> ExecutorRun:
    from lancs_evidence.build.book import ensure_vega_bundle
    from lancs_evidence.build.jobs import discover
    from lancs_evidence.build.runner import run_pages
    from lancs_evidence.build.toc import write_toc

    ensure_vega_bundle(project)
    pages = discover(project)
    write_toc(project, pages)
    startup = executor_startup(kind, jobs)
    n_areas = sum(1 for p in pages if p.template == "district")
    with WorkerMemory() as mem:
        t = time.perf_counter()
        report = run_pages(project, jobs=jobs, force=True, progress=False, pages=pages, executor=kind)
        wall = time.perf_counter() - t
    return ExecutorRun(kind, n_areas, len(pages), jobs, wall, startup, [o.seconds for o in report.ran],
                       mem.peak_worker, mem.peak_total, len(report.failed))


# --- the book build ------------------------------------------------------------------------------

def sphinx_timed(project: Project, jobs: int) -> tuple[float, int, bool]:
    """Build the book (strict, from clean) with `jobs` Sphinx processes: (seconds, peak bytes, ok)."""
    from lancs_evidence.build.bench import PeakMemory
    from lancs_evidence.build.book import jb_command

    out = project.work / f"bench-jb-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = jb_command(project, out, "html", jobs)
    env = {**os.environ}
    env.pop("LANCS_EVIDENCE_ROOT", None)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with PeakMemory(proc.pid) as pm:
        log, _ = proc.communicate()
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        print(f"    sphinx -j {jobs} failed:\n" + "\n".join(log.strip().splitlines()[-15:]), flush=True)
    shutil.rmtree(out, ignore_errors=True)
    return wall, pm.peak, proc.returncode == 0


def add_page_copies(project: Project, total_pages: int) -> int:
    """Copy executed partnership pages until the book has `total_pages` pages; return the page count.
    The copies go into the table of contents beside the page they copy (under its locality)."""
    from dataclasses import replace

    from lancs_evidence.build.book import write_status_page
    from lancs_evidence.build.jobs import discover
    from lancs_evidence.build.runner import RunReport
    from lancs_evidence.build.toc import write_toc

    pages = discover(project)
    districts = [p for p in pages if p.template == "district" and p.output.exists()]
    extra = []
    k = 0
    while len(pages) + len(extra) + 1 < total_pages:  # +1: the status page
        src = districts[k % len(districts)]
        key = f"{src.key}-copy{k // len(districts) + 1}"
        out = project.root / f"{key}.ipynb"
        shutil.copyfile(src.output, out)
        extra.append(replace(src, key=key, output=out))
        k += 1
    write_toc(project, pages + extra)
    write_status_page(project, RunReport())
    return len(pages) + len(extra) + 1


# --- the whole benchmark -------------------------------------------------------------------------

def gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def run_scale_bench(project: Project, sizes: list[int], executors: tuple[str, ...] = ("local", "dask"),
                    jobs: int | None = None, sphinx_pages: int = 1000, project_to: tuple[int, ...] = (8, 32, 128)) -> int:
    from lancs_evidence.build.book import write_status_page
    from lancs_evidence.build.runner import RunReport
    from lancs_evidence.data.synthetic import make_project

    cores = os.cpu_count() or 1
    jobs = jobs or cores
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {cores} cores, load average {load:.1f} at start, Python {platform.python_version()}")
    print(f"each size run once per executor from cold, {jobs} workers each; invented data, never published\n", flush=True)
    runs: list[ExecutorRun] = []
    sphinx: dict[int, dict[int, tuple[float, int, bool]]] = {}
    with tempfile.TemporaryDirectory(prefix="lancs-scale-") as tmp:
        for n in sizes:
            root = make_project(Path(tmp) / f"scale{n}", project.root, n_areas=n, localities=3)
            proj = Project(root)
            for kind in executors:
                r = run_with(proj, kind, jobs)
                runs.append(r)
                print(f"  {n} areas, {kind}: {r.wall:.1f} s for {r.pages} pages ({r.failed} failed), "
                      f"worker peak {gb(r.peak_worker)}", flush=True)
            if n == sizes[-1]:  # the book build at the largest size run, then with copies up to sphinx_pages
                write_status_page(proj, RunReport())
                sphinx[n] = {j: sphinx_timed(proj, j) for j in sorted({1, cores})}
                for j, (w, peak, ok) in sphinx[n].items():
                    print(f"  {n} areas, Sphinx -j {j}: {w:.1f} s, peak {gb(peak)}{'' if ok else ' (FAILED)'}", flush=True)
            if n == sizes[-1] and sphinx_pages:
                total = add_page_copies(proj, sphinx_pages)
                sphinx[-total] = {j: sphinx_timed(proj, j) for j in sorted({1, cores})}
                for j, (w, peak, ok) in sphinx[-total].items():
                    print(f"  {total} pages (copies), Sphinx -j {j}: {w:.1f} s, peak {gb(peak)}{'' if ok else ' (FAILED)'}", flush=True)
            shutil.rmtree(root, ignore_errors=True)

    print("\nexecutors side by side (one cold run each)")
    print("areas  pages  executor  wall       s/area  s/page  page cost  overhead/page  start-up  worker peak  tree peak")
    for r in runs:
        print(f"{r.areas:>5}  {r.pages:>5}  {r.executor:<8} {r.wall:>7.1f} s  {r.wall / r.areas:>6.2f}  {r.wall / r.pages:>6.2f}  "
              f"{r.per_task:>7.2f} s  {r.overhead_per_task:>11.3f} s  {r.startup:>6.1f} s  {gb(r.peak_worker):>10}  {gb(r.peak_total):>9}")
    print("\nthe book build (Sphinx through Jupyter Book, strict, from clean)")
    print("pages           jobs   seconds   s/page   peak memory")
    for n, by_jobs in sphinx.items():
        label = f"{-n} (copies)" if n < 0 else f"{n} areas"
        for j, (w, peak, ok) in by_jobs.items():
            pages = -n if n < 0 else next(r.pages for r in runs if r.areas == n) + 1
            print(f"{label:<15} {j:>4}  {w:>8.1f}  {w / pages:>7.3f}   {gb(peak)}{'' if ok else '  FAILED'}")
    # projection: from the largest size measured, scaled per page to the target sizes
    big = max(r.areas for r in runs)
    targets = sorted({300, 1000, 1250, big})
    fixed, per_page = _sphinx_model(sphinx, runs)
    print(f"\nprojected wall time on a cluster of N workers (from the {big}-area runs: page cost and overhead per page "
          f"as measured here; Sphinx, which stays on one machine, as {fixed:.1f} s + {per_page:.3f} s per page, "
          f"fitted to the two book sizes measured with the faster -j)")
    head = "executor  areas  " + "  ".join(f"N={n:<6}" for n in project_to)
    print(head)
    for r in (r for r in runs if r.areas == big):
        for areas in targets:
            pages = r.pages - r.areas + areas
            scaled = ExecutorRun(r.executor, areas, pages, r.workers, 0.0, r.startup, r.task_seconds)
            scaled_overhead = r.overhead_per_task
            cols = []
            for nw in project_to:
                t = (scaled.startup + math.ceil(pages / nw) * scaled.per_task + pages * scaled_overhead
                     + fixed + per_page * pages)
                cols.append(f"{t / 60:>6.1f}m ")
            print(f"{r.executor:<8} {areas:>6}  " + "  ".join(cols))
    print("(a page's cost here is measured on a shared 2-core machine, so it includes contention; on dedicated "
          "workers it is lower. The Sphinx build does not scale out: it is the floor.)")
    return 0 if all(r.failed == 0 for r in runs) else 1


def _sphinx_model(sphinx, runs) -> tuple[float, float]:
    """Sphinx seconds as fixed + per page, through the two book sizes measured (best of the -j values)."""
    points = []
    for n, by_jobs in sphinx.items():
        pages = -n if n < 0 else next(r.pages for r in runs if r.areas == n) + 1
        ok = [w for w, _, good in by_jobs.values() if good] or [w for w, _, _ in by_jobs.values()]
        points.append((pages, min(ok)))
    points.sort()
    if len(points) < 2 or points[-1][0] == points[0][0]:
        p, w = points[-1]
        return 0.0, w / p
    (p0, w0), (p1, w1) = points[0], points[-1]
    slope = max(0.0, (w1 - w0) / (p1 - p0))
    return max(0.0, w1 - slope * p1), slope
