"""The Excel round trip for district leads.

`export-template` writes a workbook: an Instructions sheet, one sheet per partnership (its id in cell
B1, the column headers in row 3, drop-down lists for area, measure, unit, qualifier and evidence
level), a sheet of last year's figures for reference, and a hidden Lists sheet the drop-downs read.

`import` reads such a workbook back. Every problem is reported as `Sheet!Cell: what is wrong` (for
example `Lancaster!C7: 'about 40' is not a number`), nothing is written unless the whole workbook is
valid, and the year's ledger then passes the same validation as any hand-edited table. The figures in
a partnership's sheet replace that partnership's figures for the year; other partnerships are kept.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from .ledger import Data, read_table
from .project import Project, UserError
from .validate import validate

COLUMNS = [
    ("area", "Area id (from the list): the partnership, or a council or neighbourhood in it"),
    ("measure", "What was measured (from the list)"),
    ("statement", "What the figure is, in a few words, without the number"),
    ("value", "The figure: a plain number, no commas, % or £ (a range: the lower end)"),
    ("value_high", "Top of a range, if the figure is a range"),
    ("unit", "Unit (from the list); must be the measure's unit"),
    ("qualifier", "over, circa, up_to, almost, at_least or under, if the source says so"),
    ("period", "The time the figure covers, e.g. 2025/26 or Q3 2025/26"),
    ("baseline", "An earlier value to compare with, same unit"),
    ("baseline_period", "When the baseline was measured"),
    ("target", "A target, same unit"),
    ("comparator", "Any other comparison, e.g. England average"),
    ("evidence_level", "activity, output, outcome or impact (from the list)"),
    ("section", "Where the figure will appear in the review (heading)"),
    ("note", "Anything a reader should know"),
    ("id", "Leave blank for a new figure; keep it when correcting an existing one"),
]
HEADER_ROW = 3
FIRST_ROW = 4
NUMERIC = ("value", "value_high", "baseline", "target")
REQUIRED = ("area", "measure", "statement", "value", "unit", "evidence_level")
QUALIFIERS = ["over", "circa", "up_to", "almost", "at_least", "under"]
LEVELS = ["activity", "output", "outcome", "impact"]


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def sheet_title(name: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


def export_template(project: Project, out: Path | None, area: str | None = None, year: str | None = None) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    year = year or project.current_year()
    areas = read_table(project.data / "areas.csv")
    measures = read_table(project.data / "measures.csv")
    units = read_table(project.data / "units.csv")
    partnerships = areas[areas["kind"] == "partnership"]
    if area:
        if area not in set(partnerships["id"]):
            raise UserError(f"unknown area {area!r}: not a partnership in data/areas.csv")
        partnerships = partnerships[partnerships["id"] == area]
    out = out or (project.build_dir / f"figures-{year}{'-' + area if area else ''}.xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)

    wb = Workbook()
    ins = wb.active
    ins.title = "Instructions"
    label = year.replace("-", "/")
    lines = [
        f"Figures for the {label} evidence book",
        "",
        "Each partnership has its own sheet. Please fill in one row per figure your partnership reports,",
        "starting in row 4. Choose area, measure, unit, qualifier and evidence level from the drop-down lists.",
        "Write numbers as plain numbers: 1200 not 1,200; 94 for 94%; 1200000 for £1.2m.",
        "Put words such as 'over' or 'about' in the qualifier column, never in the value.",
        "A range (250 to 300) goes in value and value_high.",
        "If a figure has an earlier value or a target, add them so the book can show the change.",
        "The 'Last year' sheet shows last year's figures for reference: reuse the same measure where you",
        "report the same thing again, so the book can show the two years side by side.",
        "Do not rename the sheets or change cell B1 or the headers in row 3.",
        "",
        "Column guide:",
    ] + [f"  {name}: {desc}" for name, desc in COLUMNS]
    for i, text in enumerate(lines, start=1):
        ins.cell(row=i, column=1, value=text)
    ins["A1"].font = Font(bold=True, size=14)
    ins.column_dimensions["A"].width = 110

    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"
    mlist = list(measures["id"])
    ulist = list(units["id"])
    for i, v in enumerate(mlist, start=1):
        lists.cell(row=i, column=1, value=v)
    for i, v in enumerate(ulist, start=1):
        lists.cell(row=i, column=2, value=v)
    for i, v in enumerate(QUALIFIERS, start=1):
        lists.cell(row=i, column=3, value=v)
    for i, v in enumerate(LEVELS, start=1):
        lists.cell(row=i, column=4, value=v)

    def subtree(a):
        out_, todo = [], [a]
        while todo:
            x = todo.pop(0)
            out_.append(x)
            todo += list(areas[areas["parent"] == x]["id"])
        return out_

    col = {name: i for i, (name, _) in enumerate(COLUMNS, start=1)}
    for j, p in enumerate(partnerships.to_dict("records")):
        ws = wb.create_sheet(sheet_title(p["name"]))
        ws["A1"], ws["B1"] = "Partnership id (do not change):", p["id"]
        ws["A2"] = f"{p['name']}: figures for {label}. One row per figure, from row {FIRST_ROW}."
        ws["A1"].font = Font(bold=True)
        for name, i in col.items():
            c = ws.cell(row=HEADER_ROW, column=i, value=name)
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDEBF7")
            ws.column_dimensions[_col_letter(i)].width = 40 if name in ("statement", "section", "note") else 16
        sub = subtree(p["id"])
        for k, a in enumerate(sub, start=1):
            lists.cell(row=k, column=5 + j, value=a)

        def add_list(column: str, ref: str):
            dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True,
                                errorTitle="Choose from the list", error=f"Please choose a {column} from the list.")
            ws.add_data_validation(dv)
            letter = _col_letter(col[column])
            dv.add(f"{letter}{FIRST_ROW}:{letter}{FIRST_ROW + 500}")

        lc = _col_letter(5 + j)
        add_list("area", f"Lists!${lc}$1:${lc}${len(sub)}")
        add_list("measure", f"Lists!$A$1:$A${len(mlist)}")
        add_list("unit", f"Lists!$B$1:$B${len(ulist)}")
        add_list("qualifier", f"Lists!$C$1:$C${len(QUALIFIERS)}")
        add_list("evidence_level", f"Lists!$D$1:$D${len(LEVELS)}")
        ws.freeze_panes = f"A{FIRST_ROW}"

    # last year's figures, for reference
    ref = wb.create_sheet("Last year")
    years = read_table(project.data / "years.csv")
    ids = list(years["id"])
    prev = ids[ids.index(year) - 1] if year in ids and ids.index(year) > 0 else None
    ref["A1"] = (f"Figures reported for {prev.replace('-', '/')} (for reference; not imported)" if prev
                 else "No earlier year is held in the data.")
    ref["A1"].font = Font(bold=True)
    if prev and (project.data / prev / "outcomes.csv").exists():
        rows = read_table(project.data / prev / "outcomes.csv")
        keep = set().union(*[subtree(a) for a in partnerships["id"]])
        rows = rows[rows["area"].isin(keep)]
        cols = ["area", "measure", "statement", "value", "value_high", "unit", "qualifier", "period", "baseline", "target", "id"]
        for i, name in enumerate(cols, start=1):
            ref.cell(row=3, column=i, value=name).font = Font(bold=True)
        for r, rec in enumerate(rows[cols].itertuples(index=False), start=4):
            for i, v in enumerate(rec, start=1):
                ref.cell(row=r, column=i, value=_number_or_text(v) if cols[i - 1] in NUMERIC else v)
    wb.save(out)
    return out


def _number_or_text(v):
    try:
        return float(v) if v not in ("", None) else None
    except ValueError:
        return v


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_workbook(project: Project, path: Path, year: str) -> tuple[list[dict], list[str], set[str]]:
    """Rows from a filled-in workbook, the problems found (as Sheet!Cell lines) and the partnerships covered."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise UserError(f"{path}: file not found")
    try:
        wb = load_workbook(path, data_only=True, read_only=False)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: cannot be read as an Excel workbook ({exc})") from None
    areas = read_table(project.data / "areas.csv")
    measures = read_table(project.data / "measures.csv").set_index("id")
    units = set(read_table(project.data / "units.csv")["id"])
    partnership_ids = set(areas[areas["kind"] == "partnership"]["id"])
    partnership_of = Data(project.root, year).partnership_of

    problems: list[str] = []
    rows: list[dict] = []
    covered: set[str] = set()
    for ws in wb.worksheets:
        if ws.title in ("Instructions", "Lists", "Last year"):
            continue
        pid = _cell_text(ws["B1"].value)
        if pid not in partnership_ids:
            problems.append(f"{ws.title}!B1: {pid or 'nothing'!r} is not a partnership id; this sheet is not one the template "
                            "made (use the sheets of `lancs-evidence export-template` and keep cell B1)")
            continue
        header = [_cell_text(c.value) for c in ws[HEADER_ROW]]
        col = {name: i for i, name in enumerate(header) if name}
        missing = [name for name, _ in COLUMNS if name not in col]
        for name in missing:
            expected_at = _col_letter([n for n, _ in COLUMNS].index(name) + 1)
            problems.append(f"{ws.title}!{expected_at}{HEADER_ROW}: the header '{name}' is missing (restore row {HEADER_ROW} as the template has it)")
        if missing:
            continue
        for r in range(FIRST_ROW, ws.max_row + 1):
            values = {name: ws.cell(row=r, column=i + 1).value for name, i in col.items()}
            if all(v in (None, "") for v in values.values()):
                continue
            rec = {name: _cell_text(v) for name, v in values.items()}
            where = lambda name: f"{ws.title}!{_col_letter(col[name] + 1)}{r}"  # noqa: E731
            for name in NUMERIC:
                v = values[name]
                if v in (None, ""):
                    continue
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    rec[name] = _cell_text(float(v))
                    continue
                try:
                    rec[name] = _cell_text(float(str(v).strip()))
                except ValueError:
                    problems.append(f"{where(name)}: {str(v)!r} is not a number (write a plain number; put words such as "
                                    "'about' in the qualifier column)")
            for name in REQUIRED:
                if not rec.get(name):
                    problems.append(f"{where(name)}: a value is required")
            if rec["area"] and partnership_of(rec["area"]) != pid:
                problems.append(f"{where('area')}: {rec['area']!r} is not this partnership or an area within it")
            if rec["measure"] and rec["measure"] not in measures.index:
                problems.append(f"{where('measure')}: {rec['measure']!r} is not a known measure (choose from the list)")
            elif rec["measure"] and rec["unit"] and measures.loc[rec["measure"], "unit"] != rec["unit"]:
                problems.append(f"{where('unit')}: {rec['unit']!r} is not the unit of {rec['measure']!r}, which is "
                                f"{measures.loc[rec['measure'], 'unit']!r}")
            if rec["unit"] and rec["unit"] not in units:
                problems.append(f"{where('unit')}: {rec['unit']!r} is not a known unit")
            if rec["qualifier"] and rec["qualifier"] not in QUALIFIERS:
                problems.append(f"{where('qualifier')}: {rec['qualifier']!r} is not one of {', '.join(QUALIFIERS)}")
            if rec["evidence_level"] and rec["evidence_level"] not in LEVELS:
                problems.append(f"{where('evidence_level')}: {rec['evidence_level']!r} is not one of {', '.join(LEVELS)}")
            rec["_where"] = f"{ws.title}!A{r}"
            rows.append(rec)
            covered.add(pid)  # only a sheet with figures replaces its partnership's figures; an empty one changes nothing
    if not covered and not problems:
        problems.append(f"{path}: no figures found in any partnership sheet (rows start at {FIRST_ROW}; the workbook must "
                        "come from `lancs-evidence export-template`)")
    return rows, problems, covered


def import_workbook(project: Project, path: Path, year: str | None = None, dry_run: bool = False) -> int:
    year = year or project.current_year()
    rows, problems, covered = read_workbook(project, path, year)
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) in {path.name}; nothing was imported.")
        return 1
    years = read_table(project.data / "years.csv").set_index("id")
    if year not in years.index:
        raise UserError(f"{year} is not a year in data/years.csv; start it with `lancs-evidence new-year {year}`")
    source = years.loc[year, "source"]
    prefix = read_table(project.data / "sources.csv").set_index("id").loc[source, "prefix"]
    ledger = project.data / year / "outcomes.csv"
    with ledger.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        existing = list(reader)
    areas = read_table(project.data / "areas.csv")
    parent = dict(zip(areas["id"], areas["parent"]))

    def in_covered(a: str) -> bool:
        while a:
            if a in covered:
                return True
            a = parent.get(a, "")
        return False

    kept = [r for r in existing if not in_covered(r.get("area", ""))]
    taken = {r["id"] for r in kept}
    where_of: dict[str, str] = {}
    new_rows = []
    for rec in rows:
        rid = rec.get("id") or ""
        if not rid:
            base = f"{prefix}-{rec['area']}-{rec['measure'].replace('_', '-')}"
            rid, n = base, 2
            while rid in taken:
                rid, n = f"{base}-{n}", n + 1
        taken.add(rid)
        out = {c: "" for c in header}
        out.update({k: v for k, v in rec.items() if k in header})
        out.update({"id": rid, "source": source, "section": rec.get("section") or "District partnerships"})
        where_of[rid] = rec["_where"]
        new_rows.append(out)
    # validate the result in a scratch copy of the data before touching the author's files
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "data"
        shutil.copytree(project.data, scratch, ignore=shutil.ignore_patterns("_parts"))
        text = io.StringIO()
        w = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(kept + new_rows)
        (scratch / year / "outcomes.csv").write_text(text.getvalue(), encoding="utf-8")
        found = validate(scratch)
    if found:
        order = [r["id"] for r in kept + new_rows]
        for p in found:
            rid = order[p.row - 2] if p.file.endswith(f"{year}/outcomes.csv") and 2 <= p.row < len(order) + 2 else ""
            place = where_of.get(rid)  # "Sheet!A7": report the workbook row, not the scratch file's
            print(f"{place}: {p.column}: {p.message}" if place else f"{Path(p.file).name}:{p.row}: {p.column}: {p.message}")
        print(f"{len(found)} problem(s); nothing was imported.")
        return 1
    if dry_run:
        print(f"{path.name}: {len(new_rows)} figure(s) for {', '.join(sorted(covered))} are valid (dry run: nothing written)")
        return 0
    tmpfile = ledger.with_suffix(".tmp")
    with tmpfile.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(kept + new_rows)
    tmpfile.replace(ledger)
    print(f"imported {len(new_rows)} figure(s) for {', '.join(sorted(covered))} into data/{year}/outcomes.csv "
          f"({len(kept)} other figure(s) kept)")
    return 0
