"""Fidelity rules (issue 13): every figure means what its source says, wherever it appears.

Each test builds a small table by hand and checks one rule; each fails if the rule is broken (a qualifier
dropped, unlike figures summed, a vague word turned into a number, a footprint or period lost, a result
verb resting on an activity row, a rate for a measure that is not population-level)."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from lancs_evidence.analysis.summaries import (
    TargetStatus,
    add_figures,
    evidence_profile,
    rates_for,
    rollup,
    rollup_by_theme,
    target_of,
)
from lancs_evidence.pages import fmt

from .conftest import edit_rows

NAN = float("nan")


def lrow(id, value, unit="count", **kw):
    """One ledger row as pages see it (measure columns already joined)."""
    base = {"id": id, "value": value, "unit": unit, "qualifier": "", "value_high": NAN, "value_words": "", "baseline": NAN,
            "target": NAN, "target_kind": "", "period": "2024/25", "section": "3 > X", "area": "p1", "area_kind": "partnership",
            "source": "s", "polarity": "higher_better", "comparator": "", "measure": "people_supported", "kind": "level",
            "additive": True, "rate_base": "residents", "footprint": "", "evidence_level": "output", "note": "",
            "statement": "People helped", "initiative": ""}
    base.update(kw)
    return base


NO_RELATIONS = pd.DataFrame(columns=["id", "relation", "figure", "inputs", "note"])


# --- rule 1: a qualifier is part of the figure ------------------------------------------------------

@pytest.mark.parametrize("kw, shown", [
    ({"value": 7000, "qualifier": "over"}, "over 7,000"),
    ({"value": 400, "qualifier": "circa"}, "about 400"),
    ({"value": 70000, "unit": "gbp", "qualifier": "up_to"}, "up to £70,000"),
    ({"value": 3, "unit": "ratio", "qualifier": "almost"}, "almost 3 times"),  # "almost three times", never a bare 3
    ({"value": 119_000_000_000, "unit": "gbp"}, "£119 billion"),  # as the source writes it, not twelve digits
    ({"value": 35_000_000_000, "unit": "gbp", "qualifier": "almost"}, "almost £35 billion"),
    ({"value": 142_838, "unit": "gbp"}, "£142,838"),  # a sum that is not whole tenths of a million stays in full
    ({"value": 2_400_000, "value_high": 3_000_000, "unit": "gbp"}, "£2.4 million to £3 million"),
    ({"value": 250, "value_high": 300}, "250 to 300"),
    ({"value": 70, "value_high": 80, "unit": "percent"}, "70% to 80%"),
    ({"value": 5.0, "value_dp": 1, "unit": "weeks"}, "5.0 weeks"),
    # a fall the source words ("reduced by 31%", "an improvement of 19%") keeps its sign in words, never "-31%"
    ({"value": -31.0, "value_dp": 0, "unit": "percent", "kind": "change"}, "a fall of 31%"),
    ({"value": -5.3, "value_dp": 1, "unit": "percentage_points", "kind": "change"}, "a fall of 5.3 percentage points"),
    ({"value": -5, "value_high": -3, "unit": "percent", "kind": "change"}, "a fall of 3% to 5%"),
])
def test_ledger_figure_keeps_qualifier_range_and_precision(kw, shown):
    r = lrow("a", **{"value": kw.pop("value"), **kw})
    assert fmt.ledger_figure(r) == shown


def test_a_range_plus_a_further_figure_is_a_range_never_about():
    parts = pd.DataFrame([lrow("plt", 250, value_high=300, measure="staff_trained", rate_base=""),
                          lrow("msk", 60, measure="staff_trained", rate_base="")])
    total, why = add_figures(parts)
    assert why == "" and (total["value"], total["value_high"]) == (310, 360)
    out = rollup(parts, NO_RELATIONS, {"p1": "p1"})
    assert list(out["figure"]) == ["310 to 360"]
    assert "about" not in out["figure"].iloc[0]


@pytest.mark.parametrize("quals, expected", [
    (["over", ""], "over 150"), (["at_least", ""], "at least 150"), (["over", "at_least"], "over 150"),
    (["up_to", ""], "up to 150"), (["circa", "circa"], "about 150"), (["almost", ""], "almost 150"),
])
def test_sums_keep_the_direction_of_their_qualifiers(quals, expected):
    parts = pd.DataFrame([lrow("a", 100, qualifier=quals[0]), lrow("b", 50, qualifier=quals[1], area="p2")])
    out = rollup(parts, NO_RELATIONS, {"p1": "g", "p2": "g"})
    assert list(out["figure"]) == [expected]


def test_qualifiers_pointing_different_ways_are_listed_not_added():
    parts = pd.DataFrame([lrow("a", 100, qualifier="over"), lrow("b", 50, qualifier="up_to", area="p2")])
    out = rollup(parts, NO_RELATIONS, {"p1": "g", "p2": "g"})
    assert not out["added"].any() and sorted(out["figure"]) == ["over 100", "up to 50"]
    assert "cannot be added" in out["reason"].iloc[0]


# --- rule 2: roll-ups add only like with like --------------------------------------------------------

def _theme_table(rows):
    ini = pd.DataFrame({"id": ["i1"], "themes": ["prevention"]})
    return rollup_by_theme(pd.DataFrame(rows), NO_RELATIONS, ini)


def test_enhanced_checks_are_not_added_to_checks_at_one_event():
    out = _theme_table([
        lrow("lanc", 169, measure="enhanced_health_checks_completed", period="past 12 months", initiative="i1", area="lancaster"),
        lrow("fw", 1197, measure="enhanced_health_checks_completed", period="past 12 months", initiative="i1", area="fylde_wyre"),
        lrow("mela", 40, qualifier="over", measure="health_checks_completed", initiative="i1", area="chorley")])
    enhanced = out[out["measure"] == "enhanced_health_checks_completed"]
    assert list(enhanced["value"]) == [1366] and bool(enhanced["added"].iloc[0])
    mela = out[out["measure"] == "health_checks_completed"]
    assert list(mela["figure"]) == ["over 40"] and not mela["added"].any()


def test_counts_of_people_from_two_services_in_one_area_are_not_added():
    out = _theme_table([lrow("repair", 400, qualifier="circa", initiative="i1", area="fw"),
                        lrow("supper", 30, initiative="i1", area="fw"), lrow("other", 5, initiative="i1", area="x")])
    assert not out["added"].any() and len(out) == 3
    assert "same people" in out.loc[out["ids"].map(lambda i: i == ["supper"]), "reason"].iloc[0]


def test_different_periods_are_never_added():
    out = _theme_table([lrow("a", 10, period="2024/25", initiative="i1"), lrow("b", 5, period="Q3 2024/25", initiative="i1")])
    assert not out["added"].any() and len(out) == 2


def test_a_measure_not_declared_additive_is_never_added():
    out = _theme_table([lrow("a", 3, measure="organisations_involved", additive=False, initiative="i1", area="x"),
                        lrow("b", 2, measure="organisations_involved", additive=False, initiative="i1", area="y")])
    assert not out["added"].any() and set(out["reason"]) == {"not a measure that can be added up"}


def test_a_wider_footprint_is_never_added_to_a_district_figure():
    out = _theme_table([lrow("a", 10, initiative="i1", area="x"),
                        lrow("b", 500, initiative="i1", area="y", footprint="Lancashire and South Cumbria")])
    assert not out["added"].any()
    assert any("Lancashire and South Cumbria" in r for r in out["reason"])


def test_rows_sharing_one_declared_footprint_add_to_each_other_only():
    central = {"footprint": "Central Lancashire", "measure": "staff_trained", "initiative": "i1", "rate_base": ""}
    out = _theme_table([lrow("plt", 250, value_high=300, **central), lrow("msk", 60, **central),
                        lrow("own", 5, measure="staff_trained", initiative="i1", rate_base="")])
    added = out[out["added"]]
    assert list(added["figure"]) == ["310 to 360"] and list(added["footprint"]) == ["Central Lancashire"]
    assert list(out[~out["added"]]["ids"]) == [["own"]]


def test_possibly_the_same_figure_counts_once():
    rel = pd.DataFrame([{"id": "r", "relation": "same_measure_as", "figure": "b", "inputs": "a", "note": "possibly one programme"}])
    rows = pd.DataFrame([lrow("a", 25, initiative="i1", area="x"), lrow("b", 25, initiative="i1", area="y")])
    out = rollup_by_theme(rows, rel, pd.DataFrame({"id": ["i1"], "themes": ["prevention"]}))
    assert list(out["value"]) == [25] and list(out["ids"]) == [["a"]]


# --- rule 3: no number the source does not give --------------------------------------------------------

def test_vague_words_are_shown_as_words_and_never_summed():
    vague = lrow("v", NAN, value_words="hundreds of", measure="waiting_list_size")
    assert fmt.ledger_figure(vague) == "hundreds of (no number given)"
    assert not any(ch.isdigit() for ch in fmt.ledger_figure(vague))
    out = rollup(pd.DataFrame([vague, lrow("n", 12, measure="waiting_list_size")]), NO_RELATIONS, {"p1": "p1"})
    assert not out["added"].any()
    assert out.loc[out["ids"].map(lambda i: i == ["v"]), "reason"].iloc[0] == "given only in words, so never added"


def test_context_and_testimony_are_not_counted_as_outcome_or_impact_level():
    rows = pd.DataFrame([lrow("pop", 28595, evidence_level="context"), lrow("beth", 4, "years", evidence_level="testimony"),
                         lrow("out", 20, evidence_level="outcome")])
    prof = evidence_profile(rows)
    assert (prof["outcome"], prof["impact"], prof["context"], prof["testimony"]) == (1, 0, 1, 1)


# --- rule 5: judgements the source supports ----------------------------------------------------------

def test_an_aspiration_is_never_reported_as_missed():
    t = target_of(lrow("los", 5.0, "weeks", target=4, target_kind="aspiration", polarity="lower_better"))
    assert "missed" not in t.describe() and "not yet reached the aspiration of 4 weeks" in t.describe()
    assert "missed" in TargetStatus(5.0, 4, "weeks", "lower_better").describe()  # a real target can be missed


def test_a_stated_range_is_judged_as_a_range():
    t = target_of(lrow("vw", 70, "percent", value_high=80, target=80))
    assert not t.met and t.partly
    assert t.describe() == "meets the target of 80% only at one end of its range (70% to 80%)"
    assert target_of(lrow("ok", 85, "percent", value_high=90, target=80)).met


def test_a_change_in_activity_or_output_is_described_but_never_called_an_improvement():
    from lancs_evidence.analysis.summaries import change_of

    beds = lrow("vw", 292, baseline=205, evidence_level="output")
    assert change_of(beds).describe() == "rose from 205 to 292 (up 42.4%)"
    assert change_of({**beds, "evidence_level": "outcome"}).describe().endswith("an improvement")
    assert change_of(lrow("x", 300, baseline=205, qualifier="over", evidence_level="outcome")) is None  # a bound: no change


# --- rule 6: rates only where they mean something ----------------------------------------------------

def test_rates_only_for_population_level_measures_with_their_denominator():
    pop = pd.DataFrame({"area": ["p1"], "population": [100000.0], "population_period": ["Census 2021 usual residents"]})
    rows = pd.DataFrame([
        lrow("people", 500, qualifier="over"),
        lrow("staff", 60, measure="staff_trained", rate_base=""),  # not population-level
        lrow("wide", 900, footprint="Lancashire and South Cumbria"),  # footprint wider than the area
        lrow("words", NAN, value_words="hundreds of"),
        lrow("ctx", 28595, measure="registered_population", evidence_level="context"),
        lrow("undated", 400, qualifier="circa", period=""),  # no date: a rate of it cannot be set beside anything
        lrow("now", 300, period="current"),  # "current" is no date either
    ])
    r = rates_for(rows, pop)
    assert list(r["id"]) == ["people"]
    assert r["rate"].iloc[0] == pytest.approx(5.0) and r["qualifier"].iloc[0] == "over"
    assert r["population_period"].iloc[0] == "Census 2021 usual residents"
    assert math.isnan(r["rate_high"].iloc[0])


# --- rule 5: every claim in the prose rests on evidence that can bear its verb -------------------------

def _check(links, tmp_path, texts=None):
    from lancs_evidence.analysis.fidelity import check_claim_evidence

    (tmp_path / "chapters").mkdir(exist_ok=True)
    (tmp_path / "chapters" / "p.md").write_text("# A page\n", encoding="utf-8")
    figures = pd.DataFrame([
        {"id": "act", "evidence_level": "activity", "kind": "level", "baseline": NAN},
        {"id": "out", "evidence_level": "output", "kind": "level", "baseline": NAN},
        {"id": "outchg", "evidence_level": "output", "kind": "change", "baseline": NAN},
        {"id": "res", "evidence_level": "outcome", "kind": "level", "baseline": 9.5},
        {"id": "ctx", "evidence_level": "context", "kind": "level", "baseline": NAN},
    ])
    initiatives = pd.DataFrame({"id": ["ini-a"]})
    lps = pd.DataFrame({"id": ["lp-a"]})
    sources = pd.DataFrame({"id": ["src"]}).set_index("id", drop=False)
    cols = ["id", "page", "claim", "verb", "evidence", "kind", "note"]
    frame = pd.DataFrame([dict(zip(cols, [f"ce-{i:03d}", *r, ""])) for i, r in enumerate(links, 1)], columns=cols)
    return check_claim_evidence(frame, figures, initiatives, lps, sources, tmp_path, texts or {"src": "1. Intro\n2. The Work\n"})


@pytest.mark.parametrize("verb", ["achieved", "reduced", "improved"])
def test_a_result_verb_on_an_activity_row_fails(tmp_path, verb):
    problems = _check([("chapters/p.md", "it worked", verb, "act", "figure")], tmp_path)
    assert len(problems) == 1 and problems[0].column == "verb" and "outcome or impact" in problems[0].message


def test_a_result_verb_on_an_initiative_or_context_alone_fails_and_on_an_outcome_passes(tmp_path):
    assert _check([("chapters/p.md", "x", "improved", "ini-a", "initiative")], tmp_path)
    assert _check([("chapters/p.md", "x", "reduced", "ctx", "figure")], tmp_path)
    assert _check([("chapters/p.md", "x", "reduced", "res", "figure"), ("chapters/p.md", "x", "reduced", "ini-a", "initiative")],
                  tmp_path) == []


def test_a_change_verb_needs_a_recorded_change_above_activity(tmp_path):
    assert _check([("chapters/p.md", "x", "rose", "out", "figure")], tmp_path)  # a plain count shows no change
    assert _check([("chapters/p.md", "x", "rose", "outchg", "figure")], tmp_path) == []
    assert _check([("chapters/p.md", "x", "fell", "res", "figure")], tmp_path) == []


def test_every_reference_must_exist(tmp_path):
    problems = _check([("chapters/p.md", "a", "delivered", "nope", "figure"),
                       ("chapters/p.md", "b", "delivered", "ini-zzz", "initiative"),
                       ("chapters/p.md", "c", "delivered", "lp-zzz", "learning_point"),
                       ("chapters/p.md", "d", "delivered", "src > 3. Missing heading", "section"),
                       ("chapters/p.md", "e", "delivered", "nosrc > 2. The Work", "section"),
                       ("chapters/missing.md", "f", "delivered", "out", "figure")], tmp_path)
    assert [(p.row, p.column) for p in problems] == [(2, "evidence"), (3, "evidence"), (4, "evidence"), (5, "evidence"),
                                                      (6, "evidence"), (7, "page")]
    assert _check([("chapters/p.md", "d", "delivered", "src > 2. The Work", "section"),
                   ("chapters/p.md", "g", "aims", "ini-a", "initiative")], tmp_path) == []


def test_the_books_claim_evidence_table_is_sound():
    from lancs_evidence.analysis.fidelity import load_and_check
    from lancs_evidence.data.project import Project

    root = Path(__file__).resolve().parents[1]
    problems = load_and_check(Project(root))
    assert problems == [], "\n".join(map(str, problems))


# --- rule 8: case studies computed, not only copied -----------------------------------------------------

def test_a_wait_before_and_after_in_different_units_is_a_change_in_one_unit():
    from lancs_evidence.analysis.summaries import derive

    before = lrow("b", 6, "months", value_high=9)
    after = lrow("a", 2, "weeks")
    text, lo, hi = derive("change", before, after)
    assert text == "from 6 to 9 months (about 26 to 39 weeks) to 2 weeks: 24 to 37 weeks shorter (92% to 95% less)"
    assert lo == pytest.approx(2 - 9 * 52 / 12) and hi == pytest.approx(2 - 6 * 52 / 12)


def test_return_on_investment_as_a_ratio_and_counts_as_shares():
    from lancs_evidence.analysis.summaries import derive

    assert derive("ratio", lrow("s", 142838, "gbp"), lrow("i", 25000, "gbp"))[0] == "5.7 to 1"
    assert derive("share", lrow("p", 20), lrow("w", 100))[0] == "20%"
    assert derive("share", lrow("p", 20), lrow("w", 80, value_high=100))[0] == "20% to 25%"


def test_nothing_is_computed_from_a_bound_or_words():
    from lancs_evidence.analysis.summaries import derive

    text, lo, hi = derive("share", lrow("p", 20), lrow("w", 100, qualifier="over"))
    assert lo is None and text.startswith("not worked out")
    assert derive("ratio", lrow("p", NAN, value_words="hundreds of"), lrow("w", 100))[1] is None


def test_crosswalk_matches_name_specific_asks_and_initiatives():
    from lancs_evidence.analysis.summaries import crosswalk_matches

    contributions = pd.DataFrame({"id": ["c1", "c2"], "summary": ["Single access points", "School support"],
                                  "question": ["what_works", "what_works"]})
    inits = pd.DataFrame({"id": ["i1", "i2"], "name": ["Social prescribing", "Help is Close"], "area": ["chorley", "lancaster"]})
    areas = pd.DataFrame({"name": ["Chorley", "Lancaster"]}, index=["chorley", "lancaster"])
    m = pd.DataFrame({"id": ["cw-1", "cw-2"], "contribution": ["c2", "c1"], "initiative": ["i2", "i1"],
                      "match": ["partial", "close"], "note": ["", ""]})
    out = crosswalk_matches(m, contributions, inits, areas)
    assert list(zip(out["ask"], out["initiative_name"], out["area_name"])) == [
        ("Single access points", "Social prescribing", "Chorley"), ("School support", "Help is Close", "Lancaster")]
    with pytest.raises(KeyError, match="zzz"):
        crosswalk_matches(m.assign(initiative=["zzz", "i1"]), contributions, inits, areas)


def test_the_books_derived_figures_and_matches_resolve():
    from lancs_evidence.analysis.summaries import crosswalk_matches, derived_figures
    from lancs_evidence.data.ledger import Data, read_table

    root = Path(__file__).resolve().parents[1]
    data = Data(root, "2024-25")
    d = derived_figures(read_table(root / "data" / "case-studies" / "derived.csv"), data.figures)
    assert d["low"].notna().all(), d[d["low"].isna()][["id", "text"]]
    m = crosswalk_matches(read_table(root / "data" / "case-studies" / "crosswalk_matches.csv"), data.event_contributions,
                          data.initiatives, data.areas)
    assert m["initiative_name"].notna().all() and m["ask"].notna().all()


def test_chart_descriptions_keep_the_qualifier():
    from lancs_evidence.pages.charts import describe_extremes

    d = pd.DataFrame({"label": ["Visits", "Schools"], "value": [7000.0, 11.0], "shown": ["over 7,000", "11"]})
    text = describe_extremes(d, "label", "value", shown="shown")
    assert "Visits at over 7,000" in text and "Schools at 11" in text


# --- rule 4: footprint, period and caveat travel with the figure onto pages ---------------------------

def test_a_district_page_shows_each_rows_footprint_period_and_caveat(tiny, monkeypatch):
    """On a tiny invented project: give one row a wider footprint and a caveat, blank another row's period,
    and check the district table and its count chart's data carry them (they fail if either is dropped)."""

    from lancs_evidence.data.synthetic import area_id
    from lancs_evidence.pages.district import DistrictView

    aid = area_id(1)

    def edit(r):
        if r["id"] == f"eoy-{aid}-people-supported":
            r["footprint"], r["note"] = "Lancashire and South Cumbria", "Counted across the whole ICB"
        if r["id"] == f"eoy-{aid}-satisfied":
            r["period"] = ""
    edit_rows(tiny / "data" / "2024-25" / "figures.csv", edit)
    monkeypatch.setenv("LANCS_EVIDENCE_ROOT", str(tiny))
    page = DistrictView(aid)
    html = page.figures_table(page.figures, "test")
    assert "Lancashire and South Cumbria" in html and "Counted across the whole ICB" in html
    assert "No date given" in html
    ctx = page.with_ledger_context(page.figures).set_index("id")
    assert ctx.loc[f"eoy-{aid}-people-supported", "shown"].startswith("over ")
    assert ctx.loc[f"eoy-{aid}-satisfied", "period_shown"] == "No date given"


# --- rule 3: one person's account is quoted, never a row among the figures ---------------------------

def test_one_persons_account_is_quoted_below_the_figures_not_among_them(tiny, monkeypatch):

    from lancs_evidence.data.synthetic import area_id
    from lancs_evidence.pages.district import DistrictView

    aid = area_id(1)

    def edit(r):
        if r["id"] == f"eoy-{aid}-satisfied":
            r["evidence_level"], r["statement"], r["baseline"], r["target"] = "testimony", "What one resident said", "", ""
    edit_rows(tiny / "data" / "2024-25" / "figures.csv", edit)
    monkeypatch.setenv("LANCS_EVIDENCE_ROOT", str(tiny))
    page = DistrictView(aid)
    html = str(page.figures_table(page.figures, "test"))
    table_part, _, after = html.partition("</table>")
    assert "What one resident said" not in table_part
    assert "What one resident said" in after and "set apart from the figures rather than counted among them" in after
    account = after[after.index("What one resident said"):]
    assert "Source section:" in account and "</strong>. " in account  # the figure ends its clause before the caveat
