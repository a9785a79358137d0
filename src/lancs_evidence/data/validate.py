"""Check every table in data/ against data/datapackage.json, and report problems as `FILE:ROW: COLUMN: what`.

Three layers, each reporting in the same form:
1. reading: the file exists, is UTF-8, has balanced quotes, a header matching the descriptor and at least
   one row (these are the faults Frictionless reports least clearly, so they are caught first);
2. Frictionless: types, required and unique fields, enums, patterns, primary and foreign keys;
3. rules across tables that the descriptor cannot state: a ledger row's unit equals its measure's unit,
   values respect their unit, theme lists use known themes, audit relations name real figures.

Validation reads the author's files and never writes them. Awkward but valid input is accepted: a byte
order mark, CRLF line endings, spaces around cells, and Excel's habit of quoting.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from frictionless import Package, Resource, Schema

from lancs_evidence.data.project import UserError
from lancs_evidence.data.vocab import PARENT_KINDS, AreaTree


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
    by_pk = {k: [v] if isinstance(v, str) else v for k, v in by_pk.items()}
    by_unique = {res["name"]: any(f["name"] in by_pk[res["name"]] and (f.get("constraints") or {}).get("unique")
                                  for f in res["schema"]["fields"]) for res in descriptor["resources"]}
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
            if err.type == "primary-key" and len(by_pk.get(task.name, [])) == 1 and by_unique.get(task.name):
                continue  # a one-column key that is also 'unique': report the duplicate once
            row = getattr(err, "row_number", None) or 0
            column = getattr(err, "field_name", None) or ""
            if err.type == "primary-key" and not column:
                column = ",".join(by_pk.get(task.name, []))
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
        if name.startswith("figures"):
            folder_inits = _initiative_ids(tables, name.replace("figures", "initiatives"))
            seen_figure: dict[tuple, int] = {}
            for i, row in enumerate(rows, start=2):
                ledger_ids.add(row.get("id", ""))
                problems += _ledger_row_problems(table.rel, i, row, measure_by_id, unit_kind, folder_inits)
                key = tuple(row.get(c, "") for c in ("source", "section", "area", "measure", "value", "period", "statement"))
                if key in seen_figure:
                    problems.append(Problem(table.rel, i, "id", f"the same figure is already recorded at row {seen_figure[key]}"))
                else:
                    seen_figure[key] = i
        if name.startswith(("initiatives", "event-contributions")) and "same_as" in header:
            problems += same_as_problems(table.rel, rows, "initiative" if name.startswith("initiatives") else "contribution")
        if "themes" in header and theme_ids:
            col = "themes"
            for i, row in enumerate(rows, start=2):
                for theme in filter(None, (t.strip() for t in row.get(col, "").split(";"))):
                    if theme not in theme_ids:
                        problems.append(Problem(table.rel, i, col, f"unknown theme {theme!r}; themes are listed in themes.csv"))
    # ids must be unique across the tables of one kind (every year's and the case studies' ledgers)
    for prefix in ("figures", "initiatives", "learning-points"):
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
            for col, ids in (("figure", [row.get("figure", "")]), ("inputs", row.get("inputs", "").split(";"))):
                for fid in filter(None, (x.strip() for x in ids)):
                    if ledger_ids and fid not in ledger_ids:
                        problems.append(Problem(rel_table.rel, i, col, f"unknown figure id {fid!r}: no ledger row has it"))
    return problems


def same_as_problems(rel: str, rows: list[dict], noun: str = "initiative") -> list[Problem]:
    """An initiative described again, or a contribution listed twice (`same_as`), must point at another row of
    the same table that is itself counted (has no `same_as`), so each is counted exactly once."""
    out = []
    same = {r.get("id", ""): r.get("same_as", "").strip() for r in rows}
    for i, row in enumerate(rows, start=2):
        target = row.get("same_as", "").strip()
        if not target:
            continue
        if target == row.get("id", ""):
            out.append(Problem(rel, i, "same_as", f"{'an' if noun[0] in 'aeiou' else 'a'} {noun} cannot be the same as itself"))
        elif target not in same:
            out.append(Problem(rel, i, "same_as", f"unknown {noun} {target!r}: it must be an id in this table"))
        elif same[target]:
            out.append(Problem(rel, i, "same_as", f"{target!r} is itself recorded as the same as {same[target]!r}: "
                                                  "point at the row that is counted"))
    return out


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
    if has_value and words and not re.search(r"\d", words):
        # both only when the words are how the source writes that very number ('1/3'), never vague words
        # ('hundreds of') turned into a number
        out.append(Problem(rel, i, "value_words", "give a number in value or the source's words in value_words, not both "
                                                  "(both only when the words write the number itself, such as '1/3')"))
    if row.get("evidence_level", "").strip() == "testimony" and any(row.get(c, "").strip() for c in ("baseline", "target")):
        # one person's account is quoted, never worked into a change or a target (issue 13, rule 3)
        out.append(Problem(rel, i, "evidence_level", "a testimony row (one person's account) takes no baseline or target: "
                                                     "put the earlier state in the note"))
    lo, hi = _number(row.get("value", "")), _number(row.get("value_high", ""))
    if lo is not None and hi is not None and hi < lo:
        out.append(Problem(rel, i, "value_high", f"top of the range ({row['value_high']}) is below its bottom ({row['value']})"))
    init = row.get("initiative", "")
    if init and initiatives is not None and init not in initiatives:
        out.append(Problem(rel, i, "initiative", f"unknown initiative {init!r}"))
    return out


# --- the descriptor itself ------------------------------------------------------------------------

def descriptor_problems(data_dir: Path, descriptor: dict) -> list[Problem]:
    """A descriptor that the other layers can rely on: resources with a name, a path and fields."""
    rel = _display(data_dir / "datapackage.json")
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list) or not resources:
        return [Problem(rel, 0, "resources", "the descriptor lists no tables")]
    problems = []
    names = set()
    for i, res in enumerate(resources, start=1):
        if not isinstance(res, dict) or not res.get("name") or not res.get("path"):
            problems.append(Problem(rel, 0, "resources", f"table number {i} has no name or no path"))
            continue
        fields = (res.get("schema") or {}).get("fields") if isinstance(res.get("schema"), dict) else None
        if not isinstance(fields, list) or not all(isinstance(f, dict) and f.get("name") for f in fields):
            problems.append(Problem(rel, 0, "resources", f"table {res['name']!r} has no list of fields with names"))
        if res["name"] in names:
            problems.append(Problem(rel, 0, "resources", f"table name {res['name']!r} is used twice"))
        names.add(res["name"])
        if Path(res["path"]).is_absolute() or ".." in Path(res["path"]).parts:
            problems.append(Problem(rel, 0, "resources", f"path {res['path']!r} must be inside the data folder"))
    return problems


# --- numbers must be finite --------------------------------------------------------------------

def _finite_problem(text: str) -> str | None:
    """Why a cell that parses as a number is still unusable: NaN, infinity or out of range."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None  # not a number at all: Frictionless reports the type error
    if math.isnan(value):
        return f"{text!r} is not a number (NaN is not allowed; leave the cell blank if there is no figure)"
    if math.isinf(value):
        if text.strip().lstrip("+-").lower().startswith("inf"):
            return f"{text!r} is not allowed: a figure must be a finite number"
        return f"{text!r} is too large to be a figure (it overflows to infinity)"
    return None


def finite_number_problems(tables: dict[str, Table], descriptor: dict) -> list[Problem]:
    problems = []
    for res in descriptor["resources"]:
        table = tables.get(res["name"])
        if table is None:
            continue
        numeric = [f["name"] for f in res["schema"]["fields"] if f.get("type") in ("number", "integer")]
        for col in numeric:
            if col not in table.header:
                continue
            j = table.header.index(col)
            for i, row in enumerate(table.rows, start=2):
                why = _finite_problem(row[j]) if row[j] else None
                if why:
                    problems.append(Problem(table.rel, i, col, why))
    return problems


# --- the area tree -------------------------------------------------------------------------------

def area_tree_problems(tables: dict[str, Table]) -> list[Problem]:
    """Where each area sits (`vocab.PARENT_KINDS`), walked with the pages' own `AreaTree`, reported by row."""
    table = tables.get("areas")
    if table is None or not {"id", "kind", "parent"} <= set(table.header):
        return []
    rows = [dict(zip(table.header, r)) for r in table.rows]
    tree = AreaTree(rows, rows_start=2)
    problems = []
    # cycles: follow parents from every area; a walk that comes back to an area it has seen is a cycle
    in_cycle: set[str] = set()
    for cycle in tree.cycles():
        in_cycle.update(cycle)
        loop = " -> ".join(cycle + [cycle[0]])
        for member in cycle:
            what = "is its own parent" if len(cycle) == 1 else f"is part of a cycle of parents ({loop})"
            problems.append(Problem(table.rel, tree[member].row, "parent",
                                    f"{member!r} {what}; every chain of parents must end at an area with no parent"))
    for i, r in enumerate(rows, start=2):
        aid, p, k = r["id"], r["parent"], r["kind"]
        if p and p not in tree:
            problems.append(Problem(table.rel, i, "parent", f"unknown parent {p!r}: it is not an id in {table.rel}"))
            continue
        if aid in in_cycle or k not in PARENT_KINDS:
            continue
        allowed = PARENT_KINDS[k]
        parent_kind = tree[p].kind if p else None
        if not allowed and p:
            problems.append(Problem(table.rel, i, "parent", f"a {k} is the top of the tree and has no parent (found {p!r})"))
        elif allowed and parent_kind not in allowed:
            found = f"{p!r}, a {parent_kind}" if p else "no parent"
            problems.append(Problem(table.rel, i, "parent",
                                    f"the parent of a {k} must be a {' or '.join(allowed)} (found {found})"))
    places = [(i, r) for i, r in enumerate(rows, start=2) if r["kind"] == "place"]
    for i, _r in places[1:]:
        problems.append(Problem(table.rel, i, "kind", f"only one area may be the place (the first is {places[0][1]['id']!r})"))
    # a partnership's page reports the councils in it: it needs at least one
    for i, r in enumerate(rows, start=2):
        if r["kind"] == "partnership" and not tree.councils(r["id"]) and r["id"] not in in_cycle:
            problems.append(Problem(table.rel, i, "id", f"partnership {r['id']!r} has no district council (kind 'district') "
                                    "whose parent it is; its page reports its councils' population and deprivation"))
    # districts are looked up by ONS code in the reference tables and on the map
    codes: dict[str, int] = {}
    for i, r in enumerate(rows, start=2):
        if r["kind"] != "district":
            continue
        code = r.get("ons_code", "")
        if not code:
            problems.append(Problem(table.rel, i, "ons_code", "a district needs its ONS code: its figures are looked up by it "
                                    "in data/reference"))
        elif code in codes:
            problems.append(Problem(table.rel, i, "ons_code", f"{code!r} is already the code of the district at row {codes[code]}"))
        else:
            codes[code] = i
    return problems


# --- reference tables and their metadata -------------------------------------------------------

# What the pages read from each reference table for every district council: the table must hold a row
# for each district's ONS code, with these cells filled in.
REFERENCE_NEEDS = {
    "reference-population": ("population_mid2020", "census2021_usual_residents", "age_65_plus_mid2020"),
    "reference-imd2025": ("districts_ranked", "imd_rank_of_average_score", "share_lsoas_most_deprived_decile"),
    "reference-imd2019": ("districts_ranked", "imd_rank_of_average_score", "share_lsoas_most_deprived_decile"),
}
# Cells a reference row cannot do without wherever it appears.
REFERENCE_ROW_NEEDS = {
    "reference-fingertips": ("indicator", "label", "unit", "period", "value"),
}
META_FIELDS = ("title", "publisher", "licence", "period", "origin", "file", "sha256")


def reference_problems(data_dir: Path, tables: dict[str, Table], descriptor: dict) -> list[Problem]:
    problems: list[Problem] = []
    areas = tables.get("areas")
    districts: list[tuple[int, str, str]] = []
    if areas is not None and {"id", "kind", "ons_code"} <= set(areas.header):
        for i, r in enumerate(areas.rows, start=2):
            d = dict(zip(areas.header, r))
            if d["kind"] == "district" and d["ons_code"]:
                districts.append((i, d["id"], d["ons_code"]))
    paths = {res["name"]: res["path"] for res in descriptor["resources"]}
    for name, needed in REFERENCE_NEEDS.items():
        table = tables.get(name)
        if table is None or "ons_code" not in table.header:
            continue
        by_code = {}
        for i, r in enumerate(table.rows, start=2):
            by_code.setdefault(r[table.header.index("ons_code")], (i, dict(zip(table.header, r))))
        for arow, aid, code in districts:
            if code not in by_code:
                problems.append(Problem(areas.rel, arow, "ons_code", f"{code!r} (district {aid!r}) has no row in "
                                        f"{table.rel}; the district's page reads its figures from there"))
                continue
            i, row = by_code[code]
            for col in needed:
                if col in row and not row[col]:
                    problems.append(Problem(table.rel, i, col, f"a value is required: the page of district {aid!r} ({code}) shows it"))
            if name == "reference-population":
                pop = _number(row.get("population_mid2020", ""))
                if pop is not None and pop <= 0:
                    problems.append(Problem(table.rel, i, "population_mid2020", f"{row['population_mid2020']} is not a population "
                                            "(rates per resident divide by it)"))
    for name, needed in REFERENCE_ROW_NEEDS.items():
        table = tables.get(name)
        if table is None:
            continue
        for i, r in enumerate(table.rows, start=2):
            row = dict(zip(table.header, r))
            for col in needed:
                if col in row and not row[col]:
                    problems.append(Problem(table.rel, i, col, "a value is required: pages show it for every row"))
    # every reference table has a metadata file beside it, complete and with the table's current hash
    ref_dir = data_dir / "reference"
    described: set[str] = set()
    metas = sorted(ref_dir.glob("*.meta.json")) if ref_dir.is_dir() else []
    for meta_path in metas:
        rel = _display(meta_path)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, 0, "", f"not valid JSON ({exc})"))
            continue
        if not isinstance(meta, dict):
            problems.append(Problem(rel, 0, "", "must be a JSON object with title, publisher, licence, period, origin, file and sha256"))
            continue
        for key in META_FIELDS:
            if not str(meta.get(key, "") or "").strip():
                problems.append(Problem(rel, 0, key, "missing or empty: every reference table records its "
                                        "title, publisher, licence, period, origin, file and sha256"))
        fname = str(meta.get("file", "") or "").strip()
        if not fname:
            continue
        target = ref_dir / fname
        described.add(fname)
        if Path(fname).name != fname or not target.is_file():
            problems.append(Problem(rel, 0, "file", f"its data file {fname!r} is not in {_display(ref_dir)}"))
        elif str(meta.get("sha256", "")).strip() and _sha256(target) != str(meta["sha256"]).strip():
            problems.append(Problem(rel, 0, "sha256", f"does not match {fname}: the table was changed without its "
                                    "record; re-run `lancs-evidence reference-import`, or, if you updated it on purpose, "
                                    f"`lancs-evidence reference-accept {meta_path.name.removesuffix('.meta.json')}`"))
    for path in paths.values():
        if path.startswith("reference/") and Path(path).name not in described and (data_dir / path).exists():
            problems.append(Problem(_display(data_dir / path), 0, "", "no metadata file (*.meta.json) describes this "
                                    "reference table: its publisher, licence, period and origin are unknown"))
    geo = ref_dir / "boundaries.geojson"
    if geo.is_file():
        problems += _boundary_problems(geo, {code for _, _, code in districts})
    return problems


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _boundary_problems(path: Path, codes: set[str]) -> list[Problem]:
    """The map draws one shape per district and looks each up by its LAD24CD code."""
    rel = _display(path)
    try:
        geo = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [Problem(rel, 0, "", f"not valid GeoJSON ({exc})")]
    features = geo.get("features") if isinstance(geo, dict) else None
    if not isinstance(features, list):
        return [Problem(rel, 0, "features", "a GeoJSON FeatureCollection with a list of features is required")]
    problems = []
    for n, f in enumerate(features, start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        code = props.get("LAD24CD") if isinstance(props, dict) else None
        if not isinstance(f, dict) or not isinstance(f.get("geometry"), dict):
            problems.append(Problem(rel, 0, "geometry", f"feature {n} has no geometry"))
        if not code:
            problems.append(Problem(rel, 0, "LAD24CD", f"feature {n} has no LAD24CD code"))
        elif codes and code not in codes:
            problems.append(Problem(rel, 0, "LAD24CD", f"feature {n}: {code!r} is not the ONS code of a district in areas.csv"))
    return problems


# --- years -----------------------------------------------------------------------------------------

def year_problems(tables: dict[str, Table], descriptor: dict) -> list[Problem]:
    table = tables.get("years")
    if table is None or not {"id", "current"} <= set(table.header):
        return []
    rows = [dict(zip(table.header, r)) for r in table.rows]
    current = [i for i, r in enumerate(rows, start=2) if r["current"].strip().lower() in ("true", "1", "yes")]
    problems = []
    if len(current) != 1:
        where = current[1] if len(current) > 1 else 0
        problems.append(Problem(table.rel, where, "current", f"exactly one year must have current=true (found {len(current)})"))
    names = {res["name"] for res in descriptor["resources"]}
    for i, r in enumerate(rows, start=2):
        if f"figures-{r['id']}" not in names:
            problems.append(Problem(table.rel, i, "id", f"no ledger for {r['id']} in datapackage.json (a table named "
                                    f"'figures-{r['id']}'); start a year with `lancs-evidence new-year`"))
    return problems


# --- links between tables that the descriptor cannot state ----------------------------------------

RELATION_ARITY = {  # how many inputs each relation needs: (fewest, most)
    "pct_change_of": (1, 2), "pp_change_of": (1, 2), "share_of": (2, 2), "sum_of": (2, None),
    "difference_of": (1, 2), "ratio_of": (2, 2), "same_measure_as": (1, None),
}


def link_problems(tables: dict[str, Table], descriptor: dict) -> list[Problem]:
    problems: list[Problem] = []

    def ids(prefix: str) -> set[str]:
        out = set()
        for res in descriptor["resources"]:
            t = tables.get(res["name"])
            if res["name"].startswith(prefix) and t is not None and "id" in t.header:
                out |= {r[t.header.index("id")] for r in t.rows}
        return out

    targets = {"initiative": ("initiatives", "initiatives.csv"), "learning_point": ("learning-points", "learning_points.csv"),
               "figure": ("figures", "figures.csv")}
    known = {k: ids(prefix) for k, (prefix, _) in targets.items()}
    for res in descriptor["resources"]:
        t = tables.get(res["name"])
        if not res["name"].startswith("lesson-evidence") or t is None or not {"evidence", "kind"} <= set(t.header):
            continue
        for i, r in enumerate(t.rows, start=2):
            d = dict(zip(t.header, r))
            if d["kind"] in targets and d["evidence"] and d["evidence"] not in known[d["kind"]]:
                problems.append(Problem(t.rel, i, "evidence", f"unknown {d['kind'].replace('_', ' ')} {d['evidence']!r}: "
                                        f"it is not an id in any {targets[d['kind']][1]}"))
    problems += report_case_problems(tables, descriptor)
    rel = tables.get("relations")
    if rel is not None and {"relation", "inputs"} <= set(rel.header):
        for i, r in enumerate(rel.rows, start=2):
            d = dict(zip(rel.header, r))
            arity = RELATION_ARITY.get(d["relation"])
            if arity is None:
                continue
            n = len([x for x in d["inputs"].split(";") if x.strip()])
            lo, hi = arity
            if n < lo or (hi is not None and n > hi):
                need = f"exactly {lo}" if lo == hi else (f"{lo} or {hi}" if hi else f"at least {lo}")
                problems.append(Problem(rel.rel, i, "inputs", f"a {d['relation']} relation needs {need} input id(s) "
                                        f"joined by ';' (found {n})"))
    return problems


def report_case_problems(tables: dict[str, Table], descriptor: dict) -> list[Problem]:
    """A report's case studies (report_cases.csv) each have their own number in the report, and each is
    about an area the ledger holds initiatives or learning points for, from that report."""
    t = tables.get("report-cases")
    if t is None or not {"source", "number", "area"} <= set(t.header):
        return []
    held = set()
    for res in descriptor["resources"]:
        other = tables.get(res["name"])
        if res["name"].startswith(("initiatives", "learning-points")) and other is not None \
                and {"source", "area"} <= set(other.header):
            held |= {(r[other.header.index("source")], r[other.header.index("area")]) for r in other.rows}
    problems, seen = [], {}
    for i, r in enumerate(t.rows, start=2):
        d = dict(zip(t.header, r))
        key = (d["source"], d["number"].strip())
        if key in seen:
            problems.append(Problem(t.rel, i, "number", f"case study {d['number']} of {d['source']} is already row {seen[key]}"))
        seen.setdefault(key, i)
        if (d["source"], d["area"]) not in held:
            problems.append(Problem(t.rel, i, "area", f"no initiative or learning point of {d['source']!r} is about "
                                    f"{d['area']!r}, so the case study has nothing in the ledger"))
    return problems


def validate(data_dir: Path) -> list[Problem]:
    """Every problem in the tables of `data_dir`, sorted by file and row. An empty list means valid."""
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: data folder not found")
    descriptor = load_descriptor(data_dir)
    problems = descriptor_problems(data_dir, descriptor)
    if problems:
        return sorted(set(problems))
    tables, problems = read_tables(data_dir, descriptor)
    try:
        problems += frictionless_problems(descriptor, tables)
    except Exception as exc:  # a descriptor Frictionless cannot use (a bad pattern, an unknown type): say so, no traceback
        problems.append(Problem(_display(data_dir / "datapackage.json"), 0, "", f"cannot be used to check the tables ({exc})"))
    problems += finite_number_problems(tables, descriptor)
    problems += cross_table_problems(tables, descriptor)
    problems += area_tree_problems(tables)
    problems += reference_problems(data_dir, tables, descriptor)
    problems += year_problems(tables, descriptor)
    problems += link_problems(tables, descriptor)
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
