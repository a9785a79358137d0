"""Sphinx's parallel build (issue 17): `build --sphinx-jobs N|auto` publishes the same bytes as a serial
build, and a warning in one page still fails it.

The book here has seven pages (two localities, three partnerships), so Sphinx reads in parallel too: it
reads serially whatever the setting when it has five pages or fewer to read.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from lancs_evidence.build.book import sphinx_build
from lancs_evidence.build.sphinxjobs import book_page_count, parse_sphinx_jobs, sphinx_jobs, sphinx_jobs_setting
from lancs_evidence.data.project import Project, UserError
from lancs_evidence.data.synthetic import area_id, make_project

from .conftest import copy_project, run_cli


def site_files(root: Path) -> dict[str, bytes]:
    site = (root / "_build" / "html").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


# --- the setting -----------------------------------------------------------------------------------------

def test_the_setting_is_a_count_from_one_or_auto():
    assert parse_sphinx_jobs("auto", "x") == "auto"
    assert parse_sphinx_jobs(" AUTO ", "x") == "auto"
    assert parse_sphinx_jobs("3", "x") == 3
    assert parse_sphinx_jobs(2, "x") == 2
    for bad in ("0", 0, "-1", "2.5", "two", "", None, True):
        with pytest.raises(UserError):
            parse_sphinx_jobs(bad, "x")


def test_auto_is_serial_below_the_threshold_and_one_per_core_from_it(monkeypatch):
    import lancs_evidence.build.sphinxjobs as sj

    monkeypatch.setattr(sj, "SPHINX_JOBS_AUTO_FROM", 50)
    monkeypatch.setattr(sj.os, "cpu_count", lambda: 4)
    assert sphinx_jobs("auto", 49) == 1
    assert sphinx_jobs("auto", 50) == 4
    assert sphinx_jobs(1, 500) == 1  # a number set is used as it is
    assert sphinx_jobs(3, 5) == 3


def test_the_option_wins_over_the_config_which_wins_over_auto(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n", encoding="utf-8")
    project = Project(tmp_path)
    assert sphinx_jobs_setting(project) == "auto"
    (tmp_path / "_config.yml").write_text("title: t\nlancs_evidence:\n  sphinx_jobs: 2\n", encoding="utf-8")
    assert sphinx_jobs_setting(project) == 2
    assert sphinx_jobs_setting(project, "1") == 1
    (tmp_path / "_config.yml").write_text("lancs_evidence:\n  sphinx_jobs: lots\n", encoding="utf-8")
    with pytest.raises(UserError, match="lancs_evidence.sphinx_jobs"):
        sphinx_jobs_setting(project)


def test_pages_are_counted_from_the_table_of_contents(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: a\nparts:\n  - caption: One\n    chapters:\n      - file: b\n        sections:\n"
        "          - file: c\n          - file: d\n  - caption: Two\n    chapters:\n      - file: e\n", encoding="utf-8")
    assert book_page_count(Project(tmp_path)) == 5


def test_a_wrong_option_is_a_usage_error(tiny):
    proc = run_cli("build", "--sphinx-jobs", "0", root=tiny)
    assert proc.returncode == 2
    assert "--sphinx-jobs" in proc.stderr and "at least 1" in proc.stderr
    assert not (tiny / "_build" / "html").exists()


# --- whole builds ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def serial_built(tmp_path_factory, repo) -> Path:
    """A seven-page book built with one Sphinx process. Do not modify it."""
    root = make_project(tmp_path_factory.mktemp("serial") / "book", repo, n_areas=3, localities=2)
    proc = run_cli("build", "-q", "--sphinx-jobs", "1", root=root, check=True)
    assert "(1 Sphinx process)" in proc.stdout
    return root


@pytest.mark.slow
def test_two_sphinx_processes_publish_the_same_site_byte_for_byte(serial_built, tmp_path):
    root = copy_project(serial_built, tmp_path / "book")
    # the notebooks stay as run; Sphinx starts from nothing (no parsed pages, no record of the last publish)
    shutil.rmtree(root / "_build" / ".work" / "jb")
    (root / "_build" / ".work" / "published.json").unlink()
    proc = run_cli("build", "-q", "--sphinx-jobs", "2", root=root, check=True)
    assert "notebooks: 0 ran" in proc.stdout
    assert "(2 Sphinx processes)" in proc.stdout
    serial, parallel = site_files(serial_built), site_files(root)
    assert sorted(parallel) == sorted(serial)
    differing = [name for name in serial if serial[name] != parallel[name]]
    assert differing == []  # every file, the search index and the notebooks' copies included


def _add_markdown(notebook: Path, text: str) -> None:
    nb = nbformat.read(notebook, as_version=4)
    cell = nbformat.v4.new_markdown_cell(text)
    cell["id"] = "injected"
    nb.cells.append(cell)
    nbformat.write(nb, notebook)


@pytest.mark.slow
def test_a_warning_in_one_page_fails_a_parallel_build(serial_built, tmp_path):
    root = copy_project(serial_built, tmp_path / "book")
    districts = root / "chapters" / "districts"
    # one warning given while a page is read (in a reading process), one while pages are resolved
    _add_markdown(districts / f"{area_id(1)}.ipynb", ":::{no-such-directive}\nx\n:::\n")
    _add_markdown(districts / f"{area_id(3)}.ipynb", "See {ref}`no-such-label`.\n")
    code, log = sphinx_build(Project(root), root / "_build" / "jb-parallel", jobs=2, quiet=False, clean=True)
    assert code != 0
    assert "no-such-directive" in log
    assert "no-such-label" in log
    # the pages were read in parallel (a reading process takes a run of pages, "first .. last")
    assert any(line.startswith("reading sources") and " .. " in line
               for line in log.replace("\x1b[01m", "").replace("\x1b[39;49;00m", "").splitlines()), log[-3000:]
