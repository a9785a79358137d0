"""Load the validated tables into pandas, typed, and answer the questions pages ask of them.

Loading is separate from validation: pages assume `lancs-evidence validate` has passed (the build runs it
first), so here a table is read as it is, with text as text and numbers as floats.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .project import Project

NUMERIC = ("value", "value_high", "baseline", "target")
LEDGER_FOLDERS = ("case-studies",)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV as text columns with empty strings for blanks, cells stripped (as validation reads them)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


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


@dataclass
class Data:
    """Every table of one data folder, loaded once."""

    root: Path
    year: str

    @classmethod
    def load(cls, project: Project | None = None, year: str | None = None) -> "Data":
        project = project or Project.here()
        return _cached(str(project.root), year or project.current_year())

    # simple tables -------------------------------------------------------------------------
    @functools.cached_property
    def areas(self) -> pd.DataFrame:
        df = read_table(self.root / "data" / "areas.csv")
        df["order"] = pd.to_numeric(df["order"]).astype(int)
        return df.set_index("id", drop=False).sort_values("order")

    @functools.cached_property
    def sources(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "sources.csv").set_index("id", drop=False)

    @functools.cached_property
    def measures(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "measures.csv").set_index("id", drop=False)

    @functools.cached_property
    def units(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "units.csv").set_index("id", drop=False)

    @functools.cached_property
    def themes(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "themes.csv").set_index("id", drop=False)

    @functools.cached_property
    def relations(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "relations.csv")

    # ledgers ------------------------------------------------------------------------------
    @functools.cached_property
    def years(self) -> pd.DataFrame:
        return read_table(self.root / "data" / "years.csv").set_index("id", drop=False)

    def _folders(self) -> list[str]:
        """Every review year held in data/ (so pages can compare years), then the case studies."""
        return [*self.years["id"], *LEDGER_FOLDERS]

    def previous_year(self) -> str | None:
        ids = list(self.years["id"])
        i = ids.index(self.year) if self.year in ids else -1
        return ids[i - 1] if i > 0 else None

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

    @functools.cached_property
    def outcomes(self) -> pd.DataFrame:
        """All ledger rows (the year's review and the case studies), with measure labels and polarity."""
        df = _numeric(self._concat("outcomes.csv"), NUMERIC)
        m = self.measures[["label", "polarity", "kind", "additive", "rate_base"]].rename(columns={"label": "measure_label"})
        m = m.assign(additive=m["additive"].str.lower().eq("true"))
        df = df.join(m, on="measure")
        df["has_baseline"] = df["baseline"].notna()
        df["has_target"] = df["target"].notna()
        df["has_comparator"] = df["comparator"].ne("")
        return df

    @functools.cached_property
    def initiatives(self) -> pd.DataFrame:
        return self._concat("initiatives.csv")

    @functools.cached_property
    def learning_points(self) -> pd.DataFrame:
        return self._concat("learning_points.csv")

    @functools.cached_property
    def event_contributions(self) -> pd.DataFrame:
        df = self._concat("event_contributions.csv", ["case-studies"])
        if not df.empty:
            df["is_key_point"] = df["is_key_point"].str.lower().isin(["true", "1", "yes"])
        return df

    # reference -----------------------------------------------------------------------------
    def reference(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / "data" / "reference" / f"{name}.csv", dtype={"ons_code": str, "period": str})

    def reference_meta(self, name: str) -> dict:
        import json

        return json.loads((self.root / "data" / "reference" / f"{name}.meta.json").read_text(encoding="utf-8"))

    # areas ---------------------------------------------------------------------------------
    def area(self, area_id: str) -> pd.Series:
        return self.areas.loc[area_id]

    def children(self, area_id: str, kind: str | None = None) -> pd.DataFrame:
        df = self.areas[self.areas["parent"] == area_id]
        return df[df["kind"] == kind] if kind else df

    def subtree(self, area_id: str) -> list[str]:
        """The area and everything below it."""
        out, todo = [], [area_id]
        while todo:
            a = todo.pop(0)
            out.append(a)
            todo += list(self.children(a)["id"])
        return out

    def ancestors(self, area_id: str) -> list[str]:
        out = []
        parent = self.areas.loc[area_id, "parent"]
        while parent:
            out.append(parent)
            parent = self.areas.loc[parent, "parent"] if parent in self.areas.index else ""
        return out

    def partnerships(self) -> pd.DataFrame:
        return self.areas[self.areas["kind"] == "partnership"]

    def localities(self) -> pd.DataFrame:
        return self.areas[self.areas["kind"] == "locality"]

    def councils(self, partnership: str) -> pd.DataFrame:
        return self.children(partnership, "district")

    def partnership_of(self, area_id: str) -> str | None:
        """The district partnership an area is, or sits within (a council, a ward, a service); else None."""
        if area_id not in self.areas.index:
            return None
        for a in [area_id, *self.ancestors(area_id)]:
            if a in self.areas.index and self.areas.loc[a, "kind"] == "partnership":
                return a
        return None

    def locality_of(self, area_id: str) -> str | None:
        for a in [area_id, *self.ancestors(area_id)]:
            if a in self.areas.index and self.areas.loc[a, "kind"] == "locality":
                return a
        return None

    def rows_for(self, area_id: str, table: str = "outcomes", source: str | None = None) -> pd.DataFrame:
        df = getattr(self, table)
        if df.empty:
            return df
        df = df[df["area"].isin(self.subtree(area_id))]
        return df[df["source"] == source] if source else df


@functools.lru_cache(maxsize=8)
def _cached(root: str, year: str) -> Data:
    return Data(Path(root), year)
