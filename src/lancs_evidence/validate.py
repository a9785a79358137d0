"""Check every table in data/ against data/datapackage.json, and report problems as `FILE:ROW: COLUMN: what`.

Three layers, each reporting in the same form:
1. reading: the file exists, is UTF-8, has balanced quotes, a header matching the descriptor and at least
   one row (these are the faults Frictionless reports least clearly, so they are caught first);
2. Frictionless: types, required and unique fields, enums, patterns, primary and foreign keys;
3. rules across tables that the descriptor cannot state: a ledger row's unit equals its measure's unit,
   values respect their unit, theme lists use known themes, audit relations name real claims.

Validation reads the author's files and never writes them. Awkward but valid input is accepted: a byte
order mark, CRLF line endings, spaces around cells, and Excel's habit of quoting.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from frictionless import Package, Resource, Schema

from .project import UserError


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    row: int  # 1 is the header row, as a spreadsheet numbers it; 0 when the problem is the whole file
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row else self.file
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class ValidationFailed(UserError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Table:
    name: str
    path: Path
    rel: str  # path as shown to the user
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def load_descriptor(data_dir: Path) -> dict:
    path = data_dir / "datapackage.json"
    if not path.exists():
        raise ValidationFailed([Problem(str(path), 0, "", "missing: it describes every table in this folder")])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed([Problem(str(path), 0, "", f"not valid JSON ({exc})")]) from None


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def read_csv_text(path: Path, rel: str) -> tuple[list[list[str]], list[Problem]]:
    """Read a CSV strictly. Returns its records (cells stripped) or the problems that stop it being read."""
    if not path.exists():
        return [], [Problem(rel, 0, "", "file is missing")]
    raw = path.read_bytes()
    if not raw.strip():
        return [], [Problem(rel, 0, "", "file is empty: it needs a header row and at least one data row")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(raw, exc.start)
        bad = raw[exc.start:exc.start + 1].hex()
        return [], [Problem(rel, line, "", f"not valid UTF-8 (byte 0x{bad}); save the file as 'CSV UTF-8'")]
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for record in reader:
            records.append([cell.strip() for cell in record])
    except csv.Error as exc:
        # csv reports the line where it gave up; an unclosed quote runs to the end of the file, so find
        # the record where the quote opened instead.
        opened = _unclosed_quote_line(text)
        line = opened or reader.line_num
        return [], [Problem(rel, line, "", f"cannot be read as CSV ({exc}); look for a quote (\") that is opened but never closed")]
    # a blank trailing line is not a record
    records = [r for r in records if any(c for c in r)]
    return records, []


def _unclosed_quote_line(text: str) -> int | None:
    in_quote = False
    start = None
    line = 1
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if in_quote and i + 1 < len(text) and text[i + 1] == '"':
                i += 2
                continue
            in_quote = not in_quote
            if in_quote:
                start = line
        elif ch == "\n":
            line += 1
        i += 1
    return start if in_quote else None


def check_header(table: Table, schema_fields: list[dict]) -> list[Problem]:
    expected = [f["name"] for f in schema_fields]
    problems = []
    seen = set()
    for name in table.header:
        if name in seen:
            problems.append(Problem(table.rel, 1, name, "column appears twice in the header"))
        seen.add(name)
    for name in expected:
        if name not in table.header:
            problems.append(Problem(table.rel, 1, name, "column is missing from the header"))
    for name in table.header:
        if name not in expected:
            shown = name or "(blank)"
            problems.append(Problem(table.rel, 1, shown, f"unexpected column; expected only: {', '.join(expected)}"))
    return problems


def read_tables(data_dir: Path, descriptor: dict) -> tuple[dict[str, Table], list[Problem]]:
    tables: dict[str, Table] = {}
    problems: list[Problem] = []
    for res in descriptor.get("resources", []):
        path = data_dir / res["path"]
        rel = _display(path)
        records, errs = read_csv_text(path, rel)
        if errs:
            problems += errs
            continue
        table = Table(res["name"], path, rel, header=records[0], rows=records[1:])
        errs = check_header(table, res["schema"]["fields"])
        if not table.rows and not res.get("lancs:may_be_empty"):
            errs.append(Problem(rel, 2, "", "file has a header but no data rows"))
        for i, row in enumerate(table.rows, start=2):
            if len(row) != len(table.header):
                errs.append(Problem(rel, i, "", f"row has {len(row)} cells but the header has {len(table.header)} columns"))
        if errs:
            problems += errs
            continue
        tables[res["name"]] = table
    return tables, problems


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def frictionless_problems(descriptor: dict, tables: dict[str, Table]) -> list[Problem]:
    """Run Frictionless over in-memory copies of the tables (so the author's files are never touched)."""
    resources = []
    by_name = {}
    by_pk = {res["name"]: res["schema"].get("primaryKey", []) for res in descriptor["resources"]}
    for res in descriptor["resources"]:
        table = tables.get(res["name"])
        if table is None:
            continue
        schema_desc = dict(res["schema"])
        # foreign keys into tables that could not be read are checked once those tables are fixed
        fks = [fk for fk in schema_desc.get("foreignKeys", [])
               if fk["reference"]["resource"] in ("", None) or fk["reference"]["resource"] in tables]
        schema_desc["foreignKeys"] = fks
        # keep the author's column order so positions in messages match the file
        order = {n: i for i, n in enumerate(table.header)}
        schema_desc["fields"] = sorted(schema_desc["fields"], key=lambda f: order.get(f["name"], 1e9))
        schema = Schema.from_descriptor(schema_desc)
        resource = Resource(name=res["name"], data=[table.header] + table.rows, schema=schema)
        resources.append(resource)
        by_name[res["name"]] = table
    if not resources:
        return []
    report = Package(resources=resources).validate()
    problems = []
    for task in report.tasks:
        table = by_name[task.name]
        for err in task.errors:
            if err.type == "primary-key" and len(by_pk.get(task.name, [])) == 1:
                continue  # a one-column key is also 'unique': report the duplicate once
            row = getattr(err, "row_number", None) or 0
            column = getattr(err, "field_name", None) or ""
            message = _friendly(err, table)
            if err.type == "foreign-key":
                m = re.search(r'for "([^"]+)": values "([^"]*)" not found in the lookup table "([^"]*)"', getattr(err, "note", "") or "")
                if m:
                    column = m.group(1)
                    target = next((r["path"] for r in descriptor["resources"] if r["name"] == m.group(3)), m.group(3) or table.name)
                    message = f"unknown key {m.group(2)!r}: it is not an id in {target}"
            problems.append(Problem(table.rel, row, column, message))
    return problems


def _friendly(err, table: Table) -> str:
    kind = err.type
    cell = getattr(err, "cell", None)
    if kind == "type-error":
        m = re.search(r'type is "(\w+)', getattr(err, "note", "") or "")
        wanted = {"number": "number", "integer": "whole number", "boolean": "true or false", "date": "date"}.get(m.group(1) if m else "", "value of the right type")
        return f"{cell!r} is not a valid {wanted}"
    if kind == "constraint-error":
        note = getattr(err, "note", "")
        if "required" in note:
            return "a value is required"
        if "enum" in note or "pattern" in note:
            return f"{cell!r} is not allowed ({note})"
        return f"{cell!r} breaks a rule ({note})"
    if kind in ("unique-error", "primary-key"):
        return "duplicate: " + err.note
    if kind == "foreign-key":
        return "unknown key: " + err.note
    return err.message


# --- rules across tables -----------------------------------------------------------------------

def cross_table_problems(tables: dict[str, Table], descriptor: dict) -> list[Problem]:
    problems: list[Problem] = []

    def as_dicts(name):
        t = tables.get(name)
        if t is None:
            return None, []
        return t, [dict(zip(t.header, r)) for r in t.rows]

    _, units = as_dicts("units")
    _, measures = as_dicts("measures")
    _, themes = as_dicts("themes")
    unit_kind = {u["id"]: u.get("kind", "") for u in units}
    measure_by_id = {m["id"]: m for m in measures}
    theme_ids = {t["id"] for t in themes}

    ledger_ids: set[str] = set()
    for res in descriptor["resources"]:
        name = res["name"]
        table, rows = as_dicts(name)
        if table is None:
            continue
        header = table.header
        if name.startswith("outcomes"):
            folder_inits = _initiative_ids(tables, name.replace("outcomes", "initiatives"))
            seen_statement: dict[tuple, int] = {}
            for i, row in enumerate(rows, start=2):
                ledger_ids.add(row.get("id", ""))
                problems += _ledger_row_problems(table.rel, i, row, measure_by_id, unit_kind, folder_inits)
                key = tuple(row.get(c, "") for c in ("source", "section", "area", "measure", "value", "period", "statement"))
                if key in seen_statement:
                    problems.append(Problem(table.rel, i, "id", f"the same statement is already recorded at row {seen_statement[key]}"))
                else:
                    seen_statement[key] = i
        if "themes" in header and theme_ids:
            col = "themes"
            for i, row in enumerate(rows, start=2):
                for theme in filter(None, (t.strip() for t in row.get(col, "").split(";"))):
                    if theme not in theme_ids:
                        problems.append(Problem(table.rel, i, col, f"unknown theme {theme!r}; themes are listed in themes.csv"))
    # ids must be unique across the tables of one kind (every year's and the case studies' ledgers)
    for prefix in ("outcomes", "initiatives", "learning-points"):
        first_seen: dict[str, str] = {}
        for res in descriptor["resources"]:
            if not res["name"].startswith(prefix):
                continue
            table, rows_ = as_dicts(res["name"])
            if table is None:
                continue
            for i, row in enumerate(rows_, start=2):
                rid = row.get("id", "")
                if rid in first_seen and first_seen[rid] != table.rel:
                    problems.append(Problem(table.rel, i, "id", f"duplicate: {rid!r} is already used in {first_seen[rid]}"))
                first_seen.setdefault(rid, table.rel)
    rel_table, relations = as_dicts("relations")
    if rel_table is not None:
        for i, row in enumerate(relations, start=2):
            for col, ids in (("claim", [row.get("claim", "")]), ("inputs", row.get("inputs", "").split(";"))):
                for claim in filter(None, (x.strip() for x in ids)):
                    if ledger_ids and claim not in ledger_ids:
                        problems.append(Problem(rel_table.rel, i, col, f"unknown claim id {claim!r}: no ledger row has it"))
    return problems


def _initiative_ids(tables, name) -> set[str] | None:
    t = tables.get(name)
    if t is None:
        return None
    idx = t.header.index("id") if "id" in t.header else None
    return {r[idx] for r in t.rows} if idx is not None else None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _ledger_row_problems(rel, i, row, measure_by_id, unit_kind, initiatives) -> list[Problem]:
    out = []
    measure = measure_by_id.get(row.get("measure", ""))
    unit = row.get("unit", "")
    if measure is not None and unit and measure.get("unit") != unit:
        out.append(Problem(rel, i, "unit", f"{unit!r} differs from the unit of measure {measure['id']!r}, which is {measure.get('unit')!r}"))
    kind = unit_kind.get(unit, "")
    is_change = measure is not None and measure.get("kind") == "change"
    allows_over_100 = measure is not None and measure.get("kind") in ("change", "relative")
    for col in ("value", "value_high", "baseline", "target"):
        v = _number(row.get(col, ""))
        if v is None:
            continue
        if kind == "percent" and not allows_over_100 and not (0 <= v <= 100):
            out.append(Problem(rel, i, col, f"{row[col]} is not a percentage between 0 and 100 (only a change may be outside)"))
        elif kind in ("count", "duration", "money", "rate", "ratio", "rank") and v < 0 and not is_change:
            out.append(Problem(rel, i, col, f"{row[col]} is negative, which a {kind} cannot be unless the measure is a change"))
    has_value, words = bool(row.get("value", "").strip()), row.get("value_words", "").strip()
    if not has_value and not words:
        out.append(Problem(rel, i, "value", "a value is required (or, when the source gives no number, its words in value_words)"))
    if has_value and words:
        out.append(Problem(rel, i, "value_words", "give a number in value or the source's words in value_words, not both"))
    lo, hi = _number(row.get("value", "")), _number(row.get("value_high", ""))
    if lo is not None and hi is not None and hi < lo:
        out.append(Problem(rel, i, "value_high", f"top of the range ({row['value_high']}) is below its bottom ({row['value']})"))
    init = row.get("initiative", "")
    if init and initiatives is not None and init not in initiatives:
        out.append(Problem(rel, i, "initiative", f"unknown initiative {init!r}"))
    return out


def validate(data_dir: Path) -> list[Problem]:
    """Every problem in the tables of `data_dir`, sorted by file and row. An empty list means valid."""
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: data folder not found")
    descriptor = load_descriptor(data_dir)
    tables, problems = read_tables(data_dir, descriptor)
    problems += frictionless_problems(descriptor, tables)
    problems += cross_table_problems(tables, descriptor)
    return sorted(set(problems))


def stop_on_problems(data_dir: Path, consequence: str) -> bool:
    """Validate; if anything is wrong print one line per problem and what that means for the command
    (e.g. "nothing was built"). Returns True when the command must stop."""
    import sys

    problems = validate(data_dir)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) in the data: {consequence}.", file=sys.stderr)
    return bool(problems)
