"""`lancs-evidence bench`: measure the build and print the figures (never part of the test suite).

Cases, each the median of N runs on a scratch copy of the book (the real one is never touched):
- cold: no caches at all;
- no-op: a rebuild straight after, nothing changed;
- one-value: one figure in one partnership's rows changed;
- scale: invented data for many areas (made here, never published), at three sizes, to show that
  time grows linearly and peak memory stays small.
Each case is set beside the plain path a user would otherwise take, timed in the same run: every
page executed serially with papermill, then `jupyter-book build --all`.
"""
from __future__ import annotations

import csv
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lancs_evidence.data.project import Project

BOOK_PARTS = ("_config.yml", "constraints.txt", "data", "templates", "_static", "_templates", "chapters")


def copy_book(src: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in BOOK_PARTS:
        s = src / name
        if s.is_dir():
            shutil.copytree(s, dest / name, ignore=shutil.ignore_patterns("_parts", "*.ipynb", ".*"))
        elif s.exists():
            shutil.copy2(s, dest / name)
    (dest / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\n", encoding="utf-8")
    return dest


class Sampler:
    """Calls `sample()` every `every` seconds on a background thread while the `with` block runs."""

    def __init__(self, every: float):
        self.every = every
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


class PeakMemory(Sampler):
    """Samples the summed resident memory of a process and all its descendants."""

    def __init__(self, pid: int, every: float = 0.1):
        super().__init__(every)
        self.pid, self.peak = pid, 0

    def _rss(self) -> int:
        import psutil

        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # ended between the listing and the reading
                pass
        return total

    def sample(self) -> None:
        self.peak = max(self.peak, self._rss())


def timed(cmd: list[str], cwd: Path, memory: bool = False) -> tuple[float, int, str]:
    env = {**os.environ}
    env.pop("LANCS_EVIDENCE_ROOT", None)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    if memory:
        with PeakMemory(proc.pid) as pm:
            out, _ = proc.communicate()
        peak = pm.peak
    else:
        out, _ = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return wall, peak, out


def cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "lancs_evidence.cli", "--root", str(root), *args]


def plain_path(root: Path) -> tuple[float, float, float]:
    """What a user would do without this tool: every page through papermill, one after another, then
    `jupyter-book build --all`. Returns (notebook seconds, sum of single-notebook seconds, book seconds)."""
    import papermill as pm

    from lancs_evidence.build.jobs import discover
    from lancs_evidence.build.toc import write_toc

    project = Project(root)
    pages = discover(project)
    write_toc(project, pages)
    # kernels inherit stderr and chatter about TCP; keep the benchmark's output to its figures
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        return _plain_run(root, project, pages, pm)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _plain_run(root: Path, project: Project, pages, pm) -> tuple[float, float, float]:
    from lancs_evidence.build.runner import _prepare

    singles = []
    t0 = time.perf_counter()
    for page in pages:
        s = time.perf_counter()
        page.output.parent.mkdir(parents=True, exist_ok=True)  # on a fresh clone the page folders do not exist yet
        nb = _prepare(page)
        if any(c.cell_type == "code" for c in nb.cells):
            pm.execute_notebook(nb, str(page.output), parameters=page.params, cwd=str(root), kernel_name="python3",
                                progress_bar=False, log_output=False)
        else:
            import nbformat

            nbformat.write(nb, str(page.output))
        singles.append(time.perf_counter() - s)
    notebooks = time.perf_counter() - t0
    from lancs_evidence.build.book import write_status_page
    from lancs_evidence.build.runner import RunReport

    write_status_page(project, RunReport())
    exe = Path(sys.executable).with_name("jupyter-book")
    book, _, _ = timed([str(exe), "build", str(root), "--path-output", str(root / "_plain"), "--all", "-q"], root)
    return notebooks, sum(singles), book


def change_one_value(root: Path) -> None:
    path = root / "data" / root_year(root) / "figures.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    areas = {r[header.index("area")] for r in rows[1:]}
    target_area = sorted(a for a in areas if a not in ("place", "north", "central_west", "east", "lancashire_south_cumbria"))[0]
    for r in rows[1:]:
        if r[header.index("area")] == target_area and r[header.index("unit")] == "count":
            r[header.index("value")] = str(int(float(r[header.index("value")])) + 1)
            break
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def root_year(root: Path) -> str:
    return Project(root).current_year()


def sphinx_seconds(output: str) -> float:
    import re

    m = re.search(r"book built in ([0-9.]+) s", output)
    return float(m.group(1)) if m else float("nan")


def run_bench(project: Project, runs: int = 3, scale_areas: int = 300, quick: bool = False) -> int:
    if quick:
        runs, scale_areas = 1, min(scale_areas, 60)
    cores = os.cpu_count() or 1
    lines = [f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}",
             f"runs per case: {runs} (median shown)", ""]
    print("\n".join(lines), flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="lancs-bench-") as tmp:
        tmp = Path(tmp)
        cold, noop, onechange, plain, singles, sphinx = [], [], [], [], [], []
        for i in range(runs):
            root = copy_book(project.root, tmp / f"book{i}")
            w, _, out = timed(cli(root, "build", "-q"), root)
            cold.append(w)
            sphinx.append(sphinx_seconds(out))
            w, _, out = timed(cli(root, "build", "-q"), root)
            noop.append(w)
            change_one_value(root)
            w, _, out = timed(cli(root, "build", "-q"), root)
            onechange.append(w)
            proot = copy_book(project.root, tmp / f"plain{i}")
            nb_s, single_sum, book_s = plain_path(proot)
            plain.append(nb_s + book_s)
            singles.append(single_sum)
            print(f"  run {i + 1}: cold {cold[-1]:.1f} s, no-op {noop[-1]:.1f} s, one value {onechange[-1]:.1f} s, "
                  f"plain path {plain[-1]:.1f} s", flush=True)
        med = statistics.median
        met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
        results += [
            ("cold build", med(cold), med(plain),
             f"target: at least 4x faster than the plain path: {met(med(plain) >= 4 * med(cold))}"),
            ("no-change rebuild", med(noop), med(plain), f"target: under 2 s: {met(med(noop) < 2)}"),
            ("one-value change", med(onechange), med(plain),
             f"target: at most 15% of a cold build ({0.15 * med(cold):.1f} s): {met(med(onechange) <= 0.15 * med(cold))}"
             f"; it was {100 * med(onechange) / med(cold):.0f}%"),
        ]
        # scale: three sizes of invented data, to check linear growth and memory
        from lancs_evidence.data.synthetic import make_project

        sizes = sorted({max(10, scale_areas // 4), max(20, scale_areas // 2), scale_areas})
        scale = []
        for n in sizes:
            root = make_project(tmp / f"scale{n}", project.root, n_areas=n, localities=3)
            w, peak, _ = timed(cli(root, "build", "-q"), root, memory=True)
            scale.append((n, w, peak))
            print(f"  scale {n} areas: {w:.1f} s, peak memory {peak / 1e9:.2f} GB", flush=True)
    print("\ncase                  lancs-evidence   plain path   ratio   note")
    for name, ours, theirs, note in results:
        print(f"{name:<21} {ours:>10.1f} s {theirs:>10.1f} s {theirs / ours:>7.1f}x   {note}")
    print("\nscale (invented areas, never published)")
    print("areas   wall      per area   peak memory")
    for n, w, peak in scale:
        print(f"{n:>5}  {w:>7.1f} s  {w / n:>7.2f} s  {peak / 1e9:>6.2f} GB")
    (n0, w0, _), (n1, w1, _) = scale[0], scale[-1]
    slope = (w1 - w0) / (n1 - n0)
    linear = all(abs(w - (w0 + slope * (n - n0))) <= 0.15 * w for n, w, _ in scale)
    print(f"growth: {slope:.2f} s per added area; {'linear within 15%' if linear else 'NOT linear within 15%'}; "
          f"peak memory {'under' if max(p for _, _, p in scale) < 2e9 else 'OVER'} 2 GB "
          f"(target: linear and under 2 GB: {'met' if linear and max(p for _, _, p in scale) < 2e9 else 'NOT met'})")
    if quick:
        print("(--quick: one run per case and a smaller scale case; run without --quick for the figures to publish)")
    return 0
