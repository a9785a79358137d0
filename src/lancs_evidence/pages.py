"""Which pages the book has, and what each one's notebook depends on.

Two sorts of page source:
- a *template* in `templates/` (a MyST text notebook) whose front matter says which areas it is run for,
  e.g. `lancs_evidence: {each: partnership, output: "chapters/districts/{id}.ipynb", scope: area}`;
- a *chapter* in `chapters/` (a MyST text notebook), run once.

Every page is executed by `runner` into an `.ipynb` beside where the book expects it. The page's
*inputs* (its source text, its parameters, the `src/` modules it imports, the data rows it reads and
the locked package versions) are hashed into a key; a page whose key is unchanged is not re-run.
"""
from __future__ import annotations

import ast
import csv
import functools
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .project import Project, UserError

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
VOCAB_FILES = ("areas.csv", "sources.csv", "years.csv", "themes.csv", "units.csv", "measures.csv", "datapackage.json")
AREA_TABLES = ("outcomes.csv", "initiatives.csv", "learning_points.csv")


@dataclass
class Page:
    key: str  # docname in the book, e.g. "chapters/districts/lancaster"
    source: Path
    output: Path
    params: dict = field(default_factory=dict)
    scope: str = "all"  # "all" or "area"
    area: str | None = None
    title: str | None = None
    template: str | None = None

    @property
    def label(self) -> str:
        return f"{self.key} (area {self.area})" if self.area else self.key


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = FRONT_MATTER.match(text)
    if not m:
        return {}
    try:
        return yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: front matter is not valid YAML ({exc})") from None


def _areas(project: Project) -> list[dict]:
    with (project.data / "areas.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [{k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]
    return sorted(rows, key=lambda r: int(r["order"] or 0))


def discover(project: Project) -> list[Page]:
    """Every page of the book, in table-of-contents order within each kind."""
    pages: list[Page] = []
    areas = _areas(project)
    year = project.current_year()
    for tpl in sorted(project.templates.glob("*.md")):
        meta = front_matter(tpl).get("lancs_evidence") or {}
        each = meta.get("each")
        if not each:
            continue
        if isinstance(each, dict):  # {param: source, values: [...], title_from: sources}
            titles = _titles(project, each.get("title_from"))
            for value in each["values"]:
                out = meta["output"].format(id=value)
                pages.append(Page(key=out.removesuffix(".ipynb"), source=tpl, output=project.root / out,
                                  params={each["param"]: value, "year": year}, scope=meta.get("scope", "all"),
                                  title=titles.get(value, value), template=tpl.stem))
            continue
        for area in (a for a in areas if a["kind"] == each):
            out = meta["output"].format(id=area["id"])
            key = out.removesuffix(".ipynb")
            pages.append(Page(key=key, source=tpl, output=project.root / out, params={"area": area["id"], "year": year},
                              scope=meta.get("scope", "area"), area=area["id"], title=area["name"], template=tpl.stem))
    for chap in sorted(project.chapters.rglob("*.md")):
        if chap.name.startswith("_"):
            continue
        meta = front_matter(chap)
        if "jupytext" not in meta:
            continue
        rel = chap.relative_to(project.root).with_suffix("")
        lx = meta.get("lancs_evidence") or {}
        pages.append(Page(key=str(rel), source=chap, output=chap.with_suffix(".ipynb"), params={"year": year},
                          scope=lx.get("scope", "all")))
    return pages


def _titles(project: Project, table: str | None) -> dict[str, str]:
    if not table:
        return {}
    with (project.data / f"{table}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["id"].strip(): (r.get("title") or r.get("name") or "").strip() for r in csv.DictReader(fh)}


def select(pages: list[Page], areas: list[str] | None, project: Project) -> list[Page]:
    if not areas:
        return pages
    known = {p.area for p in pages if p.area}
    unknown = [a for a in areas if a not in known]
    if unknown:
        valid = ", ".join(sorted(known))
        raise UserError(f"unknown area {', '.join(unknown)!s}: not a partnership in data/areas.csv (known: {valid})")
    return [p for p in pages if p.area in areas]


# --- cache keys ------------------------------------------------------------------------------

def _imports_of(code: str) -> set[str]:
    """Modules of this package imported by a piece of code (absolute or relative imports)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:  # relative, inside the package
                if mod:
                    out.add(mod.split(".")[0])
                for alias in node.names:
                    out.add(alias.name)
            elif mod == "lancs_evidence":
                out.update(alias.name for alias in node.names)
            elif mod.startswith("lancs_evidence."):
                out.add(mod.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lancs_evidence."):
                    out.add(alias.name.split(".")[1])
    return out


@functools.lru_cache(maxsize=256)
def _module_imports(path: Path, mtime_ns: int) -> frozenset[str]:
    return frozenset(_imports_of(path.read_text(encoding="utf-8")))


def code_closure(package_dir: Path, cells: list[str]) -> list[Path]:
    """The package modules the cells import, followed through their own imports."""
    return list(_closure(package_dir, frozenset(m for cell in cells for m in _imports_of(cell))))


def _closure(package_dir: Path, roots: frozenset[str]) -> tuple[Path, ...]:
    seen: set[str] = set()
    todo = [*roots, "__init__"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = package_dir / f"{name}.py"
        if not path.exists():
            continue
        seen.add(name)
        todo += list(_module_imports(path, path.stat().st_mtime_ns))
    return tuple(sorted(package_dir / f"{n}.py" for n in seen))


@functools.lru_cache(maxsize=128)
def _code_cells(source_text: str) -> tuple[str, ...]:
    """The code of each code cell of a MyST text notebook (cell options such as :tags: removed)."""
    import jupytext

    nb = jupytext.reads(source_text, fmt="md:myst")
    return tuple(c.source for c in nb.cells if c.cell_type == "code")


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return (rows[0] if rows else []), rows[1:]


class DataIndex:
    """Reads the data folder once per run and answers 'what rows does this page read?'."""

    def __init__(self, project: Project):
        self.project = project
        self.data = project.data
        self.areas = _areas(project)
        self.parent = {a["id"]: a["parent"] for a in self.areas}
        self.ons = {a["id"]: a["ons_code"] for a in self.areas}
        self.files = sorted(p for p in self.data.rglob("*") if p.is_file() and "_parts" not in p.parts
                            and p.suffix in (".csv", ".json", ".geojson"))
        self._rows = {p: _read_rows(p) for p in self.files if p.suffix == ".csv"}
        self.all_hash = hashlib.sha256(b"".join(p.relative_to(self.data).as_posix().encode() + b"\0" + p.read_bytes()
                                                for p in self.files)).hexdigest()

    def subtree(self, area: str) -> set[str]:
        out = {area}
        changed = True
        while changed:
            new = {a for a, p in self.parent.items() if p in out} - out
            out |= new
            changed = bool(new)
        return out

    def area_inputs(self, area: str) -> dict[str, str]:
        """For each data file, the sha256 of the part of it a page about `area` reads."""
        out: dict[str, str] = {}
        for name in VOCAB_FILES:
            p = self.data / name
            if p.exists():
                out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
        areas = self.subtree(area)
        codes = {self.ons[a] for a in areas if self.ons.get(a)}
        claim_ids: set[str] = set()
        for path, (header, rows) in self._rows.items():
            rel = path.relative_to(self.data).as_posix()
            if path.name in AREA_TABLES and "area" in header:
                i = header.index("area")
                mine = [r for r in rows if len(r) > i and r[i].strip() in areas]
                if path.name == "outcomes.csv":
                    claim_ids |= {r[0].strip() for r in mine if r}
                out[rel] = _rows_hash(header, mine)
            elif rel.startswith("reference/") and "ons_code" in header:
                i = header.index("ons_code")
                out[rel] = _rows_hash(header, [r for r in rows if len(r) > i and r[i] in codes])
        # audit relations touching this area's claims, and the rows of other areas they link to
        rel_path = self.data / "relations.csv"
        if rel_path in self._rows:
            header, rows = self._rows[rel_path]
            linked: set[str] = set()
            touching = []
            for r in rows:
                rec = dict(zip(header, r))
                ids = {rec.get("claim", "").strip(), *[x.strip() for x in rec.get("inputs", "").split(";")]}
                if ids & claim_ids:
                    touching.append(r)
                    linked |= ids
            out["relations.csv"] = _rows_hash(header, touching)
            linked_rows = []
            for path, (header, rows) in self._rows.items():
                if path.name == "outcomes.csv":
                    linked_rows += [r for r in rows if r and r[0].strip() in linked]
            out["outcomes linked by the audit"] = _rows_hash([], linked_rows)
        return out

    def area_hash(self, area: str) -> str:
        return hashlib.sha256(json.dumps(self.area_inputs(area), sort_keys=True).encode()).hexdigest()


def _rows_hash(header: list[str], rows: list[list[str]]) -> str:
    return hashlib.sha256(json.dumps([header, rows]).encode()).hexdigest()


def page_key(page: Page, project: Project, index: DataIndex, lock_hash: str) -> str:
    text = page.source.read_text(encoding="utf-8")
    h = hashlib.sha256()
    h.update(b"source\0" + text.encode())
    h.update(b"params\0" + json.dumps(page.params, sort_keys=True).encode())
    h.update(b"title\0" + (page.title or "").encode())
    for mod in code_closure(project.src_package, list(_code_cells(text))):
        h.update(b"code\0" + mod.name.encode() + b"\0" + mod.read_bytes())
    data_hash = index.area_hash(page.area) if (page.scope == "area" and page.area) else index.all_hash
    h.update(b"data\0" + data_hash.encode())
    h.update(b"lock\0" + lock_hash.encode())
    return h.hexdigest()


def lock_hash(project: Project) -> str:
    p = project.root / "constraints.txt"
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""
