"""The Excel round trip as a hurried author meets it: imports that merge and show what they change,
values Excel carries that a ledger must not, formula injection, a workbook formatted to its last row,
and the commands that write when they cannot.

All in-process on a tiny synthetic project (no subprocess, no build), so these stay fast."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lancs_evidence import cli
from lancs_evidence.data import writes
from lancs_evidence.data.excel import COLUMNS, FIRST_ROW, export_template, read_workbook
from lancs_evidence.data.project import Project
from lancs_evidence.data.synthetic import area_id, area_name, expected

YEAR = "2024-25"
COL = {name: i for i, (name, _) in enumerate(COLUMNS, start=1)}


def ledger_rows(root: Path) -> list[dict]:
    with (root / "data" / YEAR / "figures.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def run(root: Path, *args, capsys) -> tuple[int, str]:
    code = cli.main(["--root", str(root), *map(str, args)])
    out = capsys.readouterr()
    return code, out.out + out.err


def template(root: Path, tmp_path: Path) -> Path:
    return export_template(Project(root), tmp_path / "template.xlsx")


def edit(src: Path, dest: Path, sheet: str, changes: dict[tuple[int, str], object], formats: dict | None = None) -> Path:
    """Set cells by (row, column name); `formats` sets number formats the same way."""
    wb = load_workbook(src)
    ws = wb[sheet]
    for (row, name), value in changes.items():
        ws.cell(row=row, column=COL[name], value=value)
    for (row, name), fmt in (formats or {}).items():
        ws.cell(row=row, column=COL[name]).number_format = fmt
    wb.save(dest)
    return dest


def sheet_rows(path: Path, sheet: str) -> dict[str, int]:
    """Which workbook row holds which figure id in a partnership's sheet."""
    ws = load_workbook(path)[sheet]
    return {ws.cell(row=r, column=COL["id"]).value: r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(row=r, column=COL["id"]).value}


def new_row(n: int) -> dict:
    return {"area": area_id(1), "measure": "referrals_received", "statement": f"Referrals to the hub, batch {n}",
            "value": 640 + n, "unit": "count", "period": "2024/25", "evidence_level": "output"}


def next_free(path: Path, sheet: str) -> int:
    return max(sheet_rows(path, sheet).values()) + 1


# --- point 3: imports merge, show a diff, and remove only what the sheet says -------------------------

def test_template_holds_this_years_figures_with_ids_and_last_years_sheet(tiny, tmp_path):
    out = template(tiny, tmp_path)
    rows = sheet_rows(out, area_name(1))
    mine = [r["id"] for r in ledger_rows(tiny) if r["area"] == area_id(1)]
    assert sorted(rows) == sorted(mine) and mine
    ws = load_workbook(out)[area_name(1)]
    r = rows[f"eoy-{area_id(1)}-people-supported"]
    assert ws.cell(row=r, column=COL["value"]).value == expected(1)["people_supported"]
    assert ws.cell(row=r, column=COL["qualifier"]).value == "over"
    assert "Last year" in load_workbook(out).sheetnames


def test_adding_one_row_keeps_every_other_figure_and_its_initiative_link(tiny, tmp_path, capsys):
    before = ledger_rows(tiny)
    base = template(tiny, tmp_path)
    # the lead works from a template where their sheet is empty apart from the one new row: nothing may vanish
    wb = load_workbook(base)
    ws = wb[area_name(1)]
    ws.delete_rows(FIRST_ROW, 50)
    for name, v in new_row(1).items():
        ws.cell(row=FIRST_ROW, column=COL[name], value=v)
    filled = tmp_path / "one-new.xlsx"
    wb.save(filled)

    code, out = run(tiny, "import", filled, "--dry-run", capsys=capsys)
    assert code == 0, out
    assert "1 added, 0 changed, 0 removed" in out
    assert f"added    eoy-{area_id(1)}-referrals-received ({area_name(1)}!A{FIRST_ROW})" in out
    assert ledger_rows(tiny) == before  # a dry run writes nothing

    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 0, out
    assert "1 added, 0 changed, 0 removed" in out
    after = {r["id"]: r for r in ledger_rows(tiny)}
    for r in before:
        assert after[r["id"]] == r  # every earlier figure is still there, unchanged (initiative links included)
    assert after[f"eoy-{area_id(1)}-people-supported"]["initiative"] == f"ini-{area_id(1)}-hub"
    assert after[f"eoy-{area_id(1)}-referrals-received"]["value"] == "641"


def test_correcting_a_figure_changes_it_in_place_and_keeps_its_link(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    fid = f"eoy-{area_id(1)}-people-supported"
    r = sheet_rows(base, area_name(1))[fid]
    filled = edit(base, tmp_path / "fix.xlsx", area_name(1), {(r, "value"): 1999})
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 0, out
    assert "0 added, 1 changed, 0 removed" in out
    assert f"changed  {fid} ({area_name(1)}!A{r}): value: '{expected(1)['people_supported']}' -> '1999'" in out
    row = {x["id"]: x for x in ledger_rows(tiny)}[fid]
    assert row["value"] == "1999" and row["initiative"] == f"ini-{area_id(1)}-hub"


def test_a_figure_is_removed_only_when_its_row_says_remove(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    fid = f"eoy-{area_id(1)}-wait"
    r = sheet_rows(base, area_name(1))[fid]
    filled = edit(base, tmp_path / "remove.xlsx", area_name(1), {(r, "remove"): "remove"})
    code, out = run(tiny, "import", filled, "--dry-run", capsys=capsys)
    assert code == 0, out
    assert f"removed  {fid} ({area_name(1)}!A{r})" in out and "0 added, 0 changed, 1 removed" in out
    assert fid in {x["id"] for x in ledger_rows(tiny)}
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 0, out
    assert fid not in {x["id"] for x in ledger_rows(tiny)}

    # removing a figure something else points at is refused, naming the table that points at it
    base = template(tiny, tmp_path)
    linked = f"eoy-{area_id(1)}-people-supported"  # named by relations.csv and headlines.csv
    r = sheet_rows(base, area_name(1))[linked]
    filled = edit(base, tmp_path / "remove-linked.xlsx", area_name(1), {(r, "remove"): "remove"})
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1 and "relations.csv" in out and "nothing was imported" in out
    assert linked in {x["id"] for x in ledger_rows(tiny)}


def test_unknown_ids_and_bad_remove_markers_are_refused(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    row = next_free(base, area_name(1))
    filled = edit(base, tmp_path / "bad.xlsx", area_name(1), {
        **{(row, k): v for k, v in new_row(1).items()}, (row, "id"): "eoy-nowhere-made-up",
        **{(row + 1, k): v for k, v in new_row(2).items()}, (row + 1, "remove"): "maybe",
    })
    before = ledger_rows(tiny)
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1
    assert f"{area_name(1)}!P{row}: 'eoy-nowhere-made-up' is not a figure in data/{YEAR}/figures.csv" in out
    assert f"{area_name(1)}!Q{row + 1}: 'maybe': write 'remove'" in out
    assert ledger_rows(tiny) == before


# --- point 4: values Excel carries that the ledger must not --------------------------------------

def test_a_cell_formatted_as_a_percentage_is_imported_in_percent(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    fid = f"eoy-{area_id(1)}-satisfied"  # unit percent
    r = sheet_rows(base, area_name(1))[fid]
    filled = edit(base, tmp_path / "pct.xlsx", area_name(1), {(r, "value"): 0.94}, formats={(r, "value"): "0%"})
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 0, out
    assert {x["id"]: x for x in ledger_rows(tiny)}[fid]["value"] == "94"

    # the same formatting on a count is refused rather than guessed
    base = template(tiny, tmp_path)
    cid = f"eoy-{area_id(1)}-people-supported"
    r = sheet_rows(base, area_name(1))[cid]
    filled = edit(base, tmp_path / "pct-count.xlsx", area_name(1), {(r, "value"): 0.5}, formats={(r, "value"): "0%"})
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1 and f"{area_name(1)}!D{r}: the cell is formatted as a percentage" in out


NON_FINITE = [float("nan"), float("inf"), "nan", "inf", "-Infinity", "1e400"]


def test_non_finite_numbers_are_refused(tiny, tmp_path, capsys):
    """One workbook, one bad value per row (typed as numbers and as text): each row is named."""
    base = template(tiny, tmp_path)
    first = next_free(base, area_name(1))
    changes = {}
    for k, value in enumerate(NON_FINITE):
        changes.update({(first + k, name): v for name, v in new_row(k).items()})
        changes[(first + k, "value")] = value
    filled = edit(base, tmp_path / "nan.xlsx", area_name(1), changes)
    before = ledger_rows(tiny)
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1, out
    for k, value in enumerate(NON_FINITE):
        assert f"{area_name(1)}!D{first + k}: " in out, (value, out)
    assert "nothing was imported" in out
    assert ledger_rows(tiny) == before


def test_a_date_in_a_period_column_is_refused_never_stored_as_a_timestamp(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    row = next_free(base, area_name(1))
    filled = edit(base, tmp_path / "date.xlsx", area_name(1), {**{(row, k): v for k, v in new_row(1).items()},
                                                                (row, "period"): dt.datetime(2025, 4, 1)})
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1
    assert f"{area_name(1)}!H{row}: Excel holds a date (2025-04-01" in out
    assert "00:00:00" not in "".join(r["period"] for r in ledger_rows(tiny))


EXCEL_ERRORS = ["#REF!", "#N/A", "#VALUE!", "#DIV/0!"]


def test_excel_errors_are_refused_with_sheet_and_cell(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    first = next_free(base, area_name(1))
    changes = {}
    for k, error in enumerate(EXCEL_ERRORS):
        changes.update({(first + k, name): v for name, v in new_row(k).items()})
        changes[(first + k, "statement")] = error
    filled = edit(base, tmp_path / "err.xlsx", area_name(1), changes)
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1
    for k, error in enumerate(EXCEL_ERRORS):
        assert f"{area_name(1)}!C{first + k}: the cell holds the Excel error {error}" in out, out


# --- point 7: formula injection --------------------------------------------------------------------

HOSTILE = ["=HYPERLINK(\"http://example.invalid\",\"open\")", "+44 1234 567890 helpline calls", "-5 fewer waits",
           "@SUM(A1:A9)"]


def test_text_starting_like_a_formula_is_written_as_text_and_read_back_unchanged(tiny, tmp_path, capsys):
    path = tiny / "data" / YEAR / "figures.csv"
    rows = ledger_rows(tiny)
    mine = [r for r in rows if r["area"] == area_id(1)]
    for r, text in zip(mine, HOSTILE):
        r["statement"] = text
    mine[0]["note"] = HOSTILE[-1]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    before = ledger_rows(tiny)
    out = template(tiny, tmp_path)
    ws = load_workbook(out)[area_name(1)]
    ids = sheet_rows(out, area_name(1))
    for r in mine:
        cell = ws.cell(row=ids[r["id"]], column=COL["statement"])
        assert cell.data_type == "s" and cell.value == r["statement"]
    with zipfile.ZipFile(out) as z:
        assert not any("<f>" in z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))
    code, text = run(tiny, "import", out, capsys=capsys)
    assert code == 0, text
    assert "0 added, 0 changed, 0 removed" in text
    assert ledger_rows(tiny) == before


# --- point 12: a workbook formatted down to its last row ------------------------------------------

def test_a_formatted_cell_at_the_last_row_does_not_make_the_import_read_a_million_rows(tiny, tmp_path, monkeypatch):
    from openpyxl.worksheet.worksheet import Worksheet

    base = template(tiny, tmp_path)
    wb = load_workbook(base)
    ws = wb[area_name(1)]
    ws.cell(row=1_048_576, column=1).number_format = "0.00"
    ws.cell(row=1_048_576, column=16_384).number_format = "0.00"  # and at column XFD
    far = tmp_path / "far.xlsx"
    wb.save(far)
    assert far.stat().st_size < 100_000

    calls = {"n": 0}
    real_cell = Worksheet.cell

    def counting_cell(self, *a, **k):
        calls["n"] += 1
        if calls["n"] > 100_000:
            raise AssertionError("the import is creating a cell object for every row of the sheet")
        return real_cell(self, *a, **k)

    monkeypatch.setattr(Worksheet, "cell", counting_cell)
    stats: dict = {}
    tracemalloc.start()
    try:
        rows, problems, covered = read_workbook(Project(tiny), far, YEAR, stats=stats)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems == [] and covered == {area_id(1), area_id(2)}
    assert len(rows) == sum(1 for r in ledger_rows(tiny) if r["area"].startswith("testarea"))
    assert stats["rows_read"] < 50  # header rows and the figures, not a million empty rows
    assert peak < 150 * 1024 * 1024


# --- points 8 and 10: commands that write, when they cannot ---------------------------------------

def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def deny_writes_under(monkeypatch, folder: Path):
    """Simulate a read-only data/ in a way that also holds when the tests run as root (where chmod does
    not stop writes): os.access says no for the folder, and any file opened for writing there fails."""
    import os

    real_access, real_open = os.access, open
    folder = folder.resolve()

    def access(path, mode, *a, **k):
        if mode & os.W_OK and Path(path).resolve().is_relative_to(folder):
            return False
        return real_access(path, mode, *a, **k)

    def guarded_open(path, mode="r", *a, **k):
        if any(c in mode for c in "wax+") and Path(path).resolve().is_relative_to(folder):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(writes.os, "access", access)
    monkeypatch.setattr(writes, "open", guarded_open, raising=False)
    return guarded_open


@pytest.mark.parametrize("layer", ["access", "open"])
def test_commands_on_a_read_only_data_folder_say_so_and_change_nothing(tiny, tmp_path, capsys, monkeypatch, layer):
    base = template(tiny, tmp_path)
    row = next_free(base, area_name(1))
    filled = edit(base, tmp_path / "new.xlsx", area_name(1), {(row, k): v for k, v in new_row(1).items()})
    shared = tmp_path / "shared"
    make_shared_reference(shared)
    before = snapshot(tiny / "data")
    config = (tiny / "_config.yml").read_bytes()
    deny_writes_under(monkeypatch, tiny)
    if layer == "open":  # os.access says yes (as it does for root): the write itself fails
        import os
        monkeypatch.setattr(writes.os, "access", os.access)
    for args in (("import", filled), ("new-year", "2025-26"), ("reference-import", shared)):
        code, out = run(tiny, *args, capsys=capsys)
        assert code == 1, (args, out)
        assert "Traceback" not in out and ("permission denied" in out.lower()), (args, out)
        assert "nothing was changed" in out or "cannot be written" in out, (args, out)
    assert snapshot(tiny / "data") == before
    assert (tiny / "_config.yml").read_bytes() == config
    assert not (tiny / "data" / "2025-26").exists()
    assert not list((tiny / "data").rglob(".*.tmp"))


def test_new_year_when_the_year_or_its_folder_exists_is_a_clear_message(tiny, capsys):
    code, out = run(tiny, "new-year", YEAR, capsys=capsys)
    assert code == 1 and "already exists; nothing was changed" in out
    (tiny / "data" / "2025-26").mkdir()
    code, out = run(tiny, "new-year", "2025-26", capsys=capsys)
    assert code == 1 and "2025-26: already exists" in out and "Traceback" not in out


def make_shared_reference(shared: Path) -> None:
    """Shared reference files in the layout reference-import expects, with invented rows."""
    from lancs_evidence.data.reference import TABLES

    shared.mkdir(parents=True, exist_ok=True)
    for spec in TABLES.values():
        if spec["columns"] is None:
            geo = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"LAD24CD": "E07900001"},
                                                              "geometry": {"type": "Point", "coordinates": [0, 0]}}]}
            (shared / spec["file"]).write_text(json.dumps(geo), encoding="utf-8")
            continue
        cols = list(spec["columns"])
        with (shared / spec["file"]).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(cols)
            w.writerow(["E07900001" if spec["columns"][c] == "ons_code" else "1" for c in cols])


def test_reference_import_is_all_or_nothing(tiny, tmp_path, capsys):
    shared = tmp_path / "shared"
    make_shared_reference(shared)
    # the last table read lacks a column: the first ones (population) must not have been written
    from lancs_evidence.data.reference import TABLES

    ft = shared / TABLES["fingertips"]["file"]
    lines = ft.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    drop = header.index("england_value")
    ft.write_text("\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != drop) for line in lines) + "\n", encoding="utf-8")
    before = snapshot(tiny / "data" / "reference")
    code, out = run(tiny, "reference-import", shared, capsys=capsys)
    assert code == 1
    assert f"{ft}:1: england_value: column not found" in out and "data/reference was not changed" in out
    assert snapshot(tiny / "data" / "reference") == before

    # with every input whole it writes every table and its record, hashes matching
    make_shared_reference(shared)
    code, out = run(tiny, "reference-import", shared, capsys=capsys)
    assert code == 0, out
    ref = tiny / "data" / "reference"
    for meta_path in ref.glob("*.meta.json"):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        assert meta["sha256"] == hashlib.sha256((ref / meta["file"]).read_bytes()).hexdigest()


def test_reference_import_where_the_folder_is_a_file_is_a_clear_message(tiny, tmp_path, capsys):
    import shutil

    shared = tmp_path / "shared"
    make_shared_reference(shared)
    shutil.rmtree(tiny / "data" / "reference")
    (tiny / "data" / "reference").write_text("not a folder")
    code, out = run(tiny, "reference-import", shared, capsys=capsys)
    assert code == 1 and "it is not a folder" in out and "Traceback" not in out


def test_a_sheet_cannot_change_another_partnerships_figure_by_id(tiny, tmp_path, capsys):
    base = template(tiny, tmp_path)
    row = next_free(base, area_name(1))
    other = f"eoy-{area_id(2)}-wait"
    filled = edit(base, tmp_path / "other.xlsx", area_name(1), {**{(row, k): v for k, v in new_row(1).items()}, (row, "id"): other})
    before = ledger_rows(tiny)
    code, out = run(tiny, "import", filled, capsys=capsys)
    assert code == 1 and f"{area_name(1)}!P{row}: '{other}' is a figure of '{area_id(2)}'" in out
    assert ledger_rows(tiny) == before
