"""The claim audit: recompute every derived figure a source states and say whether it adds up.

The rules are data (`data/relations.csv`): each row links a stated claim to the claims it derives from,
with one of the relation types below. Nothing here knows about any particular claim.

A claim is judged at the precision the source wrote it: "48%" is a whole number, so the recomputed
47.37% (which rounds to 47) does not match, and the finding shows the arithmetic. A qualified claim
("over 70%") is consistent when the recomputed value is on the right side of it.
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from . import fmt
from .project import Project

STATUSES = ("consistent", "inconsistent", "contradicted", "not_checked")
RELATIONS = ("pct_change_of", "pp_change_of", "share_of", "sum_of", "difference_of", "ratio_of", "same_measure_as")


@dataclass
class Finding:
    relation_id: str
    relation: str
    claim: str
    inputs: str
    stated: float | None
    recomputed: float | None
    status: str
    explanation: str
    area: str = ""
    source: str = ""
    section: str = ""
    unit: str = ""


def precision_step(value: float) -> float:
    """The rounding unit a figure was written with: 48 -> 1, 9.5 -> 0.1, 2700 -> 100, 1000 -> 100, 0 -> 1."""
    d = fmt.decimals_of(value)
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


def agrees(stated: float, recomputed: float, qualifier: str = "", stated_high: float | None = None) -> bool:
    """Does the recomputed value match the stated one at the stated precision (and qualifier)?"""
    half = precision_step(stated) / 2
    eps = 1e-9
    q = qualifier or ""
    if stated_high is not None and not (isinstance(stated_high, float) and math.isnan(stated_high)):
        return stated - half - eps <= recomputed <= stated_high + precision_step(stated_high) / 2 + eps
    if q in ("over", "at_least"):
        return recomputed >= stated - half - eps
    if q in ("under", "up_to", "almost"):
        return recomputed <= stated + half + eps
    if q == "circa":
        return abs(recomputed - stated) <= max(half, 0.05 * abs(stated)) + eps
    return abs(recomputed - stated) <= half + eps


def _n(x) -> str:
    return fmt.number(x, None) if abs(x - round(x, 3)) < 1e-12 else fmt.number(round(x, 3))


def _r(x: float, places: int = 1) -> str:
    return fmt.number(round(x, places), places) if x != round(x) else fmt.number(x, 0)


def _ids(text: str) -> list[str]:
    return [i.strip() for i in str(text).split(";") if i.strip()]


def check_relation(rel: dict, rows: dict[str, dict]) -> Finding:
    """Recompute one relation. `rows` maps claim id to a ledger row (dict with value, baseline, ...)."""
    kind = rel["relation"]
    claim_id = rel["claim"].strip()
    input_ids = _ids(rel["inputs"])
    claim = rows.get(claim_id)
    base = dict(relation_id=rel["id"], relation=kind, claim=claim_id, inputs=";".join(input_ids))
    missing = [i for i in [claim_id, *input_ids] if i not in rows]
    if missing:
        return Finding(**base, stated=None, recomputed=None, status="not_checked",
                       explanation=f"no ledger row for {', '.join(missing)}")
    stated = float(claim["value"])
    where = dict(area=claim.get("area", ""), source=claim.get("source", ""), section=claim.get("section", ""), unit=claim.get("unit", ""))
    inputs = [rows[i] for i in input_ids]

    def finding(recomputed: float, arithmetic: str, note: str = "") -> Finding:
        ok = agrees(stated, recomputed, claim.get("qualifier", "") or "", claim.get("value_high"))
        shown = fmt.figure(stated, claim.get("unit", ""), claim.get("qualifier", "") or "", claim.get("value_high"))
        if ok:
            text = f"{arithmetic}; the source's {shown} agrees at the precision it was written."
            status = "consistent"
        else:
            diff = recomputed - stated
            gap = f"{_r(abs(diff), 2)} {_unit_words(claim.get('unit', ''))}".strip()
            text = f"{arithmetic}, but the source states {shown} (a gap of {gap})."
            status = "inconsistent"
        return Finding(**base, stated=stated, recomputed=recomputed, status=status,
                       explanation=text + (f" {note}" if note else ""), **where)

    def before_after() -> tuple[float, float] | None:
        if len(inputs) == 1 and _num(inputs[0].get("baseline")):
            return float(inputs[0]["baseline"]), float(inputs[0]["value"])
        if len(inputs) == 2:
            return float(inputs[0]["value"]), float(inputs[1]["value"])
        return None

    if kind in ("pct_change_of", "pp_change_of", "difference_of"):
        pair = before_after()
        if kind == "difference_of" and len(inputs) == 2:
            pair = (float(inputs[1]["value"]), float(inputs[0]["value"]))  # first - second
        if pair is None:
            return Finding(**base, stated=stated, recomputed=None, status="not_checked",
                           explanation="needs one input with a baseline, or two inputs (before;after)", **where)
        before, after = pair
        if kind == "pct_change_of":
            if before == 0:
                return Finding(**base, stated=stated, recomputed=None, status="not_checked",
                               explanation="the baseline is zero, so a percentage change is undefined", **where)
            pct = 100.0 * (after - before) / abs(before)
            d = max(fmt.decimals_of(before), fmt.decimals_of(after))
            b, a = fmt.number(before, d), fmt.number(after, d)
            return finding(pct, f"({a} − {b}) ÷ {b} = {_r(pct)}%")
        diff = after - before
        d = max(fmt.decimals_of(before), fmt.decimals_of(after))
        unit = "percentage points" if kind == "pp_change_of" else _unit_words(claim.get("unit", ""))
        return finding(diff, f"{fmt.number(after, d)} − {fmt.number(before, d)} = {fmt.number(diff, d)} {unit}".strip())
    if kind == "share_of":
        if len(inputs) != 2 or float(inputs[1]["value"]) == 0:
            return Finding(**base, stated=stated, recomputed=None, status="not_checked",
                           explanation="needs inputs part;whole with a non-zero whole", **where)
        part, whole = float(inputs[0]["value"]), float(inputs[1]["value"])
        share = 100.0 * part / whole
        return finding(share, f"{_n(part)} ÷ {_n(whole)} = {_r(share)}%")
    if kind == "sum_of":
        values = [float(r["value"]) for r in inputs]
        total = sum(values)
        note = ""
        if any((r.get("qualifier") or "") for r in inputs):
            note = "Some parts are qualified (over, about...), so the total is approximate."
        return finding(total, " + ".join(_n(v) for v in values) + f" = {_n(total)}", note)
    if kind == "ratio_of":
        if len(inputs) != 2 or float(inputs[1]["value"]) == 0:
            return Finding(**base, stated=stated, recomputed=None, status="not_checked",
                           explanation="needs inputs numerator;denominator with a non-zero denominator", **where)
        num, den = float(inputs[0]["value"]), float(inputs[1]["value"])
        ratio = num / den
        return finding(ratio, f"{_n(num)} ÷ {_n(den)} = {_r(ratio, 2)}")
    if kind == "same_measure_as":
        others = inputs
        periods = {(r.get("period") or "").strip() for r in [claim, *others]} - {""}
        differing = [r for r in others if not _same_value(claim, r)]
        if not differing:
            return Finding(**base, stated=stated, recomputed=float(others[0]["value"]), status="consistent",
                           explanation="stated the same way each time (" + "; ".join(_stmt(r) for r in [claim, *others]) + ").", **where)
        if len(periods) > 1:
            return Finding(**base, stated=stated, recomputed=float(differing[0]["value"]), status="not_checked",
                           explanation="the statements differ (" + "; ".join(_stmt(r) for r in [claim, *others])
                           + ") but cover different periods, so they need not agree.", **where)
        return Finding(**base, stated=stated, recomputed=float(differing[0]["value"]), status="contradicted",
                       explanation="the same figure is stated differently (" + "; ".join(_stmt(r) for r in [claim, *others]) + ").", **where)
    return Finding(**base, stated=stated, recomputed=None, status="not_checked", explanation=f"unknown relation {kind!r}", **where)


def _unit_words(unit: str) -> str:
    return {"percent": "percentage points", "gbp": "pounds", "count": "", "percentage_points": "percentage points"}.get(unit, unit)


def _num(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and x != ""


def _same_value(a: dict, b: dict) -> bool:
    same_high = (not _num(a.get("value_high")) and not _num(b.get("value_high"))) or (
        _num(a.get("value_high")) and _num(b.get("value_high")) and float(a["value_high"]) == float(b["value_high"]))
    return float(a["value"]) == float(b["value"]) and same_high and a.get("unit") == b.get("unit")


def _stmt(r: dict) -> str:
    shown = fmt.figure(float(r["value"]), r.get("unit", ""), r.get("qualifier", "") or "", r.get("value_high"))
    period = f", {r['period']}" if (r.get("period") or "").strip() else ""
    return f"{shown} in {r.get('section', '').split(' > ')[-1]}{period}"


def audit(outcomes: pd.DataFrame, relations: pd.DataFrame) -> pd.DataFrame:
    """One row per relation: the claim, its inputs, stated and recomputed values, status and the arithmetic."""
    rows = {r["id"]: r for r in outcomes.to_dict("records")}
    findings = [check_relation(rel, rows) for rel in relations.to_dict("records")]
    cols = list(Finding.__dataclass_fields__)
    return pd.DataFrame([asdict(f) for f in findings], columns=cols)


def notes_by_claim(findings: pd.DataFrame) -> dict[str, list[dict]]:
    """Findings indexed by every claim id they involve (the stated claim and its inputs)."""
    out: dict[str, list[dict]] = {}
    for f in findings.to_dict("records"):
        for cid in [f["claim"], *_ids(f["inputs"])]:
            out.setdefault(cid, []).append(f)
    return out


# --- command ------------------------------------------------------------------------------------

def run_audit_command(project: Project, out: Path | None, strict: bool) -> int:
    from .ledger import Data
    from .validate import stop_on_problems

    if stop_on_problems(project.data, "fix them before auditing"):
        return 1
    data = Data.load(project)
    findings = audit(data.outcomes, data.relations)
    out = out or (project.build_dir / "audit.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    export = findings[["relation_id", "relation", "claim", "inputs", "stated", "recomputed", "status", "explanation", "source", "section"]]
    export.to_csv(out, index=False, lineterminator="\n", float_format="%.6g")
    print(format_table(findings))
    counts = findings["status"].value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in STATUSES)
    print(f"\n{len(findings)} checks: {summary}. Written to {out}")
    bad = int(counts.get("inconsistent", 0) + counts.get("contradicted", 0))
    if strict and bad:
        print(f"--strict: {bad} claim(s) do not add up", file=sys.stderr)
        return 1
    return 0


def format_table(findings: pd.DataFrame, width: int = 100) -> str:
    import textwrap

    lines = []
    order = {s: i for i, s in enumerate(("contradicted", "inconsistent", "not_checked", "consistent"))}
    for f in sorted(findings.to_dict("records"), key=lambda f: (order.get(f["status"], 9), f["claim"])):
        head = f"{f['status'].upper():<13} {f['claim']}  [{f['relation']}: {f['inputs']}]"
        lines.append(head)
        lines += textwrap.wrap(f["explanation"], width=width, initial_indent="              ", subsequent_indent="              ")
    return "\n".join(lines)
