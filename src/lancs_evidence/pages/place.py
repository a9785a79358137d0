"""Views for the pages that look across areas: Lancashire Place and the localities, and the place sections
the home page shares (`PlaceTables`)."""
from __future__ import annotations

import json
import re

import altair as alt
import pandas as pd

from lancs_evidence.analysis.summaries import rollup
from lancs_evidence.data.vocab import RESULT_LEVELS
from lancs_evidence.pages import charts, fmt
from lancs_evidence.pages.chapter import LEDGER_API, ChapterLedger
from lancs_evidence.pages.html import show, table
from lancs_evidence.pages.view import View, offers


class PlaceTables:
    """Sections about Lancashire's places that several pages show: per-partnership context figures (population,
    deprivation, health), the Place's own figures for prose, the footprint map and deprivation by district.
    A section object: the page composes it and what it shows is recorded on that page."""

    def __init__(self, page: View):
        self.page = page

    def partnership_context(self) -> pd.DataFrame:
        data = self.page.data
        pop = data.reference("population").set_index("ons_code")
        imd25 = data.reference("imd2025").set_index("ons_code")
        imd19 = data.reference("imd2019").set_index("ons_code")
        ft = data.reference("fingertips")
        recs = []
        for p in data.partnerships().to_dict("records"):
            councils = data.councils(p["id"])
            codes = list(councils["ons_code"])
            population = int(pop.loc[codes, "census2021_usual_residents"].sum())
            # a partnership of two councils: share of small areas in the most deprived tenth, weighted by each
            # council's usual residents at the 2021 Census (the most recent official count; never the mid-2020 estimate)
            w = pop.loc[codes, "census2021_usual_residents"]
            share25 = float((imd25.loc[codes, "share_lsoas_most_deprived_decile"] * w).sum() / w.sum() * 100)
            share19 = float((imd19.loc[codes, "share_lsoas_most_deprived_decile"] * w).sum() / w.sum() * 100)
            ranks = ", ".join(f"{int(imd25.loc[c, 'imd_rank_of_average_score'])}" for c in codes)
            worse = int((ft[ft["ons_code"].isin(codes)]["compared_to_england"] == "Worse").sum())
            n_ft = int(ft["ons_code"].isin(codes).sum())
            prof = data.profile(source=self.page.review_source, areas=data.subtree(p["id"]))
            recs.append({
                "area": p["id"], "name": p["name"], "locality": data.locality_of(p["id"]),
                "councils": ", ".join(councils["name"]), "population": population,
                "imd_ranks_2025": ranks, "most_deprived_share_2025": share25, "most_deprived_share_2019": share19,
                "indicators_worse": worse, "indicators": n_ft, "figures": prof["figures"], "results": prof["results"],
                "outcome_or_impact": sum(prof[level] for level in RESULT_LEVELS),
                "activity_or_output": prof["activity"] + prof["output"],
            })
        return pd.DataFrame(recs)

    def glue_figures(self) -> None:
        data = self.page.data
        self.page.glue("n_councils", fmt.plural(int((data.areas["kind"] == "district").sum()), "district council"))
        self.page.glue("n_partnerships", fmt.plural(len(data.partnerships()), "district partnership"))
        self.page.glue("n_localities", fmt.plural(len(data.localities()), "locality", "localities"))
        pop = data.reference("population")
        districts = pop[pop["ons_code"].isin(data.areas[data.areas["kind"] == "district"]["ons_code"])]
        # one population for the Place: usual residents at the 2021 Census, with its date (issue 13, rule 6)
        self.page.glue("population_source", "usual residents at the 2021 Census")
        self.page.glue("census_population", fmt.number(districts["census2021_usual_residents"].sum()))
        census_day = re.search(r"Census day ([^;]+)", data.reference_meta("population")["period"])
        self.page.glue("census_date", census_day.group(1).strip() if census_day else "Census day")
        self.page.glue("year_label", self.page.year_label)

    def footprint_map(self) -> None:
        data = self.page.data
        geo = json.loads((self.page.project.data / "reference" / "boundaries.geojson").read_text(encoding="utf-8"))
        councils = data.areas[data.areas["kind"] == "district"].set_index("ons_code")
        loc_names = data.areas["name"]
        for f in geo["features"]:
            code = f["properties"]["LAD24CD"]
            c = councils.loc[code]
            loc = data.locality_of(c["id"])
            f["geometry"] = charts.rewind_for_d3(f["geometry"])
            f["properties"].update({"council": c["name"], "partnership": loc_names[c["parent"]], "locality": loc_names[loc],
                                    "locality_id": loc})
        colours = {loc_names[k]: v for k, v in charts.LOCALITY_COLOURS.items() if k in loc_names}
        shapes = alt.Data(values=geo["features"])
        base = alt.Chart(shapes).mark_geoshape(stroke="#ffffff", strokeWidth=1.2).encode(
            color=alt.Color("properties.locality:N", title="Locality", scale=alt.Scale(domain=list(colours), range=list(colours.values()))),
            tooltip=[alt.Tooltip("properties.council:N", title="Council"), alt.Tooltip("properties.partnership:N", title="Partnership"),
                     alt.Tooltip("properties.locality:N", title="Locality")])
        chart = base.project(type="mercator").properties(height=360)
        table_df = pd.DataFrame([{"Council": f["properties"]["council"], "ONS code": f["properties"]["LAD24CD"],
                                  "Partnership": f["properties"]["partnership"], "Locality": f["properties"]["locality"]} for f in geo["features"]])
        table_df = table_df.sort_values(["Locality", "Partnership", "Council"]).reset_index(drop=True)
        counts = table_df.groupby("Locality")["Council"].count()
        self.page.record("footprint", table_df)
        meta = data.reference_meta("boundaries")
        desc = (f"Map of the {len(table_df)} district councils of Lancashire, coloured by locality: "
                + "; ".join(f"{loc} ({n} councils: {', '.join(table_df[table_df['Locality'] == loc]['Council'])})" for loc, n in counts.items()) + ".")
        show(charts.accessible_chart(chart, table_df, title=f"{len(table_df)} councils, {table_df['Partnership'].nunique()} partnerships, {len(counts)} localities",
                                      description=desc, source=f"{meta['publisher']}, {meta['title']} {fmt.bracketed(meta['licence'])}",
                                      csv_name="lancashire-footprint.csv"))

    def deprivation_overview(self) -> None:
        data = self.page.data
        imd25 = data.reference("imd2025").set_index("ons_code")
        imd19 = data.reference("imd2019").set_index("ons_code")
        councils = data.areas[data.areas["kind"] == "district"]
        recs = []
        for c in councils.to_dict("records"):
            a, b = imd25.loc[c["ons_code"]], imd19.loc[c["ons_code"]]
            recs.append({"council": c["name"].replace(" Borough Council", "").replace(" City Council", "").replace(" Council", ""),
                         "locality": data.areas.loc[data.locality_of(c["id"]), "name"],
                         "rank_2025": int(a["imd_rank_of_average_score"]), "of_2025": int(a["districts_ranked"]),
                         "rank_2019": int(b["imd_rank_of_average_score"]), "of_2019": int(b["districts_ranked"]),
                         "share_2025": round(float(a["share_lsoas_most_deprived_decile"]) * 100, 1),
                         "share_2019": round(float(b["share_lsoas_most_deprived_decile"]) * 100, 1)})
        d = pd.DataFrame(recs).sort_values("rank_2025").reset_index(drop=True)
        self.page.record("deprivation_overview", d)
        most = d.iloc[0]
        self.page.glue("most_deprived", most["council"])
        self.page.glue("most_deprived_rank", f"{most['rank_2025']} of {most['of_2025']}")
        self.page.glue("least_deprived", d.iloc[-1]["council"])
        self.page.glue("n_top_decile_2025", fmt.plural(int((d["rank_2025"] <= d["of_2025"] / 10).sum()), "council"))
        rose = d[d["share_2025"] > d["share_2019"] + 0.05]
        self.page.glue("n_share_rose", fmt.plural(len(rose), "council"))
        rows = [[r["council"], r["locality"], f"{r['rank_2025']} of {r['of_2025']}", f"{r['rank_2019']} of {r['of_2019']}",
                 f"{fmt.number(r['share_2025'], 1)}%", f"{fmt.number(r['share_2019'], 1)}%"] for r in d.to_dict("records")]
        show(table(rows, ["Council", "Locality", "IoD 2025 rank", "IoD 2019 rank", "Small areas in most deprived tenth, 2025", "Same, 2019"],
                   f"Deprivation in Lancashire's {len(d)} districts, most deprived first",
                   numeric=[2, 3, 4, 5]))
        long = d.melt(id_vars=["council"], value_vars=["share_2019", "share_2025"], var_name="index", value_name="share")
        long["index"] = long["index"].map({"share_2019": "IoD 2019", "share_2025": "IoD 2025"})
        order = list(d["council"])
        line = alt.Chart(d).mark_rule(color="#8c8c8c", size=2).encode(y=alt.Y("council:N", sort=order, title=None),
                                                                       x="share_2019:Q", x2="share_2025:Q")
        pts = alt.Chart(long).mark_point(filled=True, size=90, opacity=1).encode(
            y=alt.Y("council:N", sort=order, title=None),
            x=alt.X("share:Q", title="Small areas in England's most deprived tenth (%)"),
            color=alt.Color("index:N", title="Index", scale=alt.Scale(domain=["IoD 2019", "IoD 2025"], range=["#9ecae1", "#0b4f8a"])),
            shape=alt.Shape("index:N", title="Index", scale=alt.Scale(domain=["IoD 2019", "IoD 2025"], range=["circle", "diamond"])),
            tooltip=["council:N", "index:N", "share:Q"])
        meta = data.reference_meta("imd2025")
        latest = d.rename(columns={"share_2025": "share"})
        show(charts.accessible_chart(
            alt.layer(line, pts).properties(height=alt.Step(24)), long,
            title=f"{most['council']} has the largest share of neighbourhoods in England's most deprived tenth",
            description=charts.describe_extremes(latest, "council", "share", unit="percent",
                                                 what="Share of small areas in the most deprived tenth, IoD 2025"),
            source=f"{meta['publisher']}, Indices of Deprivation 2025 and 2019 {fmt.bracketed(meta['licence'])}", csv_name="deprivation-districts.csv",
            table_columns={"council": "Council", "index": "Index", "share": "Share (%)"}))


class LocalityView(View):
    """A locality page (`templates/locality.md`): its partnerships compared."""

    template = "templates/locality.md"

    def __init__(self, area: str, year: str | None = None):
        super().__init__(year)
        self.place = PlaceTables(self)
        self.name = self.require_area(area, "locality", "a locality")["name"]
        self.area = area
        ctx = self.place.partnership_context()
        self.ctx = ctx[ctx["locality"] == area].reset_index(drop=True)
        self.record("context", self.ctx)

    def glue_all(self) -> None:
        self.glue("name", self.name)
        self.glue("n_localities", fmt.plural(len(self.data.localities()), "locality", "localities"))
        self.glue("n_partnerships", fmt.plural(len(self.ctx), "district partnership"))
        self.glue("partnerships", fmt.join_words(list(self.ctx["name"])))
        self.glue("population", fmt.number(self.ctx["population"].sum()))
        self.glue("year_label", self.year_label)

    def comparison(self) -> None:
        c = self.ctx
        rows = [[r["name"], r["councils"], fmt.number(r["population"]), r["imd_ranks_2025"],
                 f"{fmt.number(r['most_deprived_share_2025'], 1)}%", f"{r['indicators_worse']} of {r['indicators']}",
                 fmt.number(r["figures"]), fmt.number(r["results"]), fmt.number(r["outcome_or_impact"])] for r in c.to_dict("records")]
        show(table(rows, ["Partnership", "Councils", "Usual residents (Census 2021)", "IoD 2025 rank of each council",
                          "Small areas in England's most deprived tenth (2025)", "Health indicators worse than England",
                          "Figures in the review", "Separate results (a restated result once)", "Results that are outcomes or impact"],
                   f"The partnerships of {self.name} compared", numeric=[2, 4, 6, 7, 8]))
        d = c[["name", "most_deprived_share_2025", "most_deprived_share_2019"]].melt(
            id_vars="name", var_name="year", value_name="share")
        d["year"] = d["year"].map({"most_deprived_share_2025": "2025", "most_deprived_share_2019": "2019"})
        d["share"] = d["share"].round(1)
        chart = alt.Chart(d).mark_bar().encode(
            y=alt.Y("name:N", title=None), yOffset=alt.YOffset("year:N", sort=["2019", "2025"]),
            x=alt.X("share:Q", title="Share of small areas in England's most deprived tenth (%)"),
            color=alt.Color("year:N", scale=alt.Scale(domain=["2019", "2025"], range=["#9ecae1", "#0b4f8a"]), title="Index"),
            tooltip=["name:N", "year:N", "share:Q"]).properties(height=alt.Step(16))
        latest = d[d["year"] == "2025"]
        top = latest.loc[latest["share"].idxmax()]
        meta = self.data.reference_meta("imd2025")
        show(charts.accessible_chart(
            chart, d.rename(columns={"name": "Partnership", "year": "Index", "share": "Share (%)"}),
            title=f"{top['name']} has the largest share of neighbourhoods in England's most deprived tenth in {self.name}",
            description=charts.describe_extremes(latest, "name", "share", unit="percent",
                                                 what="Share of small areas in the most deprived tenth, 2025 (population-weighted for two-council partnerships)"),
            source=f"{meta['publisher']}, Indices of Deprivation 2025 and 2019", csv_name=f"deprivation-{self.area}.csv"))

    def reported(self) -> None:
        data = self.data
        # only the locality's own partnerships are summed, so only their rows are read
        rows = data.select("figures", source=self.review_source, areas=list(self.ctx["area"])).copy()
        rows["area_kind"] = rows["area"].map(data.areas["kind"])
        group_of = {p: p for p in self.ctx["area"]}
        sums = rollup(rows, data.relations, group_of)
        # results, each once however often the review states it; context and testimony are in neither bar
        d = self.ctx[["name", "results", "activity_or_output", "outcome_or_impact"]].copy()
        long = d.melt(id_vars="name", value_vars=["activity_or_output", "outcome_or_impact"], var_name="kind", value_name="count")
        long["kind"] = long["kind"].map({"activity_or_output": "Activity or output", "outcome_or_impact": "Outcome or impact"})
        chart = alt.Chart(long).mark_bar().encode(
            y=alt.Y("name:N", title=None, sort="-x"), x=alt.X("count:Q", title="Results reported in the review, each once", stack=True),
            color=alt.Color("kind:N", scale=alt.Scale(domain=["Activity or output", "Outcome or impact"], range=["#9ecae1", "#0b4f8a"]), title=None),
            tooltip=["name:N", "kind:N", "count:Q"]).properties(height=alt.Step(26))
        most = d.loc[d["results"].idxmax()]
        show(charts.accessible_chart(
            chart, long.rename(columns={"name": "Partnership", "kind": "Kind of result", "count": "Results"}),
            title=f"{most['name']} reported the most results in {self.name}",
            description=charts.describe_extremes(d, "name", "results", what="Results reported per partnership, each counted once"),
            source=self.cite(self.review_source, "3. District Health and Wellbeing Partnerships"), csv_name=f"figures-{self.area}.csv"))
        self.record("rollup", sums)
        if not sums.empty:
            show(self.rollup_table(sums, "Partnership", data.areas["name"],
                                   f"Counts and money reported by the partnerships of {self.name}: like figures added (each "
                                   "once), others side by side with the reason"))

    def provenance(self) -> None:
        self.provenance_box({"area": self.area, "year": self.year}, None, self.template)


@offers("ledger", LEDGER_API)
class PlaceChapter(View):
    """The Lancashire Place chapter (chapters/place.md): the place sections plus the chapter API (figures, glue by id)."""

    def __init__(self, source_file: str, year: str | None = None):
        super().__init__(year, source_file)
        self.ledger = ChapterLedger(self)
        self.place = PlaceTables(self)

    def glue_all(self) -> None:
        self.place.glue_figures()

    def footprint_map(self) -> None:
        self.place.footprint_map()

    def deprivation_overview(self) -> None:
        self.place.deprivation_overview()

