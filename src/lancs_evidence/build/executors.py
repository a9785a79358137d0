"""Where page notebooks run: a local process pool (the default) or a Dask distributed cluster.

`make_executor(kind, jobs, scheduler)` is a context manager yielding an object with the
`concurrent.futures.Executor` interface whose futures are real `concurrent.futures.Future`s, so the
runner waits on them with `as_completed` whichever kind it is. The runner's worker function returns the
executed notebook as text; only the client process writes outputs and the cache, so a remote worker
never needs write access to the project.

- "local": a process pool (forkserver, one worker per core), its workers' console noise sent to a log.
- "dask": a `distributed.LocalCluster` (processes, one thread each, no dashboard) when no scheduler is
  given, else a `Client` connected to an existing scheduler (one started by dask-jobqueue on HPC, or by
  dask-kubernetes). Each page is one task, submitted with `retries=1` and `pure=False`. A worker lost
  mid-run has its pages re-run elsewhere by the scheduler; on a cluster we start, a page whose worker
  keeps dying is failed by Dask (`KilledWorker`, after `distributed.scheduler.allowed-failures` deaths)
  rather than killing workers for ever; the runner reports it like any failed page.
  Leaving the block (also by Ctrl-C or an error) cancels every future still pending and closes the
  client and any cluster we started, so no worker process is left behind.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lancs_evidence.build.interrupts import descendant_pids, kill_descendants
from lancs_evidence.data.project import UserError

KINDS = ("local", "dask")


class ExecutorError(UserError):
    """The executor could not be started (bad kind, unreachable scheduler)."""


def _quiet_worker(log_path: str) -> None:
    """Send a worker's (and its kernels') console noise to a log file instead of the user's terminal."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)


def _quiet_dask_plugin(log_path: str):
    """A Dask worker plugin doing `_quiet_worker` in each worker of a cluster we started ourselves
    (also in a worker the nanny restarts). Made here so that `distributed` is imported only when used."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class QuietWorker(WorkerPlugin):
        name = "lancs-evidence-quiet"

        def setup(self, worker) -> None:
            _quiet_worker(log_path)

        def teardown(self, worker) -> None:
            from lancs_evidence.build.runner import stop_kernels  # the warm kernels this worker started die with it

            stop_kernels()

    return QuietWorker()


class DaskExecutor(cf.Executor):
    """`concurrent.futures.Executor` over a `distributed.Client`.

    `submit` sends one task (with `retries`, never deduplicated: `pure=False`) and returns a plain
    `concurrent.futures.Future` resolved from the Dask future, so `cf.as_completed`/`cf.wait` work.
    """

    def __init__(self, client, retries: int = 1):
        self.client = client
        self.retries = retries
        self._lock = threading.Lock()
        self._pending: dict = {}  # Dask future key -> Dask future, until it resolves
        self._closed = False

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a closed executor")
            dfut = self.client.submit(fn, *args, retries=self.retries, pure=False, **kwargs)
            self._pending[dfut.key] = dfut
        out: cf.Future = cf.Future()
        out.set_running_or_notify_cancel()

        def resolve(d) -> None:
            with self._lock:
                self._pending.pop(d.key, None)
            try:
                if d.status == "cancelled":
                    out.set_exception(cf.CancelledError(f"task {d.key} was cancelled"))
                else:
                    out.set_result(d.result(timeout=60))
            except BaseException as exc:  # the task's error (or KilledWorker) goes to whoever waits on it
                if not out.done():
                    out.set_exception(exc)

        dfut.add_done_callback(resolve)
        return out

    def cancel_all(self) -> None:
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        if pending:
            try:
                self.client.cancel(pending, force=True)
            except Exception:  # the client may already be closing; the cluster shutdown ends the tasks
                pass

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
        if cancel_futures:
            self.cancel_all()


def _close_quietly(client, cluster, before: set[int]) -> None:
    """Close the client and the cluster we started. Closing can fail inside Dask (seen here: a nanny asked to
    close while it restarts a killed worker asserts "can only join a started process"); the build's own
    result stands, so then the processes the cluster started are killed instead of left running."""
    try:
        client.close()
        if cluster is not None:
            cluster.close()
    except Exception:
        if cluster is not None:
            kill_descendants(spare=before)


def default_jobs(jobs: int | None) -> int:
    return max(1, jobs or os.cpu_count() or 1)


@contextmanager
def make_executor(kind: str = "local", jobs: int | None = None, scheduler: str | None = None, *,
                  log: str | None = None) -> Iterator[cf.Executor]:
    """Yield an executor of `kind` ("local" or "dask"); close it (and anything it started) on exit.

    `jobs`: worker processes for a pool or LocalCluster we start (default: the number of cores).
    `scheduler`: address of an existing Dask scheduler (kind "dask" only).
    `log`: file that receives the console output of workers we start (and their kernels).
    """
    if kind not in KINDS:
        raise ExecutorError(f"unknown executor {kind!r}: use one of {', '.join(KINDS)}")
    if scheduler and kind != "dask":
        raise ExecutorError("--scheduler needs --executor dask")
    if kind == "local":
        with _local(jobs, log) as pool:
            yield pool
    else:
        with _dask(jobs, scheduler, log) as pool:
            yield pool


def _local(jobs: int | None, log: str | None):
    """The runner's process pool: forkserver workers that die with the build and stop their kernels."""
    from lancs_evidence.build.runner import make_executor as local_pool

    return local_pool("local", default_jobs(jobs), log_path=log)


@contextmanager
def _dask(jobs: int | None, scheduler: str | None, log: str | None) -> Iterator[cf.Executor]:
    import dask
    from distributed import Client, LocalCluster

    cluster = None
    before = descendant_pids()  # the processes a LocalCluster starts are the ones not here yet
    try:
        if scheduler:
            try:
                # how long to try is Dask's own setting (distributed.comm.timeouts.connect, 30 s unless configured,
                # for example by DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s)
                client = Client(scheduler, timeout=dask.config.get("distributed.comm.timeouts.connect", "30s"))
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(f"could not connect to the Dask scheduler at {scheduler}: {exc}") from None
        else:
            # Dask's own limit on worker deaths applies (`distributed.scheduler.allowed-failures`, 3 unless
            # configured). Not lowered to 1: under load a nanny restarting a killed worker can be closed by
            # the cluster while it takes over the page, which Dask counts as a second death (seen here).
            # LANCS_DASK_LOG_LEVEL (a logging level number) shows the cluster's own log when diagnosing.
            cluster = LocalCluster(n_workers=default_jobs(jobs), threads_per_worker=1, processes=True,
                                   dashboard_address=None,
                                   silence_logs=int(os.environ.get("LANCS_DASK_LOG_LEVEL", logging.ERROR)))
            client = Client(cluster)
            if log:
                client.register_plugin(_quiet_dask_plugin(log))
    except ExecutorError:
        raise
    except Exception as exc:
        if cluster is not None:
            cluster.close()
        raise ExecutorError(f"could not start the Dask executor: {type(exc).__name__}: {exc}") from None
    pool = DaskExecutor(client, retries=1)
    try:
        yield pool
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise
    finally:
        pool.shutdown()
        _close_quietly(client, cluster, before)
