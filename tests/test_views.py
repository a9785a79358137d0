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


def test_caveats_of_added_figures_say_each_sentence_once():
    from lancs_evidence.pages.view import join_notes

    first = "Allocated from the prevention fund; funds the befriending service. The source does not say when the money was allocated."
    second = "The source does not say when the money was allocated."
    joined = join_notes([first, second, "", None, "Wards listed: A, B"])
    assert joined.count("The source does not say when") == 1, joined
    assert ".;" not in joined and joined.endswith("Wards listed: A, B."), joined
    assert joined.startswith("Allocated from the prevention fund; funds the befriending service.")


def test_a_sum_in_a_roll_up_names_each_figure_it_adds():
    from types import SimpleNamespace

    figures = pd.DataFrame({"id": ["f1", "f2"], "area": ["a", "b"], "statement": ["Grant to councils", "Grant to charities"],
                            "value": [37000.0, 55000.0], "value_high": [float("nan")] * 2, "unit": ["gbp", "gbp"],
                            "qualifier": ["", ""], "value_words": ["", ""], "note": ["No date.", "No date."]})
    stub = SimpleNamespace(data=SimpleNamespace(measures=pd.DataFrame({"label": ["Funding allocated"]}, index=["funding_allocated"]),
                                                select=lambda table, ids: figures[figures["id"].isin(ids)]),
                           area_name=lambda a: {"a": "Area A", "b": "Area B"}[a])
    out = pd.DataFrame([{"group": "t", "measure": "funding_allocated", "unit": "gbp", "period": "", "footprint": "",
                         "figure": "£92,000", "n_figures": 2, "ids": ["f1", "f2"], "added": True, "reason": ""}])
    html = View.rollup_table(stub, out, "Theme", {"t": "Theme T"}, "caption")
    assert "Sum of 2 like figures: Grant to councils (£37,000) and Grant to charities (£55,000)" in html
    assert html.count("No date.") == 1
