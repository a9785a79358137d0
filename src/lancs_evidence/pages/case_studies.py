"""Views for the case-study pages: one companion source (templates/case_study.md) and the comparison of
the councils in the LGA's report (chapters/case-studies/lga-councils.md).

Each view is composed with the page's `ChapterView` (it holds it as `page`), works out the tables and
sentences the page needs from the ledger, and shows its sections through the page. The notebooks keep
only their parameters, the view and glue.
"""
from __future__ import annotations

import pandas as pd

from lancs_evidence.analysis.summaries import dedupe_figures, evidence_profile, explode_themes
from lancs_evidence.pages import fmt
from lancs_evidence.pages.chapter import ChapterView
from lancs_evidence.pages.html import esc, show, table, tag

# The order in which a council's own figures are preferred for its headline: a measured outcome, then
# wider impact, then delivery.
LEVEL_RANK = {"outcome": 0, "impact": 1, "output": 2}
# The LGA report's headings for the national policy it describes (as against its evidence for prevention).
POLICY_SECTIONS = ("System change, the NHS and local authorities", "National policy and legislative context")


def headline(area_rows: pd.DataFrame) -> str:
    """The council's strongest figure about its own work: linked to an initiative, not a stated change,
    outcome before impact before output, then the source's order; with its period and any wider footprint."""
    c = area_rows[(area_rows["initiative"] != "") & (area_rows["kind"] != "change")
                  & area_rows["evidence_level"].isin(list(LEVEL_RANK))]
    if c.empty:
        return "No figure on delivery or results"
    r = c.assign(rank=c["evidence_level"].map(LEVEL_RANK)).sort_values("rank", kind="stable").iloc[0]
    # the period (or that none is given) and any wider footprint travel with the figure (issue 13, rule 4)
    context = [fmt.period_inline(r)]  # 'no date given' in lower case; a month keeps its capital
    if fmt.footprint_text(r):
        context.append("covers " + fmt.footprint_text(r))
    return f"{r['statement']}: {fmt.row_figure(r)} ({'; '.join(context + [r['evidence_level']])})"


def billions(row: dict) -> str:
    """A money figure in billions of pounds, with the source's qualifier ("over £117.9 billion")."""
    q = fmt.QUALIFIER_WORDS.get(row["qualifier"] or "", "")
    return (q + " " if q else "") + f"£{fmt.number(row['value'] / 1e9)} billion"


def national_split(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The report's national figures in two parts: its evidence (costs, returns found by published
    studies, inequalities, workplace figures) and the national policy it describes. Both are context for
    the councils, so they are told apart by the report's own headings, not by evidence level. The
    counts of the report's own case studies and principles are in neither."""
    national = rows[(rows["area"] == "national") & ~rows["measure"].isin(["case_studies", "principles_identified"])]
    is_policy = national["section"].str.startswith(POLICY_SECTIONS)
    return national[~is_policy], national[is_policy]


def keys_by_theme(keys: pd.DataFrame, theme_label: pd.Series) -> pd.DataFrame:
    """One row per theme among the keys to success: how many councils and keys carry it, most councils first."""
    kt = explode_themes(keys)
    out = kt.groupby("theme").agg(councils=("area", "nunique"), keys=("id", "nunique")).reset_index()
    out["Theme"] = out["theme"].map(theme_label)
    return out.sort_values(["councils", "keys", "Theme"], ascending=[False, False, True]).reset_index(drop=True)


def rare_themes_text(by_theme: pd.DataFrame) -> str:
    """The themes named by the fewest councils, with that number, as a clause that needs no brackets around
    it ("x and y, each named by one council"); themes whose labels hold 'and' stay apart (fmt.join_words)."""
    fewest = by_theme[by_theme["councils"] == by_theme["councils"].min()]
    n = fmt.count_words(int(fewest["councils"].iloc[0]), "council")
    return fmt.join_words(fewest["Theme"].str.lower().tolist()) + (f", each named by {n}" if len(fewest) > 1 else f", named by {n}")


def leadership_keys(keys: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """The keys to success the chapter names, by id, as naming political or senior leadership (leadership is
    not one of the book's themes), in the report's order. An id that is not one of these keys is an error,
    so a renamed key cannot silently drop out."""
    missing = sorted(set(ids) - set(keys["id"]))
    if missing:
        raise KeyError(f"no key to success with id {', '.join(missing)}")
    return keys[keys["id"].isin(list(ids))]


def source_rows(page: ChapterView, source: str) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One source's entry in sources.csv and its rows in the three ledger tables (figures, initiatives,
    learning points)."""
    return (page.data.sources.loc[source], page.figures(source=source), page.initiatives(source=source),
            page.learning(source=source))


class CouncilsView:
    """The councils' case studies in one report, side by side (chapters/case-studies/lga-councils.md)."""

    def __init__(self, page: ChapterView, source: str, leadership: list[str] = ()):
        self.page, self.source, self.leadership_ids = page, source, list(leadership)
        data = page.data
        self.src, self.rows, self.inits, learn = source_rows(page, source)
        self.keys = learn[learn["kind"] == "key_to_success"]
        self.theme_label = data.themes["label"]
        cases = data.report_cases
        cases = cases[cases["source"] == source]
        # The councils, in the report's order, with the report's title for each case study (its approach).
        self.councils = list(cases["area"])
        self.number = dict(zip(cases["area"], cases["number"]))
        self.title = dict(zip(cases["area"], cases["title"]))
        self.name = {a: data.areas.loc[a, "name"] for a in self.councils}
        self.side = self._side()
        self.council_rows = self.rows[self.rows["area"].isin(self.councils)]
        self.by_theme = keys_by_theme(self.keys, self.theme_label)
        self.evidence, self.policy = national_split(self.rows)

    def _side(self) -> pd.DataFrame:
        out = []
        for a in self.councils:
            ar = self.rows[self.rows["area"] == a]
            out.append({
                "area": a, "Council": self.name[a], "Case study (the report's title)": self.title[a],
                "Headline figure on its own work": headline(ar),
                "Figures": len(ar),
                "Delivery or results": int(ar["evidence_level"].isin(["output", "outcome"]).sum()),
                "Outcome level": int((ar["evidence_level"] == "outcome").sum()),
                "Keys to success": int((self.keys["area"] == a).sum()),
                "Initiatives": int((self.inits["area"] == a).sum()),
            })
        return pd.DataFrame(out)

    # what prose needs -----------------------------------------------------------------------------
    @property
    def with_outcome(self) -> list[str]:
        return self.side[self.side["Outcome level"] > 0]["Council"].tolist()

    @property
    def no_delivery(self) -> list[str]:
        return self.side[self.side["Delivery or results"] == 0]["Council"].tolist()

    @property
    def n_council_initiatives(self) -> int:
        return int(self.inits["area"].isin(self.councils).sum())

    def level_count(self, level: str) -> int:
        return int((self.council_rows["evidence_level"] == level).sum())

    @property
    def n_area_context(self) -> int:
        """Council figures that describe the area or its setting (context) rather than the council's work."""
        return self.level_count("context")

    @property
    def rare_themes_text(self) -> str:
        return rare_themes_text(self.by_theme)

    @property
    def leadership(self) -> pd.DataFrame:
        return leadership_keys(self.keys, self.leadership_ids)

    @property
    def leadership_titles(self) -> list[str]:
        """The titles of the keys naming leadership, in lower case, each once, sorted."""
        return sorted({t.lower() for t in self.leadership["title"]})

    def billions(self, figure_id: str) -> str:
        return billions(self.page.figure(figure_id))

    def _in_report_order(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(_order=frame["area"].map(self.number)).sort_values("_order", kind="stable")

    # sections -------------------------------------------------------------------------------------
    COLUMNS = ["Council", "Case study (the report's title)", "Headline figure on its own work", "Figures",
               "Delivery or results", "Outcome level", "Keys to success", "Initiatives"]

    def show_side_by_side(self) -> None:
        cols = self.COLUMNS
        self.page.record("side_by_side", self.side[["area"] + cols[3:]])
        show(table(self.side[cols].astype(str).values.tolist(), cols,
                   "The council case studies compared: approach, strongest figure and what the ledger holds for each",
                   numeric=[3, 4, 5, 6, 7]))

    def chart_delivery(self) -> None:
        d = self.side[["Council", "Delivery or results"]]
        top = d.loc[d["Delivery or results"].idxmax()]
        zero = int((d["Delivery or results"] == 0).sum())
        self.page.chart_frame(
            d, label="Council", value="Delivery or results",
            title=f"{top['Council']} reports the most figures on delivery or results; {zero} of the {len(d)} councils report none",
            x_title="Figures at output or outcome level", source=f"{self.src['title']}, Case studies",
            csv_name="lga-councils-delivery-figures.csv")

    def show_initiatives(self) -> None:
        ordered = self._in_report_order(self.inits[self.inits["area"].isin(self.councils)])
        self.page.show_initiatives(ordered, "Initiatives described in the council case studies, in the report's order")

    def chart_key_themes(self) -> None:
        top, n = self.by_theme.iloc[0], len(self.councils)
        c = self.by_theme.rename(columns={"councils": "Councils"})
        self.page.chart_frame(
            c[["Theme", "Councils"]], label="Theme", value="Councils",
            title=(f"{top['Theme']} is among the keys to success of "
                   + (f"every one of the {n} councils" if int(top["councils"]) == n
                      else f"{int(top['councils'])} of the {n} councils")),
            x_title="Councils naming the theme in a key to success", source=f"{self.src['title']}, Case studies, Keys to success",
            csv_name="lga-keys-to-success-by-theme.csv")

    def show_keys_by_theme(self) -> None:
        kt = explode_themes(self.keys)
        body = []
        for t in self.by_theme.to_dict("records"):
            ks = self._in_report_order(kt[kt["theme"] == t["theme"]])
            items = [f"{r['title']} ({self.name[r['area']]})" for r in ks.to_dict("records")]
            body.append([t["Theme"], str(t["councils"]), "; ".join(items)])
        self.page.record("keys_by_theme", body)
        show(table(body, ["Theme", "Councils", "Keys to success with this theme (council)"],
                   "Keys to success grouped by theme; a key with several themes appears under each", numeric=[1]))


def theme_set(frame: pd.DataFrame) -> set[str]:
    """Every theme id the rows carry (themes are written 'a;b')."""
    return {t.strip() for ts in frame["themes"] for t in ts.split(";") if t.strip()}


def compare_themes(case_inits: pd.DataFrame, review_inits: pd.DataFrame, lancs: list[str],
                   label: pd.Series) -> tuple[list[str], list[str]]:
    """Theme labels (lower case, sorted) that the case study's initiatives in Lancashire (`lancs`, area
    ids) share with the partnership's reported initiatives, and those found only in the case study.

    Only the Lancashire initiatives count: a source that also describes work elsewhere (Westminster,
    the Scottish Borders) must not credit the Lancashire place with themes from those places."""
    local = case_inits[case_inits["area"].isin(lancs)]
    case, review = theme_set(local), theme_set(review_inits)
    return sorted(label[t].lower() for t in case & review), sorted(label[t].lower() for t in case - review)


def case_only_sentence(only: list[str]) -> str:
    """The sentence naming the themes a case study adds to what the review reports, in the right number."""
    if not only:
        return "Every theme of its Lancashire work also appears among the partnership's reported initiatives."
    if len(only) == 1:
        return (f"The theme {only[0]} is found here but not among the partnership's reported initiatives: "
                "that is where the case study adds something the review does not describe.")
    return (f"The themes {fmt.join_words(only)} are found here but not among the partnership's reported "
            "initiatives: those are where the case study adds something the review does not describe.")


def proof_caveat(n_results: int) -> str:
    """What a single self-reported source can show, worded for whether it gives any result figure."""
    if n_results:
        return ("A single source telling its own story cannot show what would have happened without the "
                "work, so even its result figures are best read as promising signs rather than proof.")
    return ("A single source telling its own story cannot show what would have happened without the work, "
            "and this one puts no figure on any result: where it reports success, it does so in words.")


def places_text(places: pd.DataFrame) -> str:
    """The places a source covers in words: one local place by name, several counted and named, and the
    country as a whole mentioned when it is among them."""
    local = places[places["kind"] != "country"]
    return ((local["name"].iloc[0] if len(local) == 1 else
             fmt.plural(len(local), "place") + " (" + fmt.join_words(list(local["name"])) + ")")
            + (", and the picture for the country as a whole" if len(local) < len(places) else ""))


def chartable_counts(distinct: pd.DataFrame) -> pd.DataFrame:
    """Counts of what was delivered or achieved (people reached, people into work), drawn on one axis.

    Activity counts (staff posts, strands of an approach) are other kinds of thing and stay in the table;
    population-level context counts would dwarf the rest; one person's account is never a figure."""
    return distinct[(distinct["unit"] == "count") & (distinct["kind"] != "change") & distinct["value"].notna()
                    & distinct["evidence_level"].isin(["output", "outcome"])]


def evidence_counts(rows: pd.DataFrame, relations: pd.DataFrame) -> dict[str, int]:
    """The counts behind a case study's 'how strong' sentence, each figure counted once however often the
    source states it (`dedupe_figures`): Fleetwood's ten years of joint working, stated three times, is one
    figure of activity, not three. Testimony is set apart and counts nowhere here."""
    d = dedupe_figures(rows, relations)
    level = d["evidence_level"]
    has_baseline = d["baseline"].notna() if "baseline" in d else pd.Series(False, index=d.index)
    has_comparator = d["comparator"].fillna("").astype(str).ne("") if "comparator" in d else pd.Series(False, index=d.index)
    return {"activity_output": int(level.isin(["activity", "output"]).sum()),
            "results": int((level == "outcome").sum()),
            "context": int((level == "context").sum()),
            "with_comparison": int(((has_baseline | has_comparator) & (level != "testimony")).sum()),
            "noted": int(((d["note"].fillna("") != "") & (level != "testimony")).sum())}


class CaseStudyView:
    """One companion case study (templates/case_study.md): its rows, how strong they are, and what it
    shares with the Lancashire partnership it covers."""

    def __init__(self, page: ChapterView, source: str, leadership: list[str] = ()):
        self.page, self.source, self.leadership_ids = page, source, list(leadership)
        data = page.data
        self.src, self.rows, self.inits, learning = source_rows(page, source)
        self.keys = learning[learning["kind"] == "key_to_success"]
        self.lessons = learning[learning["kind"] != "key_to_success"]
        self.distinct = dedupe_figures(self.rows, data.relations)
        # The places it covers, in the book's order of areas.
        used = set(self.rows["area"]) | set(self.inits["area"]) | set(learning["area"])
        self.places = data.areas[data.areas["id"].isin(used)]
        self.lancs = [a for a in self.places["id"] if "place" in data.ancestors(a)]
        # How strong the evidence is.
        self.profile = evidence_profile(self.rows)
        self.context = self.rows[self.rows["evidence_level"] == "context"]
        self.results = self.rows[self.rows["evidence_level"] == "outcome"]
        # caveats of the figures; a single person's account carries its caveat where it is set apart
        self.noted = self.rows[(self.rows["note"] != "") & (self.rows["evidence_level"] != "testimony")]
        # Lancashire: the council and district partnership of the places it covers.
        if self.lancs:
            chain = data.ancestors(self.lancs[0])
            self.partnership = next((a for a in chain if data.areas.loc[a, "kind"] == "partnership"), None)
            self.council = next((a for a in chain if data.areas.loc[a, "kind"] == "district"), None)
        else:
            self.partnership = self.council = None
        if self.partnership:
            self.review_rows = data.rows_for(self.partnership, source=page.review_source)
            self.review_inits = data.rows_for(self.partnership, "initiatives", source=page.review_source)
        else:
            self.review_rows, self.review_inits = self.rows.iloc[0:0], self.inits.iloc[0:0]

    # what prose needs -----------------------------------------------------------------------------
    @property
    def date_note(self) -> str:
        return (f"dated {self.src['date'][:4]}" if self.src["date"] else
                "undated in the copy used here, so its figures cannot be tied to a year unless it gives one")

    @property
    def places_text(self) -> str:
        return places_text(self.places)

    @property
    def n_activity_output(self) -> int:
        return self.profile["activity"] + self.profile["output"]

    @property
    def n_with_comparison(self) -> int:
        return int((self.rows["has_baseline"] | self.rows["has_comparator"]).sum())

    @property
    def results_sentence(self) -> str:
        n = len(self.results)
        return (f"This source gives {fmt.plural(n, 'such figure')}; they are shown first below." if n else
                "This source gives none: where it describes results, it does so in words, without figures.")

    def area_name_or(self, area: str | None, none: str) -> str:
        return self.page.data.areas.loc[area, "name"] if area else none

    @property
    def lancs_places(self) -> str:
        return fmt.join_words([self.page.data.areas.loc[a, "name"] for a in self.lancs]) or "no Lancashire place"

    def themes_compared(self) -> tuple[list[str], list[str]]:
        """Theme labels (lower case, sorted) the case study's Lancashire initiatives share with the
        partnership's reported initiatives, and those found only in the case study."""
        return compare_themes(self.inits, self.review_inits, self.lancs, self.page.data.themes["label"])

    # sections -------------------------------------------------------------------------------------
    def show_results(self) -> None:
        if len(self.results):
            self.page.show_headlines([(r["id"], r["statement"]) for r in self.results.to_dict("records")])

    def chart_counts(self) -> None:
        counts = chartable_counts(self.distinct)
        if len(counts) >= 2:
            top = counts.loc[counts["value"].idxmax()]
            self.page.chart_bars(
                counts, label="statement", x_title="Number, as stated",
                title=f"The largest count it reports: {top['statement'][0].lower() + top['statement'][1:]} ({fmt.ledger_figure(top)})",
                csv_name=f"counts-{self.source}.csv")
        else:
            show(tag("p", esc("The source gives fewer than two counts of what was delivered or achieved, so no chart of them is drawn.")))

    def show_caveats(self) -> None:
        caveats = self.noted.assign(title=self.noted["statement"], summary=self.noted["note"])
        self.page.show_learning(caveats, "Caveats recorded against its figures")
