"""The claim audit: recompute what the sources derive, compare what they restate, and say what a reader should trust.

The rules are data (`data/relations.csv`): each row names a kind of check and the figures it compares.
Nothing here knows about any particular figure. Kinds:

* arithmetic (`pct_change_of`, `pp_change_of`, `share_of`, `sum_of`, `difference_of`, `ratio_of`): a
  derived figure recomputed from the inputs stated WITH it (same source and section). Inputs from another
  passage are never used: a figure is not checked against a different statement's value.
* restatement (`same_measure_as`): two statements of one figure. They are "stated the same way" only when
  value, qualifier, unit, period, baseline and footprint all agree; otherwise the finding says how they differ.
* plausibility (`occupancy_of`, `share_of_whole`, `same_base_as`, `count_of_named`): related measures that must fit
  together, and a stated count against the things the source names ("three groups" with four chairs named).
* text (`status_disagrees`, `dates_disagree`, `abbreviation_expanded`, `repeated_passage`, `scope_of`): what
  two passages say about the same thing (see `audit_rules`).

A figure is judged at the precision the source wrote it: "48%" is a whole number, so the recomputed
47.37% (which rounds to 47) does not match, and the finding shows the arithmetic. A qualified figure
("over 70%") is consistent when the recomputed value is on the right side of it.

The audit runs once per build (`write_result`), and every page reads that one result (`load_result`), so
counts, marks, charts and the CSV download always agree.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from lancs_evidence.analysis import audit_rules as rules
from lancs_evidence.data.project import Project
from lancs_evidence.pages import fmt

STATUSES = ("consistent", "inconsistent", "contradicted", "differs", "not_checked")
WORDS = {"consistent": "Adds up", "inconsistent": "Does not add up", "contradicted": "Contradicted",
         "differs": "Stated differently", "not_checked": "Could not be checked"}
COUNT_WORDS = {"consistent": ("adds up", "add up"), "inconsistent": ("does not add up", "do not add up"),
               "contradicted": ("is contradicted", "are contradicted"), "differs": ("is stated differently", "are stated differently"),
               "not_checked": ("could not be checked", "could not be checked")}  # (one, many) after a count


def count_words(status: str, n: int) -> str:
    return f"{n:,} {COUNT_WORDS[status][n != 1]}"


MEANING = {
    "contradicted": "Two passages say incompatible things about the same figure or piece of work: at most one can be right.",
    "inconsistent": "The figure does not follow from the numbers the source gives with it, at the precision it was written.",
    "differs": "The statements may all be true, but they are not stated the same way (qualifier, period, unit or area differ), "
               "so a reader should not treat them as one figure.",
    "not_checked": "The text does not settle it: the statements cover different periods, or the source is ambiguous.",
    "consistent": "The figure matches the source's own numbers, or is stated the same way each time.",
}
SEVERITY = ("contradicted", "inconsistent", "differs", "not_checked", "consistent")  # worst first
ARITHMETIC = ("pct_change_of", "pp_change_of", "share_of", "sum_of", "difference_of", "ratio_of")
PLAUSIBILITY = ("occupancy_of", "share_of_whole", "same_base_as", "count_of_named")
TEXT_KINDS = ("status_disagrees", "dates_disagree", "abbreviation_expanded", "repeated_passage", "scope_of")
RELATIONS = (*ARITHMETIC, "same_measure_as", *PLAUSIBILITY, *TEXT_KINDS)
SYMMETRIC = ("same_measure_as", *PLAUSIBILITY, *TEXT_KINDS)  # every statement named shares the verdict
KIND_WORDS = {
    "pct_change_of": "percentage change", "pp_change_of": "change in percentage points", "share_of": "share of a total",
    "sum_of": "total of parts", "difference_of": "difference", "ratio_of": "ratio or average",
    "same_measure_as": "the same figure stated twice", "occupancy_of": "capacity, stay and throughput against occupancy",
    "share_of_whole": "a share of a stated count", "same_base_as": "counts and shares of one total",
    "count_of_named": "a count against the things named",
    "status_disagrees": "where a piece of work stands", "dates_disagree": "when something happened",
    "abbreviation_expanded": "an abbreviation or a name written two ways", "repeated_passage": "a passage repeated almost word for word",
    "scope_of": "a figure's area against its heading",
}
RESULT_NAME = "audit-result.json"
RESULT_VERSION = 3  # 3: findings name their ledger row `figure` (was `claim`)


@dataclass
class Finding:
    relation_id: str
    relation: str
    figure: str
    inputs: str
    stated: float | None
    recomputed: float | None
    status: str
    explanation: str
    area: str = ""
    source: str = ""
    section: str = ""
    unit: str = ""
    measure: str = ""           # what is compared, in words (measure label or the relation's term)
    statement: str = ""         # the first statement as a reader would see it
    other_source: str = ""
    other_section: str = ""
    other_statement: str = ""
    advice: str = ""            # which figure to rely on, and why
    note: str = ""              # the rule author's note (for authors, not shown to readers)
    involved: list = field(default_factory=list)  # ledger ids that carry this finding's mark


def precision_step(value: float, decimals: int | None = None) -> float:
    """The rounding unit a figure was written with: 48 -> 1, 9.5 -> 0.1, 2700 -> 100, 1000 -> 100, 0 -> 1."""
    d = fmt.decimals_of(value) if decimals is None else int(decimals)
    if d > 0:
        return 10.0 ** -d
    v = abs(int(round(value)))
    if v == 0:
        return 1.0
    step = 1
    while v % (step * 10) == 0:
        step *= 10
    # trailing zeros suggest rounding, but never coarser than a tenth of the value ("1,000" is not "about 600")
    while step > 1 and step * 10 > v:
        step //= 10
    return float(step)


def agrees(stated: float, recomputed: float, qualifier: str = "", stated_high: float | None = None, decimals: int | None = None) -> bool:
    """Does the recomputed value match the stated one at the stated precision (and qualifier)?"""
    half = precision_step(stated, decimals) / 2
    eps = 1e-9
    q = qualifier or ""
    if _num(stated_high):
        return stated - half - eps <= recomputed <= float(stated_high) + precision_step(float(stated_high)) / 2 + eps
    if q in ("over", "at_least"):
        return recomputed >= stated - half - eps
    if q in ("under", "up_to", "almost"):
        return recomputed <= stated + half + eps
    if q == "circa":
        return abs(recomputed - stated) <= max(half, 0.05 * abs(stated)) + eps
    return abs(recomputed - stated) <= half + eps


def _written_dp(row, col: str) -> int:
    """The decimal places a ledger number was written with (its `<col>_dp`), else what the value shows."""
    d = row.get(f"{col}_dp") if hasattr(row, "get") else None
    if d is not None and not (isinstance(d, float) and math.isnan(d)):
        return int(d)
    return fmt.decimals_of(float(row[col]))


def _n(x) -> str:
    return fmt.number(x, None) if abs(x - round(x, 3)) < 1e-12 else fmt.number(round(x, 3))


def _r(x: float, places: int = 1) -> str:
    return fmt.number(round(x, places), places) if x != round(x) else fmt.number(x, 0)


def _ids(text: str) -> list[str]:
    return [i.strip() for i in str(text or "").split(";") if i.strip()]


def _num(x) -> bool:
    if x is None or x == "":
        return False
    try:
        return not math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def _text(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x).strip()


def _dp(row: dict, col: str = "value") -> int | None:
    d = row.get(f"{col}_dp")
    return int(d) if _num(d) else None


def _unit_words(unit: str) -> str:
    return {"percent": "percentage points", "gbp": "pounds", "count": "", "percentage_points": "percentage points"}.get(unit, unit)


def shown(r: dict) -> str:
    """A ledger row's figure as a reader sees it, with qualifier, range, baseline and period."""
    text = fmt.stated_figure(float(r["value"]), r.get("unit", ""), _text(r.get("qualifier")),
                             r.get("value_high") if _num(r.get("value_high")) else None, _dp(r))
    if _num(r.get("baseline")):
        text += f" (from {fmt.with_unit(float(r['baseline']), r.get('unit', ''))}" + (
            f" in {_text(r.get('baseline_period'))})" if _text(r.get("baseline_period")) else ")")
    elif _text(r.get("baseline_period")) and _text(r.get("baseline_period")) not in _text(r.get("period")):
        text += f" since {_text(r.get('baseline_period'))}"
    if _text(r.get("period")):  # "current" is shown as undated (fmt.period_text), never as a period
        text += f", {fmt.period_inline(r)}"
    return text


def where(source: str, section: str) -> str:
    """A section path as a reader would look for it: its last two headings."""
    parts = [p.strip() for p in _text(section).split(">") if p.strip()]
    return " > ".join(parts[-2:]) if parts else ""


def _in(row) -> str:
    """Where a statement is, in brackets after it ("(section 2.a Our Vision)"), or nothing if the row has no section."""
    at = where(row.get("source"), row.get("section"))
    return " " + fmt.bracketed(f"section {at}") if at else ""


def _counted(row) -> str:
    """A figure with what its passage says it counts: "12 district councils brought together by ...",
    "10 years of listening ..." (the unit is not said twice), "over 7,000, to date, visits to ..."."""
    figure, what = shown(row), fmt.lower_first(_text(row.get("statement")))
    if not what:
        return figure
    unit = _text(row.get("unit")).lower()
    first, _, rest = what.partition(" ")
    # a bare figure reads straight into what it counts ("12 district councils ...", "10 years of ...");
    # after a period or a starting point, or before a description of another kind, a comma
    plain = not (_text(row.get("period")) or _num(row.get("baseline")) or _text(row.get("baseline_period")))
    if rest and unit and first.lower() in (unit, unit.rstrip("s")):
        what, joins = rest, plain
    else:
        joins = plain and unit in ("count", "")
    return f"{figure} {what}" if joins else f"{figure}, {what}"


TIME_BOUND_KINDS = {"change", "average"}  # measure kinds (data/measures.csv) whose value depends on the period


def _same_period(a: str, b: str) -> bool:
    """Two periods are the same when their words match once the review year label ('2024/25') the ledger adds
    for context is set aside: 'to date' = 'to date, 2024/25', but 'first half of 2024/25' differs from '2024/25'."""
    strip = lambda t: " ".join(rules._norm_words(re.sub(r"\(?\b\d{4}/\d{2}\b\)?", " ", t or "")))  # noqa: E731
    return strip(a) == strip(b)


def compare_figures(a: dict, b: dict, names: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """How two statements of one measure differ: (verdict, differences in words).

    The verdict is 'consistent' only when nothing differs. A different value is 'contradicted' unless the two
    cover stated, different periods or areas ('not_checked': they need not agree). The same value measured from
    different baselines is 'contradicted' (one change cannot have two starting points). The same value with a
    different qualifier, unit, stated period or footprint is 'differs'."""
    diffs: list[str] = []
    same_value = (float(a["value"]) == float(b["value"]) and _num(a.get("value_high")) == _num(b.get("value_high"))
                  and (not _num(a.get("value_high")) or float(a["value_high"]) == float(b["value_high"])))
    pa, pb = _text(a.get("period")), _text(b.get("period"))
    period_differs = bool(pa and pb and not _same_period(pa, pb))
    area_differs = _text(a.get("area")) != _text(b.get("area"))
    unit_differs = _text(a.get("unit")) != _text(b.get("unit"))
    qual_differs = _text(a.get("qualifier")) != _text(b.get("qualifier"))
    ba, bb = a.get("baseline"), b.get("baseline")
    base_value_differs = _num(ba) and _num(bb) and float(ba) != float(bb)
    bpa, bpb = _text(a.get("baseline_period")), _text(b.get("baseline_period"))
    base_period_differs = bool(bpa and bpb and not _same_period(bpa, bpb))
    if not same_value:
        diffs.append("the values differ")
    if qual_differs:
        qa = fmt.QUALIFIER_WORDS.get(_text(a.get("qualifier")), "")
        qb = fmt.QUALIFIER_WORDS.get(_text(b.get("qualifier")), "")
        diffs.append(f"one is qualified '{qa}', the other '{qb}'" if qa and qb
                     else f"one is qualified '{qa or qb}', the other has no qualifier")
    if unit_differs:
        diffs.append(f"the units differ ({_text(a.get('unit'))} against {_text(b.get('unit'))})")
    if period_differs and not (base_period_differs and bpa in pa and bpb in pb):
        diffs.append("the periods differ " + fmt.bracketed(f"{fmt.period_inline(a)} against {fmt.period_inline(b)}"))
    elif (bool(pa) != bool(pb) and not _same_period(pa, pb)
          and {_text(a.get("kind")), _text(b.get("kind"))} & TIME_BOUND_KINDS):
        # a change or an average holds for a period: one dated beyond the review year, the other not at all, is
        # not the same statement (a count of districts, or a ten-year span given with its years, is)
        diffs.append("only one gives a period " + fmt.bracketed(f"{fmt.period_inline(a if pa else b)}; the other gives none"))
    if base_value_differs or base_period_differs:
        diffs.append("they are measured from different starting points ("
                     + (f"{bpa or fmt.number(float(ba))} against {bpb or fmt.number(float(bb))}") + ")")
    if area_differs:
        nm = names or {}
        diffs.append(f"they describe different areas ({nm.get(_text(a.get('area')), _text(a.get('area')))} against "
                     f"{nm.get(_text(b.get('area')), _text(b.get('area')))})")
    if not diffs:
        return "consistent", diffs
    if not same_value:
        if period_differs or area_differs:
            return "not_checked", diffs
        return "contradicted", diffs
    if base_value_differs or base_period_differs:
        return "contradicted", diffs
    return "differs", diffs


def _plain_fail(kind: str) -> str:
    return {"not_checked": "could not be checked"}.get(kind, kind)


def check_relation(rel: dict, rows: dict[str, dict], areas: list[dict] | None = None) -> Finding:
    """Judge one relation. `rows` maps ledger id to a ledger row (dict with value, baseline, ...)."""
    kind = _text(rel.get("relation"))
    figure_id = _text(rel.get("figure"))
    input_ids = _ids(rel.get("inputs"))
    advice = _text(rel.get("advice"))
    base = dict(relation_id=_text(rel.get("id")), relation=kind, figure=figure_id, inputs=";".join(input_ids), advice=advice,
                note=_text(rel.get("note")))
    named = [i for i in [figure_id, *input_ids] if i]
    missing = [i for i in named if i not in rows]
    text_where = dict(source=_text(rel.get("source")), section=_text(rel.get("section")),
                      other_source=_text(rel.get("other_source")) or _text(rel.get("source")),
                      other_section=_text(rel.get("other_section")), measure=_text(rel.get("term")))
    if kind not in RELATIONS:
        return Finding(**base, stated=None, recomputed=None, status="not_checked", explanation=f"unknown relation {kind!r}",
                       involved=named, **text_where)
    if missing:
        return Finding(**base, stated=None, recomputed=None, status="not_checked",
                       explanation=f"no ledger row for {', '.join(missing)}", involved=[i for i in named if i in rows], **text_where)
    if kind in TEXT_KINDS:
        return _check_text(rel, rows, areas or [], base, text_where, named)
    if not figure_id:
        return Finding(**base, stated=None, recomputed=None, status="not_checked", explanation="the rule names no figure",
                       involved=[], **text_where)
    figure = rows[figure_id]
    stated = float(figure["value"])
    inputs = [rows[i] for i in input_ids]
    measure = _text(rel.get("term")) or _text(figure.get("measure_label")) or _text(figure.get("statement"))
    first = dict(area=_text(figure.get("area")), source=_text(figure.get("source")), section=_text(figure.get("section")),
                 unit=_text(figure.get("unit")), measure=measure, statement=shown(figure))
    if len(inputs) == 1:
        first.update(other_source=_text(inputs[0].get("source")), other_section=_text(inputs[0].get("section")),
                     other_statement=shown(inputs[0]))
    elif inputs:  # several statements: each keeps its own place
        first.update(other_statement="; ".join(f"{shown(r)} {fmt.bracketed(where(r.get('source'), r.get('section')))}"
                                               for r in inputs))
    involved = named if kind in SYMMETRIC else [figure_id]
    names = {_text(a.get("id")): _text(a.get("name")) for a in (areas or [])}

    ambiguity = _text(rel.get("ambiguity"))

    def make(status: str, text: str, recomputed: float | None = None) -> Finding:
        if status == "inconsistent" and kind in PLAUSIBILITY and ambiguity:
            # a plausibility check rests on the figures describing the same places over the same time; where the
            # source leaves that unclear, the gap is shown but the finding does not pick a side
            status = "not_checked"
            text = text if ambiguity in text else f"{text} {ambiguity}"
        return Finding(**base, stated=stated, recomputed=recomputed, status=status, explanation=text, involved=involved, **first)

    def finding(recomputed: float, arithmetic: str, note: str = "", spread: tuple[float, float] | None = None) -> Finding:
        qual, high, dp = _text(figure.get("qualifier")), figure.get("value_high"), _dp(figure)
        written = fmt.stated_figure(stated, figure.get("unit", ""), qual, high if _num(high) else None, dp)
        status = "consistent" if agrees(stated, recomputed, qual, high, dp) else "inconsistent"
        if status == "consistent":
            text = f"{arithmetic}; the source's figure, {written}, agrees at the precision it was written."
        elif spread and agrees(stated, min(max(stated, spread[0]), spread[1]), qual, high, dp):
            # the inputs are rounded too: a value they could stand for (the one nearest the stated figure) gives
            # it, so the text cannot show a mistake (nor confirm the figure)
            status = "not_checked"
            lo, hi = (_r(x, max(1, dp or 0)) for x in spread)
            text = (f"{arithmetic}, but the source states {written}. The numbers it is worked out from are rounded "
                    f"as written; values that round to them give anything from {lo} to {hi}"
                    f"{'%' if kind == 'pct_change_of' else ''}, which takes in the stated figure, so the gap may be "
                    "rounding alone.")
        else:
            # the gap at the precision the figure was written (at least a tenth of a point for percentages)
            places = 2 if dp is None else max(dp, 1 if figure.get("unit") in ("percent", "percentage_points") else 0)
            gap = f"{_r(abs(recomputed - stated), places)} {_unit_words(figure.get('unit', ''))}".strip()
            text = f"{arithmetic}, but the source states {written} (a gap of {gap})."
        extra = " ".join(x for x in (note, ambiguity) if x)
        return make(status, text + (f" {extra}" if extra else ""), recomputed)

    if kind in ARITHMETIC:
        elsewhere = [r for r in inputs if (_text(r.get("source")), _text(r.get("section"))) != (first["source"], first["section"])]
        if elsewhere:
            return make("not_checked", "the inputs are stated in another passage ("
                        + "; ".join(f"{shown(r)} in {where(r.get('source'), r.get('section'))}" for r in elsewhere)
                        + "), not with the figure, so recomputing it from them would mix statements; compare them as "
                          "restatements instead.")
    if kind in ("pct_change_of", "pp_change_of", "difference_of"):
        pair = None
        if len(inputs) == 1 and _num(inputs[0].get("baseline")):
            pair = ((inputs[0], "baseline"), (inputs[0], "value"))
        elif len(inputs) == 2:
            pair = ((inputs[0], "value"), (inputs[1], "value"))
            if kind == "difference_of":
                pair = ((inputs[1], "value"), (inputs[0], "value"))  # first - second
        if pair is None:
            return make("not_checked", "needs one input with a baseline, or two inputs (before;after)")
        (rb, cb), (ra, ca) = pair
        before, after = float(rb[cb]), float(ra[ca])
        # each number as the source wrote it ("27" stays 27 beside "20.2"); the result at the finer of the two
        db, da = _written_dp(rb, cb), _written_dp(ra, ca)
        d = max(db, da)
        # what each number could have been before it was rounded as written
        hb, ha = precision_step(before, db) / 2, precision_step(after, da) / 2
        corners = [(before + x, after + y) for x in (-hb, hb) for y in (-ha, ha)]
        if kind == "pct_change_of":
            if before == 0:
                return make("not_checked", "the baseline is zero, so a percentage change is undefined")
            pct = 100.0 * (after - before) / abs(before)
            b, a = fmt.number(before, db), fmt.number(after, da)
            values = [100.0 * (y - x) / abs(x) for x, y in corners] if abs(before) > hb else None
            return finding(pct, f"({a} − {b}) ÷ {b} = {_r(pct)}%", spread=(min(values), max(values)) if values else None)
        diff = after - before
        unit = "percentage points" if kind == "pp_change_of" else _unit_words(figure.get("unit", ""))
        values = [y - x for x, y in corners]
        return finding(diff, f"{fmt.number(after, da)} − {fmt.number(before, db)} = {fmt.number(diff, d)} {unit}".strip(),
                       spread=(min(values), max(values)))
    if kind == "share_of":
        if len(inputs) != 2 or float(inputs[1]["value"]) == 0:
            return make("not_checked", "needs inputs part;whole with a non-zero whole")
        part, whole = float(inputs[0]["value"]), float(inputs[1]["value"])
        share = 100.0 * part / whole
        return finding(share, f"{_n(part)} ÷ {_n(whole)} = {_r(share)}%")
    if kind == "sum_of":
        values = [float(r["value"]) for r in inputs]
        total = sum(values)
        units = {_text(r.get("unit")) for r in inputs} | {first["unit"]}
        if len(units) > 1:
            return make("not_checked", f"the parts are in different units ({', '.join(sorted(units))}), so they are never added")
        note = "Some parts are qualified (over, about...), so the total is approximate." if any(_text(r.get("qualifier")) for r in inputs) else ""
        return finding(total, " + ".join(_n(v) for v in values) + f" = {_n(total)}", note)
    if kind == "ratio_of":
        if len(inputs) != 2 or float(inputs[1]["value"]) == 0:
            return make("not_checked", "needs inputs numerator;denominator with a non-zero denominator")
        num, den = float(inputs[0]["value"]), float(inputs[1]["value"])
        return finding(num / den, f"{_n(num)} ÷ {_n(den)} = {_r(num / den, 2)}")
    if kind == "same_measure_as":
        verdicts = [compare_figures(figure, r, names) for r in inputs]
        says, other_says = _text(rel.get("says")), _text(rel.get("other_says"))
        if (says or other_says) and not rules.same_expansion(says, other_says):
            # what is counted is worded differently, which the ledger's columns cannot show
            verdicts = [(v if SEVERITY.index(v) <= SEVERITY.index("differs") else "differs",
                         [*d, f"the wording differs ('{says}' against '{other_says}')"]) for v, d in verdicts]
        status = min((v for v, _ in verdicts), key=SEVERITY.index)
        parts = []
        for r, (_v, diffs) in zip(inputs, verdicts):
            if diffs:
                parts.append(f"{shown(figure)}{_in(figure)} and {shown(r)}{_in(r)}: " + "; ".join(diffs))
            else:  # the same figure: say what each passage counts, so two checks of one number read apart
                parts.append(f"{_counted(figure)}{_in(figure)} and {_counted(r)}{_in(r)}")
        lead = {"consistent": "Stated the same way each time.",
                "contradicted": "The statements cannot both be right.",
                "differs": "Not stated the same way, though both may be true.",
                "not_checked": "The statements differ but cover different periods or areas, so they need not agree."}[status]
        other = next((r for r, (v, _) in zip(inputs, verdicts) if v == status), inputs[0])
        if status == "contradicted" and ambiguity:  # the source leaves unclear whether they are one figure
            lead = "The statements differ, but the source leaves unclear whether they describe the same thing, so they need not disagree."
            status = "not_checked"
        f = make(status, f"{lead} " + " ".join(p[0].upper() + p[1:] + "." for p in parts)
                 + (f" {ambiguity}" if ambiguity else ""), float(other["value"]))
        return f
    if kind == "occupancy_of":
        # the figure is an occupancy (percent) with inputs places;admissions;stay, or a count of places in use with
        # inputs admissions;stay (admissions × stay ÷ 365 is the number in use on an average day)
        in_use_figure = len(inputs) == 2 and _text(figure.get("unit")) == "count"
        if len(inputs) != 3 and not in_use_figure:
            return make("not_checked", "needs inputs capacity;admissions;average stay (or admissions;average stay against a "
                        "count of places in use)")
        cap, adm, stay = (None, *inputs) if in_use_figure else inputs
        per_year = rules.per_year_factor(_text(adm.get("period")))
        days = rules.DAYS_IN.get(_text(stay.get("unit")))
        if not per_year or not days or (cap is not None and float(cap["value"]) == 0):
            return make("not_checked", "the admissions need a rate period (per year, per month) and the stay a unit of time")
        a_year = float(adm["value"]) * per_year
        stay_days = float(stay["value"]) * days
        in_use = a_year * stay_days / 365.0
        arithmetic = (f"{_n(a_year)} admissions a year × {_n(stay_days)} days ÷ 365 = about {_r(in_use, 0)} places in use on an "
                      "average day")
        if cap is not None:
            occ = rules.implied_occupancy(float(cap["value"]), a_year, stay_days)
            arithmetic += f"; ÷ {_n(float(cap['value']))} places = {_r(occ)}% occupancy"
        areas_named = {_text(r.get("area")) for r in (figure, *inputs)}
        note = ("The figures are not all given for the same area (" + ", ".join(sorted(names.get(a, a) for a in areas_named))
                + "), which the source "
                "does not explain; the gap may partly come from that.") if len(areas_named) > 1 else ""
        return finding(in_use if cap is None else occ, arithmetic, note)
    if kind == "share_of_whole":
        if len(inputs) != 1 or float(inputs[0]["value"]) <= 0:
            return make("not_checked", "needs one input: the count the share is of")
        whole = float(inputs[0]["value"])
        half = precision_step(stated, _dp(figure)) / 2
        ks = rules.whole_counts_for_share(stated, whole, half)
        exact = stated * whole / 100.0
        if 100.0 / whole <= 2 * half:
            # one more of the count moves the share by less than the precision written: every share written
            # that way fits some whole count, so finding one proves nothing
            return make("not_checked", f"{_r(stated)}% of {_n(whole)} is {_r(exact, 1)}, but with {_n(whole)} any share "
                        "written to this precision is a whole number of them, and the source does not give the count "
                        "behind the share, so the two cannot be checked against each other.", exact)
        if ks:
            k = min(ks, key=lambda x: abs(x - exact))
            return make("consistent", f"{_r(stated)}% of {_n(whole)} is {_r(exact, 1)}; {k} of {_n(whole)} would be "
                        f"{_r(100.0 * k / whole)}%, which rounds to the stated share, so the two fit together.", float(k))
        return make("inconsistent", f"{_r(stated)}% of {_n(whole)} is {_r(exact, 1)}, and no whole number of the {_n(whole)} "
                    "gives that share at the precision written.", exact)
    if kind == "count_of_named":
        # `says`: the things the source names, joined by ';'; `other_says`: what they are, when they are not the
        # things counted themselves (the chairs of the groups counted, say); `other_section`: where they are named
        things = [t.strip() for t in _text(rel.get("says")).split(";") if t.strip()]
        if not things:
            return make("not_checked", "needs the things the source names, joined by ';' (column says)")
        if _text(figure.get("qualifier")) or _num(figure.get("value_high")):
            return make("not_checked", "the count is qualified or a range, so a list of names cannot settle it")
        first.update(other_statement=f"{len(things)} named: " + "; ".join(things),
                     other_source=_text(rel.get("other_source")) or first["source"],
                     other_section=_text(rel.get("other_section")) or first["section"])
        what = _text(rel.get("other_says"))
        named = f"names {len(things)}" + (f" ({what})" if what else "") + ": " + "; ".join(things)  # names may hold commas
        if len(things) == stated:
            return make("consistent", f"The source gives {_n(stated)} and {named}.", float(len(things)))
        return make("inconsistent", f"The source gives {_n(stated)} but {named}.", float(len(things)))
    if kind == "same_base_as":
        pairs, described = [], []
        for share_row, count_row in [(figure, r) for r in inputs]:
            for col in ("value", "baseline"):
                if _num(share_row.get(col)) and _num(count_row.get(col)):
                    s, c = float(share_row[col]), float(count_row[col])
                    pairs.append((c, s, precision_step(s, _dp(share_row, col)) / 2))
                    described.append(f"{_n(c)} is {_r(s)}% of about {_r(100 * c / s, 1)}")
        if len(pairs) < 2:
            return make("not_checked", "needs at least two count-and-share pairs (values or baselines) to compare")
        bases = rules.common_bases(pairs)
        text = "; ".join(described)
        if bases:
            return make("consistent", f"{text}. One total of {bases[0]:,} fits every pair at the precision written, so the counts "
                        "and shares agree.", float(bases[0]))
        return make("inconsistent", f"{text}. No single total fits every pair at the precision written, so a count or a share "
                    "is wrong, or they are of different totals.")
    return make("not_checked", f"unknown relation {kind!r}")


def _check_text(rel: dict, rows: dict[str, dict], areas: list[dict], base: dict, text_where: dict, named: list[str]) -> Finding:
    kind = base["relation"]
    says, other = _text(rel.get("says")), _text(rel.get("other_says"))
    term = text_where["measure"]
    figure = rows.get(base["figure"]) if base["figure"] else None
    if figure is not None and not text_where["source"]:
        text_where.update(source=_text(figure.get("source")), section=_text(figure.get("section")))
    if base["inputs"] and not text_where["other_section"]:
        first_input = rows[_ids(base["inputs"])[0]]
        text_where.update(other_source=_text(first_input.get("source")), other_section=_text(first_input.get("section")))
    statement, other_statement = says, other
    stated = float(figure["value"]) if figure is not None else None
    if kind == "status_disagrees":
        status, words = rules.status_verdict(says, other)
        statement = rules.STATUS_WORDS.get(says, says)
        other_statement = rules.STATUS_WORDS.get(other, other)
    elif kind == "dates_disagree":
        same = _same_period(says, other)
        status, words = ("consistent", f"both give {says}") if same else ("contradicted", f"one passage gives {says}, the other {other}")
    elif kind == "abbreviation_expanded":
        status, words = rules.abbreviation_verdict(term, says, other)
    elif kind == "repeated_passage":
        inputs = [rows[i] for i in _ids(base["inputs"])]
        same_value = None
        areas_differ = True
        if figure is not None and inputs:
            same_value = all(float(r["value"]) == float(figure["value"]) for r in inputs)
            areas_differ = any(_text(r.get("area")) != _text(figure.get("area")) for r in inputs)
            statement = statement or shown(figure)
            other_statement = other_statement or "; ".join(shown(r) for r in inputs)
        one_heading = (_text(rel.get("other_source")) in ("", text_where["source"])
                       and rules.same_heading(text_where["section"], text_where["other_section"]))
        status, words = rules.repeat_verdict(same_value, areas_differ, one_heading)
    else:  # scope_of
        if figure is None:
            return Finding(**base, stated=None, recomputed=None, status="not_checked", explanation="scope_of needs a figure",
                           involved=[], **text_where)
        parents = {a["id"]: _text(a.get("parent")) for a in areas}
        names = {a["id"]: _text(a.get("name")) for a in areas}
        local = [a for a in areas if a.get("kind") in ("partnership", "district", "neighbourhood", "case_study_area", "locality")]
        head = other or rules.heading_area(_text(figure.get("section")), local)
        footprint = says or _text(figure.get("area"))
        status, words = rules.scope_verdict(footprint, head, parents, names)
        statement = shown(figure)
        other_statement = f"heading: {where(figure.get('source'), figure.get('section'))}"
        text_where.setdefault("other_section", "")
        if not text_where["other_section"]:
            text_where.update(other_source=_text(figure.get("source")), other_section=_text(figure.get("section")))
    note = _text(rel.get("ambiguity"))
    if note and status == "contradicted":
        status = "not_checked"  # where the source is ambiguous the finding says so instead of picking a side
    explanation = words[0].upper() + words[1:] + "." + (f" {note}" if note else "")
    return Finding(**base, stated=stated, recomputed=None, status=status, explanation=explanation,
                   area=_text(figure.get("area")) if figure is not None else "", unit=_text(figure.get("unit")) if figure is not None else "",
                   statement=statement, other_statement=other_statement, involved=named, **text_where)


FINDING_COLUMNS = list(Finding.__dataclass_fields__)


def audit(figures: pd.DataFrame, relations: pd.DataFrame, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per relation: the statements compared, the verdict and the arithmetic or reason."""
    rows = {r["id"]: r for r in figures.to_dict("records")}
    area_rows = areas.to_dict("records") if areas is not None else []
    findings = [check_relation(rel, rows, area_rows) for rel in relations.to_dict("records")]
    return pd.DataFrame([asdict(f) for f in findings], columns=FINDING_COLUMNS)


def worst(statuses) -> str | None:
    statuses = [s for s in statuses if s in SEVERITY]
    return min(statuses, key=SEVERITY.index) if statuses else None


def marks_of(findings: pd.DataFrame) -> dict[str, str]:
    """The one mark each ledger figure carries: the worst verdict of the findings that judge it."""
    out: dict[str, list[str]] = {}
    for f in findings.to_dict("records"):
        for cid in f["involved"]:
            out.setdefault(cid, []).append(f["status"])
    return {cid: worst(s) for cid, s in out.items()}


def notes_by_figure(findings: pd.DataFrame) -> dict[str, list[dict]]:
    """Findings indexed by every ledger id they name (the figure and its inputs)."""
    out: dict[str, list[dict]] = {}
    for f in findings.to_dict("records"):
        for cid in dict.fromkeys([f["figure"], *_ids(f["inputs"])]):
            if cid:
                out.setdefault(cid, []).append(f)
    return out


def counts_of(findings: pd.DataFrame) -> dict[str, int]:
    vc = findings["status"].value_counts() if len(findings) else {}
    return {s: int(vc.get(s, 0)) for s in STATUSES}


# --- one result per build ----------------------------------------------------------------------------

def inputs_hash(project: Project, year: str | None = None) -> str:
    """Hash of everything the audit reads: the ledgers, relations, vocabularies and the audit's own code."""
    h = hashlib.sha256((year or "").encode())
    files = [project.data / n for n in ("relations.csv", "measures.csv", "areas.csv", "sources.csv", "years.csv")]
    files += sorted(project.data.glob("*/figures.csv"))
    here = Path(__file__).parent
    files += [here / "audit.py", here / "audit_rules.py"]
    for p in files:
        if p.exists():
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def compute(project: Project, year: str | None = None) -> dict:
    from lancs_evidence.data.ledger import Data

    data = Data(project.root, year or project.current_year())  # fresh tables, never a cached earlier reading
    findings = audit(data.figures, data.relations, data.areas.reset_index(drop=True))
    return {"version": RESULT_VERSION, "year": year or project.current_year(),
            "n_checks": len(findings), "counts": counts_of(findings), "marks": marks_of(findings),
            "findings": _records(findings)}


def _records(findings: pd.DataFrame) -> list[dict]:
    recs = findings.astype(object).where(findings.notna(), None).to_dict("records")
    for r in recs:
        for k in ("stated", "recomputed"):
            if r[k] is not None:
                r[k] = float(r[k])
    return recs


def result_path(project: Project) -> Path:
    return project.work / RESULT_NAME


def write_result(project: Project, year: str | None = None) -> Path:
    """Run the audit once for this build and write `_build/.work/audit-result.json` atomically.

    The result file holds only the findings, so it is byte for byte the same whenever the findings are:
    pages (whose cache keys include it) re-run only when a verdict changed, not whenever any figure did.
    The hash of the inputs it was made from goes beside it (`.inputs`), for `load_result` to check."""
    year = year or project.current_year()
    result = compute(project, year)
    path = result_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, text in ((path, json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"),
                         (_inputs_path(path), inputs_hash(project, year) + "\n")):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    return path


def _inputs_path(path: Path) -> Path:
    return path.with_name(path.name + ".inputs")


def load_result(project: Project, year: str | None = None) -> dict:
    """The build's audit result; computed afresh when the file is absent or was made from other inputs
    (for example when a reviewer runs one notebook by hand after editing the data)."""
    from lancs_evidence.data.ledger import not_recorded

    year = year or project.current_year()
    path = result_path(project)
    with not_recorded():  # checking the inputs is not a read of the page's: the result file itself is
        try:
            fresh = _inputs_path(path).read_text(encoding="utf-8").strip() == inputs_hash(project, year)
        except OSError:
            fresh = False
    if fresh:
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
            if result.get("version") == RESULT_VERSION and result.get("year") == year:
                return result
        except (OSError, ValueError):
            pass
    return compute(project, year)  # the tables it reads are recorded as the page's reads


def result_frame(result: dict) -> pd.DataFrame:
    return pd.DataFrame(result["findings"], columns=FINDING_COLUMNS)


EXPORT_COLUMNS = ["relation_id", "relation", "status", "measure", "figure", "inputs", "stated", "recomputed", "statement",
                  "source", "section", "other_statement", "other_source", "other_section", "explanation", "advice"]


def export_csv(result: dict, out: Path) -> Path:
    frame = result_frame(result)
    frame["status"] = frame["status"]
    out.parent.mkdir(parents=True, exist_ok=True)
    frame[EXPORT_COLUMNS].to_csv(out, index=False, lineterminator="\n", float_format="%.6g")
    return out


# --- command ------------------------------------------------------------------------------------

def run_audit_command(project: Project, out: Path | None, strict: bool, scan: Path | None = None) -> int:
    from lancs_evidence.data.validate import stop_on_problems

    if stop_on_problems(project.data, "fix them before auditing"):
        return 1
    result = compute(project)
    findings = result_frame(result)
    out = export_csv(result, out or (project.build_dir / "audit.csv"))
    print(format_table(findings))
    counts = result["counts"]
    summary = ", ".join(count_words(s, counts.get(s, 0)) for s in SEVERITY)
    kinds = findings["relation"].value_counts()
    print("\nKinds of check: " + ", ".join(f"{KIND_WORDS.get(k, k)} ({n})" for k, n in kinds.items()))
    print(f"{len(findings)} checks: {summary}. Written to {out}")
    if scan:
        print(format_scan(project, scan, findings))
    bad = int(counts.get("inconsistent", 0) + counts.get("contradicted", 0))
    if strict and bad:
        print(f"--strict: {bad} finding(s) contradicted or do not add up", file=sys.stderr)
        return 1
    return 0


def format_table(findings: pd.DataFrame, width: int = 100) -> str:
    import textwrap

    lines = []
    for f in sorted(findings.to_dict("records"), key=lambda f: (SEVERITY.index(f["status"]) if f["status"] in SEVERITY else 9, f["relation_id"])):
        head = f"{WORDS.get(f['status'], f['status']).upper():<21} {f['measure'] or f['figure']}  [{f['relation']}: {f['relation_id']}]"
        lines.append(head)
        lines += textwrap.wrap(f["explanation"], width=width, initial_indent=" " * 22, subsequent_indent=" " * 22)
    return "\n".join(lines)


def format_scan(project: Project, folder: Path, findings: pd.DataFrame) -> str:
    """Candidates the scanners find in the source texts and ledger, marked as recorded or not."""
    from lancs_evidence.data.ledger import Data

    texts = rules.read_sources(folder)
    recorded = findings.to_dict("records")
    lines = ["", "Scan of the source texts (candidates; record real ones in data/relations.csv):"]
    for src, sections in texts.items():
        for rep in rules.scan_repeats(src, sections):
            heads = [re.sub(r" \(line \d+\)$", "", x).lower() for x in (rep.section, rep.other_section)]
            lines_ = re.findall(r"line (\d+)", rep.section + rep.other_section)
            done = any(f["relation"] == "repeated_passage" and (
                all(h in ((f["section"] or "") + " " + (f["other_section"] or "") + " " + (f["measure"] or "")).lower() for h in heads)
                or all(n in (f.get("note") or "") for n in lines_)) for f in recorded)
            lines.append(f"  repeated passage ({rep.similarity:.0%} alike) in {src}: '{rep.section}' / '{rep.other_section}'"
                         + ("  [recorded]" if done else ""))
    for term, uses in sorted(rules.scan_abbreviations(texts).items()):
        done = any(f["relation"] == "abbreviation_expanded" and f["measure"] == term for f in recorded)
        lines.append(f"  {term} spelled out {len(uses)} ways: " + " / ".join(f"'{u.expansion}' ({u.source})" for u in uses)
                     + ("  [recorded]" if done else ""))
    data = Data.load(project)
    scoped = {f["figure"] for f in recorded if f["relation"] == "scope_of"}
    for cid, area, head in rules.scan_scope(data.figures.to_dict("records"), data.areas.reset_index(drop=True).to_dict("records")):
        lines.append(f"  figure {cid} covers {area} but sits under {head}" + ("  [recorded]" if cid in scoped else ""))
    return "\n".join(lines)


def rule_counts(relations: pd.DataFrame) -> dict[str, int]:
    """The audit's rules by what they do, for prose that says how many of each the book holds: `recompute`
    (arithmetic and plausibility: a figure worked out again from the numbers stated with it, or figures that
    must fit together), `restated` (two statements of one figure) and `text` (what two passages say about a
    piece of work). Only the first kind recomputes anything, so the total must never be described as such."""
    kinds = relations["relation"] if "relation" in relations else pd.Series(dtype=str)
    return {"recompute": int(kinds.isin((*ARITHMETIC, *PLAUSIBILITY)).sum()),
            "restated": int((kinds == "same_measure_as").sum()),
            "text": int(kinds.isin(TEXT_KINDS).sum())}


def strip_ids(text: str) -> str:
    """Ledger-style ids never reach readers: remove anything that looks like one."""
    return re.sub(r"\b(?:eoy|flt|kf|lga|mhe|rel)-[a-z0-9_-]+\b", "", text)
