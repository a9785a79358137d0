"""Views for the pages about the evidence: methods, the claim audit, the data dictionary."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd

from lancs_evidence.analysis.audit import ARITHMETIC, PLAUSIBILITY, rule_counts, strip_ids
from lancs_evidence.analysis.audit import KIND_WORDS as AUDIT_KIND_WORDS
from lancs_evidence.analysis.audit import MEANING as AUDIT_MEANING
from lancs_evidence.analysis.audit import SEVERITY as AUDIT_SEVERITY
from lancs_evidence.analysis.audit import WORDS as AUDIT_WORDS
from lancs_evidence.pages import charts, fmt
from lancs_evidence.pages.chapter import LEDGER_API, ChapterLedger
from lancs_evidence.pages.html import esc, render, show, table, tag
from lancs_evidence.pages.place import PlaceTables
from lancs_evidence.pages.view import LEVEL_COLOURS, LEVEL_LABELS, LEVELS, View, offers

AUDIT_DERIVED = (*ARITHMETIC, *PLAUSIBILITY)

DOWNLOADS = "downloads"  # the site folder the build copies data/ tables into
DEFAULT_ADVICE = {
    "contradicted": "The source does not say which is right; the book shows each where it is quoted, with this mark.",
    "inconsistent": "Rely on the figures the source states directly; the derived figure does not follow from them.",
    "differs": "Quote each statement with its own qualifier, period and area, and do not treat them as one figure.",
    "not_checked": "Quote each with its own period or context; the text alone cannot settle which to prefer.",
}


def download_href(rel_path: str, depth: int = 1) -> str:
    return "../" * depth + f"{DOWNLOADS}/{rel_path}"


class AuditSection:
    """The claim audit as the audit page shows it, from the build's one audit result; the home page glues its
    counts. A section object: the page composes it and what it shows is recorded on that page."""

    def __init__(self, page: View):
        self.page = page

    def audit_counts(self) -> dict[str, int]:
        """Counts by verdict, straight from the build's one audit result (never recomputed here)."""
        return {s: int(self.page.audit_result["counts"].get(s, 0)) for s in AUDIT_SEVERITY}

    def audit_summary(self) -> str:
        c, n = self.audit_counts(), int(self.page.audit_result["n_checks"])
        parts = [f"{c['consistent']:,} add up or are stated the same way each time",
                 f"{c['inconsistent']:,} do not add up",
                 f"{c['contradicted']:,} are contradicted by another passage",
                 f"{c['differs']:,} are stated differently",
                 f"{c['not_checked']:,} could not be checked from the text"]
        return f"Of {fmt.plural(n, 'check')}, " + ", ".join(parts[:-1]) + " and " + parts[-1] + "."

    def glue_audit(self) -> None:
        c = self.audit_counts()
        self.page.glue_count("n_checks", int(self.page.audit_result["n_checks"]), "check")
        for status, n in c.items():
            self.page.glue_number(f"n_{status}", n, 0)
        self.page.glue_prose("audit_summary", self.audit_summary())
        self.page.glue_count("n_problems", c["contradicted"] + c["inconsistent"], "finding")
        self.page.record("audit_counts", c)

    def audit_chart(self) -> None:
        c = self.audit_counts()
        order = ["contradicted", "inconsistent", "differs", "not_checked", "consistent"]
        d = pd.DataFrame({"status": [AUDIT_WORDS[s] for s in order], "checks": [c[s] for s in order]})
        chart = charts.bar(d, "status", "checks", x_title="Number of checks", sort=[AUDIT_WORDS[s] for s in order])
        n = int(self.page.audit_result["n_checks"])
        title = (f"{c['consistent']:,} of {n:,} checks add up; {c['contradicted']:,} are contradicted and "
                 f"{c['inconsistent']:,} do not add up")
        self.page.record("audit_chart", d)
        show(charts.accessible_chart(chart, d, title=title,
                                      description="One bar per result, worst first: " + "; ".join(
                                          f"{AUDIT_WORDS[s]}: {c[s]:,}" for s in order) + ".",
                                      source="Claim audit of the evidence ledger (the book's table of checks)", csv_name="audit-summary.csv",
                                      table_columns={"status": "Result", "checks": "Checks"}))

    def _place(self, source: str, section: str) -> str:
        title = self.page.source_title(source) if source in self.page.data.sources.index else ""
        sec = " > ".join(p.strip() for p in str(section or "").split(">") if p.strip())
        return ", ".join(x for x in (title, sec) if x)

    def audit_findings(self) -> None:
        """Every finding that is not a plain 'adds up', grouped by what it means for a reader, in plain words."""
        f = self.page.findings()
        out = []
        for status in ("contradicted", "inconsistent", "differs", "not_checked"):
            group = f[f["status"] == status].sort_values(["measure", "relation_id"])
            out.append(tag("h3", esc(f"{AUDIT_WORDS[status]} ({len(group)})"), id=f"audit-{status.replace('_', '-')}"))
            out.append(tag("p", esc(AUDIT_MEANING[status])))
            if group.empty:
                out.append(tag("p", esc("None.")))
            items = []
            for r in group.to_dict("records"):
                first = self._place(r["source"], r["section"])
                second = self._place(r["other_source"], r["other_section"])
                rows = [("What is compared", AUDIT_KIND_WORDS.get(r["relation"], r["relation"]).capitalize())]
                derived = r["relation"] in AUDIT_DERIVED
                label1 = "Stated figure" if derived or r["relation"] == "scope_of" else "First statement"
                label2 = "Stated with it" if derived else ("Where it sits" if r["relation"] == "scope_of" else "Second statement")
                if r["statement"]:
                    rows.append((label1, f"{r['statement']} {fmt.bracketed(first)}" if first else r["statement"]))
                elif first:
                    rows.append(("First passage", first))
                if r["relation"] == "scope_of":
                    rows.append((label2, f"under the heading {second}"))
                elif r["other_statement"]:
                    rows.append((label2, f"{r['other_statement']} {fmt.bracketed(second)}" if second else r["other_statement"]))
                elif second and second != first:
                    rows.append(("Second passage", second))
                rows.append(("What we found", strip_ids(r["explanation"])))
                rows.append(("What to rely on", r["advice"] or DEFAULT_ADVICE[status]))
                body = [tag("dt", k) + tag("dd", v) for k, v in rows]
                items.append(tag("li", tag("strong", esc(r["measure"] or "A stated figure")) + " "
                                 + tag("span", esc(AUDIT_WORDS[status]), class_=f"lx-audit lx-audit-{status}")
                                 + tag("dl", body, class_="lx-finding")))
            if items:
                out.append(tag("ol", items, class_="lx-findings"))
        self.page.record("audit_findings", f[f["status"] != "consistent"][["relation_id", "status"]])
        show(*out)

    def audit_table(self) -> None:
        """The checks that add up, in a compact table, and the CSV of every finding."""
        f = self.page.findings()
        ok = f[f["status"] == "consistent"].sort_values(["measure", "relation_id"])
        rows = [[esc(r["measure"] or "A stated figure"), esc(AUDIT_KIND_WORDS.get(r["relation"], r["relation"])),
                 esc(strip_ids(r["explanation"])), esc(self._place(r["source"], r["section"]))] for r in ok.to_dict("records")]
        self.page.record("audit", f[["relation_id", "figure", "inputs", "stated", "recomputed", "status"]])
        show(table(rows, ["Figure", "Check", "What we found", "Where"], "Checks that add up or are stated the same way each time"),
             tag("p", "Download: " + tag("a", "every audit finding, machine-readable (CSV)", href=download_href("audit.csv")) + ".",
                 class_="lx-source"))

    def evidence_profiles(self) -> None:
        data = self.page.data
        # each partnership's figures in the review, then each case study's
        profiles = [(a["name"], data.profile(source=self.page.review_source, areas=data.subtree(a["id"])))
                    for a in data.partnerships().to_dict("records")]
        profiles += [(s["title"], data.profile(source=s["id"]))
                     for s in data.sources.to_dict("records") if s["id"] != self.page.review_source]
        columns = ("figures", "results", *LEVELS, "with_baseline", "with_target", "with_comparator")
        rows = [[name, *[str(p[k]) for k in columns]] for name, p in profiles]
        self.page.record("evidence_profiles", [{"area": name, **p} for name, p in profiles])
        show(table(rows, ["Partnership or case study", "Figures", "Separate results", *[LEVEL_LABELS[lv] for lv in LEVELS],
                          "With a baseline", "With a target", "With a comparator"],
                   "Evidence profile of each partnership and case study: figures, then the separate results they state "
                   "(a result stated more than once counted once) by evidence level",
                   numeric=list(range(1, len(LEVELS) + 6))))


class MethodsSection:
    """The methods page and the data dictionary: what the ledger holds, its sources, and the data package."""

    def __init__(self, page: View):
        self.page = page

    @property
    def descriptor(self) -> dict:
        return json.loads((self.page.project.data / "datapackage.json").read_text(encoding="utf-8"))

    def glue_methods(self) -> None:
        per_source = self.page.data.count("figures", ["source"])
        self.page.glue_count("n_figures", int(per_source["n"].sum()), "figure")
        self.page.glue_count("n_sources", len(per_source), "source document")
        self.page.glue_count("n_measures", len(self.page.data.measures), "measure")
        from lancs_evidence.analysis.summaries import distinct_initiatives

        self.page.glue_count("n_initiatives", distinct_initiatives(self.page.data.initiatives), "initiative")
        self.page.glue_count("n_learning", len(self.page.data.learning_points), "learning point")
        self.page.glue_count("n_contributions", len(self.page.data.event_contributions), "contribution")
        rules = rule_counts(self.page.data.relations)  # only some rules recompute: the prose names each kind
        self.page.glue_count("n_recompute_rules", rules["recompute"], "rule")
        self.page.glue_count("n_restated_rules", rules["restated"], "rule")
        self.page.glue_count("n_text_rules", rules["text"], "rule")
        self.page.glue_count("n_tables", len(self.descriptor["resources"]), "table")

    def figures_by_source(self) -> None:
        counts = (self.page.data.count("figures", ["source", "evidence_level"])
                  .pivot(index="source", columns="evidence_level", values="n").fillna(0).astype(int)
                  .reindex(columns=LEVELS, fill_value=0))
        counts.columns.name = None
        counts["total"] = counts.sum(axis=1)
        rows = [[self.page.source_title(s), *[str(int(v)) for v in r]] for s, r in counts.iterrows()]
        self.page.record("figures_by_source", counts.reset_index())
        show(table(rows, ["Source", *[LEVEL_LABELS[lv] for lv in LEVELS], "All figures"],
                   "Figures in the ledger by source and evidence level", numeric=list(range(1, len(LEVELS) + 2))))
        long = counts.drop(columns="total").reset_index().melt(id_vars="source", var_name="level", value_name="figures")
        # Readers see titles and level names, never the ledger's codes (in the chart, its table and its CSV).
        long["source"] = long["source"].map(self.page.source_title)
        labels = [LEVEL_LABELS[lv] for lv in LEVELS]
        long["level"] = long["level"].map(LEVEL_LABELS)
        chart = alt.Chart(long).mark_bar().encode(
            y=alt.Y("source:N", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("figures:Q", title="Figures in the ledger", stack=True),
            color=alt.Color("level:N", sort=labels, title="Evidence level",
                            scale=alt.Scale(domain=labels, range=[LEVEL_COLOURS[lv] for lv in LEVELS])),
            tooltip=["source:N", "level:N", "figures:Q"]).properties(height=alt.Step(28))
        totals = counts["total"].reset_index()
        totals["source"] = totals["source"].map(self.page.source_title)
        top = totals.loc[totals["total"].idxmax()]
        show(charts.accessible_chart(chart, long, title=f"{top['source']} supplies the most figures",
                                      description=charts.describe_extremes(totals, "source", "total", what="Figures per source"),
                                      source="The evidence ledger: every figure its source documents state", csv_name="figures-by-source.csv",
                                      table_columns={"source": "Source", "level": "Evidence level", "figures": "Figures"}))

    def sources_and_licences(self) -> None:
        rows = []
        for s in self.page.data.sources.to_dict("records"):
            rows.append([s["title"], s["publisher"], s["date"], "Source document", s["licence_note"]])
        for meta_path in sorted((self.page.project.data / "reference").glob("*.meta.json")):
            m = json.loads(meta_path.read_text(encoding="utf-8"))
            rows.append([m["title"], m["publisher"], m["period"], "Context data", m["licence"]])
        show(table(rows, ["Title", "Publisher", "Date or period", "Role", "Licence and use"], "Sources and their licences"))

    def data_dictionary(self) -> None:
        """The downloads, then each table of the data package with its columns (templates/data_dictionary.html.j2)."""
        resources = []
        titles = {res["name"]: res.get("title", res["name"]) for res in self.descriptor["resources"]}
        for res in self.descriptor["resources"]:
            fields = res["schema"]["fields"]
            n = self.page.data.file_rows(res["path"])
            rows = []
            for fd in fields:
                cons = fd.get("constraints", {})
                rule = []
                if cons.get("required"):
                    rule.append("required")
                if cons.get("unique"):
                    rule.append("unique")
                if "enum" in cons:
                    rule.append("one of: " + ", ".join(cons["enum"]))
                if "pattern" in cons:
                    rule.append(f"pattern {cons['pattern']}")
                rows.append([fd["name"], fd.get("type", "string"), "; ".join(rule), fd.get("description", "")])
            keys = foreign_key_text(res, titles)
            resources.append({"name": res["name"], "title": res.get("title", res["name"]), "description": res.get("description", ""),
                              "path": res["path"], "href": download_href(res["path"]), "rows": f"{n:,}", "foreign_keys": keys,
                              "table": table(rows, ["Column", "Type", "Rules", "Meaning"], f"Columns of {res['path']}")})
            self.page.record(f"dictionary:{res['name']}", {"rows": n, "fields": [fd["name"] for fd in fields]})
        show(render("data_dictionary.html.j2", descriptor_href=download_href("datapackage.json"),
                    boundaries_href=download_href("reference/boundaries.geojson"), resources=resources))


def foreign_key_text(resource: dict, titles: dict[str, str]) -> str:
    """A table's foreign keys in words: the column, then the table (by its title, as the data dictionary heads
    it) whose column it must match. The descriptor's resource names are codes and never reach readers."""
    out = []
    for fk in resource["schema"].get("foreignKeys", []):
        ref = fk["reference"]
        other = ref["resource"] or resource["name"]
        title = titles.get(other, other)
        out.append(f"{fk['fields']} must match {ref['fields']} in {title}")
    return "; ".join(out)


AUDIT_API = ("audit_counts", "audit_summary", "glue_audit", "audit_chart", "audit_findings", "audit_table", "evidence_profiles")
METHODS_API = ("descriptor", "glue_methods", "figures_by_source", "sources_and_licences", "data_dictionary")


@offers("ledger", LEDGER_API)
@offers("audit", AUDIT_API)
@offers("methods", METHODS_API)
class AboutView(View):
    """The pages about the evidence: methods, the claim audit, the data dictionary."""

    def __init__(self, source_file: str, year: str | None = None):
        super().__init__(year, source_file)
        self.ledger = ChapterLedger(self)
        self.audit = AuditSection(self)
        self.methods = MethodsSection(self)


@offers("ledger", LEDGER_API)
class HomeView(View):
    """The home page: headline figures, the shape of the evidence and the audit in brief."""

    def __init__(self, source_file: str, year: str | None = None):
        super().__init__(year, source_file)
        self.ledger = ChapterLedger(self)
        self.audit = AuditSection(self)
        self.methods = MethodsSection(self)
        self.place = PlaceTables(self)

    def glue_audit(self) -> None:
        self.audit.glue_audit()


    def headlines(self) -> None:
        """The figures the authors chose for the year (data/<year>/headlines.csv)."""
        path = self.project.data / self.year / "headlines.csv"
        from lancs_evidence.data.ledger import read_table

        chosen = read_table(path) if path.exists() else None
        if chosen is None or chosen.empty:
            show(tag("p", esc(f"No headline figures have been chosen for {self.year_label} yet: list them in data/{self.year}/headlines.csv.")))
            return
        self.show_headlines(list(zip(chosen["figure"], chosen["label"])))

    def glue_home(self) -> None:
        self.place.glue_figures()
        self.methods.glue_methods()
        self.audit.glue_audit()
        p = self.data.profile(source=self.review_source)
        self.glue_count("n_review_figures", p["figures"], "figure")
        self.glue_count("n_review_results", p["results"], "separate result")
        share = lambda n: f"{round(100 * n / p['results'])}%" if p["results"] else "0%"  # noqa: E731
        self.glue("share_activity_output", share(p["activity"] + p["output"]))
        self.glue("share_outcome_impact", share(p["outcome"] + p["impact"]))
        self.glue_count("n_with_baseline", p["with_baseline"], "result")
        self.glue_count("n_with_target", p["with_target"], "result")


@offers("ledger", LEDGER_API)
class WhatChangedView(View):
    """What changed between the previous year's figures and this year's: measures, areas, targets."""

    def __init__(self, source_file: str, year: str | None = None):
        super().__init__(year, source_file)
        self.ledger = ChapterLedger(self)


    def compare(self) -> None:
        from lancs_evidence.analysis.summaries import Change, change_between

        prev = self.data.previous_year()
        if prev is None:
            self.glue("comparison", f"Only one review year ({self.year_label}) is held, so there is nothing to compare yet.")
            show(tag("p", esc("When the next year's figures are added, this page lists what is new, what was dropped and what changed.")))
            return
        prev_label = self.project.year_label(prev)
        o = self.data.figures
        a = o[o["source"] == self.data.review_source(prev)]
        b = o[o["source"] == self.review_source]
        ka = set(zip(a["area"], a["measure"]))
        kb = set(zip(b["area"], b["measure"]))
        names = self.data.areas["name"]
        labels = self.data.measures["label"]
        self.glue("comparison", f"This page compares the figures held for {prev_label} with those for {self.year_label}.")

        def listing(keys, frame, caption):
            rows = [[names.get(ar, ar), labels.get(m, m), fmt.ledger_figure(frame[(frame["area"] == ar) & (frame["measure"] == m)].iloc[0])]
                    for ar, m in sorted(keys)]
            self.record(f"what_changed:{caption}", rows)
            show(table(rows, ["Area", "Measure", "Figure"], caption) if rows else tag("p", esc(f"{caption}: none.")))

        listing(kb - ka, b, f"New in {self.year_label}: measures reported this year but not in {prev_label}")
        listing(ka - kb, a, f"Dropped: measures reported in {prev_label} but not in {self.year_label}")
        rows, targets = [], []
        for ar, m in sorted(ka & kb):
            ra = a[(a["area"] == ar) & (a["measure"] == m)].iloc[0]
            rb = b[(b["area"] == ar) & (b["measure"] == m)].iloc[0]
            if ra["value"] != rb["value"] and not change_between(rb, ra):
                rows.append([names.get(ar, ar), labels.get(m, m), fmt.ledger_figure(ra), fmt.ledger_figure(rb),
                             "Not worked out: a figure is a bound, a range or words"])
            elif ra["value"] != rb["value"]:
                ch = Change(float(ra["value"]), float(rb["value"]), rb["unit"], rb.get("polarity") or "neutral")
                rows.append([names.get(ar, ar), labels.get(m, m), fmt.ledger_figure(ra), fmt.ledger_figure(rb), ch.describe()])
            ta, tb = ra["target"], rb["target"]
            if not (pd.isna(ta) and pd.isna(tb)) and (pd.isna(ta) or pd.isna(tb) or ta != tb):
                targets.append([names.get(ar, ar), labels.get(m, m),
                                "none" if pd.isna(ta) else fmt.with_unit(ta, rb["unit"]), "none" if pd.isna(tb) else fmt.with_unit(tb, rb["unit"])])
        self.record("what_changed:values", rows)
        self.record("what_changed:targets", targets)
        show(table(rows, ["Area", "Measure", prev_label, self.year_label, "Change"], "Measures reported in both years whose value changed")
             if rows else tag("p", esc("No measure reported in both years changed its value.")))
        show(table(targets, ["Area", "Measure", f"Target, {prev_label}", f"Target, {self.year_label}"], "Targets that were set, dropped or changed")
             if targets else tag("p", esc("No target was set, dropped or changed.")))
        pa = {x for x in a["area"]}
        pb = {x for x in b["area"]}
        show(tag("p", esc("Areas with figures this year but none last year: " + (", ".join(sorted(names.get(x, x) for x in pb - pa)) or "none") + ". "
                          "Areas with figures last year but none this year: " + (", ".join(sorted(names.get(x, x) for x in pa - pb)) or "none") + ".")))
