"""Fast checks of what decides a re-run (recorded reads, the output hash), the build lock and publishing.

No notebook runs here: the data layer's recording, the cache's trust rule and the publish/prune rules are
exercised on a tiny invented project and hand-made site folders.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from lancs_evidence.build.book import LockHeld, build_lock, complete_sites, publish
from lancs_evidence.build.jobs import discover
from lancs_evidence.build.runner import is_current, page_timeout, strip_volatile
from lancs_evidence.data import ledger
from lancs_evidence.data.ledger import Answers, Data
from lancs_evidence.data.project import Project
from lancs_evidence.data.synthetic import area_id

from .test_reliability import set_cell


def _reads_of(root: Path, fn) -> dict[str, str]:
    ledger.start_recording(root)
    try:
        fn(Data(root, "2024-25"))
    finally:
        reads = ledger.stop_recording()
    return reads


def test_a_page_is_recorded_reading_exactly_the_rows_it_was_served(tiny):
    reads = _reads_of(tiny, lambda d: d.rows_for(area_id(1)))
    assert list(reads) == [json.dumps(["data", "2024-25", "rows_for", area_id(1), "figures", None])]
    # the ledger read behind rows_for, and the areas table it consults, are the data layer's own reads


def test_files_opened_outside_the_data_layer_are_recorded_whole(tiny):
    def read_descriptor(_):
        (tiny / "data" / "datapackage.json").read_text(encoding="utf-8")

    reads = _reads_of(tiny, read_descriptor)
    assert reads == {json.dumps(["file", "data/datapackage.json"]): ledger.file_hash(tiny / "data" / "datapackage.json")}


def test_project_years_is_a_recorded_read(tiny):
    reads = _reads_of(tiny, lambda _: Project(tiny).current_year())
    assert json.dumps(["file", "data/years.csv"]) in reads


def test_answers_change_only_when_the_served_rows_change(tiny):
    reads = _reads_of(tiny, lambda d: (d.rows_for(area_id(1)), d.reference_meta("population")))
    before = {q: Answers(tiny)(q) for q in reads}
    assert before == reads  # asking again of unchanged data gives the recorded answers
    set_cell(tiny, "data/2024-25/figures.csv", f"eoy-{area_id(2)}-people-supported", "value", "5555")
    assert {q: Answers(tiny)(q) for q in reads} == reads  # another area's row: nothing this page read
    set_cell(tiny, "data/2024-25/figures.csv", f"eoy-{area_id(1)}-people-supported", "value", "5555")
    changed = {q for q in reads if Answers(tiny)(q) != reads[q]}
    assert changed == {json.dumps(["data", "2024-25", "rows_for", area_id(1), "figures", None])}


def test_a_selection_of_ledger_rows_is_recorded_as_those_rows_only(tiny):
    """Chapters pick rows by id or section (`Data.select`); a change to a row they did not pick leaves their
    record's answers as they were, so the chapter is not re-run."""
    mine = f"eoy-{area_id(1)}-people-supported"
    reads = _reads_of(tiny, lambda d: d.select("figures", ids=[mine]))
    assert list(reads) == [json.dumps(["data", "2024-25", "select", "figures", [mine], None, None, None, None, None, None])]
    set_cell(tiny, "data/2024-25/figures.csv", f"eoy-{area_id(2)}-people-supported", "value", "5555")
    assert {q: Answers(tiny)(q) for q in reads} == reads
    set_cell(tiny, "data/2024-25/figures.csv", mine, "value", "5555")
    assert all(Answers(tiny)(q) != h for q, h in reads.items())


def test_select_filters_combine_and_keep_the_order_of_ids_asked_for(tiny):
    d = Data(tiny, "2024-25")
    ids = [f"eoy-{area_id(2)}-people-supported", f"eoy-{area_id(1)}-people-supported"]
    assert list(d.select("figures", ids=ids)["id"]) == ids
    assert set(d.select("figures", areas=[area_id(1)])["area"]) == {area_id(1)}
    hub = f"ini-{area_id(1)}-hub"
    assert set(d.select("figures", initiatives=[hub])["initiative"]) == {hub}
    assert d.select("figures", initiatives=[]).empty  # no initiatives asked for: no rows, not every row
    with pytest.raises(KeyError, match="no figures row with id nope"):
        d.select("figures", ids=["nope"])
    with pytest.raises(ValueError, match="not a ledger table"):
        d.select("areas")


def test_reference_metadata_change_is_seen(tiny):
    reads = _reads_of(tiny, lambda d: d.reference_meta("population"))
    meta = tiny / "data" / "reference" / "population.meta.json"
    m = json.loads(meta.read_text(encoding="utf-8"))
    m["publisher"] = "Someone Else"
    meta.write_text(json.dumps(m), encoding="utf-8")
    assert all(Answers(tiny)(q) != h for q, h in reads.items())


def test_a_query_that_now_fails_means_rerun(tiny):
    reads = _reads_of(tiny, lambda d: d.reference("population"))
    (tiny / "data" / "reference" / "population.csv").unlink()
    assert all(Answers(tiny)(q).startswith("error") for q in reads)


def test_an_output_file_changed_behind_the_cache_is_not_trusted(tiny):
    project = Project(tiny)
    page = next(p for p in discover(project) if p.area == area_id(1))
    page.output.parent.mkdir(parents=True, exist_ok=True)
    page.output.write_text("built from the current data\n", encoding="utf-8")
    import hashlib

    entry = {"key": "k", "reads": {}, "output": hashlib.sha256(page.output.read_bytes()).hexdigest()}
    answers = Answers(tiny)
    assert is_current(page, entry, "k", answers)
    assert not is_current(page, entry, "another key", answers)
    page.output.write_text("written by a worker after an interrupt\n", encoding="utf-8")
    assert not is_current(page, entry, "k", answers)
    page.output.unlink()
    assert not is_current(page, entry, "k", answers)


def test_cell_ids_and_execution_counts_are_fixed():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("a"), nbformat.v4.new_code_cell("1")])
    nb.cells[1].execution_count = 57  # a warm kernel's counter after other pages
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=57)]
    strip_volatile(nb)
    assert [c["id"] for c in nb.cells] == ["cell-0", "cell-1"]
    assert nb.cells[1].execution_count == 1 and nb.cells[1].outputs[0]["execution_count"] == 1


def test_page_timeout_comes_from_config_unless_overridden(tiny):
    project = Project(tiny)
    assert page_timeout(project) == 300
    cfg = tiny / "_config.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\nlancs_evidence:\n  page_timeout: 42\n", encoding="utf-8")
    assert page_timeout(project) == 42
    assert page_timeout(project, 7) == 7
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("42", "soon"), encoding="utf-8")
    from lancs_evidence.data.project import UserError

    with pytest.raises(UserError, match="page_timeout must be a number of seconds"):
        page_timeout(project)


# --- two builds at once ------------------------------------------------------------------------------------

def test_a_second_build_says_who_holds_the_lock_and_stops(tiny, capsys):
    from lancs_evidence.cli import main

    project = Project(tiny)
    with build_lock(project):
        code = main(["--root", str(tiny), "build", "-q"])
    err = capsys.readouterr().err
    assert code == 3
    assert "another build is running in this project" in err and f"process {os.getpid()}" in err
    assert "--wait" in err
    assert not (tiny / "_build" / "html").exists()


def test_with_wait_the_second_build_waits_for_the_first(tiny):
    project = Project(tiny)
    got = threading.Event()
    holder_released = threading.Event()

    def second():
        with build_lock(project, wait=True):
            assert holder_released.is_set()  # it only got the lock after the first let go
            got.set()

    with build_lock(project):
        t = threading.Thread(target=second)
        t.start()
        t.join(timeout=0.5)
        assert not got.is_set()
        holder_released.set()
    t.join(timeout=60)
    assert got.is_set()


def test_the_lock_names_its_holder_even_for_run(tiny):
    project = Project(tiny)
    with build_lock(project, what="run"):
        with pytest.raises(LockHeld, match="lancs-evidence run, process"):
            with build_lock(project):
                pass


# --- publishing ----------------------------------------------------------------------------------------------

def _built(tmp: Path, name: str) -> Path:
    d = tmp / f"built-{name}"
    d.mkdir()
    (d / "index.html").write_text(f"<html><body>{name}</body></html>", encoding="utf-8")
    return d


def test_a_killed_publish_never_costs_the_last_complete_site(tiny, tmp_path):
    project = Project(tiny)
    a = publish(project, _built(tmp_path, "a"))
    b = publish(project, _built(tmp_path, "b"))
    assert project.site.resolve() == b.resolve() and a.exists()
    # a publish killed while copying: a half-written folder, never marked complete
    partial = project.build_dir / "site" / ".partial-20991231-235959-000000001-1"
    partial.mkdir()
    (partial / "half.html").write_text("<html>", encoding="utf-8")
    assert complete_sites(project.build_dir / "site") == [a, b]
    d = publish(project, _built(tmp_path, "d"))
    sites = sorted(p.name for p in (project.build_dir / "site").iterdir())
    assert sites == sorted([b.name, d.name])  # the current one and the last complete one before it
    assert (project.site / "index.html").read_text(encoding="utf-8").count("d") >= 1
    assert (b / "index.html").exists()


def _key_changes_when(tiny, tmp_path, monkeypatch, rel: str, addition: str) -> bool:
    """Whether a district page's static key changes when `addition` is appended to the package file `rel`
    (in a copy of the package the project is pointed at)."""
    import shutil

    from lancs_evidence.build.jobs import lock_hash, static_key

    pkg = tmp_path / "pkg"
    shutil.copytree(Project(tiny).src_package, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(Project, "src_package", property(lambda self: pkg))
    project = Project(tiny)
    district = next(p for p in discover(project) if p.area == area_id(1))
    before = static_key(district, project, lock_hash(project))
    target = pkg / rel
    target.write_text(target.read_text(encoding="utf-8") + addition, encoding="utf-8")
    return static_key(district, project, lock_hash(project)) != before


def test_a_change_to_a_src_function_changes_the_key_of_pages_that_import_it(tiny, tmp_path, monkeypatch):
    """The static key covers the package modules a page imports (followed through their imports);
    pages/fmt.py is imported by the views every page uses."""
    assert _key_changes_when(tiny, tmp_path, monkeypatch, "pages/fmt.py", "\n\ndef added_helper():\n    return 1\n")


def test_a_change_to_a_page_template_changes_the_key_of_pages_that_render_it(tiny, tmp_path, monkeypatch):
    """Templates are not Python modules, so the import closure alone would miss them; the key covers the
    templates pages/html.py renders."""
    assert _key_changes_when(tiny, tmp_path, monkeypatch, "pages/templates/chart.html.j2", "<!-- changed -->")


def test_a_change_to_a_module_no_page_imports_leaves_the_key(tiny, tmp_path, monkeypatch):
    """The key is not simply every file: the benchmark is not imported by any page."""
    assert not _key_changes_when(tiny, tmp_path, monkeypatch, "build/bench_scale.py", "\n# a comment\n")
