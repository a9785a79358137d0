"""Running pages on Dask (issue 17): the same site as the local pool, worker loss, Ctrl-C, bad options.

Clusters here are `LocalCluster`s of worker processes on this machine, started and closed by the code
under test. Every wait is on a condition that proves the state (a file, a process), never a fixed sleep.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lancs_evidence.build.executors import ExecutorError, make_executor
from lancs_evidence.data.synthetic import area_id, expected, make_project

from .conftest import CLI, run_cli
from .test_interrupts import descendants


def site_files(root: Path) -> dict[str, bytes]:
    site = (root / "_build" / "html").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def wait_for(condition, what: str, limit: float = 300.0, poll: float = 0.02):
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting for {what} after {limit:.0f} s"
        time.sleep(poll)


# A gate cell in the district template: the page announces it started, naming the worker process that
# runs it (its kernel's parent), then waits until the test lets it go. Tests wait on that file, never on time.
WORKER_GATE = '''import os as _os, pathlib as _pl, time as _t
_gate = _os.environ.get("LX_TEST_GATE")
if _gate:
    _pl.Path(_gate, f"started-{area}-{_os.getppid()}").touch()
    while not _pl.Path(_gate, "go").exists():
        _t.sleep(0.05)
'''


def gated_project(root: Path, gate: Path) -> dict:
    tpl = root / "templates" / "district.md"
    text = tpl.read_text(encoding="utf-8")
    assert "page.glue_all()\n" in text
    tpl.write_text(text.replace("page.glue_all()\n", "page.glue_all()\n" + WORKER_GATE, 1), encoding="utf-8")
    gate.mkdir(exist_ok=True)
    env = {**os.environ, "LX_TEST_GATE": str(gate)}
    env.pop("LANCS_EVIDENCE_ROOT", None)
    return env


def first_started(gate: Path, proc: subprocess.Popen) -> tuple[str, int] | list[str]:
    """(area, worker pid) of the first page that reached the gate, or ["ended"] if the command ended first."""
    found = sorted(gate.glob("started-*"))
    if found:
        area, pid = found[0].name.removeprefix("started-").rsplit("-", 1)
        return area, int(pid)
    return ["ended"] if proc.poll() is not None else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- the executor on its own (fast: no notebooks) ------------------------------------------------

def test_unknown_executor_and_misplaced_scheduler_are_refused():
    with pytest.raises(ExecutorError, match="unknown executor 'spark'"):
        with make_executor("spark"):
            pass
    with pytest.raises(ExecutorError, match="--scheduler needs --executor dask"):
        with make_executor("local", scheduler="tcp://127.0.0.1:8786"):
            pass


def test_local_executor_runs_tasks_in_other_processes():
    with make_executor("local", jobs=2) as pool:
        pids = {pool.submit(os.getpid).result() for _ in range(4)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_dask_executor_futures_work_with_concurrent_futures_waiting():
    from concurrent.futures import as_completed

    with make_executor("dask", jobs=2) as pool:
        futures = {pool.submit(pow, n, 2): n for n in range(6)}
        got = {futures[f]: f.result() for f in as_completed(futures, timeout=120)}
    assert got == {0: 0, 1: 1, 2: 4, 3: 9, 4: 16, 5: 25}


def test_a_task_whose_worker_dies_is_retried_once_then_reported(tmp_path):
    attempts = tmp_path / "attempts.txt"

    def die(path: str) -> None:  # a closure, so Dask ships it by value to the workers
        import os
        import signal

        with open(path, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        os.kill(os.getpid(), signal.SIGKILL)

    import dask

    # the LocalCluster's scheduler runs in this process and reads Dask's limit on worker deaths when it starts
    with dask.config.set({"distributed.scheduler.allowed-failures": 2}):
        with make_executor("dask", jobs=2) as pool:
            fut = pool.submit(die, str(attempts))
            with pytest.raises(Exception) as err:
                fut.result(timeout=300)
    assert type(err.value).__name__ == "KilledWorker"
    pids = attempts.read_text().split()
    # ran again in another worker process after the first died, and was given up after the allowed deaths
    # (three at most: a nanny closed while restarting can count as a death without running the task)
    assert 2 <= len(pids) <= 3 and len(set(pids)) == len(pids)


def test_interrupt_cancels_tasks_and_leaves_no_worker_running():
    def block() -> None:
        import time

        time.sleep(3600)

    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        with make_executor("dask", jobs=2) as pool:
            pool.client.wait_for_workers(2, timeout=120)
            pids += list(pool.client.run(os.getpid).values())
            fut = pool.submit(block)
            wait_for(lambda: pool.client.processing() and any(pool.client.processing().values()), "the task to start")
            raise KeyboardInterrupt
    assert len(pids) == 2
    wait_for(lambda: not any(alive(p) for p in pids), "the worker processes to end", limit=120)
    assert fut.done()


def test_cli_reports_bad_executor_options_without_a_traceback(tiny):
    proc = run_cli("run", "--scheduler", "tcp://127.0.0.1:8786", root=tiny)
    assert proc.returncode == 1
    assert "--scheduler is for a Dask cluster: add --executor dask" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    proc = run_cli("run", "--executor", "ray", root=tiny)
    assert proc.returncode == 2 and "invalid choice: 'ray'" in proc.stderr


def test_an_unreachable_scheduler_is_a_clear_error(tiny):
    proc = run_cli("build", "-q", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", root=tiny,
                   env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"})
    assert proc.returncode == 1
    assert "could not connect to the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tiny / "_build" / "html").exists()  # nothing published


# --- whole runs on a tiny book ----------------------------------------------------------------------

@pytest.mark.slow
def test_a_two_worker_local_cluster_builds_the_same_site_as_the_local_pool(tmp_path, repo, tiny_built):
    # tiny_built is the same invented two-partnership book, built with the default (local) executor
    root = make_project(tmp_path / "book", repo, n_areas=2)
    proc = run_cli("build", "-q", "--executor", "dask", "-j", "2", root=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "notebooks: 6 ran, 0 unchanged, 0 failed" in proc.stdout
    ours, local = site_files(root), site_files(tiny_built)
    assert sorted(ours) == sorted(local)
    differing = [name for name in ours if ours[name] != local[name]]
    assert differing == []  # byte for byte, including the notebooks' copies in _sources
    for nb in sorted((tiny_built / "chapters").rglob("*.ipynb")):
        rel = nb.relative_to(tiny_built)
        assert (root / rel).read_bytes() == nb.read_bytes() or rel.name == "status.ipynb", rel


@pytest.mark.slow
def test_a_worker_killed_mid_page_loses_and_duplicates_nothing(tmp_path, repo):
    root = make_project(tmp_path / "book", repo, n_areas=3)
    areas = [area_id(i) for i in (1, 2, 3)]
    gate = tmp_path / "gate"
    env = gated_project(root, gate)
    cmd = [*CLI, "--root", str(root), "run", "-q", "--executor", "dask", "-j", "2", *(f"--area={a}" for a in areas)]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    districts = root / "chapters" / "districts"
    try:
        started = wait_for(lambda: first_started(gate, proc), "a page to start on a worker")
        assert started != ["ended"], "the run ended before any page started"
        _area, pid = started
        os.kill(pid, signal.SIGKILL)  # the worker dies while its page is held at the gate
        (gate / "go").touch()  # the other pages, and the retried one, may now finish
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out + err
    assert "notebooks: 3 ran, 0 unchanged, 0 failed" in out
    ran = re.search(r"^ran: (.*)$", out, re.M).group(1).split(", ")
    assert sorted(ran) == [f"chapters/districts/{a}" for a in areas]  # each page once: none lost, none twice
    for i, a in enumerate(areas, start=1):
        nb = json.loads((districts / f"{a}.ipynb").read_text(encoding="utf-8"))
        assert nb["metadata"]["lancs_evidence"]["params"]["area"] == a
        text = json.dumps(nb)
        assert f"over {expected(i)['people_supported']:,}<" in text  # the page's own figure, with its qualifier
        assert '"output_type": "error"' not in text
    assert not list(districts.glob(".*running*")) and not list(districts.glob(".*.tmp"))
    cache = json.loads((root / "_build" / ".work" / "cache.json").read_text(encoding="utf-8"))
    assert sorted(cache) == [f"chapters/districts/{a}" for a in areas]


def process_tree(pid: int) -> list[int]:
    return [pid, *descendants(pid)]


@pytest.mark.slow
def test_ctrl_c_during_a_dask_build_stops_everything_and_publishes_nothing(tmp_path, repo):
    root = make_project(tmp_path / "book", repo, n_areas=2)
    gate = tmp_path / "gate"
    env = gated_project(root, gate)
    proc = subprocess.Popen([*CLI, "--root", str(root), "build", "-q", "--executor", "dask", "-j", "2"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        running = wait_for(lambda: first_started(gate, proc), "a page to start on a worker")
        assert running != ["ended"], "the build ended before any page started"
        worker = running[1]
        started = process_tree(proc.pid)
        assert worker in started  # the worker is one of the command's own processes
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert "interrupted: the book was not built; the published site was left as it was." in err
    assert "Traceback" not in out + err
    wait_for(lambda: not any(alive(p) for p in started), "every process of the build to end", limit=120)
    assert not (root / "_build" / "html").exists()
