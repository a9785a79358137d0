"""The logic behind the chapter pages (pages.case_studies, pages.event_2021, pages.learning, pages.crosswalk,
the Markdown helpers in pages.fmt, and the data layer's lesson links and report cases), each on small
tables built here."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from lancs_evidence.data import ledger
from lancs_evidence.data.ledger import Data
from lancs_evidence.pages import case_studies as cs
from lancs_evidence.pages import crosswalk as cx
from lancs_evidence.pages import event_2021 as ev
from lancs_evidence.pages import fmt
from lancs_evidence.pages import learning as lr

# --- Markdown and words (pages.fmt) -----------------------------------------------------------------


def test_escape_markdown_escapes_every_special_character_and_collapses_space():
    assert fmt.escape_markdown("Fylde & Wyre") == "Fylde & Wyre"
    assert fmt.escape_markdown("[a](b)") == r"\[a\]\(b\)"
    assert fmt.escape_markdown("*x*_y_#1.") == r"\*x\*\_y\_\#1\."
    assert fmt.escape_markdown("  two\n lines\t") == "two lines"
    assert fmt.escape_markdown(r"a\b") == r"a\\b"
    assert fmt.escape_markdown(12) == "12"


def test_district_links_are_unique_escaped_and_in_the_books_order():
    areas = pd.DataFrame({"id": ["p1", "p2"], "name": ["South [East]", "North"], "order": [2, 1]}).set_index("id", drop=False)
    assert fmt.district_links(areas, ["p1", "p2", "p1"]) == \
        r"[North](districts/p2.ipynb), [South \[East\]](districts/p1.ipynb)"
    assert fmt.district_links(areas, []) == ""


def test_long_date():
    assert fmt.long_date("2021-11-02") == "2 November 2021"
    assert fmt.long_date(" 2024-01-31 ") == "31 January 2024"


# --- the councils compared (pages.case_studies) ------------------------------------------------------


def _council_rows(*rows):
    cols = ["id", "initiative", "kind", "evidence_level", "statement", "value", "value_high", "unit", "qualifier", "value_words"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def test_headline_prefers_outcome_then_impact_then_output_and_skips_context_and_changes():
    rows = _council_rows(
        ("a", "ini-1", "count", "output", "People reached", 500.0, None, "count", "", ""),
        ("b", "", "count", "outcome", "Area figure (no initiative)", 9.0, None, "count", "", ""),
        ("c", "ini-1", "change", "outcome", "A stated change", 5.0, None, "percent", "", ""),
        ("d", "ini-1", "count", "impact", "Savings", 2000.0, None, "gbp", "over", ""),
        ("e", "ini-1", "count", "outcome", "Felt better", 60.0, None, "percent", "", ""),
        ("f", "ini-1", "count", "outcome", "Second outcome", 70.0, None, "percent", "", ""),
    )
    assert cs.headline(rows) == "Felt better: 60% (no date given; outcome)"
    assert cs.headline(rows[rows["id"].isin(["a", "d"])]) == "Savings: over £2,000 (no date given; impact)"
    assert cs.headline(rows[rows["id"].isin(["a"])]) == "People reached: 500 (no date given; output)"
    assert cs.headline(rows[rows["id"].isin(["b", "c"])]) == "No figure on delivery or results"


def test_billions_keeps_the_qualifier():
    assert cs.billions({"value": 117.9e9, "qualifier": ""}) == "£117.9 billion"
    assert cs.billions({"value": 33e9, "qualifier": "circa"}) == "about £33 billion"
    assert cs.billions({"value": 1.25e9, "qualifier": None}) == "£1.25 billion"


def test_national_split_goes_by_the_reports_headings_not_by_evidence_level():
    rows = pd.DataFrame({
        "id": ["cost", "roi", "plan", "concordat", "cases", "council"],
        "area": ["national", "national", "national", "national", "national", "leeds"],
        "measure": ["cost_to_employers", "return_on_investment", "funding_allocated", "organisations_signed_up",
                    "case_studies", "people_trained"],
        "evidence_level": ["context", "context", "context", "activity", "activity", "output"],
        "section": ["Evidence for prevention > The established evidence base",
                    "Evidence for prevention > The established evidence base",
                    "System change, the NHS and local authorities",
                    "National policy and legislative context > Public health",
                    "Executive summary",
                    "Case studies > 5. A whole city approach - Leeds City Council > Impact and sustainability"],
    })
    evidence, policy = cs.national_split(rows)
    assert evidence["id"].tolist() == ["cost", "roi"]
    assert policy["id"].tolist() == ["plan", "concordat"]


def _keys():
    return pd.DataFrame({
        "id": ["k1", "k2", "k3", "k4", "k5"],
        "area": ["x", "y", "y", "z", "x"],
        "title": ["Political backing", "Senior sponsor", "Shared data", "Leadership that stays", "Money"],
        "themes": ["leadership_t;data", "data", "data", "funding", "funding"],
    })


def test_keys_by_theme_counts_councils_then_keys_then_label():
    labels = pd.Series({"data": "Data", "funding": "Funding", "leadership_t": "Leaders"})
    out = cs.keys_by_theme(_keys(), labels)
    assert out[["Theme", "councils", "keys"]].values.tolist() == [["Data", 2, 3], ["Funding", 2, 2], ["Leaders", 1, 1]]
    assert cs.rare_themes_text(out) == "leaders, named by one council"
    tie = pd.DataFrame({"Theme": ["A", "B", "C"], "councils": [3, 1, 1]})
    assert cs.rare_themes_text(tie) == "b and c, each named by one council"
    # labels that hold 'and' stay apart, and nothing is bracketed inside the sentence's own brackets
    ands = pd.DataFrame({"Theme": ["Integrated working", "Access and stigma", "Data and digital"], "councils": [9, 2, 2]})
    assert cs.rare_themes_text(ands) == "access and stigma, and data and digital, each named by 2 councils"


def test_leadership_keys_are_the_named_ids_in_the_reports_order_and_an_unknown_id_fails():
    assert cs.leadership_keys(_keys(), ["k4", "k1"])["id"].tolist() == ["k1", "k4"]
    assert cs.leadership_keys(_keys(), []).empty
    with pytest.raises(KeyError, match="k9"):
        cs.leadership_keys(_keys(), ["k1", "k9"])


def test_initiatives_by_id_keep_the_tables_order_and_an_unknown_id_fails():
    from types import SimpleNamespace

    from lancs_evidence.pages.chapter import ChapterLedger

    table = pd.DataFrame({"id": ["ini-a", "ini-b", "ini-c"], "source": ["s", "s", "t"]})
    data = SimpleNamespace(select=lambda name, source=None, **kw: table[table["source"] == source] if source else table)
    chapter = ChapterLedger(SimpleNamespace(data=data))
    assert chapter.initiatives(ids=["ini-c", "ini-a"])["id"].tolist() == ["ini-a", "ini-c"]
    assert chapter.initiatives(source="s")["id"].tolist() == ["ini-a", "ini-b"]
    with pytest.raises(KeyError, match="ini-c"):
        chapter.initiatives(source="s", ids=["ini-a", "ini-c"])


def _ledger_on(figures: pd.DataFrame, findings: pd.DataFrame | None = None):
    """A ChapterLedger over hand-built tables, and the dict its glue lands in."""
    from types import SimpleNamespace

    from lancs_evidence.pages.chapter import ChapterLedger

    glued: dict = {}

    def select(name, ids=None, **kw):
        return figures.set_index("id", drop=False).loc[list(ids)].reset_index(drop=True) if ids else figures

    page = SimpleNamespace(data=SimpleNamespace(select=select), audit_result={"marks": {}}, recorded={},
                           glue=glued.__setitem__, findings=lambda: findings)
    return ChapterLedger(page), glued


def test_figures_for_takes_initiative_links_and_named_ids_in_the_tables_order():
    from lancs_evidence.pages.chapter import figures_for

    rows = pd.DataFrame({"id": ["f1", "f2", "f3", "f4"], "initiative": ["ini-a", "", "ini-b", "ini-a"]})
    assert figures_for(rows, ["ini-a"])["id"].tolist() == ["f1", "f4"]
    assert figures_for(rows, ["ini-b"], ids=["f2"])["id"].tolist() == ["f2", "f3"]
    assert figures_for(rows).empty


def test_each_figure_in_one_group_names_figures_left_out_or_taken_twice():
    from lancs_evidence.pages.chapter import check_each_figure_in_one_group, figures_for

    rows = pd.DataFrame({"id": ["f1", "f2", "f3"], "initiative": ["ini-a", "", "ini-b"]})
    check_each_figure_in_one_group(rows, figures_for(rows, ["ini-a"], ids=["f2"]), figures_for(rows, ["ini-b"]))
    with pytest.raises(ValueError, match="in no group: f2"):
        check_each_figure_in_one_group(rows, figures_for(rows, ["ini-a"]), figures_for(rows, ["ini-b"]))
    with pytest.raises(ValueError, match="in more than one group: f1"):
        check_each_figure_in_one_group(rows, figures_for(rows, ["ini-a", "ini-b"], ids=["f2"]), figures_for(rows, ["ini-a"]))


def test_glue_printed_percent_is_a_point_change_without_sign_written_as_the_source_printed_it():
    figures = pd.DataFrame([{"id": "pp", "value": -6.5, "value_high": None, "unit": "percentage_points", "qualifier": "",
                             "value_words": "", "value_dp": 1}])
    chapter, glued = _ledger_on(figures)
    chapter.glue_figure("written", "pp", "printed_percent")
    chapter.glue_figure("magnitude", "pp", "magnitude")
    assert glued == {"written": "6.5%", "magnitude": "6.5 percentage points"}


def test_glue_recomputed_is_the_audits_value_without_sign_and_refuses_a_check_with_none():
    findings = pd.DataFrame({"relation_id": ["r1", "r2"], "recomputed": [-47.368, None]})
    chapter, glued = _ledger_on(pd.DataFrame(), findings)
    chapter.glue_recomputed("fall", "r1", "percent", 1)
    assert glued == {"fall": "47.4%"}
    with pytest.raises(ValueError, match="r2"):
        chapter.glue_recomputed("none", "r2", "percent", 1)
    with pytest.raises(KeyError, match="r9"):
        chapter.glue_recomputed("missing", "r9", "percent", 1)


def test_theme_set_and_places_text():
    assert cs.theme_set(pd.DataFrame({"themes": ["a; b", "b;", "c"]})) == {"a", "b", "c"}
    places = pd.DataFrame({"name": ["Fleetwood", "England"], "kind": ["town", "country"]})
    assert cs.places_text(places) == "Fleetwood, and the picture for the country as a whole"
    assert cs.places_text(places.iloc[:1]) == "Fleetwood"
    two = pd.DataFrame({"name": ["A", "B"], "kind": ["town", "town"]})
    assert cs.places_text(two) == "2 places (A and B)"


def test_compare_themes_counts_only_the_lancashire_initiatives():
    label = pd.Series({"a": "Alpha", "b": "Beta", "c": "Gamma", "d": "Delta"})
    case = pd.DataFrame({"area": ["fleetwood", "westminster"], "themes": ["a;b", "c;d"]})
    review = pd.DataFrame({"area": ["fylde_wyre"], "themes": ["a;c"]})
    shared, only = cs.compare_themes(case, review, ["fleetwood"], label)
    assert shared == ["alpha"]
    assert only == ["beta"]  # gamma is shared only through Westminster's work, delta is Westminster's own
    assert cs.compare_themes(case, review, [], label) == ([], [])


def test_case_only_sentence_agrees_in_number():
    assert cs.case_only_sentence(["beta"]).startswith("The theme beta is found")
    assert "that is where" in cs.case_only_sentence(["beta"])
    two = cs.case_only_sentence(["beta", "delta"])
    assert two.startswith("The themes beta and delta are found") and "those are where" in two
    assert cs.case_only_sentence([]).startswith("Every theme")


def test_proof_caveat_does_not_speak_of_result_figures_a_source_lacks():
    assert "even its result figures" in cs.proof_caveat(2)
    assert "result figures" not in cs.proof_caveat(0) and "no figure on any result" in cs.proof_caveat(0)


def test_chartable_counts_keep_delivered_counts_only():
    d = pd.DataFrame({"id": list("abcdefgh"), "unit": ["count", "count", "count", "percent", "count", "count", "count", "count"],
                      "kind": ["count", "change", "count", "count", "count", "count", "count", "count"],
                      "value": [1.0, 2.0, math.nan, 4.0, 5.0, 2.0, 3.0, 20.0],
                      "evidence_level": ["output", "output", "output", "output", "context", "activity", "testimony", "outcome"]})
    # staff posts or strands (activity) and one person's account never share an axis with people reached
    assert cs.chartable_counts(d)["id"].tolist() == ["a", "h"]


# --- the 2021 workshop (pages.event_2021) ------------------------------------------------------------


def _workshop():
    contributions = pd.DataFrame({
        "id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "question": ["local_issues", "local_issues", "what_works", "barriers", "barriers", "opportunities"],
        "themes": ["poverty;housing", "poverty", "community", "funding", "funding;poverty", "community"],
        "is_key_point": [True, False, False, True, False, False],
    })
    tagged = contributions.assign(theme=contributions["themes"].str.split(";")).explode("theme")
    tagged["Theme"] = tagged["theme"].map({"poverty": "Poverty", "housing": "Housing", "community": "Community",
                                           "funding": "Funding"})
    return contributions, tagged


def test_theme_frequencies_count_and_share_per_question():
    contributions, tagged = _workshop()
    freq, share = ev.theme_frequencies(tagged, contributions)
    assert list(freq.columns) == list(ev.QUESTIONS)
    assert freq.loc["Poverty", "local_issues"] == 2 and freq.loc["Poverty", "barriers"] == 1
    assert share.loc["Poverty", "local_issues"] == 100 and share.loc["Housing", "local_issues"] == 50
    assert share.loc["Funding", "barriers"] == 100 and share.loc["Community", "opportunities"] == 100


def test_top_themes_keep_ties_with_the_last_place():
    counts = pd.Series({"A": 5, "B": 3, "C": 3, "D": 1, "E": 0})
    assert ev.top_themes(counts, 2) == "a (5 contributions), b (3 contributions) and c (3 contributions)"
    assert ev.top_themes(counts, 1) == "a (5 contributions)"
    assert ev.top_themes(pd.Series({"A": 1, "B": 0}), 2) == "a (1 contribution)"


def test_leaning_names_the_largest_shifts_and_skips_themes_raised_under_neither():
    freq = pd.DataFrame({"x": [4, 1, 0, 2], "y": [0, 2, 0, 2]}, index=["A", "B", "C", "D"])
    share = pd.DataFrame({"x": [40.0, 10.0, 0.0, 20.0], "y": [0.0, 20.0, 0.0, 20.0]}, index=freq.index)
    diff = share["x"] - share["y"]
    assert ev.leaning(diff, share, freq, "x", "y", 1, True) == "a (40% against 0%)"
    # D (0) ties with nothing; C (0) is dropped because neither question raised it
    assert ev.leaning(diff, share, freq, "x", "y", 2, True) == "a (40% against 0%) and d (20% against 20%)"
    assert ev.leaning(-diff, share, freq, "y", "x", 1, True) == "b (20% against 10%)"


def test_most_raised_title_and_theme_words():
    assert ev.most_raised_title(pd.Series({"Poverty": 3, "Housing": 1}), "barriers") == \
        "Poverty is the theme raised most often on barriers"
    assert ev.most_raised_title(pd.Series({"Poverty": 3, "Housing": 3}), "barriers") == \
        "Poverty and housing tie as the themes raised most often on barriers"
    assert ev.most_raised_title(pd.Series({"Community capacity": 3, "Mental health and wellbeing": 3}), "what works") == \
        "Community capacity, and mental health and wellbeing tie as the themes raised most often on what works"
    assert ev.theme_words("poverty; nope;housing", pd.Series({"poverty": "Poverty"})) == "Poverty; nope; housing"


def test_millions_keeps_the_qualifier():
    assert ev.millions({"value": 6e6, "qualifier": "circa"}) == "about £6 million"
    assert ev.millions({"value": 2.5e6, "qualifier": ""}) == "£2.5 million"


# --- the learning review (pages.learning) -------------------------------------------------------------


def _ledger_tables():
    ini = pd.DataFrame({"id": ["ini-1"], "name": ["Hub"], "summary": ["A hub."], "area": ["ward1"], "source": ["review"]})
    lp = pd.DataFrame({"id": ["lp-1"], "title": ["Start small"], "summary": ["Go slow."], "area": ["nat"], "source": ["case"]})
    oc = pd.DataFrame({"id": ["o-1"], "statement": ["People helped"], "value": [1200.0], "value_high": [math.nan],
                       "unit": ["count"], "qualifier": ["over"], "value_words": [""], "evidence_level": ["outcome"],
                       "area": ["p1"], "source": ["review"]})
    return [t.set_index("id", drop=False) for t in (ini, lp, oc)]


def _partnership_of(area):
    return {"ward1": "p1", "p1": "p1"}.get(area)


def test_describe_each_kind_of_evidence():
    ini, lp, oc = _ledger_tables()
    assert lr.describe("initiative", "ini-1", ini, lp, oc, "review", _partnership_of) == {
        "what": "Hub", "area": "ward1", "source": "review", "shows": "A hub.", "level": "",
        "from_review": True, "partnership": "p1"}
    d = lr.describe("learning_point", "lp-1", ini, lp, oc, "review", _partnership_of)
    assert (d["what"], d["from_review"], d["partnership"], d["level"]) == ("Start small", False, None, "")
    d = lr.describe("figure", "o-1", ini, lp, oc, "review", _partnership_of)
    assert (d["what"], d["shows"], d["level"]) == ("People helped", "over 1,200", "outcome")


def test_lesson_summary_counts_each_kind_in_the_lessons_order():
    lessons = pd.DataFrame({"id": ["L2", "L1"], "title": ["Second", "First"]}).set_index("id", drop=False)
    evidence = pd.DataFrame({"lesson": ["L1", "L1", "L1", "L2"],
                             "kind": ["initiative", "figure", "learning_point", "learning_point"],
                             "from_review": [True, True, False, True]})
    per = lr.lesson_summary(lessons, evidence)
    assert per["Lesson"].tolist() == ["Second", "First"]
    assert per[["Pieces of evidence", "Initiatives", "Learning points", "Reported figures", "From the case studies"]
               ].values.tolist() == [[1, 0, 1, 0, 0], [3, 1, 1, 1, 1]]
    assert per["Backed by a figure"].tolist() == ["no", "yes"]


def test_kind_and_source_and_next_year():
    assert lr.kind_and_source({"kind": "figure", "level": "outcome", "from_review": True}, "") == \
        "Reported figure (outcome), the review"
    assert lr.kind_and_source({"kind": "initiative", "level": "", "from_review": False}, "King's Fund") == \
        "Initiative, case study by King's Fund"
    assert lr.next_year_label("2024-25") == "2025/26"
    assert lr.next_year_label("2029-30") == "2030/31"


# --- the cross-walk (pages.crosswalk) -----------------------------------------------------------------


def test_area_name_falls_back_to_the_id():
    areas = pd.DataFrame({"id": ["a"], "name": ["Alpha"]}).set_index("id", drop=False)
    assert cx.area_name(areas, "a") == "Alpha"
    assert cx.area_name(areas, "zzz") == "zzz"
    named = pd.DataFrame({"name": ["Hub", "Walks"], "area": ["a", "zzz"]})
    assert cx.initiatives_in_words(named, areas) == ["Hub (Alpha)", "Walks (zzz)"]


def test_quoted_labels():
    assert cx.quoted(["Housing", "Drugs and alcohol"]) == "\u2018housing\u2019 and \u2018drugs and alcohol\u2019"
    assert cx.quoted([]) == "none"


def test_thin_clause_agrees_in_number_and_the_widest_gap_is_named_when_not_thin():
    """The page once said 'the thin themes are ‘drugs and alcohol’' of a single theme."""
    assert cx.thin_clause(["Drugs and alcohol"]) == "the only thin theme is ‘drugs and alcohol’"
    assert cx.thin_clause(["Poverty", "Carers"]) == "the thin themes are ‘poverty’ and ‘carers’"
    assert cx.thin_clause([]) == "no theme is thin"
    assert cx.gap_sentence("Poverty", False).startswith("We also list ‘poverty’, which is not thin")
    assert cx.gap_sentence("Poverty", True).startswith("Of these, ‘poverty’ has the widest gap")


def test_balance_frame_sorts_most_concerns_first():
    cw = pd.DataFrame({"label": ["B", "A", "C", "D"], "concerns": [5, 1, 2, 3], "initiatives": [1, 4, 2, 0]})
    out = cx.balance_frame(cw)
    assert out["Theme"].tolist() == ["B", "D", "C", "A"]
    assert out["Initiatives minus concerns"].tolist() == [-4, -3, 0, 3]
    assert out["Balance"].tolist() == ["More concerns", "More concerns", "Even", "More initiatives"]


# --- the data layer's lesson links and report cases ----------------------------------------------------


@pytest.fixture
def tiny_data(tmp_path):
    (tmp_path / "data" / "2030-31").mkdir(parents=True)
    (tmp_path / "data" / "case-studies").mkdir()
    (tmp_path / "data" / "2030-31" / "lesson_evidence.csv").write_text(
        "id,lesson,evidence,kind,note\nle-01, lp-1 ,ini-1,initiative,Because.\n", encoding="utf-8")
    (tmp_path / "data" / "case-studies" / "report_cases.csv").write_text(
        "id,source,number,area,title\ncase-r-10,r,10,b,Tenth\ncase-r-09,r,9,a,Ninth\ncase-q-01,q,1,c,First\n", encoding="utf-8")
    return Data(tmp_path, "2030-31")


def test_lesson_evidence_is_read_as_text_and_recorded(tiny_data):
    ledger.start_recording(tiny_data.root)
    try:
        links = tiny_data.lesson_evidence("2030-31")
        reads = ledger.stop_recording()
    finally:
        ledger._RECORD = None
    assert links.to_dict("records") == [{"id": "le-01", "lesson": "lp-1", "evidence": "ini-1", "kind": "initiative",
                                         "note": "Because."}]
    assert any('"lesson_evidence"' in q for q in reads)


def test_report_cases_are_in_each_reports_numeric_order(tiny_data):
    cases = tiny_data.report_cases
    assert cases[["source", "number", "title"]].values.tolist() == [["q", 1, "First"], ["r", 9, "Ninth"], ["r", 10, "Tenth"]]


def test_headline_carries_the_period_and_a_wider_footprint():
    """Sandwell's savings are one year's: the period (and a footprint wider than the council) travels with the figure."""
    rows = _council_rows(("s", "ini-1", "count", "impact", "Savings", 142838.0, None, "gbp", "", "")).assign(
        period="one year", footprint="")
    assert cs.headline(rows) == "Savings: £142,838 (one year; impact)"
    assert cs.headline(rows.assign(footprint="the whole region")) == "Savings: £142,838 (one year; covers the whole region; impact)"
    assert cs.headline(rows.assign(period="May to June 2020")) == "Savings: £142,838 (May to June 2020; impact)"
