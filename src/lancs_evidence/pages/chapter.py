"""A general view for chapter pages: pick ledger rows, glue single figures into prose, show tables
and accessible charts. Chapters call these; they never type a number.

Typical use in a chapter notebook:

    page = ChapterView("chapters/priorities/urgent-care.md", year)
    page.glue_figure("nmc2r_now", "eoy-north-nmc2r-share")          # prose: {glue:text}`nmc2r_now`
    rows = page.figures(section_contains="Urgent and Emergency Care")
    page.show_figures(rows, "Figures the review gives for urgent and emergency care")
    page.chart_before_after("eoy-dolphinlee-los")
"""
from __future__ import annotations

import pandas as pd

from lancs_evidence.analysis.summaries import change_of, target_of, theme_counts
from lancs_evidence.pages import charts, fmt
from lancs_evidence.pages.html import esc, join, show, table, tag
from lancs_evidence.pages.view import View, offers


def figures_for(rows: pd.DataFrame, initiatives: list[str] = (), ids: list[str] = ()) -> pd.DataFrame:
    """The figures among `rows` that belong to any of these initiatives, plus the figures with these ids
    (a figure the source gives without an initiative link), in the order of `rows`."""
    return rows[rows["initiative"].isin(list(initiatives)) | rows["id"].isin(list(ids))]


def check_each_figure_in_one_group(rows: pd.DataFrame, *groups: pd.DataFrame) -> None:
    """Raise if the groups a chapter splits its figures into leave a figure out or take one twice, so a
    figure added to the ledger cannot silently miss the page."""
    counts = pd.concat([g["id"] for g in groups]).value_counts() if groups else pd.Series(dtype=int)
    missing = [i for i in rows["id"] if i not in counts.index]
    twice = sorted(counts[counts > 1].index)
    if missing or twice:
        raise ValueError("; ".join(filter(None, [missing and f"in no group: {', '.join(missing)}",
                                                 twice and f"in more than one group: {', '.join(twice)}"])))


class ChapterLedger:
    """The chapter API as a section a page composes: ledger rows picked by id, section, area or source; single
    figures glued for prose; tables and charts of those rows. What it shows is recorded on `page`."""

    def __init__(self, page: View):
        self.page = page

    # selecting rows -----------------------------------------------------------------------------
    def figures(self, ids: list[str] | None = None, section_contains: str | list[str] | None = None,
                areas: list[str] | None = None, source: str | None = None, measure_contains: str | None = None) -> pd.DataFrame:
        """Ledger rows by id, by a phrase in their section path, by area or by source (filters combine)."""
        return self.page.data.select("figures", ids=ids, source=source, section_contains=section_contains, areas=areas,
                                     measure_contains=measure_contains)

    def figure(self, figure_id: str) -> dict:
        rows = self.figures(ids=[figure_id])
        return rows.iloc[0].to_dict()

    def initiatives(self, section_contains: str | list[str] | None = None, areas: list[str] | None = None,
                    source: str | None = None, ids: list[str] | None = None) -> pd.DataFrame:
        """Initiatives by source, section phrase or area; with `ids`, just those (in the table's order), and an
        id that is not among them is an error, so a renamed initiative cannot silently drop out of a page."""
        df = self.page.data.select("initiatives", source=source, section_contains=section_contains, areas=areas)
        if ids is None:
            return df
        missing = sorted(set(ids) - set(df["id"]))
        if missing:
            raise KeyError(f"no initiatives row with id {', '.join(missing)}")
        return df[df["id"].isin(list(ids))]

    def learning(self, source: str | None = None, kind: str | None = None, areas: list[str] | None = None,
                 section_contains: str | None = None) -> pd.DataFrame:
        return self.page.data.select("learning_points", source=source, kind=kind, areas=areas,
                                     section_contains=section_contains)

    # glue ---------------------------------------------------------------------------------------
    def glue_figure(self, name: str, figure_id: str, part: str = "figure") -> None:
        """Glue one ledger figure for prose. part: figure (with qualifier and unit), value, baseline,
        target, change (worded change since the baseline), target_status, period, footprint, note, magnitude
        (a stated change without its sign), printed_percent (a percentage-point change without its sign, written
        with a percent sign as the source printed it).

        `value` (the bare number) is refused for a figure the source qualifies, gives as a range or only
        in words: prose must then use `figure`, which keeps "over", the range or the words."""
        from lancs_evidence.analysis.summaries import exact

        r = self.figure(figure_id)
        if part == "figure":
            text = fmt.ledger_figure(r)
        elif part == "value":
            if not exact(r):
                raise ValueError(f"{figure_id} is stated as {fmt.ledger_figure(r)!r}: glue part='figure' so the qualifier, "
                                 "range or words stay with it")
            text = fmt.number(r["value"])
        elif part == "baseline":
            text = fmt.with_unit(r["baseline"], r["unit"])
        elif part == "target":
            text = fmt.with_unit(r["target"], r["unit"])
        elif part == "change":
            ch = change_of(r)
            if ch is None:
                raise ValueError(f"{figure_id} has no baseline")
            text = ch.describe()
        elif part == "target_status":
            tg = target_of(r)
            if tg is None:
                raise ValueError(f"{figure_id} has no target")
            text = tg.describe()
        elif part == "period":
            text = fmt.period_text(r)
        elif part == "footprint":
            text = self.page.footprint(r)
        elif part == "note":
            text = r.get("note", "") or "no caveat recorded"
        elif part == "printed_percent":  # a percentage-point change as the source printed it: with a percent sign
            text = fmt.with_unit(abs(r["value"]), "percent")
        elif part == "magnitude":  # a stated change without its sign: 'fell 48%' reads as 48%
            high = r.get("value_high")
            text = fmt.figure(abs(r["value"]), r["unit"], r.get("qualifier", "") or "",
                              abs(high) if high is not None and not pd.isna(high) else None)
        else:
            raise ValueError(f"unknown part {part!r}")
        mark = self.page.audit_result["marks"].get(figure_id)
        if part in ("figure", "value", "magnitude", "change") and mark and mark != "consistent":
            # an audited figure carries its mark in prose too (a plain 'adds up' is left unsaid there)
            from lancs_evidence.analysis.audit import WORDS as AUDIT_WORDS
            text += f" (audit: {AUDIT_WORDS[mark].lower()})"
            self.page.recorded.setdefault("audit_marks", {})[figure_id] = mark
        self.page.glue(name, text)

    def glue_recomputed(self, name: str, relation_id: str, unit: str, decimals: int | None = None) -> None:
        """Glue what the build's audit recomputed for one of its checks, without its sign ('fell 47.4%' reads
        as 47.4%), in `unit` at `decimals` places. A check with nothing recomputed is an error."""
        findings = self.page.findings().set_index("relation_id")
        if relation_id not in findings.index:
            raise KeyError(f"no audit check {relation_id!r}")
        value = findings.loc[relation_id, "recomputed"]
        if value is None or pd.isna(value):
            raise ValueError(f"the audit recomputed nothing for {relation_id!r}")
        self.page.glue(name, fmt.with_unit(abs(float(value)), unit, decimals))

    def glue_count(self, name: str, n: int, one: str, many: str | None = None) -> None:
        self.page.glue(name, fmt.plural(int(n), one, many))

    def glue_number(self, name: str, value: float, decimals: int | None = None) -> None:
        self.page.glue(name, fmt.number(value, decimals))

    # display ------------------------------------------------------------------------------------
    def show_figures(self, rows: pd.DataFrame, caption: str, with_area: bool = True) -> None:
        if rows.empty:
            show(tag("p", esc("No figures are recorded for this.")))
            return
        self.page.record(f"figures:{caption}", rows[["id", "value", "value_high", "unit", "qualifier", "baseline", "target"]])
        show(self.page.figures_table(rows, caption, with_area=with_area))

    def show_initiatives(self, rows: pd.DataFrame, caption: str, with_area: bool = True) -> None:
        if rows.empty:
            show(tag("p", esc("No initiatives are recorded for this.")))
            return
        from lancs_evidence.analysis.summaries import merge_repeats

        themes = self.page.data.themes
        areas = self.page.data.areas
        out = []
        for r in merge_repeats(rows).to_dict("records"):  # work the source describes twice is one row
            labels = [themes.loc[t, "label"] for t in r["themes"].split(";") if t in themes.index]
            cells = [r["name"]] + ([areas.loc[r["area"], "name"] if r["area"] in areas.index else r["area"]] if with_area else [])
            out.append(cells + ["; ".join(labels), r["partners"].replace(";", ", "), r["summary"]])
        headers = ["Initiative"] + (["Area"] if with_area else []) + ["Themes", "Partners named", "What it does (our summary)"]
        self.page.record(f"initiatives:{caption}", [r[0] for r in out])
        show(table(out, headers, caption))

    def show_learning(self, rows: pd.DataFrame, caption: str | None = None) -> None:
        if rows.empty:
            show(tag("p", esc("No learning points are recorded for this.")))
            return
        items = join(tag("li", (tag("strong", esc(r["title"])) + ": " if r.get("title") else "") + esc(r["summary"]))
                        for r in rows.to_dict("records"))
        self.page.record(f"learning:{caption}", list(rows["id"]))
        show((tag("p", tag("strong", esc(caption))) if caption else "") + tag("ul", items, class_="lx-learning"))

    def show_headlines(self, items: list[tuple[str, str]]) -> None:
        """A row of headline boxes: (figure id, short label in our words)."""
        lis = []
        for cid, label in items:
            r = self.figure(cid)
            foot = self.page.footprint(r)
            period = fmt.period_text(r)
            context = f"Area covered: {foot[0].lower() + foot[1:] if foot.startswith('Not stated') else foot}. Period: {period}."
            note = r.get("note", "") or ""
            label = label if label.rstrip().endswith((".", "?", "!")) else label.rstrip() + "."
            lis.append(tag("li", tag("span", esc(fmt.ledger_figure(r)), class_="lx-big") + esc(label)
                           + tag("span", esc(" " + context), class_="lx-headline-context")
                           + (tag("span", esc(" Caveat: " + note), class_="lx-headline-note") if note else "")
                           + (" " + mark if (mark := self.page.audit_mark(cid)) else "")))
            self.page.record(f"headline:{cid}", {"value": r["value"], "unit": r["unit"], "footprint": self.page.footprint(r),
                                            "period": fmt.period_text(r)})
        show(tag("ul", lis, class_="lx-headline"))

    # charts -------------------------------------------------------------------------------------
    def chart_before_after(self, figure_id: str) -> None:
        rows = self.figures(ids=[figure_id])
        figs = self.page.before_after_charts(rows)
        if not figs:
            raise ValueError(f"{figure_id} has no baseline to chart")
        show(*figs)

    def chart_bars(self, rows: pd.DataFrame, *, label: str, title: str, x_title: str, colour_by_area: bool = False,
                   csv_name: str, source: str | None = None) -> None:
        """Horizontal bars of ledger rows that share one unit; `label` is a column (e.g. 'statement')."""
        units = rows["unit"].unique()
        if len(units) != 1:
            raise ValueError(f"a bar chart needs one unit, got {list(units)}")
        words = rows[rows["value"].isna()]
        if not words.empty:
            raise ValueError(f"{', '.join(words['id'])}: given only in words, so it cannot be charted as a number")
        d = self.page.with_ledger_context(rows).assign(label=rows[label].astype(str), name=rows[label].astype(str))
        d["label"] = d["label"] + d["shown"].map(lambda t: f" ({t})")  # the qualifier travels with the bar
        audit = d["id"].map(self.page.audit_words)  # and so does the figure's audit mark
        d["label"] = d["label"] + audit.map(lambda w: f" [claim audit: {w}]" if w else "")
        if colour_by_area:
            d["area_name"] = d["area"].map(self.page.data.areas["name"])
        chart = charts.bar(d, "label", "value", x_title=x_title, colour="area_name" if colour_by_area else None,
                           colour_title="Area" if colour_by_area else None)
        cols = {"label": "What", "value": "Value", "shown": "As the source states it", "period_shown": "Period",
                "footprint_shown": "Area covered", "caveat": "Caveat"}
        marks = {cid: self.page.audit_result["marks"].get(cid) for cid in d["id"]}
        if any(marks.values()):  # the audit mark travels with each figure into the chart's table and download
            from lancs_evidence.analysis.audit import WORDS as AUDIT_WORDS
            d["audit"] = d["id"].map(lambda cid: AUDIT_WORDS.get(marks.get(cid) or "", ""))
            cols["audit"] = "Audit"
        if colour_by_area:
            cols["area_name"] = "Area"
        src = source or "; ".join(sorted({self.page.cite(r["source"], r["section"]) for r in rows.to_dict("records")}))
        self.page.record(f"chart:{csv_name}", d[["id", "value"]])
        show(charts.accessible_chart(chart, d[list(cols)], title=title,
                                      description=charts.describe_extremes(d, "name", "value", unit=units[0], what=x_title, shown="shown"),
                                      source=src, csv_name=csv_name, table_columns=cols))

    def chart_frame(self, frame: pd.DataFrame, *, label: str, value: str, title: str, x_title: str, source: str,
                    csv_name: str, unit: str = "count", colour: str | None = None, sort="-x") -> None:
        """Horizontal bars of any computed frame (e.g. counts of themes)."""
        chart = charts.bar(frame, label, value, x_title=x_title, colour=colour, colour_title=colour, sort=sort)
        self.page.record(f"chart:{csv_name}", frame)
        show(charts.accessible_chart(chart, frame, title=title,
                                      description=charts.describe_extremes(frame, label, value, unit=unit, what=x_title),
                                      source=source, csv_name=csv_name))

    def chart_evidence_profile(self, rows: pd.DataFrame, who: str) -> None:
        src = "; ".join(sorted({self.page.source_title(s) for s in rows["source"].unique()})) or "the evidence ledger"
        show(self.page.evidence_chart(rows, who, src))

    def show_theme_rollup(self, source: str | None = None) -> None:
        """Counts and money the partnerships reported, by the themes of their initiatives: like figures added,
        everything else side by side with the reason it is not added (summaries.rollup_by_theme)."""
        from lancs_evidence.analysis.summaries import rollup_by_theme

        data = self.page.data
        # only partnerships' figures are rolled up, so only their rows are read
        o = data.select("figures", source=source or self.page.review_source, areas=list(data.partnerships()["id"])).copy()
        o["area_kind"] = o["area"].map(data.areas["kind"])
        out = rollup_by_theme(o, self.page.data.relations, self.page.data.initiatives)
        self.page.record("theme_rollup", out)
        if out.empty:
            show(tag("p", esc("No partnership figure is linked to an initiative, so nothing can be added up by theme.")))
            return
        show(self.page.rollup_table(out, "Theme", self.page.data.themes["label"],
                               "Counts and money the partnerships reported, by theme: like figures added, others side by side "
                               "(themes overlap, so never add across them)"))

    # computed from the case studies ----------------------------------------------------------------
    def derived(self, source: str | None = None) -> pd.DataFrame:
        """Ratios, shares and changes computed from two ledger rows each (data/case-studies/derived.csv)."""
        from lancs_evidence.analysis.summaries import derived_figures
        from lancs_evidence.data.ledger import read_table

        path = self.page.project.data / "case-studies" / "derived.csv"
        spec = read_table(path) if path.exists() else pd.DataFrame(columns=["id", "source", "kind", "first", "second", "label", "note"])
        if source:
            spec = spec[spec["source"] == source]
        return derived_figures(spec, self._rows_named([*spec["first"], *spec["second"]]))

    def _rows_named(self, ids) -> pd.DataFrame:
        """Ledger rows by id, read as just those rows; the whole ledger when one is missing, so the caller's
        own message names what is missing."""
        try:
            return self.page.data.select("figures", ids=sorted(set(ids)))
        except KeyError:
            return self.page.data.figures

    def glue_derived(self, name: str, derived_id: str) -> None:
        d = self.derived()
        row = d[d["id"] == derived_id]
        if row.empty:
            raise KeyError(f"no derived figure {derived_id!r} in data/case-studies/derived.csv")
        self.page.glue(name, row.iloc[0]["text"])

    def show_derived(self, source: str | None = None, caption: str | None = None) -> None:
        d = self.derived(source)
        if d.empty:
            show(tag("p", esc("The source gives no pair of figures from which a ratio, share or change can fairly be worked out.")))
            return
        by_id = self._rows_named([*d["first"], *d["second"]]).set_index("id")
        rows = [[r["label"], r["text"],
                 f"{by_id.loc[r['first'], 'statement']}: {r['first_shown']}; {by_id.loc[r['second'], 'statement']}: {r['second_shown']}",
                 r["period"], r["note"]] for r in d.to_dict("records")]
        self.page.record(f"derived:{source}", d[["id", "low", "high", "text"]])
        show(table(rows, ["What is worked out", "Result", "Worked out from (as the source states them)", "Period", "Caveat"],
                   caption or "Figures worked out from the ones the source gives"))

    def show_crosswalk_matches(self) -> None:
        """Specific 2021 asks matched to specific initiatives of the review (data/case-studies/crosswalk_matches.csv)."""
        from lancs_evidence.analysis.summaries import crosswalk_matches
        from lancs_evidence.data.ledger import read_table

        path = self.page.project.data / "case-studies" / "crosswalk_matches.csv"
        matches = read_table(path) if path.exists() else pd.DataFrame()
        if matches.empty:
            show(tag("p", esc("No specific ask from the workshop has been matched to a specific initiative yet.")))
            return
        inits = self.initiatives(source=self.page.review_source)
        m = crosswalk_matches(matches, self.page.data.event_contributions, inits, self.page.data.areas)
        words = {"close": "Close: work of the kind asked for", "partial": "Partial: part of it, or for one group or place"}
        questions = {"local_issues": "Local issue", "what_works": "What works", "barriers": "Barrier", "opportunities": "Opportunity"}
        rows = [[r["ask"], questions.get(r["question"], r["question"]), r["initiative_name"], r["area_name"], words[r["match"]], r["note"]]
                for r in m.to_dict("records")]
        self.page.record("crosswalk_matches", m[["id", "contribution", "initiative", "match"]])
        self.page.glue("n_matched_asks", fmt.plural(int(m["contribution"].nunique()), "ask"))
        self.page.glue("n_matched_initiatives", fmt.plural(int(m["initiative"].nunique()), "initiative"))
        show(table(rows, ["Raised at the 2021 workshop", "Kind", "Initiative in the review", "Where", "How close", "Why"],
                   f"Specific asks from 2021 and the {self.page.year_label} initiatives that answer them"))

    def theme_table(self, initiatives: pd.DataFrame) -> pd.DataFrame:
        return theme_counts(initiatives, self.page.data.themes)


# the ledger methods a page that composes a ChapterLedger offers under the same names (notebooks call page.figures(...))
LEDGER_API = (
    "chart_bars",
    "chart_before_after",
    "chart_evidence_profile",
    "chart_frame",
    "figure",
    "figures",
    "derived",
    "glue_figure",
    "glue_count",
    "glue_derived",
    "glue_number",
    "glue_recomputed",
    "initiatives",
    "learning",
    "show_figures",
    "show_crosswalk_matches",
    "show_derived",
    "show_headlines",
    "show_initiatives",
    "show_learning",
    "show_theme_rollup",
    "theme_table",
)


@offers("ledger", LEDGER_API)
class ChapterView(View):
    """A chapter page: the chapter API (`ChapterLedger`) on a page of its own."""

    def __init__(self, source_file: str, year: str | None = None, about_year: str | None = None):
        """`about_year` pins a chapter written about one year's review (its narrative cites that
        review's figures), so that in later years it keeps describing that review instead of mixing
        years; pages without it follow the book's current year."""
        super().__init__(year, source_file)
        self.about_year = about_year or self.year
        if about_year:
            self.review_source = self.data.review_source(about_year)
            self.year_label = self.project.year_label(about_year)
        self.ledger = ChapterLedger(self)

    def provenance(self, params: dict | None = None) -> None:
        self.provenance_box(params or {"year": self.year}, None, self.template)

