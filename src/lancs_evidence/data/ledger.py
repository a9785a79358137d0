"""Load the validated tables into pandas, typed, and answer the questions pages ask of them.

Loading is separate from validation: pages assume `lancs-evidence validate` has passed (the build runs it
first), so here a table is read as it is, with text as text and numbers as floats.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lancs_evidence.data.project import Project
from lancs_evidence.data.vocab import AreaCycleError, AreaTree, read_areas, read_table

NUMERIC = ("value", "value_high", "baseline", "target")
LEDGER_FOLDERS = ("case-studies",)


def _decimals_written(text: str) -> int:
    text = str(text).strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def _numeric(df: pd.DataFrame, cols) -> pd.DataFrame:
    """Convert to float, keeping how many decimal places each value was written with (5.0 stays 5.0)."""
    for c in cols:
        if c in df.columns:
            df[f"{c}_dp"] = df[c].map(_decimals_written)
            df[c] = pd.to_numeric(df[c].replace("", None), errors="coerce").astype(float)
    return df


# --- what a page reads ------------------------------------------------------------------------------
# While a page runs, every table, row set and file the data layer serves it is recorded as a *query*
# (the accessor's name and arguments) with a hash of what it returned. The build keeps that record
# with the page's output and, next time, asks the same queries of the current data: the page re-runs
# only when one of them answers differently. Reads inside the data layer itself are not recorded (only
# what is handed to the page), and any other file under data/ or _build/.work/ that the page opens is
# recorded whole by an audit hook, so nothing a page reads escapes the record.

_RECORD: dict | None = None  # query (JSON text) -> hash; None when not recording
_DEPTH = 0  # > 0 while inside the data layer
_ROOT: str | None = None
_HOOKED = False
WATCHED = ("data", "_build/.work/audit-result.json", "_toc.yml", "chapters/_contents.yml")


def full_stop(text) -> str:
    """A note as a sentence: ended with a full stop unless it already ends with one (or '?', '!', a closing
    bracket or quote after one). Authors often leave the last stop off a spreadsheet cell."""
    text = "" if text is None or (isinstance(text, float) and text != text) else str(text).rstrip()
    if not text or text.endswith((".", "!", "?", '."', ".'", ".)", "?)", "!)")):
        return text
    return text + "."


def value_hash(value) -> str:
    """A hash of what a query returned (frames by their content, index and columns included)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        text = value.to_json(orient="split", date_format="iso", default_handler=str, double_precision=15)
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def _record(query: list, digest: str) -> None:
    if _RECORD is not None:
        _RECORD[json.dumps(query)] = digest


def _audit_hook(event: str, args) -> None:
    if event != "open" or _RECORD is None or _DEPTH or not isinstance(args[0], (str, os.PathLike)):
        return
    mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
    if any(c in mode for c in "wax+"):
        return
    path = os.path.abspath(os.fspath(args[0]))
    root = _ROOT or ""
    for w in WATCHED:
        base = os.path.join(root, w)
        if path == base or path.startswith(base + os.sep):
            with _inside():  # hashing opens the file again: not a read of the page's
                _record(["file", os.path.relpath(path, root)], file_hash(Path(path)))
            return


def start_recording(root: str | Path) -> None:
    """Begin a page: forget cached tables (so each page reads afresh) and record what it is served."""
    global _RECORD, _ROOT, _HOOKED, _DEPTH
    _cached.cache_clear()
    _ROOT = str(Path(root).resolve())
    _RECORD = {}
    _DEPTH = 0
    if not _HOOKED:
        sys.addaudithook(_audit_hook)
        _HOOKED = True


def stop_recording() -> dict[str, str]:
    """End a page: the queries it made, each with the hash of its answer."""
    global _RECORD
    out, _RECORD = dict(_RECORD or {}), None
    return out


def reads_so_far() -> dict[str, str]:
    """The current page's reads, labelled for people ("figures rows for lancaster, 2024-25": hash)."""
    out = {}
    for query, digest in (_RECORD or {}).items():
        q = json.loads(query)
        if q[0] == "file":
            label = q[1]
        else:
            _, year, name, *args = q
            label = " ".join([name.replace("_", " "), *(str(a) for a in args if a is not None)]) + f" ({year})"
        out[label] = digest
    return out


def record_file(root: Path, rel: str) -> None:
    """Record that the page read a whole file (for readers outside `Data`, such as `Project.years`)."""
    if _RECORD is not None and not _DEPTH:
        with _inside():
            _record(["file", rel], file_hash(Path(root) / rel))


class _inside:
    def __enter__(self):
        global _DEPTH
        _DEPTH += 1

    def __exit__(self, *exc):
        global _DEPTH
        _DEPTH -= 1


def not_recorded() -> _inside:
    """A block whose reads are not the page's (for example checking that a cached result is current)."""
    return _inside()


def served(method):
    """Record a call of a `Data` accessor made by a page (calls inside the data layer are not recorded)."""
    sig = inspect.signature(method)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        outer = _DEPTH == 0 and _RECORD is not None
        with _inside():
            result = method(self, *args, **kwargs)
            if outer:
                bound = sig.bind(self, *args, **kwargs)
                bound.apply_defaults()
                _record(["data", self.year, method.__name__, *list(bound.arguments.values())[1:]], value_hash(result))
        return result
    wrapper.served = True
    return wrapper


class served_property:
    """A cached table that records each time a page is served it."""

    def __init__(self, func):
        self.func, self.name = func, func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        cache = obj.__dict__.setdefault("_tables", {})
        with _inside():
            if self.name not in cache:
                cache[self.name] = self.func(obj)
            value = cache[self.name]
        if _DEPTH == 0 and _RECORD is not None:
            hashes = obj.__dict__.setdefault("_hashes", {})
            if self.name not in hashes:
                hashes[self.name] = value_hash(value)
            _record(["data", obj.year, self.name], hashes[self.name])
        return value


def _answer(data: Data, name: str, args: list) -> str:
    attr = getattr(type(data), name, None)
    with _inside():
        if isinstance(attr, served_property):
            return value_hash(getattr(data, name))
        if getattr(attr, "served", False):
            return value_hash(getattr(data, name)(*args))
    return "unknown query"


class Answers:
    """Asks recorded queries again of the data as it is now, each table loaded once (for one build)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._data: dict[str, Data] = {}
        self._memo: dict[str, str] = {}

    def __call__(self, query: str) -> str:
        if query not in self._memo:
            try:
                q = json.loads(query)
                if q[0] == "file":
                    self._memo[query] = file_hash(self.root / q[1])
                else:
                    _, year, name, *args = q
                    data = self._data.setdefault(year, Data(self.root, year))
                    self._memo[query] = _answer(data, name, args)
            except Exception as exc:  # the data changed so that the query fails: the page must re-run
                self._memo[query] = f"error: {type(exc).__name__}"
        return self._memo[query]


@dataclass
class Data:
    """Every table of one data folder, loaded once."""

    root: Path
    year: str

    @classmethod
    def load(cls, project: Project | None = None, year: str | None = None) -> Data:
        project = project or Project.here()
        return _cached(str(project.root), year or project.current_year())

    # simple tables -------------------------------------------------------------------------
    @served_property
    def areas(self) -> pd.DataFrame:
        return read_areas(self.root / "data" / "areas.csv")

    @served_property
    def sources(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "sources.csv").set_index("id", drop=False)

    @served_property
    def measures(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "measures.csv").set_index("id", drop=False)

    @served_property
    def units(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "units.csv").set_index("id", drop=False)

    @served_property
    def themes(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "themes.csv").set_index("id", drop=False)

    @served_property
    def relations(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "relations.csv")

    # ledgers ------------------------------------------------------------------------------
    @served_property
    def years(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "years.csv").set_index("id", drop=False)

    def _folders(self) -> list[str]:
        """Every review year held in data/ (so pages can compare years), then the case studies."""
        return [*self.years["id"], *LEDGER_FOLDERS]

    @served
    def previous_year(self) -> str | None:
        ids = list(self.years["id"])
        i = ids.index(self.year) if self.year in ids else -1
        return ids[i - 1] if i > 0 else None

    @served
    def review_source(self, year: str | None = None) -> str:
        return self.years.loc[year or self.year, "source"]

    def _concat(self, name: str, folders: list[str] | None = None) -> pd.DataFrame:
        frames = []
        for folder in folders or self._folders():
            path = self.root / "data" / folder / name
            if path.exists():
                df = read_table(path)
                df["ledger"] = folder
                frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @served_property
    def figures(self) -> pd.DataFrame:
        """All ledger rows (the year's review and the case studies), with measure labels and polarity."""
        df = _numeric(self._concat("figures.csv"), NUMERIC)
        m = self.measures[["label", "polarity", "kind", "additive", "rate_base"]].rename(columns={"label": "measure_label"})
        m = m.assign(additive=m["additive"].str.lower().eq("true"))
        df = df.join(m, on="measure")
        df["has_baseline"] = df["baseline"].notna()
        df["has_target"] = df["target"].notna()
        df["has_comparator"] = df["comparator"].ne("")
        df["note"] = df["note"].map(full_stop)  # a caveat is shown as a sentence wherever it goes
        return df

    @served_property
    def initiatives(self) -> pd.DataFrame:
        return self._concat("initiatives.csv")

    @served_property
    def learning_points(self) -> pd.DataFrame:
        return self._concat("learning_points.csv")

    @served_property
    def event_contributions(self) -> pd.DataFrame:
        df = self._concat("event_contributions.csv", ["case-studies"])
        if not df.empty:
            df["is_key_point"] = df["is_key_point"].str.lower().isin(["true", "1", "yes"])
        return df

    @served
    def lesson_evidence(self, year: str | None = None) -> pd.DataFrame:
        """The links from each lesson of a year's review to the evidence behind it (data/<year>/lesson_evidence.csv)."""
        return read_table(self.root / "data" / (year or self.year) / "lesson_evidence.csv")

    @served_property
    def report_cases(self) -> pd.DataFrame:
        """The numbered case studies inside a report (data/case-studies/report_cases.csv): for each, the
        report's number, the area it is about and the report's title for it, in the report's order."""
        path = self.root / "data" / "case-studies" / "report_cases.csv"
        df = read_table(path) if path.exists() else pd.DataFrame(columns=["id", "source", "number", "area", "title"])
        df["number"] = pd.to_numeric(df["number"]).astype(int)
        return df.sort_values(["source", "number"], kind="stable").reset_index(drop=True)

    @served
    def select(self, table: str, ids: list[str] | None = None, source: str | None = None,
               section_contains: str | list[str] | None = None, areas: list[str] | None = None,
               measure_contains: str | None = None, kind: str | None = None,
               initiatives: list[str] | None = None) -> pd.DataFrame:
        """Rows of a ledger table (figures, initiatives, learning_points) by id (in the order given), source,
        a phrase in their section path (any of several), area, a phrase in their measure, their kind or
        (figures) the initiatives they belong to; filters combine (an empty list of initiatives matches none). A page is recorded as reading just these rows, so a change elsewhere in the table
        does not re-run it."""
        if table not in ("figures", "initiatives", "learning_points"):
            raise ValueError(f"select: {table!r} is not a ledger table")
        df = getattr(self, table)
        if ids is not None:
            missing = [i for i in ids if i not in set(df["id"])]
            if missing:
                raise KeyError(f"no {table} row with id {', '.join(missing)}")
            df = df.set_index("id", drop=False).loc[list(ids)].reset_index(drop=True)
        if source:
            df = df[df["source"] == source]
        if section_contains:
            phrases = [section_contains] if isinstance(section_contains, str) else list(section_contains)
            df = df[df["section"].map(lambda text: any(p in text for p in phrases))]
        if areas:
            df = df[df["area"].isin(list(areas))]
        if measure_contains:
            df = df[df["measure"].str.contains(measure_contains, regex=False)]
        if kind:
            df = df[df["kind"] == kind]
        if initiatives is not None:
            df = df[df["initiative"].isin(list(initiatives))]
        return df

    # derived answers: a page that shows only counts is recorded as reading the counts, so a changed value
    # that leaves them as they were does not re-run it -------------------------------------------
    @served
    def profile(self, source: str | None = None, areas: list[str] | None = None) -> dict:
        """The evidence profile of the ledger's figures for a source and a set of areas (either optional):
        how many figures, how many separate results they state (a result restated as a share, its change or
        the same number twice counts once, by the audit's relations), and how many of those results are at
        each evidence level and come with a baseline, target or comparator."""
        from lancs_evidence.analysis.summaries import evidence_profile

        df = self.figures
        if source:
            df = df[df["source"] == source]
        if areas is not None:
            df = df[df["area"].isin(list(areas))]
        return evidence_profile(df, self.relations)

    @served
    def count(self, table: str, by: list[str]) -> pd.DataFrame:
        """How many rows of a ledger table there are for each combination of the columns `by` (a column `n`)."""
        if table not in ("figures", "initiatives", "learning_points", "event_contributions", "relations", "measures"):
            raise ValueError(f"count: {table!r} is not a table that can be counted")
        df = getattr(self, table)
        return df.groupby(list(by), dropna=False).size().rename("n").reset_index()

    @served
    def file_rows(self, rel_path: str) -> int:
        """How many data rows a CSV under data/ has (0 when it is missing): the data dictionary's counts."""
        path = self.root / "data" / rel_path
        if not path.exists():
            return 0
        with path.open(encoding="utf-8-sig") as f:
            return max(0, sum(1 for _ in f) - 1)

    @served
    def audit_findings(self) -> pd.DataFrame:
        """The audit's findings (a page is recorded as reading these, not the whole ledger behind them)."""
        from lancs_evidence.analysis.audit import audit

        if "_findings" not in self.__dict__:
            self.__dict__["_findings"] = audit(self.figures, self.relations)
        return self.__dict__["_findings"]

    # reference -----------------------------------------------------------------------------
    @served
    def reference(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / "data" / "reference" / f"{name}.csv", dtype={"ons_code": str, "period": str})

    @served
    def reference_meta(self, name: str) -> dict:
        import json

        return json.loads((self.root / "data" / "reference" / f"{name}.meta.json").read_text(encoding="utf-8"))

    # areas ---------------------------------------------------------------------------------
    # The walks are `AreaTree`'s, over the `areas` table this object serves; a page is recorded as
    # asking the question (say `children east partnership`), with a hash of the rows it was given.
    @property
    def _tree(self) -> AreaTree:
        with _inside():  # the data layer's own use of `areas`, not the page's
            areas = self.areas
            tree = self.__dict__.get("_area_tree")
            if tree is None or tree[1] is not areas:
                tree = self.__dict__["_area_tree"] = (AreaTree.from_frame(areas), areas)
        return tree[0]

    def _rows(self, ids: list[str]) -> pd.DataFrame:
        return self.areas.loc[ids]

    @served
    def area(self, area_id: str) -> pd.Series:
        return self.areas.loc[area_id]

    @served
    def children(self, area_id: str, kind: str | None = None) -> pd.DataFrame:
        return self._rows(self._tree.children(area_id, kind))

    @served
    def subtree(self, area_id: str) -> list[str]:
        """The area and everything below it."""
        return self._tree.subtree(area_id)

    @served
    def ancestors(self, area_id: str) -> list[str]:
        """The parent, its parent and so on. At a cycle (validate reports it) the chain ends before the
        first area met twice: a page run by hand on unvalidated data never loops."""
        try:
            return self._tree.ancestors(area_id)
        except AreaCycleError as exc:
            return exc.chain

    @served
    def partnerships(self) -> pd.DataFrame:
        return self._rows(self._tree.partnerships())

    @served
    def localities(self) -> pd.DataFrame:
        return self._rows(self._tree.localities())

    @served
    def councils(self, partnership: str) -> pd.DataFrame:
        return self._rows(self._tree.councils(partnership))

    @served
    def partnership_of(self, area_id: str) -> str | None:
        """The district partnership an area is, or sits within (a council, a ward, a service); else None."""
        return self._tree.partnership_of(area_id)

    @served
    def locality_of(self, area_id: str) -> str | None:
        return self._tree.locality_of(area_id)

    @served
    def rows_for(self, area_id: str, table: str = "figures", source: str | None = None) -> pd.DataFrame:
        df = getattr(self, table)
        if df.empty:
            return df
        df = df[df["area"].isin(self.subtree(area_id))]
        return df[df["source"] == source] if source else df


@functools.lru_cache(maxsize=8)
def _cached(root: str, year: str) -> Data:
    return Data(Path(root), year)
