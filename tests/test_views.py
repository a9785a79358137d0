"""Page views without a kernel: the views are flat (each inherits only View and composes its shared sections),
every method a notebook calls resolves on the view it builds, and the pure parts (the year-over-year pairing)
work on small hand-built tables."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from lancs_evidence.analysis.summaries import Change
from lancs_evidence.pages import about, chapter, district, fmt, place
from lancs_evidence.pages.view import View, offers

REPO = Path(__file__).resolve().parents[1]
PAGE_VIEWS = {cls.__name__: cls for mod in (about, chapter, district, place) for cls in vars(mod).values()
              if isinstance(cls, type) and issubclass(cls, View) and cls is not View and cls.__module__ == mod.__name__}


def test_every_page_view_inherits_only_view():
    assert set(PAGE_VIEWS) >= {"ChapterView", "AboutView", "HomeView", "WhatChangedView", "PlaceChapter", "LocalityView",
                               "DistrictView"}
    deep = {name: [b.__name__ for b in cls.__bases__] for name, cls in PAGE_VIEWS.items() if cls.__bases__ != (View,)}
    assert deep == {}
    assert View.__bases__ == (object,)


def test_sections_are_not_views():
    for section in (chapter.ChapterLedger, about.AuditSection, about.MethodsSection, place.PlaceTables):
        assert not issubclass(section, View)


def test_offers_hands_out_the_sections_method_and_refuses_a_clash():
    class Section:
        def __init__(self, page):
            self.page = page

        def hello(self, who):
            return f"hello {who} from {self.page.name}"

    @offers("section", ["hello"])
    class Page:
        name = "page"

        def __init__(self):
            self.section = Section(self)

    p = Page()
    assert p.hello("x") == "hello x from page"
    with pytest.raises(TypeError):
        @offers("section", ["hello"])
        class Clash:
            def hello(self):
                return 1


def test_the_ledger_api_is_every_public_method_of_the_ledger():
    public = {n for n, v in vars(chapter.ChapterLedger).items() if callable(v) and not n.startswith("_")}
    assert set(chapter.LEDGER_API) == public


def test_home_glues_the_place_figures_the_place_chapter_glues(tmp_path, repo, monkeypatch):
    """glue_home takes the Place's figures from its PlaceTables section (no glue_all found through base classes)."""
    from lancs_evidence.analysis import audit
    from lancs_evidence.data.project import Project
    from lancs_evidence.data.synthetic import make_project

    assert not hasattr(about.HomeView, "glue_all")
    root = make_project(tmp_path / "book", repo, n_areas=2)
    audit.write_result(Project(root))
    monkeypatch.chdir(root)
    home = about.HomeView("chapters/index.md", "2024-25")
    home.glue_home()
    placed = place.PlaceChapter("chapters/place.md", "2024-25")
    placed.glue_all()
    glued = {k: v for k, v in placed.recorded.items() if k.startswith("glue:")}
    assert glued and all(home.recorded[k] == v for k, v in glued.items())
    assert "glue:n_checks" in home.recorded and "glue:n_tables" in home.recorded  # the audit and methods sections glued too


# the attributes View.__init__ and the page constructors set on the instance (not on the class)
INSTANCE = {"project", "year", "data", "recorded", "review_source", "year_label", "template", "about_year", "ledger", "audit",
            "methods", "place", "area", "name", "row", "locality", "councils", "figures", "other_evidence", "learning",
            "ctx", "initiatives"}


def notebook_calls():
    for path in sorted([*REPO.glob("chapters/*.md"), *REPO.glob("chapters/*/*.md"), *REPO.glob("templates/*.md")]):
        text = path.read_text(encoding="utf-8")
        made = re.search(r"^page = (\w+)\(", text, re.M)
        if made:
            for name in sorted(set(re.findall(r"\bpage\.(\w+)", text))):
                yield pytest.param(made.group(1), name, id=f"{path.relative_to(REPO)}:{name}")


@pytest.mark.parametrize("cls_name,name", list(notebook_calls()))
def test_every_page_attribute_a_notebook_uses_exists_on_its_view(cls_name, name):
    cls = PAGE_VIEWS[cls_name]
    assert hasattr(cls, name) or name in INSTANCE, f"{cls_name} has no {name}"


# --- the year-over-year pairing (DistrictView.year_over_year) on hand-built frames ---------------------------
def ledger(rows):
    cols = ["area", "measure", "measure_label", "value", "value_high", "unit", "qualifier", "polarity"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


NOW = ledger([
    ("a1", "visits", "Visits", 120.0, None, "count", "", "higher_better"),
    ("a1", "people", "People reached", 50.0, None, "count", "over", "neutral"),
    ("a1", "new_only", "New this year", 7.0, None, "count", "", "neutral"),
])
BEFORE = ledger([
    ("a1", "visits", "Visits", 100.0, None, "count", "", "higher_better"),
    ("a1", "visits", "Visits", 999.0, None, "count", "", "higher_better"),  # stated twice: the first is used
    ("a1", "people", "People reached", 40.0, None, "count", "", "neutral"),
    ("a1", "dropped", "Dropped", 3.0, None, "count", "", "neutral"),
])


def test_years_side_by_side_keeps_measures_in_both_years_once_each():
    both = district.years_side_by_side(NOW, BEFORE)
    assert list(both["measure"]) == ["visits", "people"]
    assert list(both["value"]) == [120.0, 50.0]
    assert list(both["value_prev"]) == [100.0, 40.0]


def test_years_side_by_side_of_no_common_measure_is_empty():
    assert district.years_side_by_side(NOW.iloc[2:], BEFORE).empty


def test_previous_row_unsuffixes_the_earlier_years_columns():
    r = {"value": 2, "value_prev": 1, "qualifier": "", "qualifier_prev": "over", "area": "a1"}
    assert district.previous_row(r) == {"value": 1, "qualifier": "over"}


def test_year_over_year_rows_work_out_a_change_only_between_exact_figures():
    both = district.years_side_by_side(NOW, BEFORE)
    rows = district.year_over_year_rows(both, pd.Series({"a1": "Area One"}))
    visits, people = rows
    assert visits[:2] == ["Visits", "Area One"]
    assert visits[2] == fmt.number(100.0) and visits[3] == fmt.number(120.0)
    assert visits[4] == Change(100.0, 120.0, "count", "higher_better").describe()
    # "over 50" against 40 is not a rise of 10: shown, not subtracted
    assert people[2] == fmt.number(40.0) and people[3].startswith("over ")
    assert people[4].startswith("Not worked out")


def test_sum_label_names_each_part_added():
    got = fmt.sum_label("Funding allocated", ["Money for the befriending scheme", "Money for VCFSE projects",
                                               "Money for the befriending scheme"])
    assert got == "Funding allocated, added up from: money for the befriending scheme; money for VCFSE projects"
    assert fmt.sum_label("Staff trained", ["PCN staff trained"]) == "Staff trained, added up from: PCN staff trained"


def test_sum_caveat_ties_a_part_caveat_to_its_part_and_says_a_shared_one_once():
    got = fmt.sum_caveat([("Money for befriending", "Funds the befriending service. No date is given."),
                          ("Money for VCFSE projects", "No date is given.")])
    assert got == "Money for befriending: funds the befriending service. No date is given."
    assert got.count("No date is given.") == 1
    assert fmt.sum_caveat([("A", ""), ("B", "")]) == ""


def test_notes_text_says_each_sentence_once_without_semicolon_after_a_full_stop():
    got = fmt.notes_text(["Stated as a range. No date given.", "No date given.", ""])
    assert got == "Stated as a range. No date given."
    assert ".;" not in got


def test_most_common_theme_sentence_names_every_theme_tied_at_the_top():
    counts = pd.DataFrame({"label": ["Health inequalities", "Integrated working", "Carers"], "initiatives": [4, 4, 1]})
    assert fmt.top_labels(counts) == ["Health inequalities", "Integrated working"]
    assert fmt.most_common_sentence(fmt.top_labels(counts)) == (
        "The most common themes here, level with each other, are health inequalities and integrated working.")
    one = counts.assign(initiatives=[5, 4, 1])
    assert fmt.most_common_sentence(fmt.top_labels(one)) == "The most common theme here is health inequalities."


def test_join_clauses_continues_one_sentence_in_lower_case_but_keeps_acronyms():
    assert fmt.join_clauses(["Since Q1: fell by half", "Has not yet reached the aim"]) == (
        "Since Q1: fell by half; has not yet reached the aim")
    assert fmt.join_clauses(["Met", "NHS target"]) == "Met; NHS target"


def test_a_number_the_source_writes_as_a_fraction_is_shown_as_written():
    """'1/3 more people' is shown as 1/3, never as a worked-out '33.3%'; and it is not exact, so prose cannot glue its
    bare value."""
    from lancs_evidence.analysis.summaries import exact

    row = {"value": 33.3, "value_high": float("nan"), "unit": "percent", "qualifier": "", "value_words": "1/3"}
    assert fmt.ledger_figure(row) == "1/3"
    assert not exact(row)
    assert fmt.ledger_figure(row | {"value_words": ""}) == "33.3%"
    assert fmt.ledger_figure(row | {"value": float("nan"), "value_words": "hundreds of", "unit": "count"}) == "hundreds of (no number given)"


def test_the_place_population_is_the_census_count_never_the_mid_2020_estimate(tmp_path, repo, monkeypatch):
    """Rule 6: the Place's population is the 2021 Census count of usual residents, with its date; the mid-2020
    estimate (different in the invented book, as in the real one) is never summed into a glued figure."""
    import json

    from lancs_evidence.analysis import audit
    from lancs_evidence.data.project import Project
    from lancs_evidence.data.synthetic import make_project

    root = make_project(tmp_path / "book", repo, n_areas=2)
    meta_path = root / "data" / "reference" / "population.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps(meta | {"period": "Mid-year estimate 30 June 2020; Census day 21 March 2021"}), encoding="utf-8")
    audit.write_result(Project(root))
    monkeypatch.chdir(root)
    placed = place.PlaceChapter("chapters/place.md", "2024-25")
    placed.glue_all()
    pop = placed.data.reference("population")
    districts = pop[pop["ons_code"].isin(placed.data.areas.loc[placed.data.areas["kind"] == "district", "ons_code"])]
    glued = {k: v for k, v in placed.recorded.items() if k.startswith("glue:")}
    assert glued["glue:census_population"] == fmt.number(districts["census2021_usual_residents"].sum())
    assert fmt.number(districts["population_mid2020"].sum()) not in glued.values()
    assert glued["glue:census_date"] == "21 March 2021"


def test_foreign_keys_are_named_by_table_title_not_resource_code():
    """The data dictionary once wrote 'lesson → learning-points-2024-25.id', the descriptor's code for a table."""
    from lancs_evidence.pages.about import foreign_key_text

    res = {"name": "lesson-evidence", "schema": {"foreignKeys": [
        {"fields": "lesson", "reference": {"resource": "learning-points", "fields": "id"}},
        {"fields": "parent", "reference": {"resource": "", "fields": "id"}}]}}
    text = foreign_key_text(res, {"learning-points": "Learning points", "lesson-evidence": "Evidence behind each lesson"})
    assert text == "lesson must match id in Learning points; parent must match id in Evidence behind each lesson"
    assert "learning-points" not in text and "." not in text


def test_a_sum_in_hundredths_of_a_million_is_written_as_the_source_writes_it():
    """The LGA report's '£10.68m' was shown as '£10,680,000', a precision it never gave."""
    assert fmt.with_unit(10_680_000, "gbp") == "£10.68 million"
    assert fmt.with_unit(2_400_000, "gbp") == "£2.4 million"
    assert fmt.with_unit(10_685_000, "gbp") == "£10,685,000"  # not a whole number of hundredths: in full


def test_a_round_count_of_millions_is_written_as_the_source_writes_it():
    """The review's '1.3 million' residents were shown as '1,300,000', a precision it never gave."""
    assert fmt.with_unit(1_300_000, "count") == "1.3 million"
    assert fmt.with_unit(1_000_000, "count") == "1 million"
    assert fmt.figure(1_200_000, "count", "circa") == "about 1.2 million"
    assert fmt.with_unit(1_235_355, "count") == "1,235,355"  # a counted figure keeps every digit
    assert fmt.with_unit(24_500, "count") == "24,500" and fmt.with_unit(1_300_000, "rank") == "1,300,000"
