"""The view for the learning review (chapters/learning-review.md): each lesson of a year's review with the
evidence the book links to it (data/<year>/lesson_evidence.csv), and how well each lesson is supported.

Composed with the page's `ChapterView` (held as `page`); the notebook keeps its parameters, this view
and glue.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from IPython.display import Markdown, display

from lancs_evidence.pages import fmt
from lancs_evidence.pages.chapter import ChapterView
from lancs_evidence.pages.html import esc, show, table, tag

KIND_WORDS = {"initiative": "Initiative", "learning_point": "Learning point", "figure": "Reported figure"}


def describe(kind: str, evidence: str, initiatives: pd.DataFrame, learning_points: pd.DataFrame,
             figures: pd.DataFrame, review_source: str, partnership_of: Callable[[str], str | None]) -> dict:
    """One piece of evidence as a dict: what it is, its area and source, what it shows, its evidence level
    (figures only), whether it comes from the review, and the district partnership it belongs to.
    The three tables are indexed by id."""
    if kind == "initiative":
        r = initiatives.loc[evidence]
        what, shows, level = r["name"], r["summary"], ""
    elif kind == "learning_point":
        r = learning_points.loc[evidence]
        what, shows, level = r["title"], r["summary"], ""
    else:
        r = figures.loc[evidence]
        what, shows, level = r["statement"], fmt.row_figure(r.to_dict()), r["evidence_level"]
    return {"what": what, "area": r["area"], "source": r["source"], "shows": shows, "level": level,
            "from_review": r["source"] == review_source, "partnership": partnership_of(r["area"])}


def linked_rows(data, table: str, links: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of a ledger table that lesson links of one kind name, indexed by id."""
    ids = sorted(set(links.loc[links["kind"] == kind, "evidence"]))
    return data.select(table, ids=ids).set_index("id", drop=False)


def lesson_summary(lessons: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """One row per lesson, in the lessons' order: how many pieces of evidence of each kind are linked to
    it, how many come from the case studies, and whether any is a reported figure."""
    per = []
    for lid, r in lessons.iterrows():
        e = evidence[evidence["lesson"] == lid]
        per.append({"Lesson": r["title"], "Pieces of evidence": len(e),
                    "Initiatives": int((e["kind"] == "initiative").sum()),
                    "Learning points": int((e["kind"] == "learning_point").sum()),
                    "Reported figures": int((e["kind"] == "figure").sum()),
                    "From the case studies": int((~e["from_review"].astype(bool)).sum())})
    per = pd.DataFrame(per)
    per["Backed by a figure"] = per["Reported figures"].map(lambda n: "yes" if n else "no")
    return per


def kind_and_source(x: dict, publisher: str) -> str:
    """The 'Kind and source' cell for one piece of evidence: 'Reported figure (outcome), the review'."""
    kind = KIND_WORDS[x["kind"]] + (f" ({x['level']})" if x["level"] else "")
    return f"{kind}, " + ("the review" if x["from_review"] else "case study by " + publisher)


def next_year_label(year: str) -> str:
    """The financial year after a year id, as readers write it: '2024-25' -> '2025/26'."""
    first, second = year.split("-")
    return f"{int(first) + 1}/{int(second) + 1:02d}"


class LessonsView:
    """The lessons of the review the page is about, and the evidence linked to each."""

    def __init__(self, page: ChapterView):
        self.page = page
        d = page.data
        self.links = d.lesson_evidence(page.about_year)
        self.lessons = page.learning(source=page.review_source, kind="lesson").set_index("id", drop=False)
        # only the linked rows are read, so a change to another row does not re-run this page
        ini, lp, oc = (linked_rows(d, table, self.links, kind) for table, kind in
                       (("initiatives", "initiative"), ("learning_points", "learning_point"), ("figures", "figure")))
        self.evidence = pd.DataFrame([{**row, **describe(row["kind"], row["evidence"], ini, lp, oc, page.review_source, d.partnership_of)}
                                      for row in self.links.to_dict("records")])
        self.evidence["area_name"] = self.evidence["area"].map(d.areas["name"]).fillna(self.evidence["area"])
        self.summary = lesson_summary(self.lessons, self.evidence)
        page.record("lesson_summary", self.summary)

    # what prose needs -----------------------------------------------------------------------------
    @property
    def n_with_figure(self) -> int:
        return int((self.summary["Reported figures"] > 0).sum())

    @property
    def n_with_outcome(self) -> int:
        """Lessons linked to a figure that measures a change (outcome or impact level)."""
        ev = self.evidence
        return ev[(ev["kind"] == "figure") & ev["level"].isin(["outcome", "impact"])]["lesson"].nunique()

    @property
    def n_with_case_study(self) -> int:
        return int((self.summary["From the case studies"] > 0).sum())

    @property
    def n_partnerships(self) -> int:
        return self.evidence["partnership"].dropna().nunique()

    # sections -------------------------------------------------------------------------------------
    COLUMNS = ["Lesson", "Pieces of evidence", "Initiatives", "Learning points", "Reported figures", "From the case studies"]

    def show_summary(self) -> None:
        per, cols = self.summary, self.COLUMNS
        show(table(per[cols].values.tolist(), cols, "Pieces of evidence linked to each lesson, by kind", numeric=[1, 2, 3, 4, 5]))
        self.page.chart_frame(
            per[["Lesson", "Pieces of evidence", "Backed by a figure"]],
            label="Lesson", value="Pieces of evidence", colour="Backed by a figure",
            title=f"Every lesson has evidence behind it, but only {self.n_with_figure} of {len(per)} are backed by a reported figure",
            x_title="Pieces of evidence linked to the lesson",
            source="This book's links between lessons and evidence, drawn from the review and the case studies",
            csv_name="lesson-evidence-counts.csv", sort=list(per["Lesson"]))

    def show_lesson(self, lesson_id: str) -> None:
        """The lesson's title and our summary, its linked evidence, and links to district pages."""
        d = self.page.data
        r = self.lessons.loc[lesson_id]
        e = self.evidence[self.evidence["lesson"] == lesson_id]
        rows = [[x["what"], kind_and_source(x, "" if x["from_review"] else d.sources.loc[x["source"], "publisher"]),
                 x["area_name"], x["shows"], x["note"]] for x in e.to_dict("records")]
        self.page.record(f"lesson:{lesson_id}", list(e["evidence"]))
        show(tag("p", tag("strong", esc(r["title"])) + ": " + esc(r["summary"]) + " " +
                 tag("span", esc("(Our summary of the lesson.)"), class_="lx-source")),
             table(rows, ["Evidence", "Kind and source", "Area", "What it says (our summary or the figure)",
                          "Why it supports the lesson"],
                   f"Evidence linked to the lesson \u201c{r['title']}\u201d"))
        parts = e["partnership"].dropna()
        if len(parts):
            display(Markdown(f"District pages for this evidence: {fmt.district_links(d.areas, parts)}."))
