"""Ctrl-C and SIGTERM: stop cleanly, and always within a bounded time.

The first Ctrl-C (or SIGTERM) raises KeyboardInterrupt in the command, whose clean-up stops the workers
and kernels it started and leaves the published site as it was. Clean-up goes through code the book does
not own (a process pool's manager thread, a Dask cluster closing), and a wait there must never keep a
user's terminal or a CI job hanging. So the first signal also starts a watchdog: if the command has not
ended `grace` seconds later (`LANCS_INTERRUPT_GRACE`, default 30), or a second Ctrl-C comes, every process
the command started is killed and it exits with code 130 at once. Nothing is published on either path:
publishing happens only after a complete, uninterrupted build.

The handlers are set even when the command starts with SIGINT ignored, as a script's background job does
(POSIX shells start those so, and Python then leaves Ctrl-C ignored): a build run that way by a CI job once
ignored the interrupt and ran on.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

DEFAULT_GRACE = 30.0
EXIT_CODE = 130
MESSAGE = "interrupted: the book was not built; the published site was left as it was."

_armed = threading.Event()


def grace() -> float:
    try:
        value = float(os.environ.get("LANCS_INTERRUPT_GRACE", DEFAULT_GRACE))
    except ValueError:
        return DEFAULT_GRACE
    return value if value > 0 else DEFAULT_GRACE


def descendant_pids() -> set[int]:
    """Every process below this one."""
    import psutil

    try:
        return {c.pid for c in psutil.Process().children(recursive=True)}
    except psutil.Error:
        return set()


def kill_descendants(spare: set[int] = frozenset()) -> int:
    """SIGKILL every process below this one (pool or Dask workers, kernels, trackers) except those in
    `spare`; how many were sent."""
    import psutil

    try:
        children = [c for c in psutil.Process().children(recursive=True) if c.pid not in spare]
    except psutil.Error:
        return 0
    sent = 0
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()
            sent += 1
    return sent


def hard_stop(why: str) -> None:
    """Kill what the command started and leave now (no clean-up code of ours or of a library runs)."""
    kill_descendants()
    with contextlib.suppress(Exception):
        print(f"{MESSAGE} ({why}: every process the build started was stopped)", file=sys.stderr, flush=True)
    os._exit(EXIT_CODE)


def _watchdog(seconds: float) -> None:
    time.sleep(seconds)
    hard_stop(f"clean-up took longer than {seconds:g} s")


def on_signal(signum, frame) -> None:
    """First signal: start the watchdog and interrupt the command. A second: stop at once."""
    if _armed.is_set():
        hard_stop("interrupted again")
    _armed.set()
    threading.Thread(target=_watchdog, args=(grace(),), daemon=True, name="lancs-evidence-interrupt-watchdog").start()
    raise KeyboardInterrupt


@contextlib.contextmanager
def handled():
    """Route SIGINT and SIGTERM to `on_signal` while the block runs (main thread only; nested use is a no-op)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is on_signal:
        yield
        return
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
