"""Outcome summaries: what changed, whether targets were met, rates per resident, and safe roll-ups.

Every function here is pure (tables in, tables or values out) and tested on small hand-built tables.
Wording follows the measure's polarity: a fall in a measure where lower is better is "an improvement".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from . import fmt


def _isnum(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@dataclass(frozen=True)
class Change:
    before: float
    after: float
    unit: str
    polarity: str
    decimals: int | None = None  # as the figures were written; None infers from the values

    @property
    def absolute(self) -> float:
        return self.after - self.before

    @property
    def percent(self) -> float | None:
        """Relative change in percent; None when the baseline is zero (undefined)."""
        if self.before == 0:
            return None
        return 100.0 * (self.after - self.before) / abs(self.before)

    @property
    def direction(self) -> str:
        if self.absolute > 0:
            return "rose"
        if self.absolute < 0:
            return "fell"
        return "did not change"

    @property
    def assessment(self) -> str:
        """'an improvement', 'a deterioration', or '' when higher is neither better nor worse."""
        if self.absolute == 0 or self.polarity == "neutral":
            return ""
        better = (self.absolute > 0) == (self.polarity == "higher_better")
        return "an improvement" if better else "a deterioration"

    def describe(self) -> str:
        """e.g. 'fell from 9.5 to 5.0 weeks (down 47.4%), an improvement'."""
        decimals = self.decimals if self.decimals is not None else max(fmt.decimals_of(self.before), fmt.decimals_of(self.after))
        before = fmt.with_unit(self.before, self.unit, decimals)
        after = fmt.with_unit(self.after, self.unit, decimals)
        if self.unit not in ("percent",):
            before = fmt.number(self.before, decimals) if self.unit in ("weeks", "days", "hours", "months", "years", "minutes") else before
        if self.absolute == 0:
            text = f"did not change from {after}"
        else:
            text = f"{self.direction} from {before} to {after}"
            if self.unit == "percent":
                text += f" ({fmt.number(abs(self.absolute), max(decimals, 1) if abs(self.absolute) % 1 else 0)} percentage points)"
            elif self.percent is not None:
                text += f" ({'up' if self.absolute > 0 else 'down'} {fmt.number(abs(self.percent), 1)}%)"
        if self.assessment:
            text += f", {self.assessment}"
        return text


def change_of(row) -> Change | None:
    """The change for a ledger row with a baseline, or None."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    before, after = get("baseline"), get("value")
    if not (_isnum(before) and _isnum(after)):
        return None
    dps = [d for d in (get("value_dp", None), get("baseline_dp", None)) if d is not None and not (isinstance(d, float) and math.isnan(d))]
    decimals = int(max(dps)) if dps else None
    return Change(float(before), float(after), get("unit", ""), get("polarity", "neutral") or "neutral", decimals)


@dataclass(frozen=True)
class TargetStatus:
    value: float
    target: float
    unit: str
    polarity: str

    @property
    def lower_is_better(self) -> bool:
        return self.polarity == "lower_better"

    @property
    def met(self) -> bool:
        return self.value <= self.target if self.lower_is_better else self.value >= self.target

    @property
    def margin(self) -> float:
        """How far past (positive) or short of (negative) the target, in the measure's unit."""
        return (self.target - self.value) if self.lower_is_better else (self.value - self.target)

    def describe(self) -> str:
        target = fmt.with_unit(self.target, self.unit)
        size = abs(self.margin)
        decimals = max(fmt.decimals_of(self.value), fmt.decimals_of(self.target))
        gap = (f"{fmt.number(size, decimals)} percentage points" if self.unit == "percent"
               else fmt.with_unit(size, self.unit, decimals))
        kind = "ceiling" if self.lower_is_better else "target"
        if self.margin == 0:
            return f"exactly met the {kind} of {target}"
        if self.met:
            return f"met the {kind} of {target}, by {gap}"
        return f"missed the {kind} of {target}, by {gap}"


def target_of(row) -> TargetStatus | None:
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    value, target = get("value"), get("target")
    if not (_isnum(value) and _isnum(target)):
        return None
    return TargetStatus(float(value), float(target), get("unit", ""), get("polarity", "neutral") or "neutral")


def rate(value: float, population: float, per: int = 1000) -> float:
    """A count per `per` residents. Raises on a missing or non-positive population."""
    if not _isnum(population) or population <= 0:
        raise ValueError("a rate needs a positive population")
    return float(value) / float(population) * per


def rates_for(rows: pd.DataFrame, population: pd.DataFrame, per: int = 1000) -> pd.DataFrame:
    """Rate per `per` residents for count rows of areas that have a population.

    `population` has columns area, population, period. Only counts of people or events qualify:
    money, durations and percentages are not divided by population.
    """
    counts = rows[(rows["unit"] == "count") & rows["value"].notna()]
    merged = counts.merge(population, on="area", how="inner")
    merged = merged[merged["population"] > 0].copy()
    merged["rate"] = merged["value"] / merged["population"] * per
    merged["per"] = per
    return merged[["id", "area", "measure", "value", "population", "population_period", "rate", "per"]]


# --- roll-ups ---------------------------------------------------------------------------------

def statement_groups(relations: pd.DataFrame) -> dict[str, str]:
    """Map each claim id to a representative of its 'same figure' group (same_measure_as links)."""
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if relations is not None and not relations.empty:
        same = relations[relations["relation"] == "same_measure_as"]
        for rec in same.itertuples(index=False):
            ids = [rec.claim, *[i.strip() for i in str(rec.inputs).split(";") if i.strip()]]
            root = find(ids[0])
            for other in ids[1:]:
                parent[find(other)] = root
    return {k: find(k) for k in list(parent)}


def dedupe_statements(rows: pd.DataFrame, relations: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per figure: statements linked by same_measure_as count once (the first stated)."""
    groups = statement_groups(relations)
    rep = rows["id"].map(lambda i: groups.get(i, i))
    return rows.loc[~rep.duplicated()]


def rollup(rows: pd.DataFrame, relations: pd.DataFrame, group_of: dict[str, str], kinds=("partnership",)) -> pd.DataFrame:
    """Sum additive figures by group (e.g. locality) without double counting or mixing.

    - only rows whose area kind is in `kinds` (one footprint level, so a district figure and the
      Place figure containing it are never added together);
    - statements of the same figure count once;
    - sums are per measure and unit, and only for counts and money (never percentages, rates or
      durations), and only where no row in the group is a range or a qualified figure (over, circa...):
      such sums are flagged as approximate instead of shown as exact.
    `group_of` maps area id to group id (e.g. partnership -> locality); `rows` must carry `area_kind`.
    """
    cols = ["group", "measure", "unit", "total", "statements", "areas", "approximate"]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    df = rows[rows["area_kind"].isin(kinds) & rows["unit"].isin(["count", "gbp"]) & rows["value"].notna()]
    if "kind" in df.columns:
        df = df[df["kind"] == "level"]  # changes and per-person averages are never added up
    df = dedupe_statements(df, relations).copy()
    df["group"] = df["area"].map(group_of)
    df = df[df["group"].notna()]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["approx"] = df["qualifier"].fillna("").ne("") | df["value_high"].notna()
    out = (df.groupby(["group", "measure", "unit"], sort=True)
             .agg(total=("value", "sum"), statements=("id", "count"), areas=("area", "nunique"), approximate=("approx", "any"))
             .reset_index())
    return out[cols]


def rollup_by_theme(rows: pd.DataFrame, relations: pd.DataFrame, initiatives: pd.DataFrame,
                    kinds=("partnership",)) -> pd.DataFrame:
    """Sum additive figures by the themes of the initiatives they belong to, with the same rules as
    `rollup`: one footprint level, each figure once, one unit per total, counts and money only. A figure
    of an initiative with two themes counts once under each theme (themes overlap; never add them up)."""
    themes = initiatives.set_index("id")["themes"].str.split(";") if not initiatives.empty else pd.Series(dtype=object)
    linked = rows[rows["initiative"].isin(themes.index)] if "initiative" in rows else rows.iloc[0:0]
    if linked.empty:
        return pd.DataFrame(columns=["group", "measure", "unit", "total", "statements", "areas", "approximate"])
    exploded = linked.assign(theme=linked["initiative"].map(themes)).explode("theme")
    exploded = exploded.assign(area_key=exploded["area"], area=exploded["area"] + "|" + exploded["theme"])
    group_of = dict(zip(exploded["area"], exploded["theme"]))
    out = rollup(exploded.assign(id=exploded["id"] + "|" + exploded["theme"]), _suffix_relations(relations, exploded), group_of, kinds)
    return out


def _suffix_relations(relations: pd.DataFrame, exploded: pd.DataFrame) -> pd.DataFrame:
    """Restatement links copied for each theme a figure is counted under."""
    if relations is None or relations.empty:
        return relations
    same = relations[relations["relation"] == "same_measure_as"]
    recs = []
    for theme in exploded["theme"].unique():
        for r in same.to_dict("records"):
            recs.append({**r, "claim": f"{r['claim']}|{theme}",
                         "inputs": ";".join(f"{i.strip()}|{theme}" for i in str(r["inputs"]).split(";") if i.strip())})
    return pd.DataFrame(recs, columns=relations.columns)


def explode_themes(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, theme) of a table whose `themes` column joins theme ids with ';'."""
    out = df.assign(theme=df["themes"].str.split(";")).explode("theme")
    out["theme"] = out["theme"].str.strip()
    return out


def crosswalk(concerns: pd.DataFrame, initiatives: pd.DataFrame, themes: pd.DataFrame) -> pd.DataFrame:
    """Per theme: how many workshop concerns (local issues and barriers) and how many initiatives carry it.

    A contribution or initiative with several themes counts under each. `status` says whether any work
    addresses the theme; a raised theme is `thin` when it has at most one initiative, or fewer than half
    as many initiatives as concerns. Sorted by concerns, then initiatives, most first."""
    ce, ie = explode_themes(concerns), explode_themes(initiatives)
    cw = pd.DataFrame({"theme": list(themes.index)})
    cw["label"] = cw["theme"].map(themes["label"])

    def count(df: pd.DataFrame) -> pd.Series:
        return cw["theme"].map(df.groupby("theme")["id"].nunique()).fillna(0).astype(int)

    cw["issues"] = count(ce[ce["question"] == "local_issues"])
    cw["barriers"] = count(ce[ce["question"] == "barriers"])
    cw["concerns"] = count(ce)
    cw["key_points"] = count(ce[ce["is_key_point"].astype(bool)])
    cw["initiatives"] = count(ie)
    cw["status"] = cw["initiatives"].map(lambda n: "addressed by several" if n > 1 else ("touched by one" if n == 1 else "open: none"))
    cw["thin"] = (cw["concerns"] > 0) & ((cw["initiatives"] <= 1) | (cw["initiatives"] * 2 < cw["concerns"]))
    return cw.sort_values(["concerns", "initiatives"], ascending=[False, False]).reset_index(drop=True)


def theme_counts(initiatives: pd.DataFrame, themes: pd.DataFrame) -> pd.DataFrame:
    """Number of initiatives per theme (an initiative with two themes counts once under each)."""
    if initiatives.empty:
        return pd.DataFrame(columns=["theme", "label", "initiatives"])
    exploded = explode_themes(initiatives)
    counts = exploded.groupby("theme")["id"].nunique().rename("initiatives").reset_index()
    counts["label"] = counts["theme"].map(themes["label"]) if "label" in themes else counts["theme"]
    return counts.sort_values(["initiatives", "label"], ascending=[False, True])[["theme", "label", "initiatives"]]


def evidence_profile(rows: pd.DataFrame) -> dict:
    """Claims by evidence level, and how many have a baseline, a target or a comparator."""
    levels = ["activity", "output", "outcome", "impact"]
    counts = rows["evidence_level"].value_counts() if not rows.empty else pd.Series(dtype=int)
    return {
        "claims": int(len(rows)),
        **{level: int(counts.get(level, 0)) for level in levels},
        "with_baseline": int(rows["baseline"].notna().sum()) if not rows.empty else 0,
        "with_target": int(rows["target"].notna().sum()) if not rows.empty else 0,
        "with_comparator": int(rows["comparator"].fillna("").ne("").sum()) if not rows.empty else 0,
    }
