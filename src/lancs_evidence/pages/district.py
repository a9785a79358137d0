"""The district partnership page (`templates/district.md`): one per partnership in `data/areas.csv`."""
from __future__ import annotations

import altair as alt
import pandas as pd
from markupsafe import Markup

from lancs_evidence.analysis.summaries import (
    change_between,
    distinct_initiatives,
    drop_repeated_values,
    merge_repeats,
    theme_counts,
)
from lancs_evidence.data.vocab import NOT_WORK_LEVELS
from lancs_evidence.pages import charts, fmt
from lancs_evidence.pages.html import esc, join, show, table, tag
from lancs_evidence.pages.view import (
    COMPARE_WORDS,
    LEDGER_CONTEXT,
    POPULATION_PERIOD,
    POPULATION_SOURCE,
    View,
)


class DistrictView(View):
    template = "templates/district.md"

    def __init__(self, area: str, year: str | None = None):
        super().__init__(year)
        self.row = self.require_area(area, "partnership", "a district partnership")
        self.area = area
        self.name = self.row["name"]
        self.locality = self.data.locality_of(area)
        self.councils = self.data.councils(area)
        rows = self.data.rows_for(area)
        self.figures = rows[rows["source"] == self.review_source]
        self.other_evidence = rows[rows["source"] != self.review_source]
        init = self.data.rows_for(area, "initiatives")
        self.initiatives = init[init["source"] == self.review_source] if not init.empty else init
        # figures the review quotes in this partnership's section for a wider or other area (the lung health
        # checks across Lancashire and South Cumbria in Hyndburn's): shown apart, never as the partnership's own
        linked = self.data.select("figures", source=self.review_source, initiatives=list(self.initiatives.get("id", [])))
        self.wider = quoted_for_other_areas(linked, list(self.initiatives.get("id", [])), self.data.subtree(area))
        lp = self.data.rows_for(area, "learning_points")
        self.learning = lp[lp["source"] == self.review_source] if not lp.empty else lp
        self.record("figures", self.figures[["id", "value", "value_high", "unit", "qualifier", "baseline", "target"]])

    # numbers for the prose -----------------------------------------------------------------------
    def glue_all(self) -> None:
        """What templates/district.md glues (its Census population and evidence sentence come from
        `context.glue_district_evidence`)."""
        self.glue("name", self.name)
        self.glue("locality", self.data.areas.loc[self.locality, "name"] if self.locality else "")
        self.glue("councils_covered", fmt.counted_names(list(self.councils["name"]), "district council"))
        self.glue("population_source", POPULATION_SOURCE)
        self.glue("n_figures", fmt.plural(len(self.figures), "figure"))
        self.glue("n_initiatives", fmt.plural(distinct_initiatives(self.initiatives), "initiative"))
        counts = theme_counts(self.initiatives, self.data.themes)
        self.glue_prose("theme_sentence", fmt.most_common_sentence(fmt.top_labels(counts)) if not counts.empty
                        else "There are none to group this year.")
        self.glue("reported_in", fmt.titled_for_year(self.source_title(self.review_source), self.year_label))

    def population(self) -> pd.DataFrame:
        pop = self.data.reference("population")
        return pop[pop["ons_code"].isin(self.councils["ons_code"])]

    # sections ------------------------------------------------------------------------------------
    def members(self) -> None:
        pop = self.population().set_index("ons_code")
        meta = self.data.reference_meta("population")
        rows = []
        for c in self.councils.to_dict("records"):
            p = pop.loc[c["ons_code"]]
            rows.append([c["name"], c["ons_code"], fmt.number(p["census2021_usual_residents"]), fmt.number(p["population_mid2020"]),
                         fmt.number(p["age_65_plus_mid2020"] / p["population_mid2020"] * 100, 1) + "%"])
        self.record("members", rows)
        show(table(rows, ["Council", "ONS code", "Usual residents, Census 2021 (used for rates)", "Population, mid-2020 estimate",
                          "Aged 65 and over (share of the mid-2020 estimate)"],
                   f"Councils in the {self.name} partnership and their residents", numeric=[2, 3, 4]),
             tag("p", "Source: " + esc(meta["publisher"]) + ", " + esc(meta["title"]) + " "
                 + esc(fmt.bracketed(f"{meta['period']}; {meta['licence']}")) + ".", class_="lx-source"))

    def deprivation(self) -> None:
        imd25 = self.data.reference("imd2025").set_index("ons_code")
        imd19 = self.data.reference("imd2019").set_index("ons_code")
        rows, figs = [], []
        for c in self.councils.to_dict("records"):
            a, b = imd25.loc[c["ons_code"]], imd19.loc[c["ons_code"]]
            r25, n25 = int(a["imd_rank_of_average_score"]), int(a["districts_ranked"])
            r19, n19 = int(b["imd_rank_of_average_score"]), int(b["districts_ranked"])
            share25 = a["share_lsoas_most_deprived_decile"] * 100
            share19 = b["share_lsoas_most_deprived_decile"] * 100
            rows.append([c["name"], f"{r25} of {n25}", f"{r19} of {n19}", f"{fmt.number(share25, 1)}%", f"{fmt.number(share19, 1)}%",
                         _share_change_words(share19, share25)])
            figs.append({"council": c["name"], "rank2025": r25, "rank2019": r19, "share2025": share25, "share2019": share19})
        self.record("deprivation", figs)
        meta = self.data.reference_meta("imd2025")
        show(table(rows, ["Council", "IoD 2025 rank (1 = most deprived)", "IoD 2019 rank", "Small areas in England's most deprived tenth, 2025",
                          "Same, 2019", "Change in that share"],
                   f"Deprivation in the {self.name} partnership, 2019 and 2025", numeric=[1, 2, 3, 4]),
             tag("p", Markup("Ranks are of the average score across each district's small areas. The 2019 ranking covered 317 districts "
                        "and the 2025 ranking 296, after council mergers, so compare ranks with care; the share of small areas in the "
                        "most deprived tenth is comparable. Source: ") + esc(meta["publisher"]) + ", Indices of Deprivation 2025 and 2019 (" + esc(meta["licence"]) + ").",
                 class_="lx-source"))

    def health_profile(self) -> None:
        ft = self.data.reference("fingertips")
        ft = ft[ft["ons_code"].isin(self.councils["ons_code"])].copy()
        ft["council"] = ft["ons_code"].map(self.councils.set_index("ons_code")["name"])
        ft["comparison"] = ft["compared_to_england"].fillna("Not compared")
        ft["unit_label"] = ft["unit"].map({"pct": "%", "years": "years", "per 1,000": "per 1,000", "per 100,000": "per 100,000"}).fillna(ft["unit"])
        meta = self.data.reference_meta("fingertips")
        rows = []
        for r in ft.to_dict("records"):
            swatch = tag("span", "", class_=f"lx-swatch lx-cmp-{r['comparison'].lower().replace(' ', '-')}", aria_hidden="true")
            words = COMPARE_WORDS.get(r["comparison"], "not compared with England")
            period_note = "" if r["england_period_matches"] else " (England figure is for a later period)"
            rows.append([esc(r["label"]), esc(r["council"]) if len(self.councils) > 1 else esc(r["period"]),
                         tag("strong", esc(f"{fmt.number(r['value'])} {r['unit_label']}".replace(" %", "%"))),
                         esc(f"{fmt.number(r['ci95_lower'])} to {fmt.number(r['ci95_upper'])}"),
                         esc(f"{fmt.number(r['england_value'])}{period_note}"),
                         swatch + esc(words[0].upper() + words[1:])])
        second = "Council" if len(self.councils) > 1 else "Period"
        counts = ft["comparison"].value_counts()
        self.record("health_profile", ft[["ons_code", "indicator", "value", "ci95_lower", "ci95_upper", "england_value", "comparison"]])
        self.glue("n_worse", fmt.plural(int(counts.get("Worse", 0)), "indicator"))
        self.glue("n_better", fmt.plural(int(counts.get("Better", 0)), "indicator"))
        self.glue("n_similar", fmt.plural(int(counts.get("Similar", 0)), "indicator"))
        self.glue("n_indicators", fmt.plural(len(ft), "indicator value"))
        from lancs_evidence.pages.context import profile_sentence  # a sentence that reads well for counts of 0 and 1

        self.glue_prose("profile_sentence", profile_sentence(len(ft), int(counts.get("Worse", 0)), int(counts.get("Similar", 0)),
                                                       int(counts.get("Better", 0))))
        show(table(rows, ["Indicator", second, "Value", "95% confidence interval", "England", "Compared with England"],
                   f"Public health indicators for the {self.name} partnership's councils against England",
                   classes="lx-table lx-profile"))
        show(self._profile_chart(ft, meta))

    def _profile_chart(self, ft: pd.DataFrame, meta: dict) -> str:
        d = ft[["label", "council", "value", "ci95_lower", "ci95_upper", "england_value", "comparison", "unit_label", "period"]].copy()
        d["relative"] = (d["value"] / d["england_value"] - 1) * 100
        scale = alt.Scale(domain=list(charts.COMPARISON_COLOURS), range=list(charts.COMPARISON_COLOURS.values()))
        several = len(self.councils) > 1
        # several councils: their names wrap onto two lines and the legend sits below, so the panels fit a
        # phone's width unscaled (scaled down, their 12 px text drew at 11 px)
        y_axis = alt.Axis(ticks=False, domain=False, title=None, labelExpr=charts.wrap_expr(16)) if several else None
        base = alt.Chart().encode(y=alt.Y("council:N", title=None, axis=y_axis))
        ci = base.mark_rule(size=2, color="#555").encode(x=alt.X("ci95_lower:Q", title=None, scale=alt.Scale(zero=False)), x2="ci95_upper:Q")
        dot = base.mark_point(filled=True, size=110, opacity=1, stroke="#1a1a1a", strokeWidth=0.8).encode(
            x="value:Q", color=alt.Color("comparison:N", scale=scale, title="Compared with England"),
            shape=alt.Shape("comparison:N", title="Compared with England",
                            scale=alt.Scale(domain=list(charts.COMPARISON_COLOURS), range=["triangle-up", "circle", "triangle-down", "square"])),
            tooltip=["label:N", "council:N", "value:Q", "ci95_lower:Q", "ci95_upper:Q", "england_value:Q", "comparison:N"])
        eng = base.mark_tick(color="#000", thickness=3, size=22).encode(x="england_value:Q")
        chart = (alt.layer(ci, eng, dot, data=d)
                 .properties(width=220 if several else 280, height=alt.Step(32) if several else 28)
                 .facet(row=alt.Row("label:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelAnchor="start",
                                                                               labelOrient="top", labelFontSize=12, labelFontWeight="bold")),
                        spacing=6)
                 .resolve_scale(x="independent"))
        if several:
            chart = chart.configure_legend(orient="bottom", direction="horizontal", columns=2)
        worse = d[d["comparison"] == "Worse"]
        desc = ("One row per indicator: each council's value (a dot, shaped and coloured by how it compares with England), its 95% "
                "confidence interval (a grey line) and England's value (a black tick). "
                + (f"None of the {len(d)} values is significantly worse than England. " if worse.empty else
                   f"{fmt.plural(len(worse), 'value')} of {len(d)} {'is' if len(worse) == 1 else 'are'} significantly worse than England. ")
                + profile_gaps(d))
        title = profile_chart_title(self.name, len(worse), len(d))
        return charts.accessible_chart(chart, d.drop(columns=["relative"]), title=title, description=desc,
                                        source=f"{meta['publisher']}, {meta['title']} {fmt.bracketed(meta['period'])}", csv_name=f"health-profile-{self.area}.csv",
                                        table_columns={"label": "Indicator", "council": "Council", "value": "Value", "ci95_lower": "Lower 95% limit",
                                                       "ci95_upper": "Upper 95% limit", "england_value": "England", "comparison": "Compared with England",
                                                       "unit_label": "Unit", "period": "Period"}, responsive=False)

    def initiatives_by_theme(self) -> None:
        if self.initiatives.empty:
            show(tag("p", esc(f"The review names no initiatives for {self.name}.")))
            return
        themes = self.data.themes
        rows = []
        for r in merge_repeats(self.initiatives).to_dict("records"):  # work described twice is one row
            labels = [themes.loc[t.strip(), "label"] for t in r["themes"].split(";") if t.strip() in themes.index]
            rows.append([r["name"], "; ".join(labels), r["partners"].replace(";", ", "), r["summary"]])
        counts = theme_counts(self.initiatives, themes)
        self.record("initiatives", rows)
        show(table(rows, ["Initiative", "Themes", "Partners named", "What it does (our summary)"],
                   f"Initiatives of the {self.name} partnership, {self.year_label}"))
        if len(counts) > 1:
            c = counts.rename(columns={"label": "Theme", "initiatives": "Initiatives"})
            chart = charts.bar(c, "Theme", "Initiatives", x_title="Number of initiatives")
            top = fmt.top_labels(counts)
            top_title = (f"{top[0]} is the most common theme" if len(top) == 1 else
                         f"{fmt.join_words([top[0]] + [t.lower() for t in top[1:]])} are, level, the most common themes")
            show(charts.accessible_chart(
                chart, c[["Theme", "Initiatives"]],
                title=f"{top_title} of {self.name}'s initiatives",
                description=charts.describe_extremes(c, "Theme", "Initiatives", what="Initiatives by theme (an initiative can have several themes)"),
                source=self.cite(self.review_source, "3. District Health and Wellbeing Partnerships"), csv_name=f"initiatives-by-theme-{self.area}.csv"))

    def reported_figures(self) -> None:
        if self.figures.empty:
            show(tag("p", esc(f"The review reports no figures for {self.name}.")))
            self.wider_figures()
            return
        show(self.figures_table(self.figures, f"Figures the {self.year_label} review reports for {self.name}, each with the "
                                                f"area it covers, the period the source gives and its caveat"),
             self.audit_line(list(self.figures["id"])))
        made = self.before_after_charts(self.figures) + self.target_only_charts(self.figures)
        counts = self.figures[(self.figures["unit"] == "count") & (self.figures["kind"] != "change") & self.figures["value"].notna()
                               & ~self.figures["evidence_level"].isin(NOT_WORK_LEVELS)]
        counts = drop_repeated_values(counts, self.data.relations)  # a figure the source states twice is one bar
        if len(counts) >= 2:
            # the whole statement, never cut (the chart wraps long labels); the qualifier travels with the bar
            d = self.with_ledger_context(counts).assign(label=counts["statement"])
            d["label"] = d["label"] + d["shown"].map(lambda t: f" ({t})")
            chart = charts.bar(d, "label", "value", x_title="Number, as the source states it")
            made.append(charts.accessible_chart(
                chart, d[["label", "value", "shown", "period_shown", "footprint_shown", "caveat"]],
                title=f"The counts {self.name} reported, largest first (different things and periods: never add them up)",
                description=charts.describe_extremes(d, "statement", "value", what="Counts reported", shown="shown") +
                " Each label keeps the source's qualifier, such as 'over'.",
                source=self.cite(self.review_source, "3. District Health and Wellbeing Partnerships"),
                csv_name=f"counts-{self.area}.csv",
                table_columns={"label": "What was counted", "value": "Value", **LEDGER_CONTEXT}))
        if made:
            show(*made)
        self.wider_figures()

    def wider_figures(self) -> None:
        """Figures quoted in the partnership's section of the review for a wider or different area."""
        if self.wider.empty:
            return
        self.record("wider_figures", list(self.wider["id"]))
        show(tag("p", esc(f"The review's section on {self.name} also quotes {fmt.plural(len(self.wider), 'figure')} for a wider "
                          f"or different area. {'It describes' if len(self.wider) == 1 else 'They describe'} the area named "
                          f"in the table, not {self.name}'s own results, and {'is' if len(self.wider) == 1 else 'are'} left "
                          "out of every count on this page.")),
             self.figures_table(self.wider, f"Figures quoted in the {self.name} section for a wider or different area",
                                with_area=True))

    def per_resident(self) -> None:
        """Counts of residents reached for the whole partnership, per 1,000 usual residents (Census 2021).

        Only measures declared population-level in measures.csv, only dated figures covering the partnership
        itself (no wider footprint), never words or context; the qualifier travels into the rate."""
        from lancs_evidence.analysis.summaries import rates_for

        pop = self.population()
        rows = self.figures[self.figures["area"] == self.area]
        table_pop = pd.DataFrame({"area": [self.area], "population": [float(pop["census2021_usual_residents"].sum())],
                                  "population_period": [POPULATION_PERIOD]})
        r = rates_for(rows, table_pop, per=1000)
        if r.empty:
            show(tag("p", esc(f"None of the review's figures for {self.name} is a dated count of residents for the whole "
                              "partnership that can fairly be expressed per 1,000 residents.")))
            return
        r = r.merge(rows[["id", "statement", "unit", "value_high", "value_dp", "period", "note", "footprint", "value_words"]], on="id")
        self.record("rates", r[["id", "rate", "population_period"]])
        body = []
        for x in r.to_dict("records"):
            rate_fig = fmt.figure(round(x["rate"], 1), "", x["qualifier"],
                                  round(x["rate_high"], 1) if pd.notna(x["rate_high"]) else None, 1)
            body.append([x["statement"], fmt.ledger_figure(x), fmt.period_text(x), fmt.number(x["population"]), rate_fig])
        show(table(body, ["What was counted", "Figure", "Period of the figure", "Usual residents, Census 2021",
                          "Per 1,000 residents"],
                   f"Counts for the whole {self.name} partnership per 1,000 residents", numeric=[3, 4]),
             tag("p", Markup("Rates divide by the usual residents of the partnership's councils counted at the 2021 Census "
                 "(Office for National Statistics), the most recent official count held in this book; the figures themselves "
                 "cover the period shown. Only counts of residents reached that the review dates are divided (an undated count "
                 "has no period to set a rate against); a rate from a figure stated with 'over' or 'about' keeps that word."), class_="lx-source"))

    def year_over_year(self) -> None:
        """Measures this partnership reported in both this year and the year before, side by side."""
        prev = self.data.previous_year()
        if prev is None:
            show(tag("p", esc(f"{self.year_label} is the first year held in this book, so there is no earlier year to compare with.")))
            return
        prev_label = self.project.year_label(prev)
        before = self.data.rows_for(self.area)
        before = before[before["source"] == self.data.review_source(prev)]
        both = years_side_by_side(self.figures, before)
        self.record("year_over_year", both[["area", "measure", "value", "value_prev"]])
        if both.empty:
            show(tag("p", esc(f"None of the measures {self.name} reported for {self.year_label} was also reported for {prev_label}.")))
            return
        rows = year_over_year_rows(both, self.data.areas["name"])
        show(table(rows, ["Measure", "Area", prev_label, self.year_label, "Change"],
                   f"Measures {self.name} reported in both {prev_label} and {self.year_label}", numeric=[2, 3]))

    def learning_points(self) -> None:
        if self.learning.empty:
            show(tag("p", esc(f"The review records no learning points for {self.name}.")))
            return
        items = join(tag("li", (tag("strong", esc(r["title"])) + ": " if r.get("title") else "") + esc(r["summary"]))
                        for r in self.learning.to_dict("records"))
        self.record("learning", list(self.learning["id"]))
        show(tag("ul", items, class_="lx-learning"))

    def evidence(self) -> None:
        # the sentence about it is glued by `context.glue_district_evidence`, which counts each result once
        show(self.evidence_chart(self.figures, self.name, self.cite(self.review_source, "3. District Health and Wellbeing Partnerships")))

    def related_evidence(self) -> None:
        other = self.other_evidence
        if other.empty:
            show(tag("p", esc(f"No case study in the book is about {self.name}.")))
            return
        titles = [self.source_title(s) for s in other["source"].unique()]
        show(tag("p", esc(f"Other sources in this book also report on places in {self.name}: {fmt.join_words(titles)}.")),
             self.figures_table(other, f"Figures about {self.name} from other sources", with_area=True))

    def provenance(self) -> None:
        self.provenance_box({"area": self.area, "year": self.year}, self.area, self.template)


def years_side_by_side(now: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Each (area, measure) reported in both years, one row per pair: this year's columns as they are and the
    earlier year's with the suffix `_prev` (the first statement of each year when a measure is stated twice)."""
    both = now.merge(before, on=["area", "measure"], suffixes=("", "_prev"))
    return both.drop_duplicates(subset=["area", "measure"])


def previous_row(row: dict) -> dict:
    """The earlier year's ledger row out of a `years_side_by_side` row (its `_prev` columns, unsuffixed)."""
    return {k[:-5]: v for k, v in row.items() if k.endswith("_prev")}


def year_over_year_rows(both: pd.DataFrame, area_names: pd.Series) -> list[list[str]]:
    """Table rows (measure, area, earlier figure, this year's figure, change) for `years_side_by_side` pairs.
    The change is worked out only when both figures are exact; a bound, a range or words is shown, not subtracted."""
    from lancs_evidence.analysis.summaries import Change

    rows = []
    for r in both.to_dict("records"):
        prev = previous_row(r)
        prev_fig = fmt.ledger_figure(prev | {"unit": r["unit"]})
        if not change_between(r, prev):
            rows.append([r["measure_label"], area_names[r["area"]], prev_fig, fmt.ledger_figure(r),
                         "Not worked out: a figure is a bound, a range or words"])
            continue
        ch = Change(float(r["value_prev"]), float(r["value"]), r["unit"], r.get("polarity") or "neutral")
        rows.append([r["measure_label"], area_names[r["area"]], prev_fig, fmt.ledger_figure(r), ch.describe()])
    return rows


def quoted_for_other_areas(figures: pd.DataFrame, initiative_ids: list[str], own_areas) -> pd.DataFrame:
    """Rows linked to one of a partnership's initiatives but filed under an area outside the partnership
    (a county, ICB or national figure quoted in its section)."""
    if figures.empty or not len(initiative_ids):
        return figures.iloc[0:0]
    return figures[figures["initiative"].isin(list(initiative_ids)) & ~figures["area"].isin(list(own_areas))]


def profile_gaps(d: pd.DataFrame) -> str:
    """The widest gaps from England, in the chart's summary, among values that differ from England beyond
    chance only (columns label, council, value, england_value, comparison): a 'similar' value with a wide
    interval, such as a smoking estimate from a small survey, is never named as the furthest from England."""
    differ = d[d["comparison"].isin(["Better", "Worse"]) & (d["england_value"] != 0)]
    if differ.empty:
        return "No value differs from England by more than chance."
    rel = differ["value"] / differ["england_value"] - 1
    parts = []
    for words, row, sign in (("above", differ.loc[rel.idxmax()], 1), ("below", differ.loc[rel.idxmin()], -1)):
        if sign * (row["value"] - row["england_value"]) > 0:
            parts.append(f"furthest {words} England is {row['label']} in {row['council']} ({fmt.number(row['value'])} "
                         f"against {fmt.number(row['england_value'])})")
    return ("Of the values that differ from England beyond chance, " + " and ".join(parts) + ".") if parts else ""


def profile_chart_title(name: str, n_worse: int, n_values: int) -> str:
    """The health profile chart's title, its verb agreeing with the count ("1 of 12 ... is worse")."""
    if not n_worse:
        return f"{name}: no indicator is significantly worse than England"
    return f"{name}: {n_worse} of {n_values} indicator values {'is' if n_worse == 1 else 'are'} worse than England"


def _share_change_words(before: float, after: float) -> str:
    diff = after - before
    if abs(diff) < 0.05:
        return "about the same"
    return f"{'up' if diff > 0 else 'down'} {fmt.number(abs(diff), 1)} percentage points"
