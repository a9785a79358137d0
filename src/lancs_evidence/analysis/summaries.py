"""Summaries of the ledger's figures: what changed, whether targets were met, rates per resident, and safe roll-ups.

Every function here is pure (tables in, tables or values out) and tested on small hand-built tables.
Wording follows the measure's polarity: a fall in a measure where lower is better is "an improvement".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from lancs_evidence.data.vocab import EVIDENCE_LEVELS, NOT_WORK_LEVELS, UNJUDGED_LEVELS
from lancs_evidence.pages import fmt


def _isnum(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@dataclass(frozen=True)
class Change:
    before: float
    after: float
    unit: str
    polarity: str
    decimals: int | None = None  # as the figures were written; None infers from the values
    judged: bool = True  # False for activity or output rows: a change in effort is described, never called an improvement
    before_decimals: int | None = None  # each end as it was written ("27" stays 27 beside "20.2"); None: `decimals`
    after_decimals: int | None = None

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
        if self.absolute == 0 or self.polarity == "neutral" or not self.judged:
            return ""
        better = (self.absolute > 0) == (self.polarity == "higher_better")
        return "an improvement" if better else "a deterioration"

    def describe(self) -> str:
        """e.g. 'fell from 9.5 to 5.0 weeks (down 47.4%), an improvement'."""
        decimals = self.decimals if self.decimals is not None else max(fmt.decimals_of(self.before), fmt.decimals_of(self.after))
        d_before = decimals if self.before_decimals is None else self.before_decimals
        d_after = decimals if self.after_decimals is None else self.after_decimals
        before = fmt.with_unit(self.before, self.unit, d_before)
        after = fmt.with_unit(self.after, self.unit, d_after)
        if self.unit not in ("percent",):
            before = fmt.number(self.before, d_before) if self.unit in ("weeks", "days", "hours", "months", "years", "minutes") else before
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


def exact(row) -> bool:
    """A single stated number: no qualifier, no range, not words. Only exact figures are worked into changes."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    q, words = get("qualifier", ""), get("value_words", "")
    return (_isnum(get("value")) and not _isnum(get("value_high")) and not (isinstance(q, str) and q.strip())
            and not (isinstance(words, str) and words.strip()))


def change_between(after_row, before_row) -> bool:
    """Whether a change can be stated between two ledger rows without dropping a qualifier or range."""
    return exact(after_row) and exact(before_row)


def change_of(row) -> Change | None:
    """The change for a ledger row with a baseline, or None (also when the figure is a bound, a range or
    words: "over 292" against 205 is not a rise of 87)."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    before, after = get("baseline"), get("value")
    if not (_isnum(before) and _isnum(after)) or not exact(row):
        return None
    def written(col):
        d = get(f"{col}_dp", None)
        return None if d is None or (isinstance(d, float) and math.isnan(d)) else int(d)

    dps = [d for d in (written("value"), written("baseline")) if d is not None]
    decimals = int(max(dps)) if dps else None
    level = get("evidence_level", "") or ""
    judged = level not in UNJUDGED_LEVELS  # only the outcome and impact levels are judged
    # each end at the precision it was written: a baseline of 27 is never shown as "27.0" beside 20.2
    return Change(float(before), float(after), get("unit", ""), get("polarity", "neutral") or "neutral", decimals, judged,
                  written("baseline"), written("value"))


@dataclass(frozen=True)
class TargetStatus:
    value: float
    target: float
    unit: str
    polarity: str
    value_high: float | None = None  # a stated range (70-80%) is judged as a range, never by one end
    kind: str = "target"  # target, ceiling, or aspiration (an ambition: reached or not yet, never "missed")

    @property
    def lower_is_better(self) -> bool:
        return self.polarity == "lower_better" or self.kind == "ceiling"

    def _meets(self, v: float) -> bool:
        return v <= self.target if self.lower_is_better else v >= self.target

    @property
    def met(self) -> bool:
        """Met only when the whole stated range meets it."""
        return self._meets(self.value) and (self.value_high is None or self._meets(self.value_high))

    @property
    def partly(self) -> bool:
        """A range with one end meeting the target and the other not."""
        return self.value_high is not None and self._meets(self.value) != self._meets(self.value_high)

    @property
    def margin(self) -> float:
        """How far past (positive) or short of (negative) the target, in the measure's unit (the bottom of a range)."""
        return (self.target - self.value) if self.lower_is_better else (self.value - self.target)

    def describe(self) -> str:
        target = fmt.with_unit(self.target, self.unit)
        size = abs(self.margin)
        decimals = max(fmt.decimals_of(self.value), fmt.decimals_of(self.target))
        gap = (f"{fmt.number(size, decimals)} percentage points" if self.unit == "percent"
               else fmt.with_unit(size, self.unit, decimals))
        if self.kind == "aspiration":
            if self.met:
                return f"has reached the aspiration of {target}"
            return f"has not yet reached the aspiration of {target} ({gap} to go)"
        word = "ceiling" if self.lower_is_better else "target"
        if self.value_high is not None:
            span = fmt.figure(self.value, self.unit, value_high=self.value_high)
            if self.met:
                return f"meets the {word} of {target} across its whole range ({span})"
            if self.partly:
                return f"meets the {word} of {target} only at one end of its range ({span})"
            return f"falls short of the {word} of {target} across its whole range ({span})"
        if self.margin == 0:
            return f"exactly met the {word} of {target}"
        if self.met:
            return f"met the {word} of {target}, by {gap}"
        return f"missed the {word} of {target}, by {gap}"


def target_of(row) -> TargetStatus | None:
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    value, target = get("value"), get("target")
    if not (_isnum(value) and _isnum(target)):
        return None
    high = get("value_high")
    kind = get("target_kind", "") or "target"
    return TargetStatus(float(value), float(target), get("unit", ""), get("polarity", "neutral") or "neutral",
                        float(high) if _isnum(high) else None, kind if isinstance(kind, str) else "target")


def rate(value: float, population: float, per: int = 1000) -> float:
    """A count per `per` residents. Raises on a missing or non-positive population."""
    if not _isnum(population) or population <= 0:
        raise ValueError("a rate needs a positive population")
    return float(value) / float(population) * per


def rates_for(rows: pd.DataFrame, population: pd.DataFrame, per: int = 1000) -> pd.DataFrame:
    """Rate per `per` residents, only where a rate means something.

    `population` has columns area, population, population_period (say which count it is, e.g. "Census
    2021 usual residents"). A row qualifies only when its measure is declared population-level
    (`rate_base` is `residents` in measures.csv), it is a number (not words), it covers the area it is
    filed under (no wider `footprint`), it is not context or testimony, and it has a stated period (a count
    with no date, or only "current", cannot be set beside anything per resident). The qualifier and range travel:
    a rate from "over 5,995" is "over" too (columns rate, rate_high, qualifier)."""
    cols = ["id", "area", "measure", "value", "population", "population_period", "rate", "rate_high", "qualifier", "per"]
    df = rows.copy()
    for col, default in (("rate_base", ""), ("footprint", ""), ("value_high", float("nan")), ("qualifier", ""), ("evidence_level", ""),
                         ("period", "")):
        if col not in df:
            df[col] = default
    dated = ~df.apply(lambda r: fmt.period_text(r).startswith("No date given"), axis=1) if len(df) else df["value"].notna()
    ok = (df["rate_base"].fillna("").eq("residents") & df["value"].notna() & df["footprint"].fillna("").str.strip().eq("")
          & ~df["evidence_level"].isin(NOT_WORK_LEVELS) & dated)
    merged = df[ok].merge(population, on="area", how="inner")
    merged = merged[merged["population"] > 0].copy()
    merged["rate"] = merged["value"] / merged["population"] * per
    merged["rate_high"] = merged["value_high"] / merged["population"] * per
    merged["qualifier"] = merged["qualifier"].fillna("")
    merged["per"] = per
    return merged[cols]


# --- roll-ups ---------------------------------------------------------------------------------

def linked_groups(links) -> dict[str, str]:
    """Each id mapped to one representative of the group its links join (union-find): `links` yields
    (id, [ids linked to it]) pairs; the first id of the first link seen represents its group."""
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for first, others in links:
        root = find(first)
        for other in others:
            parent[find(other)] = root
    return {k: find(k) for k in list(parent)}


def _inputs(rec) -> list[str]:
    return [i.strip() for i in str(rec.inputs if isinstance(rec.inputs, str) else "").split(";") if i.strip()]


def same_figure_groups(relations: pd.DataFrame) -> dict[str, str]:
    """Map each figure id to a representative of its 'same figure' group (same_measure_as links)."""
    if relations is None or relations.empty:
        return {}
    same = relations[relations["relation"] == "same_measure_as"]
    return linked_groups((rec.figure, _inputs(rec)) for rec in same.itertuples(index=False))


def dedupe_figures(rows: pd.DataFrame, relations: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per reported measure: figures linked by same_measure_as count once (the first stated)."""
    groups = same_figure_groups(relations)
    rep = rows["id"].map(lambda i: groups.get(i, i))
    return rows.loc[~rep.duplicated()]


def drop_repeated_values(rows: pd.DataFrame, relations: pd.DataFrame) -> pd.DataFrame:
    """Keep one row of each figure the source states twice with the same number (same_measure_as, same value,
    top of range and qualifier): a chart of counts draws it once. Restatements whose numbers differ all stay,
    so a disagreement stays visible."""
    groups = same_figure_groups(relations)
    key = pd.DataFrame({"group": rows["id"].map(lambda i: groups.get(i, i)),
                        "value": rows["value"].astype(str),
                        "high": (rows["value_high"] if "value_high" in rows else pd.Series("", index=rows.index)).astype(str),
                        "qualifier": rows["qualifier"].fillna("").astype(str)}, index=rows.index)
    return rows.loc[~key.duplicated()]


ROLLUP_COLUMNS = ["group", "measure", "unit", "period", "footprint", "value", "value_high", "qualifier", "figure", "n_figures", "areas",
                  "ids", "added", "reason"]

_LOWER_BOUND = {"over", "at_least"}
_UPPER_BOUND = {"up_to", "under"}


def add_figures(rows: pd.DataFrame) -> tuple[dict | None, str]:
    """The sum of like figures with their qualifiers kept, or (None, why it cannot be stated).

    Exact figures and ranges add bound by bound (250-300 and a further 60 is 310-360, never "about 310").
    Lower bounds ("over", "at least") add to a lower bound: over 50 and 100 is over 150. Upper bounds ("up to",
    "under") add to an upper bound. "almost" and "about" (circa) only add to figures of their own kind or
    exact ones. Qualifiers that point different ways, a range with a bound, or a figure given only in words
    cannot be added: the rows are then shown side by side."""
    if rows.empty:
        return None, "nothing to add"
    if rows["value"].isna().any():
        return None, "a figure is given only in words"
    quals = {q for q in rows["qualifier"].fillna("").astype(str) if q}
    highs = rows["value_high"] if "value_high" in rows else pd.Series(float("nan"), index=rows.index)
    ranged = bool(highs.notna().any())
    lo = float(rows["value"].sum())
    if not quals:
        hi = float(highs.fillna(rows["value"]).sum())
        return {"value": lo, "value_high": hi if ranged else None, "qualifier": ""}, ""
    if quals <= _LOWER_BOUND:
        return {"value": lo, "value_high": None, "qualifier": "over" if "over" in quals else "at_least"}, ""
    if ranged:
        return None, "a range cannot be added to a figure stated with a qualifier"
    if quals <= _UPPER_BOUND:
        return {"value": lo, "value_high": None, "qualifier": "up_to" if "up_to" in quals else "under"}, ""
    if len(quals) == 1 and quals <= {"almost", "circa"}:
        return {"value": lo, "value_high": None, "qualifier": next(iter(quals))}, ""
    words = fmt.join_words(sorted(f"'{fmt.QUALIFIER_WORDS.get(q, q)}'" for q in quals))
    return None, f"qualifiers that point different ways ({words}) cannot be added"


def why_not_additive(row) -> str:
    """'' when a ledger row may enter a sum; otherwise the reason it is shown on its own."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    if not _isnum(get("value")):
        return "given only in words, so never added"
    if get("kind", "level") != "level" or not bool(get("additive", False)):
        return "not a measure that can be added up"
    if get("evidence_level", "") in NOT_WORK_LEVELS:
        return "context or a single account, not the work's results"
    return ""


def _rollup(df: pd.DataFrame, relations: pd.DataFrame) -> pd.DataFrame:
    """`df` has a `group` column. Adds like with like within each group; lists everything else."""
    if df.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    df = df.copy()
    for col, default in (("value_high", float("nan")), ("qualifier", ""), ("period", ""), ("footprint", ""),
                         ("value_words", ""), ("additive", False), ("kind", "level"), ("evidence_level", "")):
        if col not in df:
            df[col] = default
    df["qualifier"] = df["qualifier"].fillna("")
    df["period"] = df["period"].fillna("")
    df["footprint"] = df["footprint"].fillna("").astype(str).str.strip()
    df["reason"] = df.apply(why_not_additive, axis=1)
    groups = same_figure_groups(relations)
    out = []
    # a declared footprint (wider than, or different from, the area) is part of the key: such rows add only
    # to rows of exactly that footprint, never to figures for the areas themselves
    for (group, measure, unit, period, foot), part in df.groupby(["group", "measure", "unit", "period", "footprint"], sort=True):
        # figures the ledger records as (possibly) the same one count once within a group
        part = part.loc[~part["id"].map(lambda i: groups.get(i, i)).duplicated()]
        addable = part[part["reason"] == ""]
        rest = part[part["reason"] != ""]
        counts_people = str(measure).startswith("people_") or (
            "rate_base" in addable and addable["rate_base"].fillna("").eq("residents").any())
        if len(addable) > 1 and counts_people and addable["area"].duplicated().any():
            # two services in one area may reach the same people: never add their counts of people
            rest = pd.concat([addable.assign(reason="may count the same people twice (two figures for one area)"), rest])
            addable = addable.iloc[0:0]
        if len(addable) > 1:
            total, why = add_figures(addable)
            if total is not None:
                out.append({"group": group, "measure": measure, "unit": unit, "period": period, "footprint": foot, **total,
                            "figure": fmt.figure(total["value"], unit, total["qualifier"], total["value_high"]),
                            "n_figures": len(addable), "areas": int(addable["area"].nunique()), "ids": list(addable["id"]),
                            "added": True, "reason": ""})
                addable = addable.iloc[0:0]
            else:
                addable = addable.assign(reason=why)
        for r in pd.concat([addable, rest]).to_dict("records"):
            if foot and not r["reason"]:
                r["reason"] = f"covers a different footprint ({foot})"
            out.append({"group": group, "measure": measure, "unit": unit, "period": period, "footprint": foot, "value": r["value"],
                        "value_high": r["value_high"], "qualifier": r["qualifier"], "figure": fmt.ledger_figure(r),
                        "n_figures": 1, "areas": 1, "ids": [r["id"]], "added": False, "reason": r["reason"]})
    return pd.DataFrame(out, columns=ROLLUP_COLUMNS)


def rollup(rows: pd.DataFrame, relations: pd.DataFrame, group_of: dict[str, str], kinds=("partnership",)) -> pd.DataFrame:
    """Counts and money by group (e.g. per partnership), adding only like with like.

    A sum combines rows only when: they are at one footprint level (area kind in `kinds`, so a district
    figure and the Place figure containing it are never added) and none declares a wider footprint; the
    measure is declared additive in measures.csv (a level, never a share, average, duration or target);
    they share measure, unit and period; counts of people come from different areas (two services in one
    area may reach the same people); and the ledger does not record them as the same figure. The sum
    keeps the qualifiers and ranges (`add_figures`). Every other count or money row is listed on its own
    with the reason (`added` is False, `reason` says why), so the table shows rows side by side rather
    than a total that means nothing. `rows` must carry `area_kind`."""
    if rows.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    df = rows[rows["area_kind"].isin(kinds) & rows["unit"].isin(["count", "gbp"])].copy()
    df["group"] = df["area"].map(group_of)
    return _rollup(df[df["group"].notna()], relations)


def rollup_by_theme(rows: pd.DataFrame, relations: pd.DataFrame, initiatives: pd.DataFrame,
                    kinds=("partnership",)) -> pd.DataFrame:
    """Counts and money by the themes of the initiatives they belong to, with the rules of `rollup`.
    A figure of an initiative with two themes appears under each theme (themes overlap; never add them up)."""
    themes = initiatives.set_index("id")["themes"].str.split(";") if not initiatives.empty else pd.Series(dtype=object)
    linked = rows[rows["initiative"].isin(themes.index)] if "initiative" in rows else rows.iloc[0:0]
    linked = linked[linked["area_kind"].isin(kinds) & linked["unit"].isin(["count", "gbp"])]
    if linked.empty:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    exploded = linked.assign(group=linked["initiative"].map(themes)).explode("group")
    exploded["group"] = exploded["group"].str.strip()
    return _rollup(exploded, relations)


def _same_as(df: pd.DataFrame) -> pd.Series:
    """Each row's `same_as` (the row it describes or lists again), '' where it repeats nothing or the table
    has no such column."""
    return (df["same_as"].fillna("").astype(str).str.strip() if "same_as" in df
            else pd.Series("", index=df.index, dtype=str))


def repeats(df: pd.DataFrame) -> pd.Series:
    """True for the rows that repeat another row of their table (initiatives described again, workshop answers
    listed twice): each piece of work or answer is counted at its first row."""
    return _same_as(df).ne("")


def initiative_key(df: pd.DataFrame) -> pd.Series:
    """Each initiative row's counting key: the initiative it describes again (`same_as`), else its own id."""
    same = _same_as(df)
    return same.where(same.ne(""), df["id"])


def distinct_initiatives(df: pd.DataFrame) -> int:
    """How many pieces of work a set of initiative rows describes: a row described again under another
    heading (`same_as`) counts once with the row it repeats."""
    return int(initiative_key(df).nunique()) if not df.empty else 0


def merge_repeats(df: pd.DataFrame) -> pd.DataFrame:
    """One row per piece of work, for showing: a row that describes another present row again is folded into
    it (themes and partners joined, its description added with the heading it is under). A repeat whose
    first row is not in the set is kept as it is."""
    if df.empty or "same_as" not in df:
        return df
    key = initiative_key(df)
    present = set(df["id"])
    folded = key.ne(df["id"]) & key.isin(present)
    if not folded.any():
        return df
    out = df[~folded].copy()
    for _, r in df[folded].iterrows():
        i = out.index[out["id"] == key[r.name]][0]
        for col in ("themes", "partners"):
            if col in out:
                have = [x.strip() for x in str(out.at[i, col]).split(";") if x.strip()]
                have += [x.strip() for x in str(r[col]).split(";") if x.strip() and x.strip() not in have]
                out.at[i, col] = ";".join(have)
        heading = str(r["section"]).split(" > ")[-1]
        where = ("in the same section, as if separate work" if heading == str(out.at[i, "section"]).split(" > ")[-1]
                 else f"under '{heading}'")
        out.at[i, "summary"] = f"{out.at[i, 'summary']} Described again {where}: {r['summary']}"
    return out


def explode_themes(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (row, theme) of a table whose `themes` column joins theme ids with ';'."""
    out = df.assign(theme=df["themes"].str.split(";")).explode("theme")
    out["theme"] = out["theme"].str.strip()
    return out


CONCERN_QUESTIONS = ("local_issues", "barriers")
NOT_COUNTED_PARTS = ("poll_key_point", "link")  # a digest of answers counted one by one; a link is not a point made


def concerns_of(contributions: pd.DataFrame) -> pd.DataFrame:
    """The workshop's concerns as the cross-walk counts them: answers to the local-issues and barriers
    questions, without the key points that sum up poll answers the notes also list one by one (counting both
    would count one answer twice), without links shared, and without the second copy of an answer the notes
    list twice (`same_as`). Rows with no `part` are counted."""
    rows = contributions[contributions["question"].isin(CONCERN_QUESTIONS)]
    if "part" in rows:
        rows = rows[~rows["part"].fillna("").isin(NOT_COUNTED_PARTS)]
    return rows[~repeats(rows)]  # an answer the notes list twice is one concern


def left_out_of_concerns(contributions: pd.DataFrame) -> dict[str, int]:
    """How many local-issue and barrier rows `concerns_of` leaves out, by part."""
    rows = contributions[contributions["question"].isin(CONCERN_QUESTIONS)]
    parts = rows["part"].fillna("") if "part" in rows else pd.Series("", index=rows.index)
    return {p: int((parts == p).sum()) for p in NOT_COUNTED_PARTS}


def crosswalk(concerns: pd.DataFrame, initiatives: pd.DataFrame, themes: pd.DataFrame) -> pd.DataFrame:
    """Per theme: how many workshop concerns (local issues and barriers) and how many initiatives carry it.

    A contribution or initiative with several themes counts under each. `status` says whether any work
    addresses the theme; a raised theme is `thin` when it has at most one initiative, or fewer than half
    as many initiatives as concerns. Sorted by concerns, then initiatives, most first."""
    ce, ie = explode_themes(concerns), explode_themes(initiatives.assign(id=initiative_key(initiatives)))
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
    """Number of initiatives per theme (an initiative with two themes counts once under each; a row that
    describes another again, `same_as`, counts with it)."""
    if initiatives.empty:
        return pd.DataFrame(columns=["theme", "label", "initiatives"])
    exploded = explode_themes(initiatives.assign(id=initiative_key(initiatives)))  # work described twice counts once
    counts = exploded.groupby("theme")["id"].nunique().rename("initiatives").reset_index()
    counts["label"] = counts["theme"].map(themes["label"]) if "label" in themes else counts["theme"]
    return counts.sort_values(["initiatives", "label"], ascending=[False, True])[["theme", "label", "initiatives"]]


# Relations that say two figures state one result: the same number twice, a change worked out from a
# figure's own before and after (in points, in per cent, or as a difference), or a count and the share it is
# said to be. A share of a different count (`share_of_whole`), a total of parts, a ratio or an occupancy
# check relates different results, so those never merge.
RESTATEMENT_KINDS = ("same_measure_as", "pct_change_of", "pp_change_of", "difference_of", "same_base_as")

# which level a result restated at two levels counts under: the strongest claim it makes about the work
_LEVEL_RANK = {lv: i for i, lv in enumerate(("impact", "outcome", "output", "activity", "context", "testimony"))}


def result_groups(relations: pd.DataFrame | None) -> dict[str, str]:
    """Map each figure id to a representative of the result it states (see `RESTATEMENT_KINDS`): a share,
    its fall in points, its relative fall and the count behind it are one result. A `difference_of` with two
    inputs (first - second of two figures) is not a restatement and is left out."""
    if relations is None or relations.empty:
        return {}
    linked = relations[relations["relation"].isin(RESTATEMENT_KINDS)]
    return linked_groups(
        (rec.figure.strip(), _inputs(rec)) for rec in linked.itertuples(index=False)
        if isinstance(rec.figure, str) and rec.figure.strip() and _inputs(rec)
        and not (rec.relation == "difference_of" and len(_inputs(rec)) > 1))


def evidence_profile(rows: pd.DataFrame, relations: pd.DataFrame | None = None) -> dict:
    """Figures by evidence level, and how many have a baseline, a target or a comparator.

    `figures` is the number of ledger rows. With `relations`, every other count is of *results*: rows that
    restate one result (`result_groups`: the same number twice, a share and its fall in points, its relative
    fall, the count behind it) count once, at the strongest level any of them has, and with a baseline,
    target or comparator if any of them has one; `results` says how many there are. Without `relations`
    each row is its own result."""
    if rows.empty:
        return {"figures": 0, "results": 0, **{level: 0 for level in EVIDENCE_LEVELS},
                "with_baseline": 0, "with_target": 0, "with_comparator": 0}
    groups = result_groups(relations)
    df = pd.DataFrame({
        "result": (rows["id"].map(lambda i: groups.get(i, i)) if relations is not None and "id" in rows
                   else pd.Series(range(len(rows)), index=rows.index)),
        "rank": rows["evidence_level"].map(lambda lv: _LEVEL_RANK.get(lv, len(_LEVEL_RANK))),
        "level": rows["evidence_level"],
        "baseline": rows["baseline"].notna(),
        "target": rows["target"].notna(),
        "comparator": rows["comparator"].fillna("").ne(""),
    })
    by = df.sort_values("rank", kind="stable").groupby("result", sort=False)
    levels = by["level"].first().value_counts()
    return {
        "figures": int(len(rows)),
        "results": int(by.ngroups),
        **{level: int(levels.get(level, 0)) for level in EVIDENCE_LEVELS},
        "with_baseline": int(by["baseline"].any().sum()),
        "with_target": int(by["target"].any().sum()),
        "with_comparator": int(by["comparator"].any().sum()),
    }


# --- case studies computed: ratios, changes and shares the sources give the inputs for -----------------

WEEKS_PER = {"weeks": 1.0, "days": 1 / 7, "months": 52 / 12, "years": 52.0}


def _bounds(row) -> tuple[float, float] | None:
    """(low, high) of an exact figure or a stated range; None for a bound ('over'), an estimate or words,
    which cannot be carried through arithmetic without inventing precision."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    q = get("qualifier", "") or ""
    if not _isnum(get("value")) or (isinstance(q, str) and q.strip()):
        return None
    lo = float(get("value"))
    hi = float(get("value_high")) if _isnum(get("value_high")) else lo
    return lo, hi


def _span(lo: float, hi: float, unit: str, decimals: int) -> str:
    lo, hi = round(lo, decimals), round(hi, decimals)
    return fmt.figure(lo, unit, decimals=decimals) if lo == hi else fmt.figure(lo, unit, value_high=hi, decimals=decimals)


def derive(kind: str, first, second) -> tuple[str, float | None, float | None]:
    """One figure a reader wants, computed from two ledger rows: (text, low, high), or (reason, None, None).

    - `ratio`: first ÷ second, written 'X to 1' (a return on investment from savings and money spent);
    - `share`: first as a percentage of second (20 of 100 users is 20%);
    - `change`: from `first` (before) to `second` (after), converted to one unit of time when the two are
      stated in different ones (6 to 9 months before, 2 weeks after), as a difference and a percentage.
    Ranges stay ranges; a figure stated with a qualifier is not used."""
    a, b = _bounds(first), _bounds(second)
    if a is None or b is None:
        return "not worked out: an input is a bound, an estimate or words, so the result would be invented", None, None
    if kind == "ratio":
        if min(b) <= 0:
            return "not worked out: the denominator is zero", None, None
        lo, hi = a[0] / b[1], a[1] / b[0]
        return _span(lo, hi, "", 1) + " to 1", lo, hi
    if kind == "share":
        if min(b) <= 0:
            return "not worked out: the whole is zero", None, None
        lo, hi = 100 * a[0] / b[1], 100 * a[1] / b[0]
        return _span(lo, hi, "percent", 0), lo, hi
    if kind == "change":
        ua, ub = first["unit"], second["unit"]
        if ua != ub:
            if ua not in WEEKS_PER or ub not in WEEKS_PER:
                return f"not worked out: {ua} and {ub} cannot be compared", None, None
            a = (a[0] * WEEKS_PER[ua], a[1] * WEEKS_PER[ua])
            b = (b[0] * WEEKS_PER[ub], b[1] * WEEKS_PER[ub])
            unit = "weeks"
        else:
            unit = ua
        # the difference after - before over every combination of the two ranges
        d_lo, d_hi = b[0] - a[1], b[1] - a[0]
        if min(a) <= 0:
            pct = ""
        else:
            p_lo, p_hi = 100 * (b[0] - a[1]) / a[1], 100 * (b[1] - a[0]) / a[0]
            word = "less" if p_hi < 0 else "more" if p_lo > 0 else "change"
            pct = f" ({_span(min(abs(p_lo), abs(p_hi)), max(abs(p_lo), abs(p_hi)), 'percent', 0)} {word})"
        size = _span(min(abs(d_lo), abs(d_hi)), max(abs(d_lo), abs(d_hi)), unit, 0)
        direction = "shorter" if d_hi < 0 and unit in WEEKS_PER else "lower" if d_hi < 0 else "longer" if d_lo > 0 and unit in WEEKS_PER else "higher" if d_lo > 0 else "different"
        before = _span(a[0], a[1], unit, 0)
        after = _span(b[0], b[1], unit, 0)
        if ua != ub:  # say what the source wrote, then the converted figure (months to weeks is approximate)
            before = (fmt.ledger_figure(first) + f" (about {before})") if ua != unit else before
            after = (fmt.ledger_figure(second) + f" (about {after})") if ub != unit else after
        return f"from {before} to {after}: {size} {direction}{pct}", d_lo, d_hi
    raise ValueError(f"unknown kind {kind!r}: ratio, share or change")


def derived_figures(spec: pd.DataFrame, figures: pd.DataFrame) -> pd.DataFrame:
    """`spec` rows (id, source, kind, first, second, label, note) computed against the ledger."""
    by_id = figures.set_index("id")
    out = []
    for r in spec.to_dict("records"):
        missing = [i for i in (r["first"], r["second"]) if i not in by_id.index]
        if missing:
            raise KeyError(f"derived figure {r['id']}: no ledger row {', '.join(missing)}")
        first, second = by_id.loc[r["first"]].to_dict(), by_id.loc[r["second"]].to_dict()
        text, lo, hi = derive(r["kind"], first, second)
        out.append({**r, "text": text, "low": lo, "high": hi,
                    "first_shown": fmt.ledger_figure(first), "second_shown": fmt.ledger_figure(second),
                    "period": "; ".join(dict.fromkeys(fmt.period_text(x) for x in (first, second)))})
    return pd.DataFrame(out, columns=[*spec.columns, "text", "low", "high", "first_shown", "second_shown", "period"])


def crosswalk_matches(matches: pd.DataFrame, contributions: pd.DataFrame, initiatives: pd.DataFrame,
                      areas: pd.DataFrame) -> pd.DataFrame:
    """Specific 2021 asks matched to specific 2024/25 initiatives (data/case-studies/crosswalk_matches.csv),
    with the ask's words, the initiative's name and area, and how close the match is. Asks with no match
    are not listed here (the theme cross-walk counts them)."""
    c = contributions.set_index("id")
    i = initiatives.drop_duplicates("id").set_index("id")
    missing = sorted(set(matches["contribution"]) - set(c.index)) + sorted(set(matches["initiative"]) - set(i.index))
    if missing:
        raise KeyError(f"cross-walk matches name unknown ids: {', '.join(missing)}")
    out = matches.assign(
        ask=matches["contribution"].map(c["summary"]),
        question=matches["contribution"].map(c["question"]),
        initiative_name=matches["initiative"].map(i["name"]),
        area=matches["initiative"].map(i["area"]),
    )
    out["area_name"] = out["area"].map(areas["name"]).fillna(out["area"])
    order = {"close": 0, "partial": 1}
    return out.sort_values(["contribution", "match", "initiative"], key=lambda s: s.map(order) if s.name == "match" else s)
