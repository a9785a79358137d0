"""The base every page's view is built on. Each method displays one section of a page and records its figures.

Notebooks stay thin: a parameters cell, then calls like `page.context()`. Every figure a method shows is
also recorded in `page.recorded`, from which the provenance receipt is computed, and every number used
in prose is glued (so prose never carries a typed number).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from markupsafe import Markup

from lancs_evidence.analysis.audit import WORDS as AUDIT_WORDS
from lancs_evidence.analysis.audit import load_result, notes_by_figure, result_frame
from lancs_evidence.analysis.summaries import change_of, evidence_profile, target_of
from lancs_evidence.data.ledger import Data
from lancs_evidence.data.project import Project, UserError
from lancs_evidence.data.vocab import EVIDENCE_LEVELS
from lancs_evidence.pages import charts, fmt, provenance
from lancs_evidence.pages.html import esc, join, show, table, tag

LEVELS = list(EVIDENCE_LEVELS)  # in the schema's order; each has words, a label and a colour below
LEVEL_WORDS = {
    "activity": "Activity: what partners put in or did",
    "output": "Output: how much was delivered, to whom",
    "outcome": "Outcome: a measured change for people or services",
    "impact": "Impact: population-level or lasting effect, or value",
    "context": "Context: a statistic about the area, not a result of the work",
    "testimony": "One person's account, not a measurement",
}
LEVEL_LABELS = {"activity": "Activity", "output": "Output", "outcome": "Outcome", "impact": "Impact",
                "context": "Context, not a result", "testimony": "One person's account"}
LEVEL_COLOURS = {"activity": "#cfe1f2", "output": "#7fb2d9", "outcome": "#2f75b5", "impact": "#0b2e59",
                 "context": "#bdbdbd", "testimony": "#e69f00"}
LEDGER_CONTEXT = {"shown": "As the source states it", "period_shown": "Period", "footprint_shown": "Area covered",
                  "caveat": "Caveat"}
POPULATION_SOURCE = "usual residents at the 2021 Census"  # the most recent official count in data/reference
POPULATION_PERIOD = "Census 2021 (21 March 2021), usual residents"
COMPARE_WORDS = {"Better": "better than England", "Worse": "worse than England", "Similar": "similar to England"}


def _py(value):
    """Plain Python values for glue (numpy scalars display badly)."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, str):
        return str(value)  # myst-nb shows a glued str without quotes (a bare "1,234" would parse as a tuple)
    return value


RESULTS_AXIS = "Number of results, each counted once"


def audit_line_text(judged: list[str]) -> str:
    """How the audit judges a set of figures (their statuses), as a sentence for any counts: 'one of these
    figures: it could not be checked', 'both ...', 'all 3 ...', or '12 ...: 1 does not add up, 2 are stated
    differently and 9 add up' (never '1 of these figures: 1 could not be checked')."""
    from lancs_evidence.analysis.audit import COUNT_WORDS, SEVERITY, count_words

    n = len(judged)
    lead = f"The claim audit judges {fmt.count_words(n, 'of these figures', 'of these figures')}"
    kinds = [s for s in SEVERITY if s in judged]
    if n == 1:
        verb = COUNT_WORDS[kinds[0]][0]
        return f"{lead}: it {verb}."
    if len(kinds) == 1 and kinds[0] == "not_checked":
        return f"{lead}: {'neither' if n == 2 else 'none of them'} could be checked."
    if len(kinds) == 1:
        verb = COUNT_WORDS[kinds[0]][1]
        return f"{lead}: {'both' if n == 2 else 'all of them'} {verb}."
    return f"{lead}: " + fmt.join_words([count_words(s, judged.count(s)) for s in kinds]) + "."


class Offered:
    """A method of a section object the page composes, offered on the page under the same name:
    `page.figures(...)` is `page.ledger.figures(...)`. Set by `offers`, so where a page method comes from is
    written on the page's own class, never found by searching base classes."""

    def __init__(self, section: str, name: str):
        self.section, self.name = section, name

    def __get__(self, page, owner=None):
        if page is None:
            return self
        return getattr(getattr(page, self.section), self.name)


def offers(section: str, names):
    """Class decorator: the page offers each of `names` from its attribute `section` (a composed object)."""
    def decorate(cls):
        for name in names:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__}.{name} is defined on the class and offered from {section}")
            setattr(cls, name, Offered(section, name))
        return cls
    return decorate


class View:
    """Shared by every page: data, glue, figure recording, provenance."""

    template = ""

    def __init__(self, year: str | None = None, template: str | None = None):
        """`template`: the page's source file, for pages that are not one template run per area."""
        self.project = Project.here()
        self.year = year or self.project.current_year()
        self.about_year = self.year  # the review a page is written about (a chapter may pin an earlier one)
        if template is not None:
            self.template = template
        self.data = Data.load(self.project, self.year)
        self.recorded: dict = {}
        self.review_source = next(r["source"] for r in self.project.years() if r["id"] == self.year)
        self.year_label = self.project.year_label(self.year)

    # glue --------------------------------------------------------------------------------
    def glue(self, name: str, value) -> None:
        from myst_nb import glue

        value = _py(value)
        self.recorded[f"glue:{name}"] = value
        glue(name, value, display=False)

    def glue_prose(self, name: str, text: str) -> None:
        """A sentence of prose made from data, pasted with {glue:md}`name`: it reads as the paragraph around
        it, where {glue:text} would set the whole sentence in bold, and its numbers stay bold as every
        glued figure is (`html.prose_markdown`, which also escapes every character that could be markup)."""
        from IPython.display import Markdown
        from myst_nb import glue

        from lancs_evidence.pages.html import prose_markdown

        self.recorded[f"glue:{name}"] = str(text)
        glue(name, Markdown(prose_markdown(text)), display=False)

    def record(self, name: str, frame: pd.DataFrame | dict | list) -> None:
        if isinstance(frame, pd.DataFrame):
            frame = frame.astype(object).where(frame.notna(), None).to_dict("records")
        self.recorded[name] = frame

    def require_area(self, area: str, kind: str, what: str) -> pd.Series:
        """The area's row, or a clear error naming the known areas of that kind (never a KeyError)."""
        areas = self.data.areas
        if area not in areas.index or areas.loc[area, "kind"] != kind:
            known = ", ".join(areas[areas["kind"] == kind]["id"])
            raise UserError(f"area {area!r} is not {what} in data/areas.csv (known: {known})")
        return areas.loc[area]

    @property
    def receipt(self) -> str:
        return provenance.receipt(self.recorded)

    def source_title(self, source_id: str) -> str:
        return self.data.sources.loc[source_id, "title"]

    def cite(self, source_id: str, section: str) -> str:
        return f"{self.source_title(source_id)}, {section}"

    # shared sections ---------------------------------------------------------------------------
    @property
    def audit_result(self) -> dict:
        """The build's one audit result (audit.load_result): every page, card and chart reads this."""
        if not hasattr(self, "_audit_result"):
            self._audit_result = load_result(self.project, self.year)
        return self._audit_result

    def findings(self) -> pd.DataFrame:
        if not hasattr(self, "_findings"):
            self._findings = result_frame(self.audit_result)
        return self._findings

    def audit_mark(self, figure_id: str) -> str:
        """The figure's one audit mark (its worst verdict), or '' when no check judges it."""
        status = self.audit_result["marks"].get(figure_id)
        if not status:
            return ""
        self.recorded.setdefault("audit_marks", {})[figure_id] = status
        return tag("span", esc(AUDIT_WORDS[status]), class_=f"lx-audit lx-audit-{status}",
                   title="Claim audit: see the audit page for both statements and which to rely on")

    def audit_words(self, figure_id: str) -> str:
        """The figure's audit mark as plain words for chart labels and titles ("contradicted"), or ''."""
        status = self.audit_result["marks"].get(figure_id)
        if not status:
            return ""
        self.recorded.setdefault("audit_marks", {})[figure_id] = status
        return AUDIT_WORDS[status].lower()

    def audit_line(self, ids: list[str]) -> str:
        """One sentence: how the build's audit result judges these figures (the same marks as the table)."""
        marks = self.audit_result["marks"]
        judged = [marks[i] for i in ids if marks.get(i)]
        self.record("audit_line", {i: marks[i] for i in ids if marks.get(i)})
        if not judged:
            return tag("p", esc("None of these figures is restated elsewhere or derived from others, so the claim audit has "
                                "nothing to compare them with."))
        return tag("p", esc(audit_line_text(judged) + " The audit page gives both statements for each and which to rely on."))

    def audit_note(self, figure_id: str) -> str:
        notes = notes_by_figure(self.findings()).get(figure_id, [])
        out = [self.audit_mark(figure_id)] if notes else []
        for f in notes:
            judged = figure_id in f["involved"]
            lead = "" if judged else "Used to check another figure: "
            out.append(esc(lead + f["explanation"]) + (" " + tag("em", esc(f["advice"])) if f.get("advice") and judged else ""))
        return join((x for x in out if x), Markup("<br>"))

    def area_name(self, area_id: str) -> str:
        return self.data.areas.loc[area_id, "name"] if area_id in self.data.areas.index else area_id

    def footprint(self, r) -> str:
        """The area a ledger row covers: its declared footprint when wider or different, else its area."""
        return fmt.footprint_text(r, self.area_name(r["area"]))

    def with_ledger_context(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Ledger rows plus the text that must travel with every figure: as stated, period, footprint, caveat."""
        d = rows.copy()
        recs = d.to_dict("records")
        d["shown"] = [fmt.ledger_figure(r) for r in recs]
        d["period_shown"] = [fmt.period_text(r) for r in recs]
        d["footprint_shown"] = [self.footprint(r) for r in recs]
        d["caveat"] = [(r.get("note") or "") if isinstance(r.get("note"), str) else "" for r in recs]
        return d

    def figures_table(self, rows: pd.DataFrame, caption: str, with_area: bool = False) -> str:
        """Every ledger row with its figure as stated, the area it covers, its period and its caveat. One person's
        account (a testimony row) is not a figure: it is quoted below the table, never a row among the figures."""
        accounts = rows[rows["evidence_level"] == "testimony"] if "evidence_level" in rows else rows.iloc[0:0]
        rows = rows.drop(accounts.index)
        quoted = self.accounts(accounts)
        if rows.empty:
            return quoted
        body = []
        for r in rows.to_dict("records"):
            compared = []
            level = r.get("evidence_level", "")
            if level != "testimony":  # one person's account is quoted, never worked into a change or a target
                ch = change_of(r)
                if ch:
                    compared.append(f"Since {r['baseline_period'] or 'the baseline'}: {ch.describe()}")
                tg = target_of(r)
                if tg:
                    compared.append(tg.describe()[0].upper() + tg.describe()[1:])
            if r.get("comparator"):
                compared.append(f"Compared with: {r['comparator']}")
            figure = fmt.ledger_figure(r)
            cells = [esc(r["statement"])]
            if with_area:
                cells.append(esc(self.area_name(r["area"])))
            cells += [
                tag("strong", esc(figure)) if level != "testimony" else tag("q", esc(figure)),
                esc(self.footprint(r)),
                esc(fmt.period_text(r)),
                esc(LEVEL_LABELS.get(level, str(level).capitalize())),
                esc(fmt.join_clauses(compared)),
                esc(r.get("note", "") or ""),
                self.audit_note(r["id"]),
                esc(r["section"].split(" > ")[-1]),
            ]
            body.append(cells)
        headers = ["What was measured"] + (["Area"] if with_area else []) + ["Figure", "Area covered", "Period", "Evidence level",
                                                                              "Change or target", "Caveat", "Audit", "Source section"]
        return table(body, headers, caption, classes="lx-table lx-figures") + quoted

    def accounts(self, rows: pd.DataFrame) -> str:
        """Testimony rows as quotations: what one person said, with the source's caveat, apart from the figures."""
        if rows.empty:
            return Markup("")
        items = join(tag("li", esc(r["statement"]) + ": " + tag("strong", esc(fmt.ledger_figure(r))) + ". "
                         + (esc(r["note"].strip()) + " " if isinstance(r.get("note"), str) and r["note"].strip() else "")
                         + esc(f"Source section: {r['section'].split(' > ')[-1]}."))
                     for r in rows.to_dict("records"))
        lead = ("One person's account, set apart from the figures rather than counted among them:" if len(rows) == 1 else
                "Single people's accounts, set apart from the figures rather than counted among them:")
        return tag("p", esc(lead), class_="lx-accounts") + tag("ul", items, class_="lx-accounts")

    def rollup_table(self, out, group_header: str, group_names, caption: str) -> str:
        """A roll-up (summaries.rollup) as a table: sums of like figures, and the rest side by side with the reason."""
        labels = self.data.measures["label"]
        wanted = sorted({i for ids in (out["ids"] if "ids" in out else []) for i in ids})
        by_id = self.data.select("figures", ids=wanted).set_index("id")  # just these rows are recorded as read
        rows = []
        for r in out.to_dict("records"):
            first = by_id.loc[r["ids"][0]]
            parts = [(by_id.loc[i, "statement"], by_id.loc[i, "note"] if isinstance(by_id.loc[i, "note"], str) else "")
                     for i in r["ids"]]
            summed = r["added"] and len(r["ids"]) > 1
            label = labels.get(r["measure"], r["measure"])
            what = fmt.sum_label(label, [s for s, _ in parts]) if summed else (label if r["added"] else first["statement"])
            who = fmt.join_words(sorted({self.area_name(by_id.loc[i, "area"]) for i in r["ids"]}))
            if r.get("footprint"):
                who += f" (the figure covers {r['footprint']})"
            how = (f"Sum of {r['n_figures']} like figures" if r["added"] else (r["reason"][0].upper() + r["reason"][1:]
                                                                                 if r["reason"] else "A single figure"))
            notes = fmt.sum_caveat(parts) if summed else fmt.notes_text([n for _, n in parts])
            rows.append([group_names.get(r["group"], r["group"]), what, r["figure"], fmt.period_text(r), who, how, notes])
        return table(rows, [group_header, "Measure or figure", "Figure", "Period", "Partnerships", "Added or shown alone", "Caveat"],
                     caption, numeric=[2])

    def evidence_chart(self, rows: pd.DataFrame, who: str, source_note: str) -> str:
        """Results by evidence level: a result the source restates (the same number twice, a share and its
        change) counts once (`summaries.evidence_profile` with the audit's relations)."""
        prof = evidence_profile(rows, self.data.relations)
        df = pd.DataFrame({"level": LEVELS, "results": [prof[lv] for lv in LEVELS]})
        df["label"] = df["level"].map(LEVEL_LABELS)
        top = df.loc[df["results"].idxmax(), "label"] if prof["results"] else "none"
        tied = prof["results"] and (df["results"] == df["results"].max()).sum() > 1
        if not prof["results"]:
            title = f"{who}: no figures reported"
        elif tied:
            title = f"{who}: results spread across evidence levels, with no single level leading"
        else:
            title = f"{who}: {top.lower()} is the most common kind of result"
        what = f"Results by evidence level for {who}, each counted once however often it is stated"
        desc = charts.describe_extremes(df, "label", "results", what=what)
        chart = charts.bar(df, "label", "results", x_title=RESULTS_AXIS, sort=[LEVEL_LABELS[lv] for lv in LEVELS])
        self.record(f"evidence_profile:{who}", prof)
        return charts.accessible_chart(chart, df[["label", "results"]], title=title, description=desc, source=source_note,
                                        csv_name=f"evidence-profile-{str(who).lower().replace(' ', '-')}.csv",
                                        table_columns={"label": "Evidence level", "results": "Results (each counted once)"})

    def before_after_charts(self, rows: pd.DataFrame) -> list[str]:
        out = []
        rows = rows[rows["baseline"].notna() & rows["value"].notna() & (rows.get("evidence_level", "") != "testimony")]
        for r in rows.to_dict("records"):
            ch = change_of(r)
            tg = target_of(r)
            df = pd.DataFrame({"when": [f"Before ({r['baseline_period'] or 'baseline; no date given'})",
                                        f"After ({fmt.period_inline(r)})"],
                               "value": [r["baseline"], r["value"]]})
            unit_label = self.data.units.loc[r["unit"], "label"] if r["unit"] in self.data.units.index else r["unit"]
            bars = charts.bar(df, "when", "value", x_title=f"{r['measure_label']} ({unit_label})", sort=list(df["when"]))
            layers = [bars]
            if tg:
                layers.append(alt.Chart(pd.DataFrame({"target": [tg.target]})).mark_rule(color="#c0392b", strokeDash=[6, 3], size=2)
                              .encode(x="target:Q"))
            chart = alt.layer(*layers)
            title = f"{r['measure_label']} {ch.describe()}" + (f"; it {tg.describe()}" if tg else "")
            audit = self.audit_words(r["id"])
            if audit:  # the audit mark travels with the figure into its chart
                title += f" (claim audit: {audit})"
            desc = (f"Two bars: {df['when'][0]} at {fmt.with_unit(r['baseline'], r['unit'])} and {df['when'][1]} at "
                    f"{fmt.ledger_figure(r)}." + (f" A dashed line marks the {'aspiration' if tg.kind == 'aspiration' else 'target'} of "
                       f"{fmt.with_unit(tg.target, r['unit'])}." if tg else ""))
            data = df.copy()
            if tg:
                data["target"] = tg.target
            data["shown"] = [fmt.with_unit(r["baseline"], r["unit"], fmt._dp(r.get, "baseline")), fmt.ledger_figure(r)]
            data["footprint_shown"] = self.footprint(r)
            data["caveat"] = r.get("note", "") or ""
            cols = {c: c.capitalize() for c in df.columns} | ({"target": "Target"} if tg else {}) | {
                "shown": "As the source states it", "footprint_shown": "Area covered", "caveat": "Caveat"}
            if audit:
                data["audit"] = audit.capitalize()
                cols["audit"] = "Audit"
            out.append(charts.accessible_chart(chart, data, title=title, description=desc,
                                                source=self.cite(r["source"], r["section"]), csv_name=f"{r['id']}.csv",
                                                table_columns=cols))
            self.record(f"change:{r['id']}", {"before": r["baseline"], "after": r["value"], "abs": ch.absolute, "pct": ch.percent})
        return out

    def target_only_charts(self, rows: pd.DataFrame) -> list[str]:
        out = []
        rows = rows[rows["target"].notna() & rows["baseline"].isna() & rows["value"].notna()
                    & (rows.get("evidence_level", "") != "testimony")]
        for r in rows.to_dict("records"):
            tg = target_of(r)
            df = pd.DataFrame({"what": ["Reported"], "value": [r["value"]], "target": [tg.target], "shown": [fmt.ledger_figure(r)],
                               "period_shown": [fmt.period_text(r)], "footprint_shown": [self.footprint(r)],
                               "caveat": [r.get("note", "") or ""]})
            bars = charts.bar(df, "what", "value", x_title=f"{r['measure_label']}")
            rule = alt.Chart(df).mark_rule(color="#c0392b", strokeDash=[6, 3], size=2).encode(x="target:Q")
            title = f"{r['measure_label']}: {fmt.ledger_figure(r)}, which {tg.describe()}"
            audit = self.audit_words(r["id"])
            columns = {"what": "Figure", "value": "Value", "target": "Target", **LEDGER_CONTEXT}
            if audit:  # the audit mark travels with the figure into its chart and table
                title += f" (claim audit: {audit})"
                df["audit"] = audit.capitalize()
                columns["audit"] = "Audit"
            desc = (f"One bar at {fmt.ledger_figure(r)} with a dashed line at the {'aspiration' if tg.kind == 'aspiration' else 'target'} "
                    f"of {fmt.with_unit(tg.target, r['unit'])}.")
            out.append(charts.accessible_chart(alt.layer(bars, rule), df, title=title, description=desc,
                                                source=self.cite(r["source"], r["section"]), csv_name=f"{r['id']}-target.csv",
                                                table_columns=columns))
            self.record(f"target:{r['id']}", {"value": r["value"], "target": tg.target, "met": tg.met, "margin": tg.margin})
        return out

    def provenance(self) -> None:
        """The provenance box of a page about a year (area pages give their area as well)."""
        self.provenance_box({"year": self.year}, None, self.template)

    def provenance_box(self, params: dict, area: str | None, template: str) -> None:
        from lancs_evidence.data.ledger import reads_so_far

        inputs = reads_so_far()  # what the data layer has served this page so far, with hashes
        root = self.project.root
        args = " ".join(f"-p {k} {v}" for k, v in params.items())
        name = "-".join(str(v) for v in params.values())
        rerun = [
            f"jupytext --to ipynb -o /tmp/{name}.ipynb {template}",
            f"papermill --cwd . /tmp/{name}.ipynb /tmp/{name}-out.ipynb {args}",
            "# or, through the pipeline:",
            f"lancs-evidence run --area {area} --force" if area else "lancs-evidence run --force",
        ]
        print(f"receipt: {self.receipt}")
        # Rule 9: the receipt box is for reviewers. It is glued here and shown in the book's "For reviewers"
        # part (pages.context.write_receipts_page); the reader's page gets a short link to it.
        from IPython.display import HTML
        from myst_nb import glue

        from lancs_evidence.pages.context import page_key, reviewer_link

        box = provenance.box(params=params, inputs=inputs, root=root, template=template, rerun=rerun, receipt_value=self.receipt)
        glue("provenance_box", HTML(box), display=False)
        show(reviewer_link(page_key(template, params)))
