"""The view for the cross-walk (chapters/crosswalk.md): the 2021 workshop's local issues and barriers set
against the initiatives of a year's review, theme by theme (analysis.summaries.crosswalk).

Composed with the page's `ChapterView` (held as `page`); the notebook keeps its parameters, this view
and glue.
"""
from __future__ import annotations

import pandas as pd
from IPython.display import Markdown, display

from lancs_evidence.analysis.summaries import concerns_of, crosswalk, explode_themes, left_out_of_concerns
from lancs_evidence.pages import fmt
from lancs_evidence.pages.chapter import ChapterView
from lancs_evidence.pages.html import esc, join, show, table, tag

QUESTION_WORDS = {"local_issues": "local issue", "barriers": "barrier"}


def area_name(areas: pd.DataFrame, area: str) -> str:
    """An area's name, or its id when the book has no such area."""
    return areas.loc[area, "name"] if area in areas.index else area


def quoted(labels) -> str:
    """Theme labels in lower case, each in single quotes, joined in words; 'none' when there are none."""
    return fmt.join_words([f"\u2018{x.lower()}\u2019" for x in labels]) or "none"


def initiatives_in_words(named: pd.DataFrame, areas: pd.DataFrame) -> list[str]:
    """Each initiative as 'Name (Area)'."""
    return [f"{n} {fmt.bracketed(area_name(areas, a))}" for n, a in zip(named["name"], named["area"])]


def thin_clause(labels) -> str:
    """'the thin themes are ...', 'the only thin theme is ...' or 'no theme is thin', by how many there are."""
    labels = list(labels)
    if not labels:
        return "no theme is thin"
    return f"the only thin theme is {quoted(labels)}" if len(labels) == 1 else f"the thin themes are {quoted(labels)}"


def gap_sentence(label: str, thin: bool) -> str:
    """Why the theme with the widest gap between concerns and initiatives is listed in full with the thin ones."""
    if thin:
        return f"Of these, {quoted([label])} has the widest gap between concerns and initiatives."
    return f"We also list {quoted([label])}, which is not thin on this rule but has the widest gap between concerns and initiatives."


def balance_frame(cw: pd.DataFrame) -> pd.DataFrame:
    """One row per theme for the balance chart: initiatives minus concerns, and which side it falls on,
    most concerns first (then by label)."""
    frame = cw.assign(balance=cw["initiatives"] - cw["concerns"])
    frame["side"] = frame["balance"].map(lambda b: "More concerns" if b < 0 else ("More initiatives" if b > 0 else "Even"))
    return frame.sort_values(["balance", "label"])[["label", "concerns", "initiatives", "balance", "side"]].rename(
        columns={"label": "Theme", "concerns": "Concerns at the workshop", "initiatives": "Initiatives in the review",
                 "balance": "Initiatives minus concerns", "side": "Balance"})


class CrosswalkView:
    """The workshop's concerns (local issues and barriers) against the review's initiatives, by theme."""

    def __init__(self, page: ChapterView):
        self.page = page
        d = page.data
        # The workshop's local issues and barriers, and the review's initiatives, share the theme ids of themes.csv.
        events = d.event_contributions
        # without the key points that sum up poll answers also listed one by one, and without links shared
        self.concerns = concerns_of(events)
        self.left_out = left_out_of_concerns(events)
        self.event_source = self.concerns["source"].iloc[0]
        self.inits = page.initiatives(source=page.review_source)
        self.concern_themes, self.init_themes = explode_themes(self.concerns), explode_themes(self.inits)
        # per theme: concerns, initiatives, status, thin (see summaries.crosswalk)
        self.cw = crosswalk(self.concerns, self.inits, d.themes)
        page.record("crosswalk", self.cw)
        cw = self.cw
        self.raised = cw[cw["concerns"] > 0]
        self.thin = cw[cw["thin"]]
        self.more_concerns = self.raised[self.raised["concerns"] > self.raised["initiatives"]]
        self.gap = self.raised.assign(gap=self.raised["concerns"] - self.raised["initiatives"]).sort_values(
            "gap", ascending=False).iloc[0]
        self.unraised = cw[(cw["concerns"] == 0) & (cw["initiatives"] > 0)]
        # listed in full below: the thin themes, and the theme with the widest gap when it is not thin
        self.listed = cw[cw["thin"] | (cw["theme"] == self.gap["theme"])]

    # what prose needs -----------------------------------------------------------------------------
    def count_raised(self, initiatives: str) -> int:
        """Themes raised at the workshop with several (>1), one (1) or no (0) initiatives."""
        n = self.raised["initiatives"]
        return int({"several": n > 1, "one": n == 1, "none": n == 0}[initiatives].sum())

    @property
    def open_clause(self) -> str:
        n_open = self.count_raised("none")
        return "and none is left without any" if n_open == 0 else f"and {fmt.plural(n_open, 'theme')} by none"

    @property
    def open_verdict(self) -> str:
        if self.count_raised("none") == 0:
            return "no theme that worried people is wholly untouched"
        return quoted(self.raised.loc[self.raised["initiatives"] == 0, "label"]) + " have no work against them at all"

    @property
    def thin_clause(self) -> str:
        return thin_clause(self.thin["label"])

    @property
    def gap_sentence(self) -> str:
        return gap_sentence(self.gap["label"], bool(self.gap["thin"]))

    @property
    def source_note(self) -> str:
        page = self.page
        return (f"{page.source_title(self.event_source)} (local issues and barriers); "
                f"{page.source_title(page.review_source)} (initiatives); themes as coded in this book")

    def initiatives_with(self, theme: str) -> pd.DataFrame:
        return self.inits[self.inits["id"].isin(self.init_themes.loc[self.init_themes["theme"] == theme, "id"])]

    # sections -------------------------------------------------------------------------------------
    def show_by_theme(self) -> None:
        cw = self.cw
        rows = [[r["label"], r["concerns"], r["key_points"], r["initiatives"],
                 r["status"] + ("; thin" if r["thin"] else "")] for r in cw.to_dict("records")]
        show(table(rows, ["Theme", "Concerns (issues and barriers)", "Of which key points of the discussion", "Initiatives", "Status"],
                   "Concerns raised at the workshop and initiatives in the review, by theme (a contribution or "
                   "initiative with several themes counts under each)", numeric=[1, 2, 3]))
        # one bar per theme: initiatives in the review minus concerns raised at the workshop
        frame = balance_frame(cw)
        self.page.chart_frame(
            frame, label="Theme", value="Initiatives minus concerns", colour="Balance",
            title=(f"Concerns outnumber initiatives in {len(self.more_concerns)} of {len(self.raised)} themes raised, "
                   f"most of all in {self.gap['label'].lower()}"),
            x_title="Initiatives in the review minus concerns at the workshop", source=self.source_note,
            csv_name="crosswalk-by-theme.csv", sort=frame["Theme"].tolist())

    def show_thin(self) -> None:
        """Every concern under each thin theme (and the theme with the widest gap), and the review's
        initiatives with that theme."""
        ce, areas = self.concern_themes, self.page.data.areas
        out = []
        for r in self.listed.to_dict("records"):
            items = ce[ce["theme"] == r["theme"]].sort_values(["is_key_point", "question", "id"], ascending=[False, False, True])
            lis = join(tag("li", esc(x["summary"]) + " " + tag("span", esc(f"({QUESTION_WORDS[x['question']]}"
                                                                              + ("; key point of the discussion" if x["is_key_point"] else "") + ")"),
                                                                 class_="lx-source"))
                          for x in items.to_dict("records"))
            named = self.initiatives_with(r["theme"])
            work = fmt.join_words(initiatives_in_words(named, areas)) if not named.empty else "none"
            why = "thin" if r["thin"] else "widest gap"
            out.append(tag("h3", esc(f"{r['label']} ({why})")) + tag("ul", lis) +
                       tag("p", tag("strong", "Initiatives in the review with this theme: ") + esc(work)))
            self.page.record(f"thin:{r['theme']}", list(items["id"]))
        show(tag("div", join(out), class_="lx-thin"))

    def show_covered(self) -> None:
        """For each theme with work against it, the initiatives and their areas; then links to the district pages."""
        d = self.page.data
        rows = []
        for r in self.cw[self.cw["initiatives"] > 0].to_dict("records"):
            names = "; ".join(initiatives_in_words(self.initiatives_with(r["theme"]), d.areas))
            rows.append([r["label"], r["concerns"], r["initiatives"], names])
        self.page.record("covered", [[x[0], x[2]] for x in rows])
        show(table(rows, ["Theme", "Concerns raised at the workshop", "Initiatives in the review", "The initiatives (area)"],
                   "Initiatives in the review for each theme, with their areas", numeric=[1, 2]))
        parts = self.inits["area"].map(d.partnership_of).dropna()
        display(Markdown("District pages with these initiatives in full: " + fmt.district_links(d.areas, parts) + "."))
