"""The claim audit: every kind of check on small hand-built rows (true and false cases), properties of the
restatement rule, the source scanners on invented text, and one result read everywhere."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lancs_evidence.analysis import audit as A
from lancs_evidence.analysis import audit_rules as R
from lancs_evidence.data.project import Project
from lancs_evidence.data.synthetic import make_project

REPO = Path(__file__).resolve().parents[1]


def row(id, value, unit="count", **kw):
    base = {"id": id, "value": value, "unit": unit, "qualifier": "", "value_high": float("nan"), "baseline": float("nan"),
            "baseline_period": "", "target": float("nan"), "period": "", "section": "A > B", "area": "x", "source": "s",
            "measure_label": "Things"}
    base.update(kw)
    return base


def rel(kind, figure="", inputs="", **kw):
    return {"id": "r", "relation": kind, "figure": figure, "inputs": inputs, **kw}


def check(kind, rows, figure="", inputs="", areas=None, **kw):
    return A.check_relation(rel(kind, figure, inputs, **kw), {r["id"]: r for r in rows}, areas)


AREAS = [{"id": "place", "name": "Test Place", "kind": "place", "parent": ""},
         {"id": "north", "name": "North Side", "kind": "locality", "parent": "place"},
         {"id": "lan", "name": "Lanfield", "kind": "partnership", "parent": "north"},
         {"id": "icb", "name": "Wide Board", "kind": "icb", "parent": ""}]


# --- arithmetic: inputs stated with the figure only ---------------------------------------------------

def test_derived_figure_is_never_checked_against_another_passages_value():
    rows = [row("b", 20.5, baseline=27, section="Four > i"), row("c", -25, "percent", section="Five > North")]
    f = check("pct_change_of", rows, "c", "b")
    assert f.status == "not_checked" and "another passage" in f.explanation
    rows[0]["section"] = "Five > North"
    # 27 to 20.5 is a 24.1% fall, not 25%, but 27 may stand for anything from 26.5 to 27.5, so it may be rounding
    f = check("pct_change_of", rows, "c", "b")
    assert f.status == "not_checked" and "rounding alone" in f.explanation
    rows[1]["value"] = -35  # no rounding of the inputs gives a 35% fall
    assert check("pct_change_of", rows, "c", "b").status == "inconsistent"


def test_arithmetic_kinds_true_and_false():
    ok = [row("p", 11), row("w", 14), row("s", 79, "percent")]
    assert check("share_of", ok, "s", "p;w").status == "consistent"
    ok[2]["value"] = 75
    assert check("share_of", ok, "s", "p;w").status == "inconsistent"
    parts = [row("a", 3), row("b", 4), row("t", 7)]
    assert check("sum_of", parts, "t", "a;b").status == "consistent"
    parts[2]["value"] = 8
    assert check("sum_of", parts, "t", "a;b").status == "inconsistent"
    mixed = [row("a", 3), row("b", 4, "gbp"), row("t", 7)]
    assert check("sum_of", mixed, "t", "a;b").status == "not_checked"  # unlike figures are never summed


def test_written_precision_comes_from_the_ledger_not_the_float():
    # "5.0" written with one decimal is checked to a tenth, though 5.0 == 5 as a float
    assert A.precision_step(5.0, 1) == pytest.approx(0.1)
    assert A.precision_step(5.0) == 1


# --- restatements --------------------------------------------------------------------------------------

def test_same_number_from_two_start_dates_is_contradicted():
    rows = [row("a", 24, "percent", baseline_period="April 2020", period="since April 2020"),
            row("b", 24, "percent", baseline_period="April 2024", period="since April 2024")]
    f = check("same_measure_as", rows, "a", "b")
    assert f.status == "contradicted"
    assert "April 2020" in f.explanation and "April 2024" in f.explanation


def test_restatement_verdicts():
    same = [row("a", 7000, qualifier="over", period="to date"), row("b", 7000, qualifier="over", period="to date, 2024/25")]
    assert check("same_measure_as", same, "a", "b").status == "consistent"
    # two checks of one number read apart: each passage's own description of what it counts is given
    named = [row("a", 12, statement="District councils in the vision", section="2 > 2.a Our Vision"),
             row("b", 12, statement="District councils the localities follow", section="2. Place")]
    f = check("same_measure_as", named, "a", "b")
    assert f.status == "consistent"
    assert f.explanation == ("Stated the same way each time. 12 district councils in the vision (section 2 > 2.a Our Vision) "
                             "and 12 district councils the localities follow (section 2. Place).")
    years = [row("a", 10, "years", statement="Years of listening to the community"),
             row("b", 10, "years", statement="Years services have worked jointly", period="to date")]
    assert check("same_measure_as", years, "a", "b").explanation == (
        "Stated the same way each time. 10 years of listening to the community (section A > B) "
        "and 10 years, to date, services have worked jointly (section A > B).")
    almost = [row("a", 35, "gbp"), row("b", 35, "gbp", qualifier="almost")]
    f = check("same_measure_as", almost, "a", "b")
    assert f.status == "differs" and "one is qualified 'almost', the other has no qualifier" in f.explanation
    over_about = [row("a", 35, "gbp", qualifier="over"), row("b", 35, "gbp", qualifier="circa")]
    assert "one is qualified 'over', the other 'about'" in check("same_measure_as", over_about, "a", "b").explanation
    half = [row("a", 4500, period="first half of 2024/25"), row("b", 4500, period="2024/25")]
    assert check("same_measure_as", half, "a", "b").status == "differs"
    values = [row("a", 94, "percent"), row("b", 95, "percent", period="current")]
    assert check("same_measure_as", values, "a", "b").status == "contradicted"
    periods = [row("a", 45, "percent", period="Q3"), row("b", 48, "percent", period="April to March")]
    assert check("same_measure_as", periods, "a", "b").status == "not_checked"
    worded = [row("a", 11), row("b", 11)]
    assert check("same_measure_as", worded, "a", "b", says="schools", other_says="schools and colleges").status == "differs"


CHANGES = {
    "period": ("period", ["2024/25", "Q3 2024/25", "since June", "first half"]),
    "baseline_period": ("baseline_period", ["April 2020", "April 2024", "Q1"]),
    "qualifier": ("qualifier", ["", "over", "almost", "circa", "up_to"]),
    "unit": ("unit", ["count", "percent", "gbp", "weeks"]),
    "area": ("area", ["x", "y", "place"]),
}


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(sorted(CHANGES)), pick=st.data(), value=st.integers(min_value=1, max_value=10**6))
def test_statements_that_differ_in_any_respect_are_never_stated_the_same_way(field, pick, value):
    col, options = CHANGES[field]
    a_val, b_val = pick.draw(st.sampled_from(options)), pick.draw(st.sampled_from(options))
    if col in ("period", "baseline_period") and not (a_val and b_val):
        return
    a = row("a", value, **{col: a_val})
    b = row("b", value, **{col: b_val})
    f = check("same_measure_as", [a, b], "a", "b")
    differs = a_val != b_val
    assert (f.status == "consistent") == (not differs)


@settings(max_examples=100, deadline=None)
@given(v=st.integers(min_value=1, max_value=10**6), w=st.integers(min_value=1, max_value=10**6))
def test_different_values_with_nothing_else_differing_are_contradicted(v, w):
    f = check("same_measure_as", [row("a", v), row("b", w)], "a", "b")
    assert f.status == ("consistent" if v == w else "contradicted")


# --- plausibility --------------------------------------------------------------------------------------

def test_occupancy_from_capacity_stay_and_throughput():
    rows = [row("occ", 70, "percent", value_high=80), row("beds", 373), row("adm", 17000, period="per year", qualifier="circa"),
            row("stay", 4.5, "days")]
    f = check("occupancy_of", rows, "occ", "beds;adm;stay")
    assert f.status == "inconsistent" and f.recomputed == pytest.approx(56.2, abs=0.05)
    rows[2]["value"] = 23000  # 23,000 × 4.5 ÷ 365 ÷ 373 = 76%
    assert check("occupancy_of", rows, "occ", "beds;adm;stay").status == "consistent"
    rows[2]["period"] = ""
    assert check("occupancy_of", rows, "occ", "beds;adm;stay").status == "not_checked"


def test_places_in_use_from_stay_and_throughput():
    rows = [row("used", 292, period="current"), row("adm", 17000, period="per year", qualifier="circa"), row("stay", 4.5, "days")]
    f = check("occupancy_of", rows, "used", "adm;stay")  # 17,000 × 4.5 ÷ 365 = about 210 in use, not 292
    assert f.status == "inconsistent" and f.recomputed == pytest.approx(209.6, abs=0.05)
    rows[0]["value"] = 210
    assert check("occupancy_of", rows, "used", "adm;stay").status == "consistent"
    rows[0]["unit"] = "percent"  # a share needs the places it is a share of
    assert check("occupancy_of", rows, "used", "adm;stay").status == "not_checked"
    rows[0]["unit"], rows[2]["unit"] = "count", "count"  # a stay with no unit of time
    assert check("occupancy_of", rows, "used", "adm;stay").status == "not_checked"


def test_share_of_a_stated_count_must_be_a_whole_number_of_it():
    assert check("share_of_whole", [row("s", 90, "percent"), row("n", 88)], "s", "n").status == "consistent"
    assert check("share_of_whole", [row("s", 50, "percent"), row("n", 3)], "s", "n").status == "inconsistent"
    # of 123, every whole percentage is some whole number of them: a fit proves nothing (Preston's 93% of 123)
    assert check("share_of_whole", [row("s", 93, "percent"), row("n", 123)], "s", "n").status == "not_checked"
    assert check("share_of_whole", [row("s", 93.5, "percent"), row("n", 123)], "s", "n").status == "consistent"


def test_counts_and_shares_must_share_one_total():
    rows = [row("s", 19.3, "percent", baseline=24.6), row("c", 116, baseline=148)]
    assert check("same_base_as", rows, "s", "c").status == "consistent"
    rows[1]["baseline"] = 200
    assert check("same_base_as", rows, "s", "c").status == "inconsistent"


def test_a_stated_count_must_match_the_things_named():
    groups = [row("g", 3, section="Case > The approach")]
    f = check("count_of_named", groups, "g", says="Culture; Policies; Leadership")
    assert f.status == "consistent" and f.recomputed == 3
    f = check("count_of_named", groups, "g", says="Firm A; Firm B; Firm C; Farm D", other_says="the groups' chairs",
              other_section="Case > Chairs")
    assert f.status == "inconsistent" and f.recomputed == 4
    assert "the groups' chairs" in f.explanation and "Farm D" in f.other_statement and f.other_section == "Case > Chairs"
    assert f.section == "Case > The approach"  # the count keeps its own place
    f = check("count_of_named", groups, "g", says="Firm A; Firm B; Firm C; Farm D", ambiguity="One group may have two chairs.")
    assert f.status == "not_checked" and "two chairs" in f.explanation and "4" in f.other_statement
    assert check("count_of_named", groups, "g").status == "not_checked"  # nothing named to count
    assert check("count_of_named", [row("g", 3, qualifier="over")], "g", says="A; B; C; D").status == "not_checked"
    assert check("count_of_named", [row("g", 2)], "g", says="A;; B ;").status == "consistent"  # empty names are not counted


def test_an_ambiguous_source_turns_a_failed_plausibility_check_or_a_contradiction_into_could_not_be_checked():
    used = [row("used", 292, period="current"), row("adm", 17000, period="per year", qualifier="circa"), row("stay", 4.5, "days")]
    f = check("occupancy_of", used, "used", "adm;stay", ambiguity="One reading set against yearly averages.")
    assert f.status == "not_checked" and f.recomputed == pytest.approx(209.6, abs=0.05)
    assert "yearly averages" in f.explanation and "292" in f.explanation  # the gap is still shown
    used[0]["value"] = 210  # a check that passes is left as it is
    assert check("occupancy_of", used, "used", "adm;stay", ambiguity="One reading.").status == "consistent"
    f = check("share_of_whole", [row("s", 50, "percent"), row("n", 3)], "s", "n", ambiguity="The share may be of another group.")
    assert f.status == "not_checked" and "another group" in f.explanation
    rows = [row("s", 19.3, "percent", baseline=24.6), row("c", 116, baseline=200)]
    assert check("same_base_as", rows, "s", "c", ambiguity="Two totals.").status == "not_checked"
    # arithmetic stated in one passage that fails under every reading still does not add up
    parts = [row("p", 11), row("w", 14), row("s", 75, "percent")]
    assert check("share_of", parts, "s", "p;w", ambiguity="Unclear base.").status == "inconsistent"
    values = [row("a", 94, "percent"), row("b", 95, "percent")]
    assert check("same_measure_as", values, "a", "b").status == "contradicted"
    f = check("same_measure_as", values, "a", "b", ambiguity="The first may cover a wider area.")
    assert f.status == "not_checked" and "wider area" in f.explanation and "cannot both be right" not in f.explanation
    values[1]["value"] = 94
    assert check("same_measure_as", values, "a", "b", ambiguity="Unclear.").status == "consistent"


# --- text kinds ----------------------------------------------------------------------------------------

def test_status_statements():
    assert check("status_disagrees", [], says="developing", other_says="established", source="s", section="x").status == "contradicted"
    assert check("status_disagrees", [], says="done", other_says="done").status == "consistent"
    assert check("status_disagrees", [], says="done", other_says="finished-ish").status == "not_checked"
    amb = check("status_disagrees", [], says="done", other_says="developing", ambiguity="May be two different reviews.")
    assert amb.status == "not_checked" and "two different reviews" in amb.explanation


def test_dates():
    assert check("dates_disagree", [], says="July 2024", other_says="April 2024").status == "contradicted"
    assert check("dates_disagree", [], says="July 2024", other_says="july 2024").status == "consistent"


def test_abbreviations_and_names():
    two = check("abbreviation_expanded", [], term="NMC2R", says="Not Meeting Criteria to Reside", other_says="No Medical Criteria to Reside")
    assert two.status == "contradicted"
    assert check("abbreviation_expanded", [], term="UEC", says="Urgent & Emergency Care",
                 other_says="urgent and emergency care").status == "consistent"
    assert check("abbreviation_expanded", [], term="CAMHS", says="CAMHS", other_says="CAHMS").status == "differs"
    assert check("abbreviation_expanded", [], term="ASC", says="", other_says="").status == "not_checked"


def test_a_name_written_two_ways_is_not_called_an_abbreviation():
    assert R.is_abbreviation("NMC2R") and R.is_abbreviation("ASC") and not R.is_abbreviation("Foxton Centre")
    assert not R.is_abbreviation("Rossendale") and not R.is_abbreviation("Name of the area")
    two = check("abbreviation_expanded", [], term="Name of the area", says="North Side", other_says="North and West Side")
    assert two.status == "contradicted" and "two different names" in two.explanation
    assert "abbreviation" not in two.explanation
    amb = check("abbreviation_expanded", [], term="Name of the area", says="North Side", other_says="North and West Side",
                ambiguity="The shorter name may be a loose label.")
    assert amb.status == "not_checked" and "loose label" in amb.explanation
    expanded = check("abbreviation_expanded", [], term="NMC2R", says="Not Meeting Criteria to Reside",
                     other_says="No Medical Criteria to Reside")
    assert "abbreviation" in expanded.explanation


def test_repeated_passage_names_the_risk():
    same = [row("a", 25, area="x"), row("b", 25, area="y")]
    f = check("repeated_passage", same, "a", "b")
    assert f.status == "not_checked" and "twice" in f.explanation
    other = [row("a", 4.1, "percent", area="x"), row("b", 8.24, "percent", area="y")]
    assert "figures differ" in check("repeated_passage", other, "a", "b").explanation


def test_a_copy_with_a_word_dropped_and_another_misspelt_is_a_slip_but_a_clean_short_name_is_not():
    garbled = check("abbreviation_expanded", [], term="Posts in the team", says="Adult Mental Health Professionals",
                    other_says="Adult Mental Professions")
    assert garbled.status == "differs" and "slip" in garbled.explanation
    short = check("abbreviation_expanded", [], term="Name of the programme", says="Living Well", other_says="Living Life Well")
    assert short.status == "contradicted"
    assert check("abbreviation_expanded", [], term="Name of the area", says="North Side",
                 other_says="North and West Side").status == "contradicted"  # two words added: another name
    assert not R.is_slip("Community Health Teams", "Community Care Teams")  # a word replaced, none dropped


def test_a_passage_repeated_under_one_heading_is_called_a_duplicate_not_two_pieces_of_work():
    one = check("repeated_passage", [], source="s", section="Appendix > Local issues", says="A point",
                other_section="Appendix > Local issues (two bullets later)", other_says="The same point")
    assert one.status == "not_checked" and "twice under one heading" in one.explanation
    two = check("repeated_passage", [], source="s", section="3.b > Chorley", says="Opening paragraph",
                other_section="3.b > West Lancashire", other_says="The same opening")
    assert "under both headings" in two.explanation
    assert not R.same_heading("A > B (first)", "A > C (first)") and R.same_heading("A > B", "a > b (second copy)")


def test_scope_of_a_figure_against_its_heading():
    wide = [row("w", 24500, area="icb", section="3.c East > Lanfield > Early Diagnosis")]
    f = check("scope_of", wide, "w", areas=AREAS)
    assert f.status == "differs" and "Lanfield" in f.explanation
    local = [row("w", 10, area="lan", section="3.c East > Lanfield > Early Diagnosis")]
    assert check("scope_of", local, "w", areas=AREAS).status == "consistent"
    said = [row("w", 10, area="lan", section="The solution")]
    assert check("scope_of", said, "w", areas=AREAS, says="north", other_says="lan").status == "differs"
    assert check("scope_of", said, "w", areas=AREAS).status == "not_checked"


def test_every_kind_is_an_enum_value_in_the_descriptor():
    d = json.loads((REPO / "data" / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in d["resources"] if r["name"] == "relations")
    enum = next(f for f in res["schema"]["fields"] if f["name"] == "relation")["constraints"]["enum"]
    assert set(enum) == set(A.RELATIONS)


# --- scanners on invented text --------------------------------------------------------------------------

TEXT = """Report

Alpha Town

The alpha partnership brought together councils, doctors and charities to plan a new walking programme for older residents across the town.

Beta Town

The beta partnership brought together councils, doctors and charities to plan a new walking programme for older residents across the town.

Gamma Town

Gamma built a swimming pool with money from a lottery grant, and opened it in the spring with a party for every local school.

The Not Meeting Criteria to Reside (NMC2R) list shrank. Later the No Medical Criteria to Reside (NMC2R) list grew.
"""


def test_scanners_find_repeats_and_abbreviations_and_nothing_else():
    reps = R.scan_repeats("src", TEXT)
    assert [(r.section.split(" (")[0], r.other_section.split(" (")[0]) for r in reps] == [("Alpha Town", "Beta Town")]
    abbr = R.scan_abbreviations({"src": TEXT})
    assert list(abbr) == ["NMC2R"]
    assert {u.expansion for u in abbr["NMC2R"]} == {"Not Meeting Criteria to Reside", "No Medical Criteria to Reside"}


def test_scope_scanner_flags_only_wider_figures():
    figures = [{"id": "a", "area": "icb", "section": "East > Lanfield > X"}, {"id": "b", "area": "lan", "section": "East > Lanfield > X"},
               {"id": "c", "area": "uk", "section": "East > Lanfield > X", "evidence_level": "context"},
               {"id": "d", "area": "uk", "section": "East > Lanfield > X", "evidence_level": "output"}]
    areas = [*AREAS, {"id": "uk", "name": "The country", "kind": "country", "parent": ""}]
    # a national background statistic recorded as context is not offered; a national result would be
    assert R.scan_scope(figures, areas) == [("a", "icb", "lan"), ("d", "uk", "lan")]


# --- one result, read everywhere --------------------------------------------------------------------------

statuses = st.sampled_from(A.STATUSES)


@settings(deadline=None)
@given(st.lists(st.tuples(statuses, st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3)), max_size=30))
def test_counts_add_up_and_each_figure_has_one_worst_mark(items):
    findings = pd.DataFrame([{"status": s, "involved": inv} for s, inv in items], columns=["status", "involved"])
    counts = A.counts_of(findings)
    assert sum(counts.values()) == len(items)
    marks = A.marks_of(findings)
    for cid, mark in marks.items():
        seen = [s for s, inv in items if cid in inv]
        assert mark == min(seen, key=A.SEVERITY.index)


@pytest.fixture
def small(tmp_path):
    root = make_project(tmp_path / "book", REPO, n_areas=2, chapters=("audit",))
    rel = root / "data" / "relations.csv"
    lines = rel.read_text(encoding="utf-8").splitlines()
    lines.append("rel-test-02,status_disagrees,,,A plan,eoy-review-2024-25,One,developing,eoy-review-2024-25,Two,established,,,")
    rel.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_result_written_once_is_what_every_view_reads(small, monkeypatch):
    from lancs_evidence.pages.about import AboutView, HomeView

    project = Project(small)
    path = A.write_result(project)
    result = json.loads(path.read_text(encoding="utf-8"))
    assert result["n_checks"] == 2 and sum(result["counts"].values()) == 2
    monkeypatch.chdir(small)
    import lancs_evidence.pages.about as va
    shown = []
    monkeypatch.setattr(va, "show", lambda *a: shown.append("".join(a)))
    page = AboutView("chapters/audit.md", "2024-25")
    page.glue_audit()
    page.audit_chart()
    page.audit_findings()
    for s in A.STATUSES:
        assert page.recorded[f"glue:n_{s}"] == f"{result['counts'][s]:,}"
    assert page.recorded["audit_counts"] == result["counts"]
    assert "Contradicted (1)" in shown[-1] and "A plan" in shown[-1] and "rel-test" not in shown[-1]
    # the home page's sentence and the audit page's are the same text from the same counts
    home = HomeView("chapters/index.md", "2024-25")
    home.glue_audit()
    assert home.recorded["glue:audit_summary"] == page.recorded["glue:audit_summary"]
    # a district page's audit sentence and table marks come from the same result
    import lancs_evidence.pages.district as v
    from lancs_evidence.data.synthetic import area_id
    from lancs_evidence.pages.district import DistrictView
    monkeypatch.setattr(v, "show", lambda *a: shown.append("".join(a)))
    district = DistrictView(area_id(1), "2024-25")
    district.reported_figures()
    expected = {i: m for i, m in result["marks"].items() if i in set(district.figures["id"])}
    assert district.recorded["audit_line"] == expected and expected
    assert all(A.WORDS[m] in shown[-2] for m in expected.values())
    # headline cards carry the figure's mark from the result
    cid = next(iter(result["marks"]))
    assert result["marks"][cid] in home.audit_mark(cid) or A.WORDS[result["marks"][cid]] in home.audit_mark(cid)


def test_a_charted_figure_carries_its_audit_mark_in_the_chart(small, monkeypatch):
    """Issue 14.3: wherever an audited figure appears, its mark goes with it: a before-and-after chart's
    title and table, and a bar's label in a chapter's bar chart."""
    from lancs_evidence.data.synthetic import area_id
    from lancs_evidence.pages import chapter as chapter_module
    from lancs_evidence.pages.chapter import ChapterView
    from lancs_evidence.pages.district import DistrictView
    from lancs_evidence.pages.view import View

    monkeypatch.chdir(small)
    district = DistrictView(area_id(1), "2024-25")
    rows = district.figures[district.figures["baseline"].notna() & district.figures["value"].notna()]
    assert not rows.empty, "the synthetic book has a figure with a baseline"
    marked, plain = rows["id"].iloc[0], set(district.figures["id"]) - {rows["id"].iloc[0]}
    fake = {"marks": {marked: "contradicted"}, "counts": {}, "findings": []}
    monkeypatch.setattr(View, "audit_result", property(lambda self: fake))
    html = "".join(district.before_after_charts(rows.iloc[:1]))
    assert "(claim audit: contradicted)" in html and ">Contradicted<" in html  # title, and the table's Audit cell
    assert district.recorded["audit_marks"] == {marked: "contradicted"}
    # a chapter's bar chart: the marked bar's label says so, an unmarked one does not
    shown = []
    monkeypatch.setattr(chapter_module, "show", lambda *a: shown.append("".join(map(str, a))))
    page = ChapterView("chapters/audit.md", "2024-25")
    every = page.data.figures[page.data.figures["value"].notna()]
    pair = every[every["unit"] == every.loc[every["id"] == marked, "unit"].iloc[0]]
    page.chart_bars(pair, label="statement", title="Test", x_title="Value", csv_name="test.csv")
    assert len(pair) >= 2 and plain
    html = shown[-1]
    assert "[claim audit: contradicted]" in html
    assert html.count("[claim audit:") == html.count("[claim audit: contradicted]")  # no mark on unmarked bars
    stmt = pair.loc[pair["id"] == marked, "statement"].iloc[0]
    others = pair.loc[pair["id"] != marked, "statement"]
    assert all(f"{o} (" in html for o in others)  # the other bars are drawn, their labels without a mark
    assert stmt in html
    # the written summary names each bar once, with its value once ("highest is X at 100", not "X (100) at 100")
    desc = re.search(r'class="lx-chart-desc">(.*?)</p>', html, re.S).group(1)
    assert "highest is" in desc and not re.search(r"\(([^()]+)\) at \1", desc), desc


def test_stale_or_missing_result_is_recomputed_and_download_matches(small, tmp_path):
    project = Project(small)
    first = A.load_result(project)  # no file yet: computed
    A.write_result(project)
    assert A.load_result(project) == json.loads(A.result_path(project).read_text(encoding="utf-8"))
    rel = small / "data" / "relations.csv"
    rel.write_text(rel.read_text(encoding="utf-8").replace("developing", "established"), encoding="utf-8")
    after = A.load_result(project)
    assert after["counts"]["contradicted"] == first["counts"]["contradicted"] - 1  # the edit is seen, not the stale file
    out = A.export_csv(after, tmp_path / "audit.csv")
    csv = pd.read_csv(out)
    assert list(csv["status"].value_counts().reindex(A.STATUSES, fill_value=0)) == [after["counts"][s] for s in A.STATUSES]


# --- the real data: the false verdicts the issue names stay fixed ---------------------------------------------

@pytest.fixture(scope="module")
def real():
    return A.compute(Project(REPO))


def test_real_audit_known_cases(real):
    from lancs_evidence.data.ledger import Data

    ledger = Data(REPO, Project(REPO).current_year()).figures.set_index("id")
    by_id = {f["relation_id"]: f for f in real["findings"]}
    rise = [f for f in real["findings"] if "eoy-place-short-term-support-increase-exec" in f["involved"]]
    assert rise and all(f["status"] != "consistent" for f in rise)  # since April 2020 vs since April 2024
    assert real["marks"]["eoy-place-2hr-urgent-response-within-target-exec"] == "contradicted"  # 94% and 95%
    assert all(len({f["status"] for f in real["findings"] if f["relation_id"] == r}) == 1 for r in by_id)
    kinds = {f["relation"] for f in real["findings"]}
    assert {"status_disagrees", "repeated_passage", "occupancy_of", "abbreviation_expanded", "scope_of"} <= kinds
    for f in real["findings"]:
        assert f["source"] and (f["section"] or f["relation"] == "abbreviation_expanded"), f["relation_id"]
        if f["relation"] in A.ARITHMETIC and f["status"] != "not_checked":
            for i in f["inputs"].split(";"):  # a derived figure is only ever checked against inputs stated with it
                assert (ledger.loc[i, "source"], ledger.loc[i, "section"]) == (f["source"], f["section"]), (f["relation_id"], i)
        if f["status"] not in ("consistent",):
            assert f["other_section"] or f["other_statement"], f["relation_id"]  # both passages named


@settings(deadline=None)
@given(st.lists(statuses, max_size=60))
def test_page_sentence_counts_always_sum_to_the_results_checks(items):
    import re
    import types

    from lancs_evidence.pages.about import AuditSection

    findings = pd.DataFrame({"status": items}, columns=["status"])
    result = {"n_checks": len(items), "counts": A.counts_of(findings)}
    page = types.SimpleNamespace(audit_result=result)
    text = AuditSection(page).audit_summary()
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]
    assert numbers[0] == len(items) and sum(numbers[1:]) == len(items)
    assert numbers[1:] == [result["counts"][s] for s in ("consistent", "inconsistent", "contradicted", "differs", "not_checked")]


def test_a_change_dated_in_one_passage_and_undated_in_the_other_is_not_stated_the_same_way():
    dated = row("a", -31, "percent", period="Q3 2024/25", kind="change")
    undated = row("b", -31, "percent", kind="change")
    f = check("same_measure_as", [dated, undated], "a", "b")
    assert f.status == "differs" and "only one gives a period (Q3 2024/25" in f.explanation
    # the review's year label alone is context, not a period; a count of districts holds whatever the date
    year_only = [row("a", -31, "percent", period="2024/25", kind="change"), row("b", -31, "percent", kind="change")]
    assert check("same_measure_as", year_only, "a", "b").status == "consistent"
    counts = [row("a", 12, period="September to November 2024", kind="level"), row("b", 12, kind="level")]
    assert check("same_measure_as", counts, "a", "b").status == "consistent"


def test_rule_counts_split_recomputing_rules_from_restatements_and_text_checks():
    """The methods page once called every audit rule one that recomputes a figure; only arithmetic and
    plausibility rules do, so the counts it glues are split by what each rule does."""
    from lancs_evidence.analysis.audit import rule_counts

    relations = pd.DataFrame({"relation": ["pct_change_of", "share_of_whole", "same_measure_as", "same_measure_as",
                                           "status_disagrees", "scope_of", "abbreviation_expanded"]})
    assert rule_counts(relations) == {"recompute": 2, "restated": 2, "text": 3}
    assert rule_counts(pd.DataFrame(columns=["relation"])) == {"recompute": 0, "restated": 0, "text": 0}
