"""Interrupts, kills, time limits and warm kernels, on tiny invented books (each test makes its own).

A *gate* cell in the district template makes a page announce that it started (a file) and then wait
until the test lets it go, so every test waits on a condition that proves the state it needs, never on time.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lancs_evidence.data.synthetic import area_id, expected, make_project

from .conftest import CLI, run_cli
from .test_reliability import page_text, set_cell, site_files

pytestmark = pytest.mark.slow

GATE = '''import os as _os, pathlib as _pl, time as _t
_gate = _os.environ.get("LX_TEST_GATE")
if _gate:
    _pl.Path(_gate, "started-" + area).touch()
    while not _pl.Path(_gate, "go").exists():
        _t.sleep(0.05)
'''


def add_gate(root: Path) -> None:
    tpl = root / "templates" / "district.md"
    text = tpl.read_text(encoding="utf-8")
    assert "page.glue_all()\n" in text
    tpl.write_text(text.replace("page.glue_all()\n", "page.glue_all()\n" + GATE, 1), encoding="utf-8")


def start_gated_build(root: Path, gate: Path) -> subprocess.Popen:
    gate.mkdir(exist_ok=True)
    env = {**os.environ, "LX_TEST_GATE": str(gate)}
    env.pop("LANCS_EVIDENCE_ROOT", None)
    return subprocess.Popen([*CLI, "--root", str(root), "build", "-q"], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition, what: str, proc: subprocess.Popen | None = None, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None:
            assert proc.poll() is None, f"the build ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"{what} did not happen within {limit} s"
        time.sleep(0.05)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (pool workers, the forkserver, kernels)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(p)
    return out


def kernel_pids(tree: set[int]) -> set[int]:
    out = set()
    for p in tree:
        try:
            if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes():
                out.add(p)
        except OSError:
            pass
    return out


@pytest.fixture
def gated(tmp_path, repo):
    root = make_project(tmp_path / "book", repo, n_areas=2)
    add_gate(root)
    run_cli("build", "-q", root=root, check=True)
    return root


def test_interrupt_then_revert_never_publishes_the_reverted_away_value(gated, tmp_path):
    """Issue 15.1: change a value, Ctrl-C the build while pages run, revert, rebuild: the value that was
    reverted away must appear nowhere, although the interrupted pages were let go after the interrupt."""
    root, gate = gated, tmp_path / "gate"
    original = f"over {expected(1)['people_supported']:,}"
    assert original in page_text(root, f"chapters/districts/{area_id(1)}.html")
    set_cell(root, "data/2024-25/figures.csv", f"eoy-{area_id(1)}-people-supported", "value", "4321")
    proc = start_gated_build(root, gate)
    wait_for(lambda: any(gate.glob("started-*")), "a page started", proc)
    tree = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    out, err = proc.communicate(timeout=120)
    (gate / "go").touch()  # a worker that outlived the interrupt would now finish and write its page
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    wait_for(lambda: not alive(tree), "every worker and kernel stopped", limit=60)
    set_cell(root, "data/2024-25/figures.csv", f"eoy-{area_id(1)}-people-supported", "value",
             str(expected(1)["people_supported"]))
    again = run_cli("build", "-q", root=root, check=True)
    assert "notebooks:" in again.stdout
    assert original in page_text(root, f"chapters/districts/{area_id(1)}.html")
    for rel, data in site_files(root).items():
        if rel.endswith(".html"):
            assert b"4,321" not in data and b"4321" not in data, rel
    for nb in (root / "chapters").rglob("*.ipynb"):
        assert "4321" not in nb.read_text(encoding="utf-8") and "4,321" not in nb.read_text(encoding="utf-8"), nb


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_build_leaves_no_worker_or_kernel_running(gated, tmp_path, sig):
    """Issue 15.2: SIGKILL of the parent alone (no handler can run) or SIGTERM: no orphans, nothing left
    behind, the site as it was; the next build succeeds."""
    root, gate = gated, tmp_path / "gate"
    before = site_files(root)
    set_cell(root, "data/2024-25/figures.csv", f"eoy-{area_id(2)}-people-supported", "value", "2468")
    proc = start_gated_build(root, gate)
    wait_for(lambda: any(gate.glob("started-*")), "a page started", proc)
    wait_for(lambda: kernel_pids(descendants(proc.pid)), "a kernel is running", proc)
    tree = descendants(proc.pid)
    assert kernel_pids(tree)
    os.kill(proc.pid, sig)  # the parent only: its workers and kernels must go by themselves
    proc.communicate(timeout=120)
    if sig == signal.SIGTERM:
        assert proc.returncode == 130
    wait_for(lambda: not alive(tree), "every worker and kernel of the killed build stopped", limit=60)
    assert site_files(root) == before
    assert not list((root / "chapters").rglob(".*running*")) and not list((root / "chapters").rglob(".*.tmp"))
    again = run_cli("build", "-q", root=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "over 2,468" in page_text(root, f"chapters/districts/{area_id(2)}.html")


def test_a_page_over_its_time_limit_is_stopped_with_a_message_naming_it(tmp_path, repo):
    from lancs_evidence.build.jobs import discover
    from lancs_evidence.build.runner import run_pages
    from lancs_evidence.data.project import Project

    root = make_project(tmp_path / "book", repo, n_areas=1)
    add_gate(root)
    os.environ["LX_TEST_GATE"] = str(tmp_path)  # the page waits for a "go" that never comes
    try:
        project = Project(root)
        page = next(p for p in discover(project) if p.area == area_id(1))
        report = run_pages(project, pages=[page], timeout=5, progress=False, jobs=1)
    finally:
        del os.environ["LX_TEST_GATE"]
    assert [o.status for o in report.runs] == ["failed"]
    msg = report.summary()
    assert f"FAILED chapters/districts/{area_id(1)} (area {area_id(1)}): timed out" in msg
    assert "more than 5 s" in msg and "page_timeout" in msg and "--timeout" in msg
    assert not page.output.exists()


def test_a_warm_kernel_gives_the_same_notebook_as_a_fresh_one(tmp_path, repo):
    """Pages share a kernel (no start-up per page) but each starts from a clean state."""
    from lancs_evidence.build import runner
    from lancs_evidence.build.jobs import discover
    from lancs_evidence.data.project import Project

    root = make_project(tmp_path / "book", repo, n_areas=2)
    project = Project(root)
    pages = {p.key: p for p in discover(project)}
    one, two = pages[f"chapters/districts/{area_id(1)}"], pages[f"chapters/districts/{area_id(2)}"]
    try:
        runner.stop_kernels()
        fresh = runner.execute_page(two, str(root))
        kernel = runner._kernel(str(root))
        assert kernel.pages == 1
        runner.execute_page(one, str(root))  # leaves its own names and caches behind in the kernel
        warm = runner.execute_page(two, str(root))
        assert runner._kernel(str(root)) is kernel and kernel.pages == 3  # the same kernel served all three
    finally:
        runner.stop_kernels()
    assert fresh.status == warm.status == "ran", fresh.error + warm.error
    assert warm.notebook == fresh.notebook
    assert warm.reads == fresh.reads


WORKER_SIGNALS = r"""
import os, signal, sys
import nbformat
from nbclient import NotebookClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from lancs_evidence.build.runner import worker_init

worker_init(None, os.getppid())
km = AsyncKernelManager(kernel_name="python3")
run_sync(km.start_kernel)()
try:
    NotebookClient(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), km=km).execute()
finally:
    run_sync(km.shutdown_kernel)(now=True)
term = signal.getsignal(signal.SIGTERM)
print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN, callable(term) and term not in (signal.SIG_DFL, signal.SIG_IGN))
"""


def test_a_page_worker_keeps_its_own_signal_handlers_after_running_a_notebook(tmp_path):
    """nbclient puts handlers on SIGINT and SIGTERM while a notebook runs and resets them to Python's defaults
    after it: in a page worker SIGINT must stay ignored and SIGTERM must still stop the worker."""
    proc = subprocess.run([CLI[0], "-c", WORKER_SIGNALS], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"]
