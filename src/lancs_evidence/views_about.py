"""Views for the pages about the evidence: methods, the claim audit, the data dictionary."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd

from . import charts, fmt
from .html import esc, show, table, tag
from .summaries import evidence_profile
from .views_chapter import ChapterView
from .views_place import PlaceChapter

DOWNLOADS = "downloads"  # the site folder the build copies data/ tables into


def download_href(rel_path: str, depth: int = 1) -> str:
    return "../" * depth + f"{DOWNLOADS}/{rel_path}"


class AboutView(ChapterView):
    @property
    def descriptor(self) -> dict:
        return json.loads((self.project.data / "datapackage.json").read_text(encoding="utf-8"))

    # methods -------------------------------------------------------------------------------------
    def glue_methods(self) -> None:
        o = self.data.outcomes
        self.glue_count("n_claims", len(o), "figure")
        self.glue_count("n_sources", o["source"].nunique(), "source document")
        self.glue_count("n_measures", len(self.data.measures), "measure")
        self.glue_count("n_initiatives", len(self.data.initiatives), "initiative")
        self.glue_count("n_learning", len(self.data.learning_points), "learning point")
        self.glue_count("n_contributions", len(self.data.event_contributions), "contribution")
        self.glue_count("n_relations", len(self.data.relations), "audit rule")
        self.glue_count("n_tables", len(self.descriptor["resources"]), "table")

    def claims_by_source(self) -> None:
        o = self.data.outcomes
        counts = (o.groupby("source")["evidence_level"].value_counts().unstack(fill_value=0)
                  .reindex(columns=["activity", "output", "outcome", "impact"], fill_value=0))
        counts["total"] = counts.sum(axis=1)
        rows = [[self.source_title(s), *[str(int(v)) for v in r]] for s, r in counts.iterrows()]
        self.record("claims_by_source", counts.reset_index())
        show(table(rows, ["Source", "Activity", "Output", "Outcome", "Impact", "All figures"],
                   "Figures in the ledger by source and evidence level", numeric=[1, 2, 3, 4, 5]))
        long = counts.drop(columns="total").reset_index().melt(id_vars="source", var_name="level", value_name="figures")
        long["source"] = long["source"].map(lambda s: self.data.sources.loc[s, "prefix"].upper() + ": " + self.source_title(s)[:40])
        colours = list(charts.LOCALITY_COLOURS.values()) + ["#0b2e59"]
        chart = alt.Chart(long).mark_bar().encode(
            y=alt.Y("source:N", title=None), x=alt.X("figures:Q", title="Figures in the ledger", stack=True),
            color=alt.Color("level:N", sort=["activity", "output", "outcome", "impact"], title="Evidence level",
                            scale=alt.Scale(domain=["activity", "output", "outcome", "impact"],
                                            range=["#cfe1f2", "#7fb2d9", "#2f75b5", "#0b2e59"])),
            tooltip=["source:N", "level:N", "figures:Q"]).properties(height=alt.Step(28))
        totals = counts["total"].reset_index()
        totals["source"] = totals["source"].map(self.source_title)
        top = totals.loc[totals["total"].idxmax()]
        show(charts.accessible_figure(chart, long, title=f"{top['source']} supplies the most figures",
                                      description=charts.describe_extremes(totals, "source", "total", what="Figures per source"),
                                      source="The evidence ledger (data/*/outcomes.csv)", csv_name="figures-by-source.csv",
                                      table_columns={"source": "Source", "level": "Evidence level", "figures": "Figures"}))

    def sources_and_licences(self) -> None:
        rows = []
        for s in self.data.sources.to_dict("records"):
            rows.append([s["title"], s["publisher"], s["date"], "Source document", s["licence_note"]])
        for meta_path in sorted((self.project.data / "reference").glob("*.meta.json")):
            m = json.loads(meta_path.read_text(encoding="utf-8"))
            rows.append([m["title"], m["publisher"], m["period"], "Context data", m["licence"]])
        show(table(rows, ["Title", "Publisher", "Date or period", "Role", "Licence and use"], "Sources and their licences"))

    # audit ---------------------------------------------------------------------------------------
    def glue_audit(self) -> None:
        f = self.findings()
        counts = f["status"].value_counts()
        self.glue_count("n_checks", len(f), "check")
        for status in ("consistent", "inconsistent", "contradicted", "not_checked"):
            self.glue_count(f"n_{status}", int(counts.get(status, 0)), "claim")
        self.record("audit_counts", counts.to_dict())

    def audit_chart(self) -> None:
        f = self.findings()
        order = ["consistent", "inconsistent", "contradicted", "not_checked"]
        words = {"consistent": "Adds up", "inconsistent": "Does not add up", "contradicted": "Stated differently elsewhere",
                 "not_checked": "Could not be compared"}
        d = pd.DataFrame({"status": [words[s] for s in order], "checks": [int((f["status"] == s).sum()) for s in order]})
        chart = charts.bar(d, "status", "checks", x_title="Number of checks", sort=[words[s] for s in order])
        bad = int(d["checks"][1] + d["checks"][2])
        show(charts.accessible_figure(chart, d, title=f"Most stated figures add up; {bad} do not",
                                      description=charts.describe_extremes(d, "status", "checks", what="Audit checks by result"),
                                      source="Claim audit of the evidence ledger (data/relations.csv)", csv_name="audit-summary.csv",
                                      table_columns={"status": "Result", "checks": "Checks"}))

    def audit_table(self) -> None:
        f = self.findings().copy()
        order = {s: i for i, s in enumerate(("contradicted", "inconsistent", "not_checked", "consistent"))}
        f = f.sort_values(by=["status", "claim"], key=lambda c: c.map(order) if c.name == "status" else c)
        words = {"consistent": "Adds up", "inconsistent": "Does not add up", "contradicted": "Stated differently elsewhere",
                 "not_checked": "Could not be compared"}
        rows = []
        for r in f.to_dict("records"):
            src = self.data.sources.loc[r["source"], "prefix"].upper() if r["source"] in self.data.sources.index else ""
            rows.append([tag("code", esc(r["claim"])),
                         tag("span", esc(words[r["status"]]), class_=f"lx-audit lx-audit-{r['status']}"),
                         esc(r["relation"].replace("_", " ")), esc(r["explanation"]),
                         esc(f"{src} {r['section']}".strip())])
        self.record("audit", f[["relation_id", "claim", "inputs", "stated", "recomputed", "status"]])
        show(table(rows, ["Claim", "Result", "Rule", "What we found", "Where"], "Every check the audit makes", safe_cells=True),
             tag("p", "Download: " + tag("a", "all audit findings (CSV)", href=download_href("audit.csv")) + ".", class_="lx-source"))

    def evidence_profiles(self) -> None:
        o = self.data.outcomes
        review = o[o["source"] == self.review_source]
        rows, recs = [], []
        for area in self.data.partnerships().to_dict("records"):
            sub = review[review["area"].isin(self.data.subtree(area["id"]))]
            p = evidence_profile(sub)
            recs.append({"area": area["name"], **p})
            rows.append([area["name"], *[str(p[k]) for k in ("claims", "activity", "output", "outcome", "impact", "with_baseline",
                                                              "with_target", "with_comparator")]])
        for s in self.data.sources.to_dict("records"):
            if s["id"] == self.review_source:
                continue
            p = evidence_profile(o[o["source"] == s["id"]])
            recs.append({"area": s["title"], **p})
            rows.append([s["title"], *[str(p[k]) for k in ("claims", "activity", "output", "outcome", "impact", "with_baseline",
                                                           "with_target", "with_comparator")]])
        self.record("evidence_profiles", recs)
        show(table(rows, ["Partnership or case study", "Figures", "Activity", "Output", "Outcome", "Impact", "With a baseline",
                          "With a target", "With a comparator"], "Evidence profile of each partnership and case study",
                   numeric=list(range(1, 9))))

    # data dictionary -------------------------------------------------------------------------------
    def data_dictionary(self) -> None:
        out = [tag("p", tag("a", "Download the data package descriptor (datapackage.json)", href=download_href("datapackage.json"))
                   + esc(" and the ") + tag("a", "district boundaries (GeoJSON)", href=download_href("reference/boundaries.geojson")) + ".")]
        for res in self.descriptor["resources"]:
            fields = res["schema"]["fields"]
            path = self.project.data / res["path"]
            n = max(0, sum(1 for _ in path.open(encoding="utf-8-sig")) - 1) if path.exists() else 0
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
            fks = res["schema"].get("foreignKeys", [])
            keys = "; ".join(f"{fk['fields']} → {fk['reference']['resource'] or res['name']}.{fk['reference']['fields']}" for fk in fks)
            head = tag("h3", esc(res.get("title", res["name"])), id=f"table-{res['name']}")
            meta = tag("p", esc(res.get("description", "")) + " " + tag("a", f"Download {res['path']} (CSV)", href=download_href(res["path"]))
                       + esc(f". Rows: {n:,}.") + (esc(f" Keys that must exist elsewhere: {keys}.") if keys else ""))
            out.append(head + meta + table(rows, ["Column", "Type", "Rules", "Meaning"], f"Columns of {res['path']}"))
            self.record(f"dictionary:{res['name']}", {"rows": n, "fields": [fd["name"] for fd in fields]})
        show(*out)


class HomeView(AboutView, PlaceChapter):
    """The home page: headline figures, the shape of the evidence and the audit in brief."""

    def glue_home(self) -> None:
        self.glue_all()
        self.glue_methods()
        self.glue_audit()
        o = self.data.outcomes
        review = o[o["source"] == self.review_source]
        p = evidence_profile(review)
        self.glue_count("n_review_claims", p["claims"], "figure")
        share = lambda n: f"{round(100 * n / p['claims'])}%" if p["claims"] else "0%"  # noqa: E731
        self.glue("share_activity_output", share(p["activity"] + p["output"]))
        self.glue("share_outcome_impact", share(p["outcome"] + p["impact"]))
        self.glue_count("n_with_baseline", p["with_baseline"], "figure")
        self.glue_count("n_with_target", p["with_target"], "figure")
