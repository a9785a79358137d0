"""Bad input: every kind of damage gives FILE:ROW: COLUMN, a non-zero exit and no traceback;
awkward but valid input is accepted; validation never rewrites the author's files."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lancs_evidence.data.validate import read_csv_text, validate

from .conftest import run_cli

FIGURES = Path("data") / "2024-25" / "figures.csv"


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, rows: list[str], ending: str = "\n") -> None:
    path.write_text(ending.join(rows) + ending, encoding="utf-8")


def problems_text(root: Path) -> str:
    return "\n".join(str(p) for p in validate(root / "data"))


def replace_cell(root: Path, rel: Path, row: int, column: str, value: str) -> None:
    import csv
    import io

    path = root / rel
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    records[row - 1][records[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_valid_project_passes_and_exits_zero(tiny):
    proc = run_cli("validate", root=tiny)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all tables valid" in proc.stdout


@pytest.mark.parametrize(
    "damage, expect",
    [
        ("missing_column", "data/2024-25/figures.csv:1: unit: column is missing"),
        ("extra_column", "data/2024-25/figures.csv:1: colour: unexpected column"),
        ("wrong_type", "data/2024-25/figures.csv:3: value: 'lots' is not a valid number"),
        ("unknown_key", "data/2024-25/figures.csv:2: area: unknown key"),
        ("duplicate", "data/2024-25/figures.csv:3: id: duplicate"),
        ("percent_over_100", "data/2024-25/figures.csv:4: value: 140 is not a percentage between 0 and 100"),
        ("negative_count", "data/2024-25/figures.csv:2: value: -5 is negative"),
        ("unit_not_measure_unit", "data/2024-25/figures.csv:2: unit: 'gbp' differs from the unit of measure"),
        ("empty_file", "data/2024-25/figures.csv: file is empty"),
        ("header_only", "data/2024-25/figures.csv:2: file has a header but no data rows"),
        ("unbalanced_quote", "data/2024-25/figures.csv:3: cannot be read as CSV"),
        ("invalid_utf8", "data/2024-25/figures.csv:3: not valid UTF-8"),
        ("missing_file", "data/2024-25/figures.csv: file is missing"),
        ("unknown_theme", "data/2024-25/initiatives.csv:2: themes: unknown theme 'astrology'"),
        ("bad_enum", "data/2024-25/figures.csv:2: evidence_level: 'anecdote' is not allowed"),
    ],
)
def test_each_kind_of_damage_is_reported_with_file_row_column(tiny, damage, expect):
    path = tiny / FIGURES
    rows = lines(path)
    if damage == "missing_column":
        import csv
        import io
        recs = list(csv.reader(io.StringIO(path.read_text())))
        i = recs[0].index("unit")
        path.write_text("".join(",".join(f'"{c}"' for j, c in enumerate(r) if j != i) + "\n" for r in recs))
    elif damage == "extra_column":
        write_lines(path, [rows[0] + ",colour"] + [r + ",blue" for r in rows[1:]])
    elif damage == "wrong_type":
        replace_cell(tiny, FIGURES, 3, "value", "lots")
    elif damage == "unknown_key":
        replace_cell(tiny, FIGURES, 2, "area", "atlantis")
    elif damage == "duplicate":
        replace_cell(tiny, FIGURES, 3, "id", lines(path)[1].split(",")[0])
    elif damage == "percent_over_100":
        replace_cell(tiny, FIGURES, 4, "value", "140")
    elif damage == "negative_count":
        replace_cell(tiny, FIGURES, 2, "value", "-5")
    elif damage == "unit_not_measure_unit":
        replace_cell(tiny, FIGURES, 2, "unit", "gbp")
    elif damage == "empty_file":
        path.write_bytes(b"")
    elif damage == "header_only":
        write_lines(path, rows[:1])
    elif damage == "unbalanced_quote":
        write_lines(path, rows[:2] + ['"' + rows[2]] + rows[3:])
    elif damage == "invalid_utf8":
        path.write_bytes("\n".join(rows[:2]).encode() + b"\n" + rows[2].encode().replace(b"Average", b"Av\xe9rage") + b"\n")
    elif damage == "missing_file":
        path.unlink()
    elif damage == "unknown_theme":
        replace_cell(tiny, Path("data/2024-25/initiatives.csv"), 2, "themes", "mental_health;astrology")
    elif damage == "bad_enum":
        replace_cell(tiny, FIGURES, 2, "evidence_level", "anecdote")
    proc = run_cli("validate", root=tiny)
    assert proc.returncode == 1
    assert expect in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_awkward_but_valid_input_is_accepted(tiny):
    """A UTF-8 BOM, CRLF line endings, spaces around cells and Excel's quoting of every cell."""
    import csv
    import io

    path = tiny / FIGURES
    recs = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([[f" {c} " if c else c for c in r] for r in recs])
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
    assert problems_text(tiny) == ""


def test_validation_never_rewrites_the_authors_files(tiny):
    path = tiny / FIGURES
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    replace_cell(tiny, Path("data/2024-25/initiatives.csv"), 2, "themes", "nonsense")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tiny / "data").rglob("*") if p.is_file()}
    run_cli("validate", root=tiny)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tiny / "data").rglob("*") if p.is_file()}
    assert before == after


def test_build_with_bad_data_leaves_the_published_site_untouched(tiny_built, tmp_path):
    from .conftest import copy_project

    root = copy_project(tiny_built, tmp_path / "copy")
    site = root / "_build" / "html"
    before = {p.relative_to(site.resolve()): p.read_bytes() for p in site.resolve().rglob("*") if p.is_file()}
    replace_cell(root, FIGURES, 2, "value", "lots")
    proc = run_cli("build", "-q", root=root)
    assert proc.returncode == 1
    assert "figures.csv:2: value" in proc.stdout
    after = {p.relative_to(site.resolve()): p.read_bytes() for p in site.resolve().rglob("*") if p.is_file()}
    assert before == after


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_fuzzed_csv_text_never_crashes_the_reader(tmp_path, text):
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass") if False else path.write_bytes(text.encode("utf-8", "surrogatepass"))
    records, problems = read_csv_text(path, "fuzz.csv")
    assert isinstance(records, list)
    for p in problems:
        assert str(p).startswith("fuzz.csv")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), min_size=1, max_size=6),
                min_size=0, max_size=5))
def test_fuzzed_figures_table_only_ever_gives_validation_problems(tiny, rows):
    """Arbitrary cells in the ledger: validation returns problems (or none), never raises."""
    import csv
    import io

    path = tiny / FIGURES
    header = lines(path)[0]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(header + "\n" + out.getvalue(), encoding="utf-8")
    for p in validate(tiny / "data"):
        assert p.file and p.message


def test_an_id_used_in_two_tables_of_one_kind_is_a_duplicate(tiny):
    case = tiny / "data" / "case-studies" / "initiatives.csv"
    case.write_text(case.read_text(encoding="utf-8").replace("ini-fleetwood-hub", "ini-testarea_001-hub"), encoding="utf-8")
    proc = run_cli("validate", root=tiny)
    assert proc.returncode == 1
    assert "data/case-studies/initiatives.csv:2: id: duplicate: 'ini-testarea_001-hub' is already used in data/2024-25/initiatives.csv" in proc.stdout


# --- issue 15, point 2 (data half) and point 5: the area tree and the rules between tables ------------

AREAS = Path("data") / "areas.csv"


def set_area(root: Path, area: str, column: str, value: str) -> int:
    """Set one cell of areas.csv by area id; returns the spreadsheet row it is on."""
    import csv
    import io

    path = root / AREAS
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    row = next(i for i, r in enumerate(records, start=1) if r[0] == area)
    replace_cell(root, AREAS, row, column, value)
    return row


def lines_for(root: Path) -> list[str]:
    import os

    here = os.getcwd()
    try:
        os.chdir(root)  # problems name files relative to the current folder
        return [str(p) for p in validate(Path("data"))]
    finally:
        os.chdir(here)


@pytest.mark.parametrize("case", ["own_parent", "long_cycle", "unknown_parent", "partnership_under_place",
                                  "district_under_locality", "place_with_parent", "district_without_code",
                                  "duplicate_district_code", "partnership_without_council"])
def test_the_area_tree_is_checked(tiny, case):
    if case == "own_parent":
        row = set_area(tiny, "testarea_001", "parent", "testarea_001")
        expect = f"data/areas.csv:{row}: parent: 'testarea_001' is its own parent"
    elif case == "long_cycle":
        row = set_area(tiny, "loc_0", "parent", "testarea_002_district")
        expect = f"data/areas.csv:{row}: parent: 'loc_0' is part of a cycle of parents"
    elif case == "unknown_parent":
        row = set_area(tiny, "fleetwood", "parent", "atlantis")
        expect = f"data/areas.csv:{row}: parent:"
    elif case == "partnership_under_place":
        row = set_area(tiny, "testarea_002", "parent", "place")
        expect = f"data/areas.csv:{row}: parent: the parent of a partnership must be a locality (found 'place', a place)"
    elif case == "district_under_locality":
        row = set_area(tiny, "testarea_001_district", "parent", "loc_0")
        expect = f"data/areas.csv:{row}: parent: the parent of a district must be a partnership"
    elif case == "place_with_parent":
        row = set_area(tiny, "place", "parent", "national")
        expect = f"data/areas.csv:{row}: parent: a place is the top of the tree and has no parent"
    elif case == "district_without_code":
        row = set_area(tiny, "testarea_002_district", "ons_code", "")
        expect = f"data/areas.csv:{row}: ons_code: a district needs its ONS code"
    elif case == "duplicate_district_code":
        row = set_area(tiny, "testarea_002_district", "ons_code", "E07900001")
        expect = f"data/areas.csv:{row}: ons_code: 'E07900001' is already the code of the district at row"
    else:  # the second partnership's only council moves to the first: the second has none left
        set_area(tiny, "testarea_002_district", "parent", "testarea_001")
        row = set_area(tiny, "testarea_002", "parent", "loc_0")  # unchanged; finds the row
        expect = f"data/areas.csv:{row}: id: partnership 'testarea_002' has no district council"
    found = lines_for(tiny)
    assert any(line.startswith(expect) for line in found), "\n".join(found)


def rewrite(path: Path, edit) -> None:
    import csv
    import io

    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    records = edit(records) or records
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    path.write_text(out.getvalue(), encoding="utf-8")


def refresh_hash(root: Path, name: str) -> None:
    """Accept an edited reference table as an author would (`lancs-evidence reference-accept NAME`)."""
    from lancs_evidence.data.project import Project
    from lancs_evidence.data.reference import accept_reference

    accept_reference(Project(root), [name])


@pytest.mark.parametrize("case", ["council_missing_from_reference", "empty_deprivation_rank", "meta_without_publisher",
                                  "meta_hash_mismatch", "meta_missing", "relation_names_missing_figure",
                                  "relation_wrong_arity", "lesson_evidence_dangling", "two_current_years",
                                  "year_without_tables", "zero_population", "report_case_without_rows",
                                  "report_case_number_twice", "comparison_outside_the_list"])
def test_rules_between_tables_are_checked(tiny, case):
    import json

    ref = tiny / "data" / "reference"
    if case == "council_missing_from_reference":
        rewrite(ref / "population.csv", lambda r: r[:2])
        refresh_hash(tiny, "population")
        expect = "data/areas.csv:"
        words = "'E07900002' (district 'testarea_002_district') has no row in data/reference/population.csv"
    elif case == "empty_deprivation_rank":
        def blank(r):
            r[1][r[0].index("imd_rank_of_average_score")] = ""
        rewrite(ref / "imd2025.csv", blank)
        refresh_hash(tiny, "imd2025")
        expect, words = "data/reference/imd2025.csv:2: imd_rank_of_average_score:", "a value is required"
    elif case == "meta_without_publisher":
        meta = json.loads((ref / "imd2019.meta.json").read_text())
        del meta["publisher"]
        (ref / "imd2019.meta.json").write_text(json.dumps(meta))
        expect, words = "data/reference/imd2019.meta.json: publisher:", "missing or empty"
    elif case == "meta_hash_mismatch":
        rewrite(ref / "fingertips.csv", lambda r: r[:-1])
        expect, words = "data/reference/fingertips.meta.json: sha256:", "does not match fingertips.csv"
    elif case == "meta_missing":
        (ref / "population.meta.json").unlink()
        expect, words = "data/reference/population.csv:", "no metadata file"
    elif case == "relation_names_missing_figure":
        replace_cell(tiny, Path("data/relations.csv"), 2, "inputs", "eoy-nowhere-figure")
        expect, words = "data/relations.csv:2: inputs:", "unknown figure id 'eoy-nowhere-figure'"
    elif case == "relation_wrong_arity":
        replace_cell(tiny, Path("data/relations.csv"), 2, "relation", "share_of")
        expect, words = "data/relations.csv:2: inputs:", "needs exactly 2 input id(s)"
    elif case == "lesson_evidence_dangling":
        replace_cell(tiny, Path("data/2024-25/lesson_evidence.csv"), 2, "evidence", "ini-nowhere-hub")
        expect, words = "data/2024-25/lesson_evidence.csv:2: evidence:", "unknown initiative 'ini-nowhere-hub'"
    elif case == "two_current_years":
        (tiny / "data" / "years.csv").write_text("id,label,source,current\n2024-25,2024/25,eoy-review-2024-25,true\n"
                                                 "2023-24,2023/24,eoy-review-2024-25,true\n", encoding="utf-8")
        expect, words = "data/years.csv:", "exactly one year must have current=true"
    elif case == "year_without_tables":
        (tiny / "data" / "years.csv").write_text("id,label,source,current\n2024-25,2024/25,eoy-review-2024-25,true\n"
                                                 "2023-24,2023/24,eoy-review-2024-25,false\n", encoding="utf-8")
        expect, words = "data/years.csv:3: id:", "no ledger for 2023-24"
    elif case == "report_case_without_rows":
        (tiny / "data" / "case-studies" / "report_cases.csv").write_text(
            "id,source,number,area,title\ncase-flt-01,fleetwood-case-study,1,fleetwood,Here\n"
            "case-flt-02,fleetwood-case-study,2,testarea_001_district,Nothing here\n", encoding="utf-8")
        expect, words = "data/case-studies/report_cases.csv:3: area:", "the case study has nothing in the ledger"
    elif case == "report_case_number_twice":
        (tiny / "data" / "case-studies" / "report_cases.csv").write_text(
            "id,source,number,area,title\ncase-flt-01,fleetwood-case-study,1,fleetwood,Here\n"
            "case-flt-02,fleetwood-case-study,1,fleetwood,Again\n", encoding="utf-8")
        expect, words = "data/case-studies/report_cases.csv:3: number:", "is already row 2"
    elif case == "comparison_outside_the_list":  # a word the pages have no colour or words for
        def lower(r):
            r[1][r[0].index("compared_to_england")] = "Lower"
        rewrite(ref / "fingertips.csv", lower)
        refresh_hash(tiny, "fingertips")
        expect, words = "data/reference/fingertips.csv:2: compared_to_england:", "'Lower' is not allowed"
    else:
        replace_cell(tiny, Path("data/reference/population.csv"), 2, "population_mid2020", "0")
        refresh_hash(tiny, "population")
        expect, words = "data/reference/population.csv:2: population_mid2020:", "is not a population"
    found = lines_for(tiny)
    assert any(line.startswith(expect) and words in line for line in found), "\n".join(found)


def test_an_updated_reference_table_is_valid_once_accepted_by_name(tiny):
    """An author who updates a reference table on purpose re-records its hash with `reference-accept`; the
    record's other fields stay as written, and a name with no record changes nothing."""
    import json

    meta_path = tiny / "data" / "reference" / "population.meta.json"
    before = json.loads(meta_path.read_text(encoding="utf-8"))
    replace_cell(tiny, Path("data/reference/population.csv"), 2, "name", "Testarea & Co <new>")
    assert any("sha256" in line and "reference-accept population" in line for line in lines_for(tiny))
    bad = run_cli("reference-accept", "population", "nowhere", root=tiny)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "nowhere.meta.json: no such record (known tables: fingertips, imd2019, imd2025, population)" in bad.stderr
    assert json.loads(meta_path.read_text(encoding="utf-8")) == before
    ok = run_cli("reference-accept", "population", "imd2025", root=tiny)
    assert ok.returncode == 0, ok.stderr
    assert "recorded the new hash in data/reference/population.meta.json" in ok.stdout
    assert "unchanged: data/reference/imd2025.meta.json" in ok.stdout
    after = json.loads(meta_path.read_text(encoding="utf-8"))
    assert after.pop("sha256") != before.pop("sha256") and after == before
    assert lines_for(tiny) == []


def test_non_finite_numbers_in_a_csv_are_refused(tiny):
    values = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400"]
    rows = lines(tiny / FIGURES)
    assert len(rows) > len(values)
    for k, value in enumerate(values, start=2):
        replace_cell(tiny, FIGURES, k, "value", value)
    found = lines_for(tiny)
    for k, value in enumerate(values, start=2):
        assert any(line.startswith(f"data/2024-25/figures.csv:{k}: value:") for line in found), (value, "\n".join(found))


def test_a_descriptor_frictionless_cannot_use_is_a_message_not_a_traceback(tiny):
    import json

    path = tiny / "data" / "datapackage.json"
    d = json.loads(path.read_text(encoding="utf-8"))
    d["resources"][0]["schema"]["fields"][0]["constraints"]["pattern"] = "([unclosed"
    path.write_text(json.dumps(d), encoding="utf-8")
    proc = run_cli("validate", root=tiny)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "datapackage.json" in proc.stdout


def test_area_lookups_stop_at_a_cycle_even_without_validation():
    """Defence in depth for a reviewer running one notebook by hand on unvalidated data: the tree
    walks in the data layer end instead of spinning (validate is what reports the cycle)."""
    import pandas as pd

    from lancs_evidence.data.ledger import Data

    data = Data(Path("/nonexistent"), "2024-25")
    data.__dict__["areas"] = pd.DataFrame({"id": ["a", "b", "c"], "parent": ["b", "a", "a"],
                                           "kind": ["partnership", "locality", "district"]}).set_index("id", drop=False)
    assert data.subtree("a") == ["a", "b", "c"]
    assert data.ancestors("a") == ["b"]
    assert data.partnership_of("c") == "a"


def _row_problems(**cells) -> list[str]:
    """What validation says about one hand-built ledger row (a count measure, unless cells say otherwise)."""
    from lancs_evidence.data.validate import _ledger_row_problems

    row = {"id": "eoy-x-a", "measure": "m", "unit": "count", "value": "", "value_high": "", "value_words": "",
           "baseline": "", "target": "", "evidence_level": "output", "initiative": ""} | cells
    measures = {"m": {"id": "m", "unit": row["unit"], "kind": "change"}}
    return [p.message for p in _ledger_row_problems("f.csv", 2, row, measures, {"count": "count", "percent": "percent"}, None)]


def test_words_beside_a_number_only_when_they_write_that_number():
    # "1/3 more people": the source's own way of writing the number, kept for readers
    assert not [m for m in _row_problems(unit="percent", value="33.3", value_words="1/3") if "value_words" in m or "both" in m]
    # vague words never become a number
    assert any("not both" in m for m in _row_problems(value="300", value_words="hundreds of"))


def test_one_persons_account_takes_no_baseline_or_target():
    assert any("testimony" in m for m in _row_problems(value="2", baseline="2", evidence_level="testimony"))
    assert any("testimony" in m for m in _row_problems(value="4", target="5", evidence_level="testimony"))
    assert not any("testimony" in m for m in _row_problems(value="2", evidence_level="testimony"))
    assert not any("testimony" in m for m in _row_problems(value="2", baseline="1", evidence_level="outcome"))
