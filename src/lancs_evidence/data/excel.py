"""The Excel round trip for district leads.

`export-template` writes a workbook: an Instructions sheet, one sheet per partnership (its id in cell
B1, the column headers in row 3, drop-down lists for area, measure, unit, qualifier and evidence
level), a sheet of last year's figures for reference, and a hidden Lists sheet the drop-downs read.
Each partnership's sheet already holds the figures the ledger has for it this year, with their ids, so
a lead corrects or adds rather than retypes. Text is always written as text: a statement beginning
with `=`, `+`, `-` or `@` never becomes a live formula.

`import` reads such a workbook back. Every problem is reported as `Sheet!Cell: what is wrong` (for
example `Lancaster!D7: 'about 40' is not a number`), nothing is written unless the whole workbook is
valid, and the year's ledger then passes the same validation as any hand-edited table. The import is a
merge, never a replacement: a row with an id updates that figure (its initiative link and anything
else the sheet does not show are kept), a row without an id adds a figure, and a figure is removed
only when its row says `remove` in the remove column. Figures the sheet does not mention are kept. The
changes (added, changed, removed, by id) are printed before anything is written, and by `--dry-run`.

Values Excel can carry that a ledger must not: a cell formatted as a percentage holds 0.94 for 94%, so
for a percent unit it is imported as 94 (for any other unit it is refused); NaN, infinity and numbers
too large for a float are refused; a date in any cell is refused (a period is text such as 2025/26,
never a timestamp); an Excel error (`#REF!`, `#N/A`, ...) is refused with its Sheet!Cell.

The workbook is read in openpyxl's read-only (streaming) mode, over the template's columns only, so a
stray formatted cell at row 1,048,576 or column XFD costs nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from lancs_evidence.data.ledger import read_table
from lancs_evidence.data.project import Project, UserError
from lancs_evidence.data.validate import validate
from lancs_evidence.data.vocab import WORK_LEVELS, AreaTree, schema_vocab

QUALIFIERS = list(schema_vocab().qualifiers)
LEVELS = list(WORK_LEVELS)  # the levels a partnership's work is reported at (not context or testimony)


def _either(words: list[str]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}"


COLUMNS = [
    ("area", "Area id (from the list): the partnership, or a council or neighbourhood in it"),
    ("measure", "What was measured (from the list)"),
    ("statement", "What the figure is, in a few words, without the number"),
    ("value", "The figure: a plain number, no commas, % or £ (a range: the lower end)"),
    ("value_high", "Top of a range, if the figure is a range"),
    ("unit", "Unit (from the list); must be the measure's unit"),
    ("qualifier", f"{_either(QUALIFIERS)}, if the source says so"),
    ("period", "The time the figure covers, e.g. 2025/26 or Q3 2025/26"),
    ("baseline", "An earlier value to compare with, same unit"),
    ("baseline_period", "When the baseline was measured"),
    ("target", "A target, same unit"),
    ("comparator", "Any other comparison, e.g. England average"),
    ("evidence_level", f"{_either(LEVELS)} (from the list)"),
    ("section", "Where the figure will appear in the review (heading)"),
    ("note", "Anything a reader should know"),
    ("id", "Leave blank for a new figure; keep it when correcting an existing one"),
    ("remove", "Write 'remove' to take this figure (its id) out of the ledger; leave blank otherwise"),
]
OPTIONAL_COLUMNS = ("remove",)  # workbooks made before the column existed are still read
HEADER_ROW = 3
FIRST_ROW = 4
NUMERIC = ("value", "value_high", "baseline", "target")
REQUIRED = ("area", "measure", "statement", "value", "unit", "evidence_level")
REMOVE_WORDS = ("remove", "delete", "yes", "x")
READ_COLUMNS = 60  # the template has 17 columns; nothing beyond this is read, however far the sheet is formatted
ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SKIP_SHEETS = ("Instructions", "Lists", "Last year")


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def sheet_title(name: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


def put(ws, row: int, column: int, value):
    """Write one cell. Numbers stay numbers; text is always stored as text, so a value starting with
    =, +, -, @, a tab or a carriage return is shown as typed and never evaluated as a formula."""
    cell = ws.cell(row=row, column=column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
        return cell
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return cell
    text = str(value)
    cell.value = text
    if text.startswith(FORMULA_START):
        cell.data_type = "s"  # openpyxl would otherwise store '=...' as a formula
        cell.quotePrefix = True  # Excel and LibreOffice keep it as text when the cell is edited
    return cell


def export_template(project: Project, out: Path | None, area: str | None = None, year: str | None = None) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    year = year or project.current_year()
    areas = AreaTree.read(project.data / "areas.csv")
    measures = read_table(project.data / "measures.csv")
    units = read_table(project.data / "units.csv")
    partnerships = areas.partnerships()
    if area:
        if area not in partnerships:
            raise UserError(f"unknown area {area!r}: not a partnership in data/areas.csv")
        partnerships = [area]
    out = out or (project.build_dir / f"figures-{year}{'-' + area if area else ''}.xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)

    wb = Workbook()
    ins = wb.active
    ins.title = "Instructions"
    label = year.replace("-", "/")
    lines = [
        f"Figures for the {label} evidence book",
        "",
        "Each partnership has its own sheet, already holding the figures the book has for it this year.",
        "Correct a figure in place (keep its id), add new figures in empty rows below, and write 'remove'",
        "in the remove column of a figure that should go. Rows you leave alone are kept as they are.",
        "Choose area, measure, unit, qualifier and evidence level from the drop-down lists.",
        "Write numbers as plain numbers: 1200 not 1,200; 94 for 94%; 1200000 for £1.2m.",
        "Put words such as 'over' or 'about' in the qualifier column, never in the value.",
        "Write periods as text (2025/26, Q3 2025/26), not as dates.",
        "A range (250 to 300) goes in value and value_high.",
        "If a figure has an earlier value or a target, add them so the book can show the change.",
        "The 'Last year' sheet shows last year's figures for reference: reuse the same measure where you",
        "report the same thing again, so the book can show the two years side by side.",
        "Do not rename the sheets or change cell B1 or the headers in row 3.",
        "",
        "Column guide:",
    ] + [f"  {name}: {desc}" for name, desc in COLUMNS]
    for i, text in enumerate(lines, start=1):
        put(ins, i, 1, text)
    ins["A1"].font = Font(bold=True, size=14)
    ins.column_dimensions["A"].width = 110

    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"
    mlist = list(measures["id"])
    ulist = list(units["id"])
    for i, v in enumerate(mlist, start=1):
        put(lists, i, 1, v)
    for i, v in enumerate(ulist, start=1):
        put(lists, i, 2, v)
    for i, v in enumerate(QUALIFIERS, start=1):
        put(lists, i, 3, v)
    for i, v in enumerate(LEVELS, start=1):
        put(lists, i, 4, v)

    current_path = project.data / year / "figures.csv"
    current = read_table(current_path) if current_path.exists() else None

    col = {name: i for i, (name, _) in enumerate(COLUMNS, start=1)}
    for j, p in enumerate(areas[a] for a in partnerships):
        ws = wb.create_sheet(sheet_title(p.name))
        put(ws, 1, 1, "Partnership id (do not change):")
        put(ws, 1, 2, p.id)
        put(ws, 2, 1, f"{p.name}: figures for {label}. One row per figure, from row {FIRST_ROW}.")
        ws["A1"].font = Font(bold=True)
        for name, i in col.items():
            c = put(ws, HEADER_ROW, i, name)
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor="DDEBF7")
            ws.column_dimensions[_col_letter(i)].width = 40 if name in ("statement", "section", "note") else 16
        sub = areas.subtree(p.id)
        for k, a in enumerate(sub, start=1):
            put(lists, k, 5 + j, a)
        # this year's figures so far, with their ids, so corrections keep them and nothing is retyped
        if current is not None and not current.empty:
            mine = current[current["area"].isin(sub)]
            for r, rec in enumerate(mine.to_dict("records"), start=FIRST_ROW):
                for name, i in col.items():
                    v = rec.get(name, "")
                    put(ws, r, i, _number_or_text(v) if name in NUMERIC else (v or None))

        def add_list(column: str, ref: str):
            dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True,
                                errorTitle="Choose from the list", error=f"Please choose a {column} from the list.")
            ws.add_data_validation(dv)  # noqa: B023 (called in the same iteration)
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
    put(ref, 1, 1, f"Figures reported for {prev.replace('-', '/')} (for reference; not imported)" if prev
        else "No earlier year is held in the data.")
    ref["A1"].font = Font(bold=True)
    if prev and (project.data / prev / "figures.csv").exists():
        rows = read_table(project.data / prev / "figures.csv")
        keep = set().union(*[areas.subtree(a) for a in partnerships])
        rows = rows[rows["area"].isin(keep)]
        cols = ["area", "measure", "statement", "value", "value_high", "unit", "qualifier", "period", "baseline", "target", "id"]
        for i, name in enumerate(cols, start=1):
            put(ref, 3, i, name).font = Font(bold=True)
        for r, rec in enumerate(rows[cols].itertuples(index=False), start=4):
            for i, v in enumerate(rec, start=1):
                put(ref, r, i, _number_or_text(v) if cols[i - 1] in NUMERIC else (v or None))
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
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    return str(v).strip()


def _is_empty(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _percent_units(project: Project) -> set[str]:
    units = read_table(project.data / "units.csv")
    return set(units[units["kind"] == "percent"]["id"]) | {"percentage_points"}


def _sheet_rows(ws, max_col: int):
    """(row number, cells) for every row of the sheet that holds a value, streaming (read-only mode).

    Only the rows the file actually contains are looked at: openpyxl's own iter_rows would first hand
    out an empty row for every row number before a far-away one (a formatted cell at row 1,048,576
    means a million of them), so the sheet's XML is parsed here the way iter_rows parses it, without
    that padding. If openpyxl's internals ever differ, iter_rows is used instead (slower, same result)."""
    try:
        from openpyxl.worksheet._reader import WorkSheetParser

        source = ws._get_source()
        parser = WorkSheetParser(source, ws._shared_strings, data_only=ws.parent.data_only, epoch=ws.parent.epoch,
                                 date_formats=ws.parent._date_formats, timedelta_formats=ws.parent._timedelta_formats)
        get_row = ws._get_row
    except (ImportError, AttributeError, TypeError):
        yield from _sheet_rows_slow(ws, max_col)
        return
    with source:
        for r, raw in parser.parse():
            cells = get_row(raw, 1, max_col, False)
            if any(not _is_empty(getattr(c, "value", None)) for c in cells):
                yield r, cells


def _sheet_rows_slow(ws, max_col: int):
    blank = None
    for r, cells in enumerate(ws.iter_rows(min_row=1, max_col=max_col), start=1):
        if cells is blank:
            continue
        if any(not _is_empty(getattr(c, "value", None)) for c in cells):
            yield r, cells
        else:
            blank = cells


def _number_problem(text: str) -> str | None:
    try:
        x = float(text)
    except ValueError:
        return None
    if math.isnan(x) or math.isinf(x):
        return f"{text!r} is not a usable figure (NaN, infinity and numbers too large for the ledger are refused)"
    return None


def read_workbook(project: Project, path: Path, year: str, stats: dict | None = None,
                  areas: AreaTree | None = None) -> tuple[list[dict], list[str], set[str]]:
    """Rows from a filled-in workbook, the problems found (as Sheet!Cell lines) and the partnerships covered.
    `stats`, when given, receives how many rows were read (a bound the tests check); `areas` is the area
    tree when the caller has already read it."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.exists():
        raise UserError(f"{path}: file not found")
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: cannot be read as an Excel workbook ({exc})") from None
    try:
        return _read_sheets(project, wb, path, year, stats if stats is not None else {},
                            areas if areas is not None else AreaTree.read(project.data / "areas.csv"))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise UserError(f"{path}: cannot be read as an Excel workbook ({exc})") from None
    finally:
        wb.close()


def _read_sheets(project, wb, path, year, stats, areas: AreaTree) -> tuple[list[dict], list[str], set[str]]:
    measures = read_table(project.data / "measures.csv").set_index("id")
    units = set(read_table(project.data / "units.csv")["id"])
    percent_units = _percent_units(project)
    partnership_ids = set(areas.partnerships())
    partnership_of = areas.partnership_of

    problems: list[str] = []
    rows: list[dict] = []
    covered: set[str] = set()
    stats.setdefault("rows_read", 0)
    for ws in wb.worksheets:
        if ws.title in SKIP_SHEETS:
            continue
        stream = _sheet_rows(ws, READ_COLUMNS)
        first: dict[int, tuple] = {}
        pending: list = []
        for r, cells in stream:
            if r > HEADER_ROW:
                pending.append((r, cells))  # the first data row: counted below
                break
            stats["rows_read"] += 1
            first[r] = cells
        sheet_rows = itertools.chain(pending, stream)
        b1 = first.get(1)
        pid = _cell_text(b1[1].value) if b1 and len(b1) > 1 else ""
        if pid not in partnership_ids:
            problems.append(f"{ws.title}!B1: {pid or 'nothing'!r} is not a partnership id; this sheet is not one the template "
                            "made (use the sheets of `lancs-evidence export-template` and keep cell B1)")
            continue
        header = [_cell_text(c.value) for c in first.get(HEADER_ROW, ())]
        col = {name: i for i, name in enumerate(header) if name}
        missing = [name for name, _ in COLUMNS if name not in col and name not in OPTIONAL_COLUMNS]
        for name in missing:
            expected_at = _col_letter([n for n, _ in COLUMNS].index(name) + 1)
            problems.append(f"{ws.title}!{expected_at}{HEADER_ROW}: the header '{name}' is missing (restore row {HEADER_ROW} as the template has it)")
        if missing:
            continue
        for r, cells in sheet_rows:
            stats["rows_read"] += 1
            if r < FIRST_ROW:
                continue
            got = {name: (cells[i] if i < len(cells) else None) for name, i in col.items()}
            values = {name: getattr(c, "value", None) for name, c in got.items()}
            if all(_is_empty(v) for v in values.values()):
                continue
            where = lambda name: f"{ws.title}!{_col_letter(col[name] + 1)}{r}"  # noqa: E731, B023 (used in this iteration)
            bad = False
            for name, c in got.items():
                v = values[name]
                if _is_empty(v):
                    continue
                if getattr(c, "data_type", "") == "e" or (isinstance(v, str) and v.strip().upper() in ERROR_CODES):
                    problems.append(f"{where(name)}: the cell holds the Excel error {str(v).strip()}; correct the formula or type the value")
                    bad = True
                elif isinstance(v, (dt.datetime, dt.date, dt.time, dt.timedelta)):
                    shown = v.isoformat() if hasattr(v, "isoformat") else str(v)
                    if name in ("period", "baseline_period"):
                        problems.append(f"{where(name)}: Excel holds a date ({shown}) here; a period is text as the source "
                                        "gives it, e.g. 2025/26 or Q3 2025/26 (format the cell as Text and retype it)")
                    else:
                        problems.append(f"{where(name)}: Excel holds a date ({shown}) here, not a {'number' if name in NUMERIC else 'text'}; "
                                        "format the cell as Text or Number and retype it")
                    bad = True
            if bad:
                continue
            rec = {name: _cell_text(v) for name, v in values.items()}
            rec.setdefault("remove", "")
            for name in NUMERIC:
                v = values[name]
                if _is_empty(v):
                    rec[name] = ""
                    continue
                if isinstance(v, bool):
                    problems.append(f"{where(name)}: {v!r} is not a number")
                    continue
                if isinstance(v, (int, float)):
                    x = float(v)
                    if math.isnan(x) or math.isinf(x):
                        problems.append(f"{where(name)}: {v!r} is not a usable figure (NaN and infinity are refused)")
                        continue
                    if "%" in str(getattr(got[name], "number_format", "") or ""):
                        if rec["unit"] in percent_units:
                            x = float(f"{x * 100:.12g}")  # the cell shows 94% and holds 0.94: the ledger writes 94
                        else:
                            problems.append(f"{where(name)}: the cell is formatted as a percentage ({x * 100:.12g}%) but the unit is "
                                            f"{rec['unit'] or 'missing'!r}, not a percentage; format it as a plain number")
                            continue
                    rec[name] = _cell_text(x)
                    continue
                text = str(v).strip()
                why = _number_problem(text)
                if why:
                    problems.append(f"{where(name)}: {why}")
                    continue
                try:
                    rec[name] = _cell_text(float(text))
                except ValueError:
                    problems.append(f"{where(name)}: {text!r} is not a number (write a plain number; put words such as "
                                    "'about' in the qualifier column)")
            remove = rec["remove"].lower()
            if remove and remove not in REMOVE_WORDS:
                problems.append(f"{where('remove')}: {rec['remove']!r}: write 'remove' to take the figure out, or leave the cell blank")
            rec["remove"] = "remove" if remove in REMOVE_WORDS else ""
            rec["_where"] = f"{ws.title}!A{r}"
            rec["_id_cell"] = where("id")
            rec["_pid"] = pid
            covered.add(pid)
            if rec["remove"]:
                if not rec["id"]:
                    problems.append(f"{where('remove')}: this row says remove but has no id; only an existing figure (with its id) can be removed")
                rows.append(rec)
                continue
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
            rows.append(rec)
    if not covered and not problems:
        problems.append(f"{path}: no figures found in any partnership sheet (rows start at {FIRST_ROW}; the workbook must "
                        "come from `lancs-evidence export-template`)")
    return rows, problems, covered


SHEET_FIELDS = [name for name, _ in COLUMNS if name not in ("id", "remove")]


def _same(column: str, a: str, b: str) -> bool:
    if column in NUMERIC and a and b:
        try:
            return float(a) == float(b)
        except ValueError:
            pass
    return (a or "") == (b or "")


def plan_import(existing: list[dict], header: list[str], rows: list[dict], prefix: str, source: str, ledger_rel: str,
                partnership_of=None) -> tuple[list[dict], dict, list[str]]:
    """Merge workbook rows into the ledger rows. Returns the new ledger rows, the diff
    ({'added': [...], 'changed': [...], 'removed': [...]}, each (id, where, detail)) and problems."""
    by_id = {r["id"]: i for i, r in enumerate(existing)}
    result = [dict(r) for r in existing]
    removed_ids: set[str] = set()
    diff: dict[str, list] = {"added": [], "changed": [], "removed": []}
    problems: list[str] = []
    seen: dict[str, str] = {}
    taken = set(by_id)
    for rec in rows:
        rid = rec.get("id") or ""
        if rid:
            if rid in seen:
                problems.append(f"{rec['_id_cell']}: id {rid!r} is already used at {seen[rid]}; one row per figure")
                continue
            seen[rid] = rec["_where"]
            if rid not in by_id:
                problems.append(f"{rec['_id_cell']}: {rid!r} is not a figure in {ledger_rel}; leave the id blank for a new figure")
                continue
            old = existing[by_id[rid]]
            owner = partnership_of(old.get("area", "")) if partnership_of else rec.get("_pid")
            if owner != rec.get("_pid"):
                problems.append(f"{rec['_id_cell']}: {rid!r} is a figure of {owner or 'no partnership'!r}, not of this sheet's "
                                f"partnership {rec.get('_pid')!r}; correct it in that partnership's sheet")
                continue
            if rec["remove"]:
                removed_ids.add(rid)
                diff["removed"].append((rid, rec["_where"], f"{old.get('measure', '')} {old.get('value', '')} {old.get('unit', '')}".strip()))
                continue
            new = dict(old)
            for name in SHEET_FIELDS:
                if name in header and not (name == "section" and not rec.get(name)):
                    new[name] = rec.get(name, "")
            changes = [f"{name}: {old.get(name, '')!r} -> {new.get(name, '')!r}" for name in SHEET_FIELDS
                       if name in header and not _same(name, old.get(name, ""), new.get(name, ""))]
            if changes:
                result[by_id[rid]] = new
                diff["changed"].append((rid, rec["_where"], "; ".join(changes)))
            continue
        base = f"{prefix}-{rec['area']}-{rec['measure'].replace('_', '-')}"
        rid, n = base, 2
        while rid in taken:
            rid, n = f"{base}-{n}", n + 1
        taken.add(rid)
        out = {c: "" for c in header}
        out.update({k: v for k, v in rec.items() if k in header})
        out.update({"id": rid, "source": source, "section": rec.get("section") or "District partnerships"})
        result.append(out)
        rec["id"] = rid
        diff["added"].append((rid, rec["_where"], f"{rec['measure']} {rec['value']} {rec['unit']}"))
    result = [r for r in result if r["id"] not in removed_ids]
    return result, diff, problems


def print_diff(diff: dict, ledger_rel: str, unchanged: int) -> None:
    n = sum(len(v) for v in diff.values())
    print(f"changes to {ledger_rel}: {len(diff['added'])} added, {len(diff['changed'])} changed, "
          f"{len(diff['removed'])} removed; {unchanged} other figure(s) kept as they are")
    for kind in ("added", "changed", "removed"):
        for rid, where, detail in diff[kind]:
            print(f"  {kind:8s} {rid} ({where}): {detail}")
    if not n:
        print("  (no changes)")


def import_workbook(project: Project, path: Path, year: str | None = None, dry_run: bool = False) -> int:
    year = year or project.current_year()
    areas = AreaTree.read(project.data / "areas.csv")
    rows, problems, covered = read_workbook(project, path, year, areas=areas)
    years = read_table(project.data / "years.csv").set_index("id")
    if year not in years.index:
        raise UserError(f"{year} is not a year in data/years.csv; start it with `lancs-evidence new-year {year}`")
    source = years.loc[year, "source"]
    prefix = read_table(project.data / "sources.csv").set_index("id").loc[source, "prefix"]
    ledger = project.data / year / "figures.csv"
    ledger_rel = f"data/{year}/figures.csv"
    with ledger.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        existing = [{k: (v or "").strip() for k, v in r.items() if k is not None} for r in reader]
    merged, diff, id_problems = plan_import(existing, header, rows, prefix, source, ledger_rel,
                                            partnership_of=areas.partnership_of)
    problems += id_problems
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) in {path.name}; nothing was imported.")
        return 1
    where_of = {rec["id"]: rec["_where"] for rec in rows if rec.get("id")}
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(merged)
    # validate the result in a scratch copy of the data before touching the author's files
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "data"
        shutil.copytree(project.data, scratch, ignore=shutil.ignore_patterns("_parts"))
        (scratch / year / "figures.csv").write_text(text.getvalue(), encoding="utf-8")
        found = validate(scratch)
    if found:
        order = [r["id"] for r in merged]
        for p in found:
            rid = order[p.row - 2] if p.file.endswith(f"{year}/figures.csv") and 2 <= p.row < len(order) + 2 else ""
            place = where_of.get(rid)  # "Sheet!A7": report the workbook row, not the scratch file's
            print(f"{place}: {p.column}: {p.message}" if place else f"{Path(p.file).name}:{p.row}: {p.column}: {p.message}")
        print(f"{len(found)} problem(s); nothing was imported.")
        return 1
    touched = sum(len(v) for v in diff.values())
    print_diff(diff, ledger_rel, len(existing) - len(diff["changed"]) - len(diff["removed"]))
    if dry_run:
        print(f"{path.name}: valid (dry run: nothing written)")
        return 0
    from lancs_evidence.data.writes import write_all

    write_all({ledger: text.getvalue().encode("utf-8")})
    print(f"imported {touched} figure(s) for {', '.join(sorted(covered))} into {ledger_rel}")
    return 0
