"""Shared fixtures. Tests build tiny projects with invented data (lancs_evidence.data.synthetic) using the
real templates and configuration, so the real pipeline is what gets tested."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lancs_evidence.build.book import ensure_vega_bundle
from lancs_evidence.data.project import Project
from lancs_evidence.data.synthetic import make_project

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "lancs_evidence.cli"]


IN_PROCESS = ("build", "run")  # commands run inside the test process (no interpreter start-up per call)


def run_cli(*args, root: Path | None = None, check: bool = False, env: dict | None = None,
            in_process: bool | None = None) -> subprocess.CompletedProcess:
    """Run `lancs-evidence ARGS`. `build` and `run` run in this process unless an environment is given
    (their notebooks and Sphinx still run in child processes); other commands in a subprocess."""
    argv = [*(["--root", str(root)] if root else []), *map(str, args)]
    cmd = [*CLI, *argv]
    if in_process is None:
        in_process = env is None and any(a in IN_PROCESS for a in map(str, args[:1]))
    if in_process:
        proc = _run_in_process(argv, cmd, root)
    else:
        full_env = {**os.environ, **(env or {})}
        full_env.pop("LANCS_EVIDENCE_ROOT", None)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=root or REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def _run_in_process(argv: list[str], cmd: list[str], root: Path | None) -> subprocess.CompletedProcess:
    import contextlib
    import io
    import traceback

    from lancs_evidence.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_root = os.environ.pop("LANCS_EVIDENCE_ROOT", None)
    cwd = os.getcwd()
    try:
        os.chdir(root or REPO)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except Exception:  # what a subprocess would print: the test then sees the traceback
                traceback.print_exc(file=err)
                code = 1
    finally:
        os.chdir(cwd)
        if saved_root is not None:
            os.environ["LANCS_EVIDENCE_ROOT"] = saved_root
    return subprocess.CompletedProcess(cmd, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def repo() -> Path:
    ensure_vega_bundle(Project(REPO))
    return REPO


@pytest.fixture
def tiny(tmp_path, repo) -> Path:
    """A fresh two-partnership project (not built)."""
    return make_project(tmp_path / "book", repo, n_areas=2)


@pytest.fixture(scope="session")
def tiny_built(tmp_path_factory, repo) -> Path:
    """A two-partnership project, built once for the session. Do not modify it."""
    root = make_project(tmp_path_factory.mktemp("built") / "book", repo, n_areas=2)
    run_cli("build", "-q", root=root, check=True)
    return root


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def edit_rows(path: Path, edit, added: list[dict] | None = None) -> list[dict]:
    """Rewrite a CSV of a test book: `edit(row)` changes each row in place; `added` rows go at the end
    (missing columns left blank). Returns the rows as they were read, before any were added."""
    import csv

    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0]) + [k for r in (added or []) for k in r if k not in rows[0]]
    for r in rows:
        edit(r)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(fields)), lineterminator="\n", restval="")
        w.writeheader()
        w.writerows(rows + list(added or []))
    return rows
