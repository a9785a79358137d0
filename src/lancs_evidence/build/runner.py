"""Execute page notebooks: in parallel, only when what they read changed, each in isolation, in warm kernels.

Who writes what:
- `execute_page` runs ONE page (in a pool worker, or a Dask worker) and RETURNS a `PageResult`: its status,
  time, error text, the executed notebook as JSON text and the record of what it read. It never writes into
  chapters/ or the cache, so a worker that outlives an interrupted build cannot publish anything.
- `run_pages` (the client process) alone writes page outputs (atomically: a temporary file renamed into
  place) and the cache. After an interrupt (Ctrl-C, SIGTERM) it stops every worker and writes nothing more.

When a page re-runs: the cache keeps, for each page, a *static key* (its source, parameters and title, the
`src/` modules it imports, the runner itself, the locked package versions and the audit result file), the
*record of reads* the data layer made while the page ran (each query with a hash of its answer; see
`ledger.start_recording`) and a hash of the output file written. A page is trusted as unchanged only when
the static key is the same, the output file on disk is byte for byte the one written, and every recorded
query gives the same answer against the data as it is now. Any doubt means the page runs again.

No start-up per page: each worker process keeps one started kernel (with pandas, altair and this package
imported) per project, created lazily the first time it runs a page. Before each page the kernel's
namespace is reset and the data layer's caches are cleared, so a page sees a clean state; execution
counts and cell ids are renumbered so a page's notebook is the same as one run in a fresh kernel.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat

from lancs_evidence.build import interrupts
from lancs_evidence.build.jobs import PageJob, discover, lock_hash, select, static_key
from lancs_evidence.data.project import Project, UserError
from lancs_evidence.pages.fmt import escape_markdown

DEFAULT_TIMEOUT = 300.0  # seconds a page may take; `page_timeout` in _config.yml or --timeout change it
WARM_IMPORTS = "import pandas, altair, myst_nb\nimport lancs_evidence.pages.district, lancs_evidence.pages.about, lancs_evidence.pages.chapter, lancs_evidence.pages.place\n"
READS_MARK = "lancs-evidence-reads:"


@dataclass
class PageResult:
    """What running one page gives back to the client (picklable; nothing is written by the worker)."""

    page: str
    label: str
    status: str  # "ran" or "failed"
    seconds: float = 0.0
    error: str = ""
    notebook: str = ""  # the executed notebook (JSON text); for a failure, the notebook as far as it ran
    reads: dict = field(default_factory=dict)  # query (JSON text) -> hash of its answer


@dataclass
class PageRun:
    """What happened to one page in a run: ran, taken from the cache, or failed (with the error and
    where its partial notebook was kept)."""
    page: str
    label: str
    status: str  # "ran", "cached", "failed"
    seconds: float = 0.0
    error: str = ""
    kept: str = ""


@dataclass
class RunReport:
    runs: list[PageRun] = field(default_factory=list)
    wall: float = 0.0
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.status != "failed" for o in self.runs)

    @property
    def ran(self) -> list[PageRun]:
        return [o for o in self.runs if o.status == "ran"]

    @property
    def failed(self) -> list[PageRun]:
        return [o for o in self.runs if o.status == "failed"]

    def summary(self) -> str:
        lines = [f"notebooks: {len(self.ran)} ran, {sum(o.status == 'cached' for o in self.runs)} unchanged, "
                 f"{len(self.failed)} failed ({self.wall:.1f} s)"]
        if self.ran:
            lines.append("ran: " + ", ".join(o.page for o in self.ran))
        for o in self.failed:
            lines.append(f"FAILED {o.label}: {o.error}")
            if o.kept:
                lines.append(f"  executed notebook kept for inspection: {o.kept}")
        if self.interrupted:
            lines.append("interrupted: every worker and kernel was stopped; no page was written after the interrupt")
        return "\n".join(lines)


# --- cache -----------------------------------------------------------------------------------------------

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
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_cache(project: Project, cache: dict) -> None:
    _atomic_write_text(_cache_path(project), json.dumps(cache, indent=1, sort_keys=True))


def file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def page_timeout(project: Project, override: float | None = None) -> float:
    """Seconds a page may run: --timeout, else `lancs_evidence: {page_timeout: N}` in _config.yml, else 300."""
    if override is not None:
        return float(override)
    import yaml

    try:
        cfg = yaml.safe_load((project.root / "_config.yml").read_text(encoding="utf-8")) or {}
        value = (cfg.get("lancs_evidence") or {}).get("page_timeout")
    except (OSError, yaml.YAMLError, AttributeError):
        value = None
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{project.root / '_config.yml'}: lancs_evidence.page_timeout must be a number of seconds, not {value!r}") from None
    if value <= 0:
        raise UserError(f"{project.root / '_config.yml'}: lancs_evidence.page_timeout must be more than 0 seconds")
    return value


# --- preparing and cleaning notebooks ------------------------------------------------------------------------

def strip_volatile(nb) -> None:
    """Remove what differs between two runs of the same inputs: times, durations, papermill paths, random
    cell ids, a warm kernel's execution counter."""
    nb.metadata.pop("papermill", None)
    count = 0
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        cell["id"] = f"cell-{i}"  # fixed ids: nbformat's random ones would make every run differ
        if cell.cell_type == "code":
            tags = cell.metadata.get("tags", [])
            if "injected-parameters" in tags and "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
            if cell.get("execution_count") is not None:
                count += 1
                cell.execution_count = count
                for out in cell.get("outputs", []):
                    if "execution_count" in out:
                        out["execution_count"] = count


def _prepare(page: PageJob):
    import jupytext
    from papermill.parameterize import parameterize_notebook

    nb = jupytext.read(page.source)
    if page.title is not None:
        safe = escape_markdown(page.title)
        for cell in nb.cells:
            if cell.cell_type == "markdown" and "{{ title }}" in cell.source:
                cell.source = cell.source.replace("{{ title }}", safe)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:  # as papermill's loader does, so the notebook is the one papermill would make
        cell.metadata.setdefault("tags", [])
    nb.metadata["papermill"] = {}
    nb = parameterize_notebook(nb, page.params, report_mode=False)
    nb.metadata.pop("papermill", None)
    return nb


# --- the worker side: one warm kernel per project, per process --------------------------------------------------

class WarmKernel:
    """A started kernel with the package imported, reused page after page (one per project and process)."""

    def __init__(self, root: str):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.root = root
        self.km = AsyncKernelManager(kernel_name="python3")
        env = {**os.environ, "LANCS_EVIDENCE_ROOT": root, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        run_sync(self.km.start_kernel)(cwd=root, env=env)
        self.pages = 0

    @property
    def pid(self) -> int | None:
        prov = getattr(self.km, "provisioner", None)
        return getattr(prov, "pid", None) if prov is not None else None

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:
            return False

    def kill(self, tidy: bool = True) -> None:
        """SIGKILL the kernel, then remove its connection file and ports. `tidy=False` (a signal handler or
        the parent-watch thread, about to exit) only deletes the file: the manager's async clean-up must
        not run inside a handler that interrupted nbclient's own event loop, where it waited until the
        build gave up on the worker (10 s per worker, measured)."""
        pid = self.pid
        if pid:
            for sig_target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                with contextlib.suppress(OSError):
                    sig_target()
        if not tidy:
            with contextlib.suppress(Exception):
                os.remove(self.km.connection_file)
            return
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            run_sync(self.km.cleanup_resources)()


_KERNELS: dict[tuple[str, int], WarmKernel] = {}  # (project root, thread): a worker thread never shares a kernel


def _kernel(root: str) -> WarmKernel:
    key = (root, threading.get_ident())
    k = _KERNELS.get(key)
    if k is None or not k.alive():
        if k is not None:
            k.kill()
        k = _KERNELS[key] = WarmKernel(root)
    return k


def _drop_kernel(root: str) -> None:
    k = _KERNELS.pop((root, threading.get_ident()), None)
    if k is not None:
        k.kill()


def stop_kernels(*_args, tidy: bool = True) -> None:
    """Kill every kernel this process started (on exit, SIGTERM, or when the build is gone)."""
    for key in list(_KERNELS):
        k = _KERNELS.pop(key, None)
        if k is not None:
            k.kill(tidy=tidy)


def _setup_code(root: str) -> str:
    return ("get_ipython().run_line_magic('reset', '-f')\n"
            "import lancs_evidence.data.ledger as _lx_ledger\n"
            f"_lx_ledger.start_recording({root!r})\n"
            "del _lx_ledger\n")


TEARDOWN_CODE = ("import json as _lx_json, lancs_evidence.data.ledger as _lx_ledger\n"
                 f"print({READS_MARK!r} + _lx_json.dumps(_lx_ledger.stop_recording(), sort_keys=True))\n")


def _run_in_kernel(nb, page: PageJob, root: str, timeout: float):
    """Execute `nb` in the warm kernel, wrapped in hidden set-up and tear-down cells; return (nb, reads)."""
    from nbclient import NotebookClient

    kernel = _kernel(root)
    if kernel.pages == 0:
        nb_warm = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WARM_IMPORTS)])
        NotebookClient(nb_warm, km=kernel.km, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": root}}).execute()
    kernel.pages += 1
    setup = nbformat.v4.new_code_cell(_setup_code(root))
    teardown = nbformat.v4.new_code_cell(TEARDOWN_CODE)
    n = len(nb.cells)
    nb.cells = [setup, *nb.cells, teardown]
    deadline = time.monotonic() + timeout
    client = NotebookClient(nb, km=kernel.km, kernel_name="python3", resources={"metadata": {"path": root}},
                            timeout_func=lambda cell: max(1, int(deadline - time.monotonic() + 0.999)),
                            record_timing=False)
    try:
        client.execute()
    finally:
        kc = getattr(client, "kc", None)
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        body, tail = nb.cells[1:n + 1], nb.cells[n + 1:]
        nb.cells = body
    reads: dict = {}
    for out in (tail[0].get("outputs", []) if tail else []):
        text = "".join(out.get("text", ""))
        if READS_MARK in text:
            reads = json.loads(text.split(READS_MARK, 1)[1])
    return nb, reads


def execute_page(page: PageJob, root: str, timeout: float = DEFAULT_TIMEOUT) -> PageResult:
    """Run one page and return its result. Never raises and never writes page outputs or the cache."""
    start = time.perf_counter()
    nb = None
    try:
        nb = _prepare(page)
        reads: dict = {}
        has_code = any(c.cell_type == "code" and c.source.strip() for c in nb.cells)
        if has_code:
            for attempt in (1, 2):
                nb = _prepare(page)  # on failure, this is the notebook as far as it ran
                try:
                    nb, reads = _run_in_kernel(nb, page, root, timeout)
                    break
                except Exception as exc:
                    name = type(exc).__name__
                    if name in ("CellTimeoutError", "TimeoutError"):
                        _drop_kernel(root)  # the kernel is still busy with the page: never reuse it
                        raise PageTimeout(page, timeout) from None
                    if name == "CellExecutionError":
                        raise
                    _drop_kernel(root)  # a kernel that died or never started is replaced and the page retried once
                    if attempt == 2:
                        raise
        strip_volatile(nb)
        nb.metadata["lancs_evidence"] = {"page": page.key, "params": page.params}
        return PageResult(page.key, page.label, "ran", time.perf_counter() - start, notebook=nbformat.writes(nb), reads=reads)
    except Exception as exc:  # a page's failure is reported, not raised: the others go on
        error = _describe_error(exc, nb)
        text = ""
        if nb is not None:
            with contextlib.suppress(Exception):
                text = nbformat.writes(nb)
        return PageResult(page.key, page.label, "failed", time.perf_counter() - start, error, text)


class PageTimeout(Exception):
    def __init__(self, page: PageJob, limit: float):
        super().__init__(f"timed out: {page.label} ran for more than {limit:g} s and was stopped "
                         "(the per-page limit is `lancs_evidence: page_timeout` in _config.yml, or --timeout)")


def _describe_error(exc: Exception, nb=None) -> str:
    name = type(exc).__name__
    if name == "CellExecutionError":
        where, ename, evalue = "a cell", getattr(exc, "ename", "Error"), getattr(exc, "evalue", str(exc))
        cells = list(nb.cells) if nb is not None else []
        for i, cell in enumerate(cells):
            if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                where = f"cell {i + 1}"
                first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
                if first:
                    where += f" (the cell starting `{first[:60]}`)"
                break
        return f"{where} raised {ename}: {evalue}"
    if isinstance(exc, PageTimeout):
        return str(exc)
    return f"{name}: {exc}"


# --- the pool ----------------------------------------------------------------------------------------------------

def _set_parent_death_signal() -> None:
    """Ask Linux to kill this process when its parent dies (so a SIGKILLed build leaves no workers)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _watch_parent(parent: int) -> None:
    """A daemon thread: when the build that started this worker is gone, stop its kernels and exit."""
    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                stop_kernels(tidy=False)
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="lancs-evidence-parent-watch").start()


class _WorkerLoop(asyncio.SelectorEventLoop):
    """An event loop that leaves SIGINT and SIGTERM to the worker. nbclient puts its own handlers on both
    while a notebook runs (they only schedule a kernel clean-up, so a SIGTERM no longer stopped the
    worker: the build waited 10 s per worker before killing it) and, when the notebook ends, sets them back
    to Python's defaults rather than to ours (so a Ctrl-C would then have raised inside a worker). Refused
    here, nbclient carries on without them, as it does outside the main thread."""

    def add_signal_handler(self, sig, callback, *args):
        if sig in (signal.SIGINT, signal.SIGTERM):
            raise RuntimeError("a page worker keeps its own SIGINT and SIGTERM handlers")
        return super().add_signal_handler(sig, callback, *args)


class _WorkerLoopPolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = _WorkerLoop


def worker_init(log_path: str | None = None, parent: int | None = None) -> None:
    """Set up a local pool worker: quiet output, die with the parent (PR_SET_PDEATHSIG, and a watchdog that
    also stops its kernels), stop its kernels on SIGTERM. Ctrl-C is left to the parent, which stops the
    workers itself."""
    _set_parent_death_signal()
    if parent is not None:
        if os.getppid() != parent:  # the parent is already gone
            os._exit(1)
        _watch_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.set_event_loop_policy(_WorkerLoopPolicy())

    def on_term(*_):
        stop_kernels(tidy=False)
        os._exit(143)

    signal.signal(signal.SIGTERM, on_term)
    import atexit

    atexit.register(stop_kernels)
    if log_path:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)


class _LocalPool:
    """A process pool whose workers can be stopped at once (SIGTERM, then SIGKILL) on an interrupt."""

    def __init__(self, jobs: int, log_path: str | None):
        # spawn: workers are the build's own children, so they (and, through them, their kernels) die with it;
        # a forkserver would outlive a killed build and keep its workers alive
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                                        initializer=worker_init, initargs=(log_path, os.getpid()))

    def submit(self, fn, *args, **kwargs):
        return self.pool.submit(fn, *args, **kwargs)

    def stop(self) -> None:
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        for p in procs:
            with contextlib.suppress(Exception):
                p.terminate()
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                with contextlib.suppress(Exception):
                    p.kill()
                    p.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextlib.contextmanager
def make_executor(kind: str = "local", jobs: int | None = None, scheduler: str | None = None, log_path: str | None = None):
    """The local pool pages run in: a process pool of `jobs` workers (default: one per core) whose workers
    die with the build. `executors.make_executor` gives this for "local" and a Dask cluster for "dask"."""
    if kind != "local":
        raise UserError(f"unknown executor {kind!r}: only 'local' is available in this build")
    pool = _LocalPool(jobs or os.cpu_count() or 1, log_path)
    try:
        yield pool
    except BaseException:
        pool.stop()
        raise
    else:
        pool.shutdown(wait=True)


def _executor(kind: str, jobs: int, scheduler: str | None, log_path: str):
    from lancs_evidence.build.executors import make_executor as shared

    return shared(kind, jobs, scheduler, log=log_path)


class _LineProgress:
    """Progress for a log or CI: one line per finished page instead of a redrawn bar."""

    def __init__(self, total: int):
        self.total, self.done, self.label = total, 0, ""

    def set_postfix_str(self, label: str) -> None:
        self.label = label

    def update(self, n: int = 1) -> None:
        self.done += n
        print(f"notebooks: {self.done}/{self.total} {self.label}", file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


def _progress(total: int, wanted: bool):
    """A progress bar on a terminal, one line per page when output goes to a file or pipe, nothing if not wanted."""
    from tqdm import tqdm

    if wanted and not sys.stderr.isatty():
        return _LineProgress(total)
    return tqdm(total=total, desc="notebooks", unit="nb", disable=not wanted, leave=True)


# --- the client side ---------------------------------------------------------------------------------------------

def _remove_leftovers(pages: list[PageJob]) -> None:
    """Delete in-progress files a killed run left beside the page outputs (never a finished output)."""
    for folder in {p.output.parent for p in pages}:
        if folder.is_dir():
            for leftover in [*folder.glob(".*.running.ipynb"), *folder.glob(".*.tmp")]:
                leftover.unlink(missing_ok=True)


def is_current(page: PageJob, entry: dict | None, key: str, answers) -> bool:
    """True when the page's output can be trusted: same static key, the very file written, same answers."""
    if not entry or entry.get("key") != key or not page.output.exists():
        return False
    if file_sha(page.output) != entry.get("output"):
        return False
    return all(answers(q) == h for q, h in (entry.get("reads") or {}).items())


def run_pages(project: Project, areas: list[str] | None = None, jobs: int | None = None, force: bool = False,
              progress: bool = True, pages: list[PageJob] | None = None, timeout: float | None = None,
              executor: str = "local", scheduler: str | None = None) -> RunReport:
    from lancs_evidence.data.ledger import Answers

    started = time.perf_counter()
    pages = select(pages if pages is not None else discover(project), areas, project)
    limit = page_timeout(project, timeout)
    lock = lock_hash(project)
    cache = load_cache(project)
    answers = Answers(project.root)
    report = RunReport()
    _remove_leftovers(pages)
    todo: list[tuple[PageJob, str]] = []
    for page in pages:
        key = static_key(page, project, lock)
        if not force and is_current(page, cache.get(page.key), key, answers):
            report.runs.append(PageRun(page.key, page.label, "cached", cache[page.key].get("seconds", 0.0)))
        else:
            todo.append((page, key))
    failed_dir = project.build_dir / "failed"
    if todo:
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        bar = _progress(len(todo), progress)
        project.work.mkdir(parents=True, exist_ok=True)
        log = str(project.work / "kernels.log")
        root = str(project.root)
        try:
            with interrupts.handled(), _executor(executor, jobs, scheduler, log) as pool:
                futures = {pool.submit(execute_page, page, root, limit): (page, key) for page, key in todo}
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        page, key = futures[fut]
                        try:
                            result = fut.result()
                        except Exception as exc:  # the worker itself died (out of memory, killed): report the page
                            result = PageResult(page.key, page.label, "failed",
                                                error=f"the process running this page stopped ({type(exc).__name__}: {exc})")
                        report.runs.append(_settle(project, page, key, result, cache, failed_dir))
                        save_cache(project, cache)
                        bar.set_postfix_str(page.key.rsplit("/", 1)[-1])
                        bar.update(1)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            bar.close()
    report.wall = time.perf_counter() - started
    order = {p.key: i for i, p in enumerate(pages)}
    report.runs.sort(key=lambda o: order.get(o.page, 0))
    return report


def _settle(project: Project, page: PageJob, key: str, result: PageResult, cache: dict, failed_dir: Path) -> PageRun:
    """Write a finished page's output (atomically) and its cache record; keep a failed page for inspection."""
    if result.status == "ran":
        _atomic_write_text(page.output, result.notebook)
        cache[page.key] = {"key": key, "reads": result.reads, "output": file_sha(page.output),
                           "seconds": round(result.seconds, 2)}
        return PageRun(page.key, page.label, "ran", result.seconds)
    cache.pop(page.key, None)
    kept = ""
    if result.notebook:
        dest = failed_dir / (page.key.replace("/", "--") + ".ipynb")
        _atomic_write_text(dest, result.notebook)
        kept = str(dest)
    return PageRun(page.key, page.label, "failed", result.seconds, result.error, kept)
