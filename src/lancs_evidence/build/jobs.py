"""Which pages the book has, and what each one's notebook depends on.

Two sorts of page source:
- a *template* in `templates/` (a MyST text notebook) whose front matter says which areas it is run for,
  e.g. `lancs_evidence: {each: partnership, output: "chapters/districts/{id}.ipynb", scope: area}`;
- a *chapter* in `chapters/` (a MyST text notebook), run once.

Every page is executed by `runner` into an `.ipynb` beside where the book expects it. The page's
*static key* (its source text, its parameters, the `src/` modules it imports and the locked package
versions) is computed here; what it reads from data/ is recorded by the data layer while it runs (see
`ledger.start_recording` and `runner.is_current`). There is no hand-kept model of what a page reads.
"""
from __future__ import annotations

import ast
import csv
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lancs_evidence.data.project import Project, UserError
from lancs_evidence.data.vocab import AreaTree, schema_vocab

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclass
class PageJob:
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


def discover(project: Project) -> list[PageJob]:
    """Every page of the book, in table-of-contents order within each kind."""
    pages: list[PageJob] = []
    areas = AreaTree.read(project.data / "areas.csv")
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
                pages.append(PageJob(key=out.removesuffix(".ipynb"), source=tpl, output=project.root / out,
                                  params={each["param"]: value, "year": year}, scope=meta.get("scope", "all"),
                                  title=titles.get(value, value), template=tpl.stem))
            continue
        for area in (areas[a] for a in areas.of_kind(each)):
            out = meta["output"].format(id=area.id)
            key = out.removesuffix(".ipynb")
            pages.append(PageJob(key=key, source=tpl, output=project.root / out, params={"area": area.id, "year": year},
                              scope=meta.get("scope", "area"), area=area.id, title=area.name, template=tpl.stem))
    for chap in sorted(project.chapters.rglob("*.md")):
        if chap.name.startswith("_"):
            continue
        meta = front_matter(chap)
        if "jupytext" not in meta:
            continue
        rel = chap.relative_to(project.root).with_suffix("")
        lx = meta.get("lancs_evidence") or {}
        pages.append(PageJob(key=str(rel), source=chap, output=chap.with_suffix(".ipynb"), params={"year": year},
                          scope=lx.get("scope", "all")))
    return pages


def _titles(project: Project, table: str | None) -> dict[str, str]:
    if not table:
        return {}
    with (project.data / f"{table}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["id"].strip(): (r.get("title") or r.get("name") or "").strip() for r in csv.DictReader(fh)}


def select(pages: list[PageJob], areas: list[str] | None, project: Project) -> list[PageJob]:
    if not areas:
        return pages
    known = {p.area for p in pages if p.area}
    unknown = [a for a in areas if a not in known]
    if unknown:
        valid = ", ".join(sorted(known))
        raise UserError(f"unknown area {', '.join(unknown)!s}: not a partnership in data/areas.csv (known: {valid})")
    return [p for p in pages if p.area in areas]


# --- cache keys ------------------------------------------------------------------------------

PACKAGE = "lancs_evidence"


def _imports_of(code: str, package: str = PACKAGE) -> set[str]:
    """Modules of this package that a piece of code may import, as dotted names inside the package
    ("pages.fmt"); `package` is the dotted package the code lives in, to resolve relative imports. For
    `from X import name` both X and X.name are given, as `name` may be a module; `_closure` keeps those that
    are files."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    prefix = PACKAGE + "."
    return {m[len(prefix):] for m in found if m.startswith(prefix)}


def _module_file(package_dir: Path, name: str) -> Path | None:
    path = package_dir.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=256)
def _module_imports(path: Path, package: str, mtime_ns: int) -> frozenset[str]:
    return frozenset(_imports_of(path.read_text(encoding="utf-8"), package))


def code_closure(package_dir: Path, cells: list[str]) -> list[Path]:
    """The package modules the cells import, followed through their own imports."""
    return list(_closure(package_dir, frozenset(m for cell in cells for m in _imports_of(cell))))


def _closure(package_dir: Path, roots: frozenset[str]) -> tuple[Path, ...]:
    seen: dict[str, Path] = {}
    todo = [*roots, "__init__"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(package_dir, name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        # the package a module's relative imports resolve against (a package's __init__ is its own)
        package = ".".join([PACKAGE, *(parts if path.name == "__init__.py" else parts[:-1])])
        todo += list(_module_imports(path, package, path.stat().st_mtime_ns))
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a module runs its packages' __init__
    return tuple(sorted(seen.values()))


CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


@functools.lru_cache(maxsize=128)
def _code_cells(source_text: str) -> tuple[str, ...]:
    """The code of each code cell of a MyST text notebook (cell options such as :tags: removed). A plain
    scan, not jupytext: it only has to find the imports, and it keeps a no-change rebuild quick."""
    cells = []
    for body in CODE_CELL.findall(source_text):
        lines = body.splitlines()
        while lines and lines[0].startswith(":"):
            lines.pop(0)
        cells.append("\n".join(lines))
    return tuple(cells)


def page_templates(module: Path) -> list[Path]:
    """The Jinja2 templates a module renders: pages/html.py loads every file in pages/templates."""
    if module.name != "html.py" or module.parent.name != "pages":
        return []
    folder = module.parent / "templates"
    return sorted(p for p in folder.glob("*.j2") if p.is_file()) if folder.is_dir() else []


def static_key(page: PageJob, project: Project, lock_hash: str) -> str:
    """What a page's output depends on besides the data it reads (which `ledger` records as the page runs):
    its source, parameters and title, the package modules it imports (followed through their imports) and
    the schema's lists of words when those modules use them, the runner that prepares and cleans it, the
    locked package versions and the audit result of this build."""
    text = page.source.read_text(encoding="utf-8")
    h = hashlib.sha256()
    h.update(b"source\0" + text.encode())
    h.update(b"params\0" + json.dumps(page.params, sort_keys=True).encode())
    h.update(b"title\0" + (page.title or "").encode())
    package_dir = project.src_package
    modules = {*code_closure(package_dir, list(_code_cells(text))), package_dir / "build" / "runner.py"}
    for mod in sorted(modules):
        h.update(b"code\0" + mod.relative_to(package_dir).as_posix().encode() + b"\0" + mod.read_bytes())
        for tpl in page_templates(mod):
            h.update(b"template\0" + tpl.relative_to(package_dir).as_posix().encode() + b"\0" + tpl.read_bytes())
    if package_dir / "data" / "vocab.py" in modules:  # the code's lists of words, read from the schema on import
        h.update(b"vocab\0" + schema_vocab().fingerprint().encode())
    h.update(b"lock\0" + lock_hash.encode())
    audit_result = project.work / "audit-result.json"  # computed once per build; every page may read it
    if audit_result.exists():
        h.update(b"audit\0" + hashlib.sha256(audit_result.read_bytes()).digest())
    return h.hexdigest()


def lock_hash(project: Project) -> str:
    p = project.root / "constraints.txt"
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""
