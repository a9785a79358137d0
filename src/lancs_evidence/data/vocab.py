"""The book's vocabularies and its area tree, each read in one place.

Vocabularies: the allowed words of a column (evidence levels, kinds of area, qualifiers, ...) are the
`enum` constraints of data/datapackage.json, which is also what validation checks the tables against.
`Vocab` reads them from a descriptor; `EVIDENCE_LEVELS`, `AREA_KINDS` and the named groups of levels
below are the code's only copies, read from that descriptor (`schema_path` says which file).

The area tree: data/areas.csv links each area to its parent (place -> locality -> partnership ->
district council, with other areas hanging off them). `AreaTree` is built from one parse of that table
and answers every question asked of the tree: partnerships in order, localities, parent and children,
the locality or partnership an area sits in, a partnership's councils, and ancestors, which stop with
a clear error (`AreaCycleError`) at a cycle of parents instead of looping.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lancs_evidence.data.project import UserError, find_root

# --- reading a table ------------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A CSV as text columns with empty strings for blanks, cells stripped (as validation reads them)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


# --- vocabularies ---------------------------------------------------------------------------------


class VocabError(UserError, ValueError):
    """The descriptor does not give one list of words for a column, or cannot be read: a problem with the
    project's files, so the command reports it as a plain message, not a traceback."""


def _family(resource_name: str, family: str) -> bool:
    """A resource belongs to a family by name: "figures" holds figures-2024-25 and figures-case-studies."""
    return resource_name == family or resource_name.startswith(family + "-")


@dataclass(frozen=True)
class Vocab:
    """The enum lists of a data package descriptor (the parsed datapackage.json)."""

    descriptor: Mapping

    @classmethod
    def read(cls, path: Path) -> Vocab:
        """The vocabularies of a datapackage.json (`path` is the file or the data folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / "datapackage.json"
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def enums(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Every enum in the descriptor: (resource name, field name) -> its words, in the order written."""
        out = {}
        for res in self.descriptor.get("resources", []):
            for f in (res.get("schema") or {}).get("fields", []):
                words = (f.get("constraints") or {}).get("enum")
                if words is not None:
                    out[(res.get("name", ""), f.get("name", ""))] = tuple(words)
        return out

    def enum(self, field: str, resource: str | None = None) -> tuple[str, ...]:
        """The words of `field`, in the descriptor's order. `resource` narrows to one family of tables
        ("figures" for every year's figures tables); every table of the family must give the same list."""
        lists = {res: words for (res, name), words in self.enums().items()
                 if name == field and (resource is None or _family(res, resource))}
        where = f"{field!r}" + (f" of {resource!r}" if resource else "")
        if not lists:
            raise VocabError(f"datapackage.json gives no list of words (enum) for {where}")
        distinct = set(lists.values())
        if len(distinct) > 1:
            detail = "; ".join(f"{res}: {', '.join(words)}" for res, words in lists.items())
            raise VocabError(f"datapackage.json gives different lists of words for {where} ({detail})")
        return distinct.pop()

    def fingerprint(self) -> str:
        """A hash of the lists of words (each field's list once, whichever tables share it), so a page's
        cache key changes when a list the code reads changes, and not when a year's tables are added."""
        distinct = sorted({(field, words) for (_, field), words in self.enums().items()})
        return hashlib.sha256(json.dumps(distinct).encode()).hexdigest()

    @property
    def evidence_levels(self) -> tuple[str, ...]:
        return self.enum("evidence_level", "figures")

    @property
    def area_kinds(self) -> tuple[str, ...]:
        return self.enum("kind", "areas")

    @property
    def qualifiers(self) -> tuple[str, ...]:
        return self.enum("qualifier", "figures")

    @property
    def target_kinds(self) -> tuple[str, ...]:
        return self.enum("target_kind", "figures")

    @property
    def polarities(self) -> tuple[str, ...]:
        return self.enum("polarity", "measures")

    @property
    def unit_kinds(self) -> tuple[str, ...]:
        return self.enum("kind", "units")


def schema_path() -> Path:
    """The datapackage.json the code's vocabularies are read from: the repository's, beside the package
    (a source checkout or an editable install), else the one of the project the command runs in (a
    package installed with `pip install .`, run from a project folder or with $LANCS_EVIDENCE_ROOT)."""
    beside = Path(__file__).resolve().parents[3] / "data" / "datapackage.json"
    if beside.exists():
        return beside
    try:
        return find_root() / "data" / "datapackage.json"
    except UserError:
        return beside


@functools.lru_cache(maxsize=1)
def schema_vocab() -> Vocab:
    """The vocabularies of data/datapackage.json, the schema this code is written for."""
    path = schema_path()
    try:
        return Vocab.read(path)
    except (OSError, ValueError) as exc:
        raise VocabError(f"{path}: cannot read the vocabularies the code uses ({exc}); run the command from the "
                         "evidence book's folder or set LANCS_EVIDENCE_ROOT to it") from None


def _words(group: Iterable[str], of: tuple[str, ...], name: str) -> frozenset[str]:
    """A named group of words that the code treats alike; each must be in the descriptor's list."""
    group = frozenset(group)
    unknown = sorted(group - set(of))
    if unknown:
        raise VocabError(f"{name}: {', '.join(unknown)} not in datapackage.json's list ({', '.join(of)})")
    return group


EVIDENCE_LEVELS: tuple[str, ...] = schema_vocab().evidence_levels
AREA_KINDS: tuple[str, ...] = schema_vocab().area_kinds
# Levels that are judged as results of the work (a change for people, or a lasting effect).
RESULT_LEVELS = _words(("outcome", "impact"), EVIDENCE_LEVELS, "RESULT_LEVELS")
# Levels that are not the work at all: a statistic about the area, or one person's account.
NOT_WORK_LEVELS = _words(("context", "testimony"), EVIDENCE_LEVELS, "NOT_WORK_LEVELS")
# Levels a partnership reports its work at (the entry workbook's list), in the descriptor's order.
WORK_LEVELS: tuple[str, ...] = tuple(lv for lv in EVIDENCE_LEVELS if lv not in NOT_WORK_LEVELS)
# Levels that are not judged as results, in the descriptor's order.
UNJUDGED_LEVELS: tuple[str, ...] = tuple(lv for lv in EVIDENCE_LEVELS if lv not in RESULT_LEVELS)

# Where each kind of area in the spine of the tree must sit, because pages are generated from these
# links: a locality page lists the partnerships whose parent it is, a partnership page lists the district
# councils beneath it and looks up their ONS codes, and the table of contents nests partnerships under
# their locality.
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "place": (),  # the top of the tree: no parent
    "locality": ("place",),
    "partnership": ("locality",),
    "district": ("partnership",),
}
_words(PARENT_KINDS, AREA_KINDS, "PARENT_KINDS")


# --- the area tree --------------------------------------------------------------------------------


class AreaCycleError(ValueError):
    """A chain of parents in areas.csv comes back on itself."""

    def __init__(self, area_id: str, loop: list[str], chain: list[str]):
        self.area_id, self.loop, self.chain = area_id, loop, chain
        super().__init__(f"data/areas.csv: the parents of {area_id!r} run in a cycle ({' -> '.join(loop)}); "
                         "every chain of parents must end at an area with no parent")


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    kind: str
    parent: str
    ons_code: str
    order: int
    row: int  # line in the file (the header is line 1)


def _order(text) -> int:
    try:
        return int(float(str(text).strip() or 0))
    except (ValueError, OverflowError):  # not a number, or inf/nan (validate reports it)
        return 0


def read_areas(path: Path) -> pd.DataFrame:
    """areas.csv as a frame indexed by id, `order` as integers, rows in display order (ties keep the
    file's order): the one parse of the file, for `Data.areas` and `AreaTree.read`."""
    df = read_table(path)
    df["order"] = df["order"].map(_order).astype(int)  # a blank or broken order (validate reports it) sorts as 0
    return df.set_index("id", drop=False).sort_values("order", kind="stable")


class AreaTree:
    """The areas and their parent links, from one parse of areas.csv.

    Lists of areas come in display order (the `order` column; ties keep the rows' order). An id may
    appear once: a repeated id keeps its first row (validation reports the repeat).
    """

    def __init__(self, rows: Iterable[Mapping], rows_start: int = 2):
        areas: dict[str, Area] = {}
        for i, r in enumerate(rows, start=rows_start):
            aid = str(r.get("id", "") or "").strip()
            if aid in areas:
                continue
            areas[aid] = Area(aid, str(r.get("name", "") or ""), str(r.get("kind", "") or ""),
                              str(r.get("parent", "") or "").strip(), str(r.get("ons_code", "") or ""),
                              _order(r.get("order", 0)), i)
        self._file_order = list(areas)
        self._areas = {a.id: a for a in sorted(areas.values(), key=lambda a: a.order)}
        self._children: dict[str, list[str]] = {}
        for a in self._areas.values():
            self._children.setdefault(a.parent, []).append(a.id)

    @classmethod
    def read(cls, path: Path) -> AreaTree:
        return cls.from_frame(read_areas(path))

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> AreaTree:
        if "id" not in df.columns:
            df = df.assign(id=df.index)
        return cls(df.to_dict("records"))

    # the areas ----------------------------------------------------------------------------------
    def __contains__(self, area_id) -> bool:
        return area_id in self._areas

    def __getitem__(self, area_id: str) -> Area:
        try:
            return self._areas[area_id]
        except KeyError:
            raise KeyError(f"unknown area {area_id!r}: not an id in data/areas.csv") from None

    def __iter__(self) -> Iterator[Area]:
        return iter(self._areas.values())

    def __len__(self) -> int:
        return len(self._areas)

    def ids(self) -> list[str]:
        return list(self._areas)

    def of_kind(self, kind: str) -> list[str]:
        return [a.id for a in self._areas.values() if a.kind == kind]

    def partnerships(self) -> list[str]:
        return self.of_kind("partnership")

    def localities(self) -> list[str]:
        return self.of_kind("locality")

    # links --------------------------------------------------------------------------------------
    def parent(self, area_id: str) -> str:
        """The parent's id as written ("" for the top of a tree or an unknown area)."""
        a = self._areas.get(area_id)
        return a.parent if a else ""

    def children(self, area_id: str, kind: str | None = None) -> list[str]:
        ids = self._children.get(area_id, []) if area_id else []
        return [c for c in ids if self._areas[c].kind == kind] if kind else list(ids)

    def councils(self, partnership: str) -> list[str]:
        """The district councils whose parent is the partnership (one or more, e.g. Fylde and Wyre)."""
        return self.children(partnership, "district")

    def subtree(self, area_id: str) -> list[str]:
        """The area and everything below it, level by level (each area once, even in a cycle)."""
        out, seen, todo = [], set(), [area_id]
        while todo:
            a = todo.pop(0)
            if a in seen:
                continue
            seen.add(a)
            out.append(a)
            todo += self.children(a)
        return out

    def ancestors(self, area_id: str, stop_at_cycle: bool = False) -> list[str]:
        """The parent, its parent and so on up to the top. A parent that is not in the table ends the
        chain (it is included). A cycle raises `AreaCycleError`, or with `stop_at_cycle` ends the chain
        before the first area met twice."""
        out: list[str] = []
        parent = self[area_id].parent
        while parent:
            if parent == area_id or parent in out:
                if stop_at_cycle:
                    break
                loop = [area_id, *out, parent]
                raise AreaCycleError(area_id, loop[loop.index(parent):], list(out))
            out.append(parent)
            parent = self.parent(parent)
        return out

    def _first_up(self, area_id: str, kind: str) -> str | None:
        if area_id not in self._areas:
            return None
        for a in [area_id, *self.ancestors(area_id, stop_at_cycle=True)]:
            if a in self._areas and self._areas[a].kind == kind:
                return a
        return None

    def partnership_of(self, area_id: str) -> str | None:
        """The partnership an area is, or sits within (a council, a ward, a service); else None."""
        return self._first_up(area_id, "partnership")

    def locality_of(self, area_id: str) -> str | None:
        """The locality an area is, or sits within; else None."""
        return self._first_up(area_id, "locality")

    def cycles(self) -> list[list[str]]:
        """Every cycle of parents, each once, as the areas in it in the order their parents lead (the
        walks start from the areas in the rows' order, so a cycle starts at its first row)."""
        found: list[list[str]] = []
        in_cycle: set[str] = set()
        for start in self._file_order:
            seen: list[str] = []
            a = start
            while a and a in self._areas and a not in seen and a not in in_cycle:
                seen.append(a)
                a = self._areas[a].parent
            if a and a in seen:
                cycle = seen[seen.index(a):]
                in_cycle.update(cycle)
                found.append(cycle)
        return found
