"""The yearly rebuild: new-year scaffold, the Excel round trip, and year-over-year pages,
on a synthetic second year that the tests make and never publish."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lancs_evidence.data.synthetic import area_id, area_name, expected, make_project

from .conftest import run_cli

NEW = "2025-26"


def fill(workbook: Path, out: Path, sheet: str, rows: list[dict]) -> None:
    wb = load_workbook(workbook)
    ws = wb[sheet]
    col = {c.value: c.column for c in ws[3] if c.value}
    for i, rec in enumerate(rows, start=4):
        for k, v in rec.items():
            ws.cell(row=i, column=col[k], value=v)
    wb.save(out)


def page_text(root: Path, rel: str) -> str:
    html = (root / "_build" / "html" / rel).read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_new_year_scaffolds_tables_and_sets_the_year(tiny):
    proc = run_cli("new-year", NEW, root=tiny)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = tiny / "data" / NEW
    for name in ("figures.csv", "initiatives.csv", "learning_points.csv", "lesson_evidence.csv", "headlines.csv"):
        old = (tiny / "data" / "2024-25" / name).read_text(encoding="utf-8").splitlines()[0]
        assert (folder / name).read_text(encoding="utf-8").splitlines() == [old]  # the header, no rows
    years = list(csv.DictReader((tiny / "data" / "years.csv").open()))
    assert [(y["id"], y["current"]) for y in years] == [("2024-25", "false"), (NEW, "true")]
    sources = {r["id"]: r for r in csv.DictReader((tiny / "data" / "sources.csv").open())}
    assert sources[f"eoy-review-{NEW}"]["prefix"] == "eoy2526"
    dp = json.loads((tiny / "data" / "datapackage.json").read_text())
    assert f"figures-{NEW}" in {r["name"] for r in dp["resources"]}
    assert "2025/26" in (tiny / "_config.yml").read_text().split("title:", 1)[1].splitlines()[0]
    # areas and measures carry forward untouched; the only problem left is the empty ledger
    v = run_cli("validate", root=tiny)
    assert v.returncode == 1 and v.stdout.strip().splitlines() == [f"data/{NEW}/figures.csv:2: file has a header but no data rows"]


@pytest.mark.parametrize("bad", ["2025-27", "25-26", "2024-25"])
def test_new_year_refuses_bad_or_existing_years(tiny, bad):
    before = (tiny / "data" / "years.csv").read_text()
    proc = run_cli("new-year", bad, root=tiny)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert (tiny / "data" / "years.csv").read_text() == before


def test_export_template_has_a_sheet_per_partnership_lists_and_last_year(tiny, tmp_path):
    run_cli("new-year", NEW, root=tiny, check=True)
    out = tmp_path / "t.xlsx"
    run_cli("export-template", "-o", out, root=tiny, check=True)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Instructions", "Lists", area_name(1), area_name(2), "Last year"]
    ws = wb[area_name(1)]
    assert ws["B1"].value == area_id(1)
    kinds = {str(dv.sqref)[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert set(kinds) == {"A", "B", "F", "G", "M"}  # area, measure, unit, qualifier, evidence level
    last = [[c.value for c in row] for row in wb["Last year"].iter_rows(min_row=4)]
    assert any(r[1] == "people_supported" and r[3] == expected(1)["people_supported"] for r in last)
    one = tmp_path / "one.xlsx"
    run_cli("export-template", "--area", area_id(2), "-o", one, root=tiny, check=True)
    assert load_workbook(one).sheetnames == ["Instructions", "Lists", area_name(2), "Last year"]


@pytest.mark.slow
def test_round_trip_to_a_book_showing_both_years(tmp_path, repo):
    root = make_project(tmp_path / "book", repo, n_areas=2, chapters=("what-changed",))
    run_cli("new-year", NEW, root=root, check=True)
    template = tmp_path / "t.xlsx"
    run_cli("export-template", "-o", template, root=root, check=True)
    filled = tmp_path / "filled.xlsx"
    fill(template, filled, area_name(1), [
        {"area": area_id(1), "measure": "people_supported", "statement": "Residents helped by the community hub",
         "value": 2500, "unit": "count", "qualifier": "over", "period": "2025/26", "evidence_level": "output"},
        {"area": area_id(1), "measure": "referrals_received", "statement": "Referrals to the hub",
         "value": 640, "unit": "count", "period": "2025/26", "evidence_level": "output"},
    ])
    proc = run_cli("import", filled, root=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported 2 figure(s)" in proc.stdout
    build = run_cli("build", "-q", root=root)
    assert build.returncode == 0, build.stdout + build.stderr
    text = page_text(root, f"chapters/districts/{area_id(1)}.html")
    before = expected(1)["people_supported"]
    assert f"over {before:,}" in text and "over 2,500" in text  # both years, side by side
    # both are lower bounds ("over"), so no rise is worked out: "rose from 1,037 to 2,500" would drop the qualifier
    assert f"rose from {before:,} to 2,500" not in text and "Not worked out: a figure is a bound" in text
    changed = page_text(root, "chapters/what-changed.html")
    assert "Referrals received" in changed and "640" in changed  # new this year
    assert "Waiting time (weeks)" in changed  # reported last year, dropped this year
    assert "2025/26" in page_text(root, "chapters/index.html")  # the book presents the new year


def test_broken_workbooks_are_reported_by_sheet_and_cell_and_nothing_changes(tiny, tmp_path):
    run_cli("new-year", NEW, root=tiny, check=True)
    template = tmp_path / "t.xlsx"
    run_cli("export-template", "-o", template, root=tiny, check=True)
    ledger = tiny / "data" / NEW / "figures.csv"
    before = ledger.read_bytes()

    typed_text = tmp_path / "text.xlsx"
    fill(template, typed_text, area_name(1), [{"area": area_id(1), "measure": "people_supported", "statement": "Helped",
                                               "value": "about 40", "unit": "count", "evidence_level": "output"}])
    proc = run_cli("import", typed_text, root=tiny)
    assert proc.returncode == 1
    assert f"{area_name(1)}!D4: 'about 40' is not a number" in proc.stdout

    wrong_unit = tmp_path / "unit.xlsx"
    fill(template, wrong_unit, area_name(2), [{"area": area_id(2), "measure": "people_supported", "statement": "Helped",
                                               "value": 40, "unit": "gbp", "evidence_level": "output"},
                                              {"area": area_id(1), "measure": "people_supported", "statement": "Helped",
                                               "value": 41, "unit": "count", "evidence_level": "output"}])
    proc = run_cli("import", wrong_unit, root=tiny)
    assert f"{area_name(2)}!F4: 'gbp' is not the unit of 'people_supported'" in proc.stdout
    assert f"{area_name(2)}!A5: '{area_id(1)}' is not this partnership" in proc.stdout

    wb = load_workbook(template)
    wb[area_name(1)]["D3"] = "amount"
    wb.create_sheet("My notes")["A1"] = "scribbles"
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    proc = run_cli("import", bad, root=tiny)
    assert proc.returncode == 1
    assert f"{area_name(1)}!D3: the header 'value' is missing" in proc.stdout
    assert "My notes!B1: 'nothing' is not a partnership id" in proc.stdout

    notxlsx = tmp_path / "notes.xlsx"
    notxlsx.write_text("this is not a workbook")
    proc = run_cli("import", notxlsx, root=tiny)
    assert proc.returncode == 1 and "cannot be read as an Excel workbook" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert ledger.read_bytes() == before
