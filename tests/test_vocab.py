"""The vocabularies (enums of datapackage.json) and the area tree, on small hand-built tables."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from lancs_evidence.data import ledger
from lancs_evidence.data.ledger import Answers, Data, start_recording, stop_recording
from lancs_evidence.data.validate import Table, area_tree_problems
from lancs_evidence.data.vocab import (
    EVIDENCE_LEVELS,
    NOT_WORK_LEVELS,
    RESULT_LEVELS,
    UNJUDGED_LEVELS,
    WORK_LEVELS,
    AreaCycleError,
    AreaTree,
    Vocab,
    VocabError,
    schema_vocab,
)

HEADER = ["id", "name", "kind", "parent", "ons_code", "order"]


def rows(*records: tuple) -> list[dict]:
    return [dict(zip(HEADER, r)) for r in records]


# A little county: the rows are not in display order, and one partnership has two councils.
COUNTY = rows(
    ("east", "East", "locality", "top", "", "30"),
    ("top", "Top", "place", "", "", "1"),
    ("west", "West", "locality", "top", "", "20"),
    ("fw", "Fylde and Wyre", "partnership", "west", "", "22"),
    ("ps", "Preston", "partnership", "west", "", "21"),
    ("bu", "Burnley", "partnership", "east", "", "31"),
    ("wyre_c", "Wyre Council", "district", "fw", "E07000128", "222"),
    ("fylde_c", "Fylde Council", "district", "fw", "E07000119", "221"),
    ("ps_c", "Preston Council", "district", "ps", "E07000123", "211"),
    ("bu_c", "Burnley Council", "district", "bu", "E07000117", "311"),
    ("fleet", "Fleetwood", "neighbourhood", "wyre_c", "", "400"),
)


def county_frame(records=COUNTY) -> pd.DataFrame:
    df = pd.DataFrame(records)
    df["order"] = df["order"].astype(int)
    return df.set_index("id", drop=False).sort_values("order", kind="stable")


# --- ordering and links ------------------------------------------------------------------------

def test_lists_come_in_display_order_not_row_order():
    tree = AreaTree(COUNTY)
    assert tree.ids()[0] == "top"
    assert tree.partnerships() == ["ps", "fw", "bu"]
    assert tree.localities() == ["west", "east"]
    assert tree.children("top") == ["west", "east"]


def test_equal_orders_keep_the_rows_order():
    tree = AreaTree(rows(("b", "B", "partnership", "", "", "5"), ("a", "A", "partnership", "", "", "5"),
                         ("c", "C", "partnership", "", "", "1")))
    assert tree.partnerships() == ["c", "b", "a"]


def test_a_partnership_with_two_councils_lists_both_in_order():
    tree = AreaTree(COUNTY)
    assert tree.councils("fw") == ["fylde_c", "wyre_c"]
    assert tree.councils("ps") == ["ps_c"]
    assert tree.children("fw", "neighbourhood") == []
    assert tree.councils("nowhere") == []


def test_parent_locality_and_partnership_of_an_area_deep_in_the_tree():
    tree = AreaTree(COUNTY)
    assert tree.parent("fleet") == "wyre_c"
    assert tree.parent("top") == "" and tree.parent("nowhere") == ""
    assert tree.ancestors("fleet") == ["wyre_c", "fw", "west", "top"]
    assert tree.locality_of("fleet") == "west"
    assert tree.partnership_of("fleet") == "fw"
    assert tree.partnership_of("fw") == "fw"
    assert tree.partnership_of("west") is None  # above the partnerships
    assert tree.partnership_of("nowhere") is None
    assert tree.subtree("fw") == ["fw", "fylde_c", "wyre_c", "fleet"]
    assert tree.subtree("nowhere") == ["nowhere"]


def test_unknown_area_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="nowhere"):
        AreaTree(COUNTY).ancestors("nowhere")


def test_a_missing_parent_ends_the_chain_and_is_in_no_partnership():
    tree = AreaTree(rows(("p", "P", "partnership", "gone", "", "1"), ("c", "C", "district", "p", "", "2"),
                         ("o", "O", "district", "lost", "", "3")))
    assert tree.ancestors("c") == ["p", "gone"]
    assert tree.partnership_of("c") == "p"
    assert tree.partnership_of("o") is None
    assert tree.locality_of("c") is None
    assert tree.cycles() == []


# --- cycles --------------------------------------------------------------------------------------

CYCLE = rows(("a", "A", "partnership", "b", "", "1"), ("b", "B", "locality", "c", "", "2"),
             ("c", "C", "place", "a", "", "3"), ("d", "D", "district", "a", "", "4"),
             ("self", "Self", "district", "self", "", "5"))


def test_ancestors_in_a_cycle_raise_a_clear_error():
    tree = AreaTree(CYCLE)
    with pytest.raises(AreaCycleError) as exc:
        tree.ancestors("d")
    assert exc.value.loop == ["a", "b", "c", "a"]
    assert exc.value.chain == ["a", "b", "c"]
    assert "a -> b -> c -> a" in str(exc.value) and "areas.csv" in str(exc.value)
    with pytest.raises(AreaCycleError) as own:
        tree.ancestors("self")
    assert own.value.loop == ["self", "self"] and own.value.chain == []


def test_walks_that_may_meet_a_cycle_stop_instead_of_looping():
    tree = AreaTree(CYCLE)
    assert tree.ancestors("d", stop_at_cycle=True) == ["a", "b", "c"]
    assert tree.ancestors("a", stop_at_cycle=True) == ["b", "c"]
    assert tree.subtree("a") == ["a", "c", "d", "b"]
    assert tree.partnership_of("d") == "a"
    assert tree.locality_of("d") == "b"
    assert tree.subtree("self") == ["self"]


def test_each_cycle_is_found_once_starting_at_its_first_row():
    assert AreaTree(CYCLE).cycles() == [["a", "b", "c"], ["self"]]


def test_validate_reports_the_cycle_and_the_missing_parent_by_row():
    records = [*CYCLE, *rows(("e", "E", "district", "gone", "", "6"))]
    table = Table("areas", Path("areas.csv"), "data/areas.csv", HEADER,
                  [[r[h] for h in HEADER] for r in records])
    found = {(p.row, p.column, p.message.split(";")[0]) for p in area_tree_problems({"areas": table})}
    assert (2, "parent", "'a' is part of a cycle of parents (a -> b -> c -> a)") in found
    assert (4, "parent", "'c' is part of a cycle of parents (a -> b -> c -> a)") in found
    assert (6, "parent", "'self' is its own parent") in found
    assert (7, "parent", "unknown parent 'gone': it is not an id in data/areas.csv") in found


def test_validate_wants_every_partnership_to_have_a_council():
    records = [*COUNTY, *rows(("lonely", "Lonely", "partnership", "east", "", "32"))]
    table = Table("areas", Path("areas.csv"), "data/areas.csv", HEADER, [[r[h] for h in HEADER] for r in records])
    problems = area_tree_problems({"areas": table})
    assert [(p.row, p.column) for p in problems] == [(13, "id")]
    assert "'lonely' has no district council" in problems[0].message


# --- one parse of the file -----------------------------------------------------------------------

def write_areas(root: Path, records: list[dict]) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    path = root / "data" / "areas.csv"
    lines = [",".join(HEADER)] + [",".join(f" {r[h]} " for h in HEADER) for r in records]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_strips_cells_and_reads_order_as_numbers(tmp_path):
    tree = AreaTree.read(write_areas(tmp_path, COUNTY))
    assert tree.partnerships() == ["ps", "fw", "bu"]
    assert tree["fw"].name == "Fylde and Wyre" and tree["fw"].order == 22
    assert tree.councils("fw") == ["fylde_c", "wyre_c"]


def test_data_serves_the_trees_answers_as_rows_of_its_areas_table():
    data = Data(Path("/nonexistent"), "2024-25")
    data.__dict__["areas"] = county_frame()
    assert list(data.councils("fw")["id"]) == ["fylde_c", "wyre_c"]
    assert list(data.partnerships()["name"]) == ["Preston", "Fylde and Wyre", "Burnley"]
    assert list(data.children("west", "partnership")["id"]) == ["ps", "fw"]
    assert data.children("nowhere").empty and list(data.children("nowhere").columns) == HEADER
    assert data.locality_of("fleet") == "west" and data.partnership_of("fleet") == "fw"
    assert data.subtree("fw") == ["fw", "fylde_c", "wyre_c", "fleet"]


def test_data_ancestors_stop_at_a_cycle():
    data = Data(Path("/nonexistent"), "2024-25")
    data.__dict__["areas"] = county_frame(CYCLE)
    assert data.ancestors("d") == ["a", "b", "c"]


def test_a_pages_tree_questions_are_recorded_and_change_when_areas_csv_does(tmp_path):
    write_areas(tmp_path, COUNTY)
    ledger._cached.cache_clear()
    start_recording(tmp_path)
    try:
        data = Data(tmp_path, "2024-25")
        assert list(data.councils("fw")["id"]) == ["fylde_c", "wyre_c"]
        assert data.partnership_of("fleet") == "fw"
    finally:
        reads = stop_recording()
    assert sorted(json.loads(q)[2] for q in reads) == ["councils", "partnership_of"]  # the file itself is read inside
    for query, digest in reads.items():
        assert Answers(tmp_path)(query) == digest
    moved = [dict(r, parent="ps") if r["id"] == "wyre_c" else r for r in COUNTY]  # Wyre moves to Preston
    write_areas(tmp_path, moved)
    again = Answers(tmp_path)
    assert all(again(q) != d for q, d in reads.items())


# --- vocabularies --------------------------------------------------------------------------------

TINY = {"resources": [
    {"name": "areas", "schema": {"fields": [{"name": "kind", "constraints": {"enum": ["place", "district"]}}]}},
    {"name": "figures-2024-25", "schema": {"fields": [
        {"name": "evidence_level", "constraints": {"enum": ["output", "outcome"]}},
        {"name": "qualifier", "constraints": {"required": True}}]}},
    {"name": "figures-case-studies", "schema": {"fields": [
        {"name": "evidence_level", "constraints": {"enum": ["output", "outcome"]}}]}},
    {"name": "figures-review", "schema": {"fields": [{"name": "kind", "constraints": {"enum": ["x"]}}]}},
    {"name": "units", "schema": {"fields": [{"name": "kind", "constraints": {"enum": ["count", "rate"]}}]}},
]}


def test_vocab_reads_each_enum_in_the_descriptors_order():
    v = Vocab(TINY)
    assert v.evidence_levels == ("output", "outcome")
    assert v.area_kinds == ("place", "district")
    assert v.unit_kinds == ("count", "rate")
    assert v.enum("kind", "figures") == ("x",)
    assert v.enums()[("areas", "kind")] == ("place", "district")


def test_vocab_refuses_a_field_without_one_list():
    v = Vocab(TINY)
    with pytest.raises(VocabError, match="different lists"):
        v.enum("kind")  # areas, figures-review and units each give their own
    with pytest.raises(VocabError, match="no list"):
        v.qualifiers  # noqa: B018 (a property that raises)
    split = json.loads(json.dumps(TINY))
    split["resources"][2]["schema"]["fields"][0]["constraints"]["enum"] = ["output", "impact"]
    with pytest.raises(VocabError, match="figures-case-studies: output, impact"):
        Vocab(split).evidence_levels  # noqa: B018


def test_vocab_reads_a_data_folder(tmp_path):
    (tmp_path / "datapackage.json").write_text(json.dumps(TINY), encoding="utf-8")
    assert Vocab.read(tmp_path).area_kinds == ("place", "district")


def test_the_codes_levels_are_the_schemas_and_the_groups_split_them():
    assert EVIDENCE_LEVELS == schema_vocab().evidence_levels
    assert set(WORK_LEVELS) | NOT_WORK_LEVELS == set(EVIDENCE_LEVELS)
    assert not set(WORK_LEVELS) & NOT_WORK_LEVELS
    assert set(UNJUDGED_LEVELS) | RESULT_LEVELS == set(EVIDENCE_LEVELS)
    assert RESULT_LEVELS <= set(WORK_LEVELS)
    assert list(WORK_LEVELS) == [lv for lv in EVIDENCE_LEVELS if lv in WORK_LEVELS]


def test_every_level_and_qualifier_has_words_for_readers():
    from lancs_evidence.data.excel import LEVELS as ENTRY_LEVELS
    from lancs_evidence.data.excel import QUALIFIERS
    from lancs_evidence.pages.fmt import QUALIFIER_WORDS
    from lancs_evidence.pages.view import LEVEL_COLOURS, LEVEL_LABELS, LEVEL_WORDS, LEVELS

    assert LEVELS == list(EVIDENCE_LEVELS)
    for shown in (LEVEL_WORDS, LEVEL_LABELS, LEVEL_COLOURS):
        assert set(shown) == set(EVIDENCE_LEVELS)
    assert set(QUALIFIER_WORDS) == set(schema_vocab().qualifiers) == set(QUALIFIERS)
    assert ENTRY_LEVELS == list(WORK_LEVELS)


def test_a_change_to_the_schemas_words_changes_the_key_of_pages_that_use_them(tiny, monkeypatch):
    """The levels are read from datapackage.json when the code is imported, not as a page runs, so the
    page's static key carries them: a changed list re-runs the pages whose code uses the vocabularies."""
    from lancs_evidence.build import jobs
    from lancs_evidence.data.project import Project

    project = Project(tiny)
    page = next(p for p in jobs.discover(project) if p.area)
    monkeypatch.setattr(jobs, "schema_vocab", lambda: Vocab(TINY))
    before = jobs.static_key(page, project, "")
    reordered = json.loads(json.dumps(TINY))
    reordered["resources"][1]["schema"]["fields"][0]["constraints"]["enum"] = ["outcome", "output"]
    monkeypatch.setattr(jobs, "schema_vocab", lambda: Vocab(reordered))
    assert jobs.static_key(page, project, "") != before
    more_years = json.loads(json.dumps(TINY))
    more_years["resources"].append(dict(TINY["resources"][2], name="figures-2025-26"))
    monkeypatch.setattr(jobs, "schema_vocab", lambda: Vocab(more_years))
    assert jobs.static_key(page, project, "") == before  # a new year's tables with the same words


def test_an_order_that_is_not_a_whole_number_sorts_as_nought():
    tree = AreaTree(rows(("a", "A", "partnership", "", "", "2"), ("b", "B", "partnership", "", "", "inf"),
                         ("c", "C", "partnership", "", "", "nan"), ("d", "D", "partnership", "", "", ""),
                         ("e", "E", "partnership", "", "", "x")))
    assert tree.partnerships() == ["b", "c", "d", "e", "a"]


def _installed_copy(tmp_path: Path) -> Path:
    """The package as `pip install .` lays it out: in a site folder with no data/ beside it."""
    import shutil

    import lancs_evidence

    site = tmp_path / "site"
    shutil.copytree(Path(lancs_evidence.__file__).parent, site / "lancs_evidence",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _levels_from(site: Path, cwd: Path, env_root: Path | None = None):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "LANCS_EVIDENCE_ROOT"}
    env["PYTHONPATH"] = str(site)
    if env_root:
        env["LANCS_EVIDENCE_ROOT"] = str(env_root)
    return subprocess.run([sys.executable, "-c", "from lancs_evidence.data import vocab; print(','.join(vocab.EVIDENCE_LEVELS))"],
                          capture_output=True, text=True, cwd=cwd, env=env)


def test_an_installed_package_reads_the_vocabularies_of_the_project_it_runs_in(tmp_path, tiny):
    site = _installed_copy(tmp_path)
    descriptor = json.loads((tiny / "data" / "datapackage.json").read_text(encoding="utf-8"))
    levels = next(f["constraints"]["enum"] for r in descriptor["resources"] for f in r["schema"]["fields"]
                  if f["name"] == "evidence_level")
    for cwd, root in ((tiny / "chapters", None), (tmp_path, tiny)):
        proc = _levels_from(site, cwd, root)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == ",".join(levels)


def test_an_installed_package_outside_a_project_says_where_to_run_it(tmp_path):
    import os
    import subprocess
    import sys

    site = _installed_copy(tmp_path)
    proc = _levels_from(site, tmp_path)
    assert proc.returncode != 0
    assert "run the command from the evidence book's folder" in proc.stderr
    # the command says so in a line, without a traceback
    env = {k: v for k, v in os.environ.items() if k != "LANCS_EVIDENCE_ROOT"} | {"PYTHONPATH": str(site)}
    cli = subprocess.run([sys.executable, "-m", "lancs_evidence.cli", "validate"], capture_output=True, text=True,
                         cwd=tmp_path, env=env)
    assert cli.returncode == 1 and "Traceback" not in cli.stderr
    assert cli.stderr.startswith("error: ") and "run the command from the evidence book's folder" in cli.stderr
