"""Shared fixtures. Tests build tiny projects with invented data (lancs_evidence.synthetic) using the
real templates and configuration, so the real pipeline is what gets tested."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lancs_evidence.build import ensure_vega_bundle
from lancs_evidence.project import Project
from lancs_evidence.synthetic import make_project

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "lancs_evidence.cli"]


def run_cli(*args, root: Path | None = None, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [*CLI, *(["--root", str(root)] if root else []), *map(str, args)]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LANCS_EVIDENCE_ROOT", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=root or REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


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
