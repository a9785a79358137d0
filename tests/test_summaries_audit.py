"""Summaries of the figures and the claim audit, on small hand-built tables, plus properties of the arithmetic."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lancs_evidence.analysis.audit import agrees, audit, check_relation, precision_step
from lancs_evidence.analysis.summaries import (
    Change,
    TargetStatus,
    change_of,
    dedupe_figures,
    drop_repeated_values,
    evidence_profile,
    rate,
    rollup,
    target_of,
    theme_counts,
)
from lancs_evidence.pages import fmt

from .conftest import edit_rows

REPO_ROOT = Path(__file__).resolve().parents[1]


def row(id, value, unit="count", **kw):
    base = {"id": id, "value": value, "unit": unit, "qualifier": "", "value_high": float("nan"), "baseline": float("nan"),
            "target": float("nan"), "period": "", "section": "A > B", "area": "x", "source": "s", "polarity": "neutral", "comparator": ""}
    base.update(kw)
    return base


# --- change ---------------------------------------------------------------------------------------

def test_change_worded_with_polarity_lower_better():
    c = Change(9.5, 5.0, "weeks", "lower_better")
    assert c.absolute == pytest.approx(-4.5)
    assert c.percent == pytest.approx(-47.368, abs=1e-3)
    assert c.describe() == "fell from 9.5 to 5.0 weeks (down 47.4%), an improvement"


def test_change_worded_with_polarity_higher_better_and_neutral():
    assert Change(100, 120, "count", "higher_better").describe() == "rose from 100 to 120 (up 20.0%), an improvement"
    assert Change(100, 80, "count", "higher_better").assessment == "a deterioration"
    assert Change(100, 80, "count", "neutral").assessment == ""


def test_percentage_baseline_reports_percentage_points():
    c = Change(24.6, 19.3, "percent", "lower_better")
    assert "5.3 percentage points" in c.describe()
    assert c.describe().startswith("fell from 24.6% to 19.3%")


def test_zero_baseline_has_no_percentage_change():
    c = Change(0, 12, "count", "higher_better")
    assert c.percent is None
    assert c.describe() == "rose from 0 to 12, an improvement"


def test_change_of_needs_a_baseline():
    assert change_of(row("a", 5)) is None
    assert change_of(row("a", 5.0, "weeks", baseline=9.5, polarity="lower_better")).absolute == pytest.approx(-4.5)


# --- targets ---------------------------------------------------------------------------------------

def test_target_met_and_missed_by_polarity():
    assert TargetStatus(94, 70, "percent", "higher_better").met
    assert TargetStatus(94, 70, "percent", "higher_better").margin == 24
    assert TargetStatus(94, 70, "percent", "higher_better").describe() == "met the target of 70%, by 24 percentage points"
    ceiling = TargetStatus(19.3, 5, "percent", "lower_better")
    assert not ceiling.met
    assert ceiling.describe() == "missed the ceiling of 5%, by 14.3 percentage points"
    assert TargetStatus(5.0, 4, "weeks", "lower_better").describe() == "missed the ceiling of 4 weeks, by 1 week"


def test_target_of_requires_both():
    assert target_of(row("a", 5)) is None
    assert target_of(row("a", 5, target=4, polarity="lower_better")).met is False


# --- rates -----------------------------------------------------------------------------------------

def test_rate_per_thousand_and_bad_population():
    assert rate(169, 148119) == pytest.approx(1.141, abs=1e-3)
    assert rate(169, 148119, per=100000) == pytest.approx(114.1, abs=0.1)
    with pytest.raises(ValueError):
        rate(1, 0)


# --- roll-ups --------------------------------------------------------------------------------------

def _ledger():
    rows = [
        row("a1", 100, area="p1", area_kind="partnership", measure="people_supported"),
        row("a1-again", 100, area="p1", area_kind="partnership", measure="people_supported"),  # same figure stated twice
        row("a2", 50, area="p2", area_kind="partnership", measure="people_supported", qualifier="over"),
        row("a3", 30, area="p3", area_kind="partnership", measure="people_supported"),  # other locality
        row("m1", 1000, "gbp", area="p1", area_kind="partnership", measure="funding_allocated"),
        row("pc", 90, "percent", area="p1", area_kind="partnership", measure="share"),  # never summed
        row("place", 5000, area="place", area_kind="place", measure="people_supported"),  # other footprint
    ]
    df = pd.DataFrame(rows)
    df["kind"] = "level"
    df["additive"] = df["unit"].isin(["count", "gbp"])
    rel = pd.DataFrame([{"id": "r1", "relation": "same_measure_as", "figure": "a1-again", "inputs": "a1", "note": ""}])
    return df, rel


def test_rollup_counts_each_figure_once_and_never_mixes_units_or_footprints():
    df, rel = _ledger()
    out = rollup(df, rel, {"p1": "north", "p2": "north", "p3": "east"})
    people = out[(out["group"] == "north") & (out["measure"] == "people_supported")].iloc[0]
    assert people["value"] == 150  # 100 once (not 200), plus 50; not the Place's 5000
    assert people["n_figures"] == 2 and bool(people["added"])
    assert people["figure"] == "over 150"  # one part was "over 50": the total is a lower bound, not "about"
    assert set(out["unit"]) == {"count", "gbp"}  # the percentage is not summed
    assert out[(out["group"] == "east")].iloc[0]["value"] == 30


def test_dedupe_follows_chains_of_restatements():
    df = pd.DataFrame([row("x", 1), row("y", 1), row("z", 1), row("w", 2)])
    rel = pd.DataFrame([{"id": "r", "relation": "same_measure_as", "figure": "y", "inputs": "x"},
                        {"id": "s", "relation": "same_measure_as", "figure": "z", "inputs": "y"}])
    assert list(dedupe_figures(df, rel)["id"]) == ["x", "w"]


def test_theme_counts_and_evidence_profile():
    ini = pd.DataFrame({"id": ["i1", "i2", "i3"], "themes": ["mental_health;housing_environment", "mental_health", "workforce"]})
    themes = pd.DataFrame({"label": ["Mental health", "Housing", "Workforce"]}, index=["mental_health", "housing_environment", "workforce"])
    tc = theme_counts(ini, themes)
    assert tc.iloc[0]["theme"] == "mental_health" and tc.iloc[0]["initiatives"] == 2
    df = pd.DataFrame([row("a", 1, evidence_level="output", baseline=0.5), row("b", 1, evidence_level="outcome", target=2),
                       row("c", 1, evidence_level="output", comparator="England")])
    prof = evidence_profile(df)
    assert prof == {"figures": 3, "results": 3, "activity": 0, "output": 2, "outcome": 1, "impact": 0, "context": 0, "testimony": 0,
                    "with_baseline": 1, "with_target": 1, "with_comparator": 1}


def test_evidence_profile_counts_a_restated_result_once():
    # one programme's result stated four ways (a share, its fall in points, its relative fall, the count of
    # people behind it) plus one unrelated figure: two results, not five figures that "measure a change"
    df = pd.DataFrame([row("share", 19.3, "percent", evidence_level="outcome", baseline=24.6),
                       row("pp", -5.3, "percentage_points", evidence_level="outcome"),
                       row("rel", -19, "percent", evidence_level="outcome"),
                       row("people", 116, evidence_level="outcome", baseline=148),
                       row("boards", 4, evidence_level="activity")])
    rel = pd.DataFrame({"relation": ["pp_change_of", "pct_change_of", "same_base_as"], "figure": ["pp", "rel", "share"],
                        "inputs": ["share", "share", "people"]})
    prof = evidence_profile(df, rel)
    assert (prof["figures"], prof["results"], prof["outcome"], prof["activity"], prof["with_baseline"]) == (5, 2, 1, 1, 1)
    # a difference between two different figures, and a share of another count, are separate results
    rel2 = pd.DataFrame({"relation": ["difference_of", "share_of_whole"], "figure": ["pp", "rel"], "inputs": ["share;people", "people"]})
    assert evidence_profile(df, rel2)["results"] == 5
    assert evidence_profile(df)["outcome"] == 4  # without relations every row is its own result


# --- audit -----------------------------------------------------------------------------------------

def test_dolphinlee_gap_is_within_the_rounding_of_its_inputs():
    """9.5 to 5.0 weeks is a 47.4% fall, the review says 48%: weeks written to a tenth may stand for 9.45 to 9.55
    and 4.95 to 5.05, which give falls of 46.6% to 48.2%, so the text cannot show a mistake (D5's point)."""
    rows = {"los": row("los", 5.0, "weeks", baseline=9.5, value_dp=1, baseline_dp=1), "chg": row("chg", -48, "percent")}
    f = check_relation({"id": "r", "relation": "pct_change_of", "figure": "chg", "inputs": "los"}, rows)
    assert f.status == "not_checked"
    assert f.recomputed == pytest.approx(-47.368, abs=1e-3)
    assert "÷ 9.5 = -47.4%" in f.explanation and "-48.2 to -46.6%" in f.explanation
    rows["chg"] = row("chg", -50, "percent")  # outside anything the rounding allows
    assert check_relation({"id": "r", "relation": "pct_change_of", "figure": "chg", "inputs": "los"}, rows).status == "inconsistent"


def test_a_gap_is_given_at_the_precision_the_figure_was_written():
    # a whole-number sum off by a fraction reads as a whole number, not with invented decimals
    rows = {"a": row("a", 100.4), "b": row("b", 81.3), "t": row("t", 200, value_dp=0)}
    f = check_relation({"id": "r", "relation": "sum_of", "figure": "t", "inputs": "a;b"}, rows)
    assert f.status == "inconsistent" and "(a gap of 18)" in f.explanation
    # a percentage keeps at least a tenth of a point
    rows = {"b": row("b", 205), "a": row("a", 292), "c": row("c", 30, "percent", value_dp=0)}
    f = check_relation({"id": "r", "relation": "pct_change_of", "figure": "c", "inputs": "b;a"}, rows)
    assert "(a gap of 12.4 percentage points)" in f.explanation


def test_pct_change_consistent_at_source_precision():
    rows = {"b": row("b", 27), "a": row("a", 20.2), "c": row("c", -25, "percent")}
    f = check_relation({"id": "r", "relation": "pct_change_of", "figure": "c", "inputs": "b;a"}, rows)
    assert f.status == "consistent"


def test_pp_change_versus_pct_change():
    rows = {"share": row("share", 19.3, "percent", baseline=24.6), "pp": row("pp", -5.3, "percentage_points"),
            "pct": row("pct", -19, "percent")}
    assert check_relation({"id": "1", "relation": "pp_change_of", "figure": "pp", "inputs": "share"}, rows).status == "consistent"
    f = check_relation({"id": "2", "relation": "pct_change_of", "figure": "pct", "inputs": "share"}, rows)
    assert f.status == "inconsistent"  # 5.3 / 24.6 is 21.5%, not 19%


def test_share_sum_ratio_difference():
    rows = {"part": row("part", 11), "whole": row("whole", 14), "share": row("share", 79, "percent"),
            "x": row("x", 337000, qualifier="circa"), "y": row("y", 598000, qualifier="circa"), "z": row("z", 392000, qualifier="circa"),
            "tot": row("tot", 1300000, qualifier="circa"), "money": row("money", 2537, "gbp"), "people": row("people", 10),
            "avg": row("avg", 253.7, "gbp"), "diff": row("diff", -32), "before": row("before", 148), "after": row("after", 116)}
    assert check_relation({"id": "1", "relation": "share_of", "figure": "share", "inputs": "part;whole"}, rows).status == "consistent"
    s = check_relation({"id": "2", "relation": "sum_of", "figure": "tot", "inputs": "x;y;z"}, rows)
    assert s.status == "consistent" and "approximate" in s.explanation
    assert check_relation({"id": "3", "relation": "ratio_of", "figure": "avg", "inputs": "money;people"}, rows).status == "consistent"
    assert check_relation({"id": "4", "relation": "difference_of", "figure": "diff", "inputs": "after;before"}, rows).status == "consistent"


def test_contradicted_only_when_periods_agree():
    rows = {"a": row("a", 1200000, period=""), "b": row("b", 1300000, period=""),
            "c": row("c", 45, "percent", period="Q3"), "d": row("d", 48, "percent", period="2024/25"),
            "e": row("e", 7000, qualifier="over"), "f": row("f", 7000, qualifier="over")}
    assert check_relation({"id": "1", "relation": "same_measure_as", "figure": "b", "inputs": "a"}, rows).status == "contradicted"
    assert check_relation({"id": "2", "relation": "same_measure_as", "figure": "d", "inputs": "c"}, rows).status == "not_checked"
    assert check_relation({"id": "3", "relation": "same_measure_as", "figure": "f", "inputs": "e"}, rows).status == "consistent"


def test_missing_inputs_and_zero_baseline_are_not_checked():
    rows = {"c": row("c", 10, "percent"), "z": row("z", 5, baseline=0)}
    assert check_relation({"id": "1", "relation": "pct_change_of", "figure": "c", "inputs": "nope"}, rows).status == "not_checked"
    assert check_relation({"id": "2", "relation": "pct_change_of", "figure": "c", "inputs": "z"}, rows).status == "not_checked"


def test_audit_frame_has_one_row_per_relation():
    out = pd.DataFrame([row("los", 5.0, "weeks", baseline=9.5, value_dp=1, baseline_dp=1), row("chg", -52, "percent")])
    rel = pd.DataFrame([{"id": "r", "relation": "pct_change_of", "figure": "chg", "inputs": "los", "note": ""}])
    df = audit(out, rel)
    assert list(df["status"]) == ["inconsistent"]
    assert {"figure", "inputs", "stated", "recomputed", "status", "explanation"} <= set(df.columns)


# --- properties of the arithmetic ---------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(before=finite, after=finite)
def test_pct_change_sign_and_zero_baseline(before, after):
    c = Change(before, after, "count", "higher_better")
    if before == 0:
        assert c.percent is None
    else:
        assert c.percent is not None
        assert (c.percent > 0) == (after > before) or after == before or math.isclose(after, before)
        # the change recovers the after value
        assert before + c.absolute == pytest.approx(after, rel=1e-9, abs=1e-6)


@given(value=st.decimals(min_value=-10000, max_value=10000, places=2, allow_nan=False, allow_infinity=False))
def test_a_value_always_agrees_with_itself_rounded_as_written(value):
    v = float(value)
    assert agrees(v, v)
    step = precision_step(v)
    # anything within half a rounding unit agrees; just beyond does not
    assert agrees(v, v + step * 0.49)
    assert not agrees(v, v + step * 0.51)


@given(st.integers(min_value=1, max_value=10**7))
def test_precision_of_whole_numbers_follows_trailing_zeros(n):
    step = precision_step(float(n))
    assert n % step == 0
    assert step == 1 or step * 10 <= n


@given(lo=st.integers(0, 1000), width=st.integers(0, 1000), x=st.integers(-10, 2100))
def test_ranges_agree_inside_and_not_outside(lo, width, x):
    hi = lo + width
    inside = lo - precision_step(float(lo)) / 2 <= x <= hi + precision_step(float(hi)) / 2
    assert agrees(float(lo), float(x), stated_high=float(hi)) == inside


def test_implied_rounding_is_never_coarser_than_a_tenth():
    assert precision_step(1000.0) == 100
    assert precision_step(2700.0) == 100
    assert precision_step(1300000.0) == 100000
    assert precision_step(10.0) == 1
    assert not agrees(1000.0, 600.0)


@given(before=st.floats(min_value=0.1, max_value=100, allow_nan=False), after=st.floats(min_value=0, max_value=100, allow_nan=False))
def test_pp_and_pct_change_differ_unless_base_is_100(before, after):
    assume(abs(after - before) > 1e-6)
    pp = after - before
    pct = Change(before, after, "percent", "neutral").percent
    assert pct == pytest.approx(pp / before * 100)


def test_figure_formatting_keeps_qualifiers_and_ranges():
    assert fmt.figure(7000, "count", "over") == "over 7,000"
    assert fmt.figure(250, "count", "", 300) == "250 to 300"
    assert fmt.figure(70, "percent", "", 80) == "70% to 80%"
    assert fmt.figure(2537, "gbp") == "£2,537"
    assert fmt.figure(4.5, "days", "circa") == "about 4.5 days"
    assert fmt.figure(1, "weeks") == "1 week"


def test_each_end_of_a_change_keeps_the_precision_it_was_written_with():
    # the source writes "27" and "20.2": the baseline is never shown as "27.0"
    r = row("d", 20.2, baseline=27.0, value_dp=1, baseline_dp=0, polarity="lower_better", evidence_level="outcome")
    assert change_of(r).describe().startswith("fell from 27 to 20.2"), change_of(r).describe()
    f = check_relation({"id": "r", "relation": "pct_change_of", "figure": "p", "inputs": "d"},
                       {"d": r, "p": row("p", -25, "percent", value_dp=0)})
    assert "(20.2 − 27) ÷ 27" in f.explanation, f.explanation
    # the stated figure keeps its sign in words, as the source wrote it ("an improvement of 25%")
    assert "-25%" not in f.explanation and "a fall of 25%" in f.explanation, f.explanation


def test_prose_helpers_never_repeat_a_year_or_nest_brackets():
    assert fmt.titled_for_year("Review: 2024/25 End of Year Review", "2024/25") == "Review: 2024/25 End of Year Review"
    assert fmt.titled_for_year("Annual review", "2025/26") == "Annual review for 2025/26"
    assert fmt.bracketed("Fleetwood, The solution (later paragraphs)") == "(Fleetwood, The solution [later paragraphs])"
    assert fmt.bracketed("OGL; contains OS data (c) Crown copyright") == "(OGL; contains OS data \u00a9 Crown copyright)"
    assert fmt.join_words(["access and stigma", "data and digital"]) == "access and stigma, and data and digital"
    assert fmt.join_words(["a", "b", "c"]) == "a, b and c"


def test_counts_in_prose_never_read_like_a_form():
    assert fmt.counted_names(["Burnley Borough Council"], "district council") == "one district council (Burnley Borough Council)"
    assert fmt.counted_names(["A", "B"], "district council") == "2 district councils (A and B)"
    assert fmt.counted_names([], "district council") == "no district councils"
    assert fmt.count_words(1, "locality", "localities") == "one locality"
    assert fmt.count_words(0, "figure") == "no figures"


def test_a_current_period_is_said_to_be_undated():
    # "current" tells a reader nothing about when: it is shown as undated, with what the source called it
    assert fmt.period_text({"period": "current"}) == "No date given; the source describes it as current"
    assert fmt.period_text({"period": "2024/25 current position"}) == \
        "No date given; the current position when the 2024/25 report was written"
    assert fmt.period_text({"period": "Q3 2024/25"}) == "Q3 2024/25"
    assert fmt.period_text({"period": ""}) == "No date given"
    # in a label or mid-sentence, "no date" is lower case and a stated period is untouched
    assert fmt.period_inline({"period": "current"}).startswith("no date given")
    assert fmt.period_inline({"period": "April 2024"}) == "April 2024"


def test_audit_text_never_shows_a_bare_current_period():
    from lancs_evidence.analysis.audit import check_relation

    rows = {"a": row("a", 5, period="2024/25 current position"), "b": row("b", 4, period="Q3 2024/25")}
    f = check_relation({"id": "r", "relation": "same_measure_as", "figure": "a", "inputs": "b"}, rows)
    assert "current position when the 2024/25 report was written" in f.explanation, f.explanation
    assert "2024/25 current position" not in f.explanation, f.explanation


def test_map_rings_are_rewound_for_d3():
    from lancs_evidence.pages.charts import _signed_area, rewind_for_d3

    ccw_square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]  # RFC 7946 exterior order
    hole_cw = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]
    g = rewind_for_d3({"type": "MultiPolygon", "coordinates": [[ccw_square, hole_cw]]})
    exterior, hole = g["coordinates"][0]
    assert _signed_area(exterior) < 0 < _signed_area(hole)


def test_rollup_by_theme_counts_restated_figures_once_per_theme():
    from lancs_evidence.analysis.summaries import rollup_by_theme

    df, rel = _ledger()
    df["initiative"] = ["i1", "i1", "i2", "i3", "i1", "i1", "i1"]
    ini = pd.DataFrame({"id": ["i1", "i2", "i3"], "themes": ["housing_environment;carers", "carers", "workforce"]})
    out = rollup_by_theme(df, rel, ini).set_index(["group", "measure"])
    assert out.loc[("carers", "people_supported"), "value"] == 150  # 100 (stated twice, counted once) + 50
    assert out.loc[("carers", "people_supported"), "figure"] == "over 150"
    assert out.loc[("housing_environment", "people_supported"), "value"] == 100
    assert out.loc[("workforce", "people_supported"), "value"] == 30
    assert out.loc[("carers", "funding_allocated"), "unit"] == "gbp"
    assert len(out[out.index.get_level_values("measure") == "share"]) == 0  # a percentage is never summed


def test_crosswalk_counts_concerns_and_initiatives_per_theme_and_flags_thin_ones():
    from lancs_evidence.analysis.summaries import crosswalk

    themes = pd.DataFrame({"label": ["Housing", "Carers", "Workforce"]}, index=["housing_environment", "carers", "workforce"])
    concerns = pd.DataFrame({"id": ["c1", "c2", "c3", "c4"], "question": ["local_issues", "barriers", "barriers", "local_issues"],
                             "themes": ["housing_environment", "housing_environment;carers", "housing_environment", "carers"],
                             "is_key_point": [True, False, False, False]})
    inits = pd.DataFrame({"id": ["i1", "i2", "i3"], "themes": ["carers", "carers;workforce", "workforce"]})
    cw = crosswalk(concerns, inits, themes).set_index("theme")
    assert list(cw.index) == ["housing_environment", "carers", "workforce"]  # most concerns first
    h, c, w = cw.loc["housing_environment"], cw.loc["carers"], cw.loc["workforce"]
    assert (h["issues"], h["barriers"], h["concerns"], h["key_points"], h["initiatives"]) == (1, 2, 3, 1, 0)
    assert h["status"] == "open: none" and bool(h["thin"])
    assert (c["concerns"], c["initiatives"], c["status"], bool(c["thin"])) == (2, 2, "addressed by several", False)
    assert (w["concerns"], w["initiatives"], bool(w["thin"])) == (0, 2, False)  # not raised, so never thin


def test_concerns_leave_out_poll_key_points_and_links_so_no_answer_counts_twice():
    """The cross-walk once counted a poll key point ('Childhood adversity and trauma') and the poll answer it
    sums up as two concerns, and counted links shared as concerns."""
    from lancs_evidence.analysis.summaries import concerns_of, crosswalk, left_out_of_concerns

    themes = pd.DataFrame({"label": ["Children"]}, index=["children_young_people"])
    events = pd.DataFrame({"id": ["k1", "d1", "p1", "l1", "w1"],
                           "question": ["local_issues", "local_issues", "local_issues", "local_issues", "what_works"],
                           "themes": ["children_young_people"] * 5,
                           "is_key_point": [True, True, False, True, False],
                           "part": ["poll_key_point", "discussion_key_point", "poll", "link", "poll"]})
    assert concerns_of(events)["id"].tolist() == ["d1", "p1"]
    assert left_out_of_concerns(events) == {"poll_key_point": 1, "link": 1}
    cw = crosswalk(concerns_of(events), pd.DataFrame({"id": ["i1"], "themes": ["children_young_people"]}), themes).set_index("theme")
    assert (cw.loc["children_young_people", "concerns"], cw.loc["children_young_people", "key_points"]) == (2, 1)
    # a table without the column (an older year) counts every local issue and barrier
    assert concerns_of(events.drop(columns="part"))["id"].tolist() == ["k1", "d1", "p1", "l1"]
    # an answer the notes list twice is one concern: the copy that names the first in `same_as` is left out
    twice = pd.concat([events.assign(same_as=""), pd.DataFrame({"id": ["p2"], "question": ["local_issues"],
                       "themes": ["children_young_people"], "is_key_point": [False], "part": ["poll"], "same_as": ["p1"]})])
    assert concerns_of(twice)["id"].tolist() == ["d1", "p1"]


def test_a_repeated_workshop_answer_is_counted_once_on_the_event_page(tiny, monkeypatch):
    import csv as _csv

    from lancs_evidence.pages.chapter import ChapterView
    from lancs_evidence.pages.event_2021 import WorkshopView

    path = tiny / "data" / "case-studies" / "event_contributions.csv"
    with path.open(encoding="utf-8") as fh:
        first = next(_csv.DictReader(fh))
    copy = dict(first, id=first["id"][:-3] + "999", same_as=first["id"])
    rows = edit_rows(path, lambda r: None, added=[copy])
    monkeypatch.setenv("LANCS_EVIDENCE_ROOT", str(tiny))
    event = WorkshopView(ChapterView("chapters/case-studies/event-2021.md", "2024-25"), first["source"])
    assert copy["id"] not in set(event.contributions["id"]) and list(event.repeats["id"]) == [copy["id"]]
    assert len(event.contributions) == len(rows)
    # a link the notes put among the key points is counted as a link, not as a key point
    links = event.contributions.assign(is_key_point=True, part="link")
    event.contributions = links
    assert event.key_point_count() == 0


def test_partnership_of_walks_up_from_councils_and_neighbourhoods():
    from lancs_evidence.data.ledger import Data

    d = Data(REPO_ROOT, "2024-25")
    assert d.partnership_of("fleetwood") == "fylde_wyre"  # neighbourhood -> council -> partnership
    assert d.partnership_of("lancaster") == "lancaster"
    assert d.partnership_of("north") is None and d.partnership_of("nowhere") is None


# --- an initiative the source describes twice counts once ---------------------------------------------

def _inits() -> pd.DataFrame:
    """Four rows, three pieces of work: 'b' is 'a' described again under another heading (a Dolphinlee case)."""
    return pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "section": ["4. Interface > i. Care", "5. Other > iii. Frailty > Test of change", "3.a > Lancaster", "3.a > Lancaster"],
        "themes": ["frailty;care", "frailty;joined_up", "mental_health", "frailty"],
        "partners": ["Council", "Council;Age UK", "MIND", ""],
        "summary": ["First account.", "Second account.", "Campaign.", "Other work."],
        "same_as": ["", "a", "", ""],
    })


def test_work_described_twice_is_counted_once():
    from lancs_evidence.analysis.summaries import distinct_initiatives, theme_counts

    themes = pd.DataFrame({"label": ["Frailty", "Care", "Joined up", "Mental health"]},
                          index=["frailty", "care", "joined_up", "mental_health"])
    df = _inits()
    assert distinct_initiatives(df) == 3
    counts = theme_counts(df, themes).set_index("theme")["initiatives"]
    assert counts["frailty"] == 2  # a (with its repeat b) and d, not 3
    assert counts["joined_up"] == 1 and counts["care"] == 1
    # the repeat alone (its first account filtered out) still counts as one piece of work
    assert distinct_initiatives(df[df["id"] == "b"]) == 1
    assert distinct_initiatives(df.drop(columns="same_as")) == 4  # a table without the column counts rows


def test_a_repeat_is_folded_into_the_row_it_describes_again():
    from lancs_evidence.analysis.summaries import merge_repeats

    m = merge_repeats(_inits()).set_index("id")
    assert list(m.index) == ["a", "c", "d"]
    assert m.loc["a", "themes"] == "frailty;care;joined_up" and m.loc["a", "partners"] == "Council;Age UK"
    assert m.loc["a", "summary"] == "First account. Described again under 'Test of change': Second account."
    same_heading = merge_repeats(_inits().assign(same_as=["", "", "", "c"])).set_index("id")
    assert same_heading.loc["c", "summary"] == "Campaign. Described again in the same section, as if separate work: Other work."
    alone = merge_repeats(_inits()[lambda d: d["id"] != "a"])
    assert list(alone["id"]) == ["b", "c", "d"] and alone.iloc[0]["summary"] == "Second account."


def test_same_as_must_point_at_a_counted_row_of_the_same_table():
    from lancs_evidence.data.validate import same_as_problems

    def msgs(rows):
        return [p.message for p in same_as_problems("i.csv", rows)]

    assert msgs([{"id": "a", "same_as": ""}, {"id": "b", "same_as": "a"}]) == []
    assert any("itself" in m for m in msgs([{"id": "a", "same_as": "a"}]))
    assert any("unknown initiative" in m for m in msgs([{"id": "a", "same_as": "z"}]))
    assert [p.message for p in same_as_problems("e.csv", [{"id": "a", "same_as": "z"}], "contribution")] == [
        "unknown contribution 'z': it must be an id in this table"]
    assert any("point at the row that is counted" in m
               for m in msgs([{"id": "a", "same_as": ""}, {"id": "b", "same_as": "a"}, {"id": "c", "same_as": "b"}]))


def test_a_count_stated_twice_with_the_same_number_is_one_bar_but_a_disagreement_stays():
    """Lancaster's counts chart drew 'over 7,000' webpage visits twice (summary and section 3.a)."""
    df = pd.DataFrame([row("a", 7000, qualifier="over"), row("b", 7000, qualifier="over"), row("c", 20.5), row("d", 20.2),
                       row("e", 2)])
    rel = pd.DataFrame([{"id": "r", "relation": "same_measure_as", "figure": "b", "inputs": "a"},
                        {"id": "s", "relation": "same_measure_as", "figure": "d", "inputs": "c"}])
    assert list(drop_repeated_values(df, rel)["id"]) == ["a", "c", "d", "e"]
