"""Make a small, self-contained evidence-book project with invented data, for tests and benchmarks.

The project uses the real templates, configuration, descriptor and vocabularies, so a test of it is a
test of the real pipeline; only the areas, figures and reference data are invented (never published).
Every invented figure is a deterministic function of the area's number, so tests can compute what a
page must show without reading the page's own output.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from lancs_evidence.data.reference import sha256

COPY_FILES = ("_config.yml", "constraints.txt")
RELATIONS_HEADER = ("id,relation,figure,inputs,term,source,section,says,other_source,other_section,other_says,ambiguity,"
                    "advice,note").split(",")
COPY_DATA = ("sources.csv", "themes.csv", "units.csv", "measures.csv", "datapackage.json", "README.md")
LEDGER_HEADER = ("id,source,section,area,measure,value,value_high,unit,qualifier,value_words,period,baseline,baseline_period,target,target_kind,"
                 "comparator,evidence_level,initiative,statement,note,footprint").split(",")


def area_id(i: int) -> str:
    return f"testarea_{i:03d}"


def area_name(i: int) -> str:
    return f"Testarea {i:03d}"


def ons_code(i: int) -> str:
    return f"E07{900000 + i:06d}"


def expected(i: int) -> dict:
    """The figures the synthetic ledger holds for area number i (what pages must show)."""
    return {
        "people_supported": 1000 + 37 * i,  # a count stated with "over"
        "wait_before": 12.0 + i % 5,  # weeks, with a baseline and a target
        "wait_after": 6.5 + (i % 3) * 0.5,
        "wait_target": 8.0,
        "satisfaction": 80 + i % 15,  # percent
        "population": 50000 + 1000 * i,
    }


def _write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})


def make_project(dest: Path, source: Path, n_areas: int = 2, localities: int = 1, year: str = "2024-25",
                 chapters: tuple[str, ...] = ()) -> Path:
    """Create a project in `dest` with `n_areas` partnerships spread over `localities` localities."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPY_FILES:
        shutil.copy2(source / name, dest / name)
    shutil.copytree(source / "templates", dest / "templates", dirs_exist_ok=True)
    shutil.copytree(source / "_templates", dest / "_templates", dirs_exist_ok=True)
    (dest / "_static").mkdir(exist_ok=True)
    for f in (source / "_static").iterdir():
        if f.is_file():
            shutil.copy2(f, dest / "_static" / f.name)
    (dest / "_toc.yml").write_text("format: jb-book\nroot: chapters/index\n", encoding="utf-8")
    data = dest / "data"
    data.mkdir(exist_ok=True)
    for name in COPY_DATA:
        shutil.copy2(source / "data" / name, data / name)
    _write_csv(data / "years.csv", ["id", "label", "source", "current"],
               [{"id": year, "label": year.replace("-", "/"), "source": "eoy-review-2024-25", "current": "true"}])

    areas = [{"id": "place", "name": "Test Place", "kind": "place", "parent": "", "ons_code": "", "order": 1}]
    for j in range(localities):
        areas.append({"id": f"loc_{j}", "name": f"Locality {j}", "kind": "locality", "parent": "place", "ons_code": "", "order": 10 + j})
    for case in ("national", "fleetwood"):
        areas.append({"id": case, "name": case.title(), "kind": "country" if case == "national" else "neighbourhood",
                      "parent": "" if case == "national" else "place", "ons_code": "", "order": 900 + len(areas)})
    figures, initiatives, learning, pop, imd25, imd19, ft = [], [], [], [], [], [], []
    for i in range(1, n_areas + 1):
        aid, council = area_id(i), f"{area_id(i)}_district"
        loc = f"loc_{(i - 1) % localities}"
        areas.append({"id": aid, "name": area_name(i), "kind": "partnership", "parent": loc, "ons_code": "", "order": 100 + i})
        areas.append({"id": council, "name": f"{area_name(i)} Council", "kind": "district", "parent": aid, "ons_code": ons_code(i),
                      "order": 100000 + i})
        e = expected(i)
        section = f"3. District partnerships > {area_name(i)}"
        figures += [
            {"id": f"eoy-{aid}-people-supported", "source": "eoy-review-2024-25", "section": section, "area": aid,
             "measure": "people_supported", "value": e["people_supported"], "unit": "count", "qualifier": "over",
             "period": "2024/25", "evidence_level": "output", "initiative": f"ini-{aid}-hub", "statement": "Residents helped by the community hub"},
            {"id": f"eoy-{aid}-wait", "source": "eoy-review-2024-25", "section": section, "area": aid,
             "measure": "waiting_time_weeks", "value": e["wait_after"], "unit": "weeks", "period": "Q4 2024/25",
             "baseline": e["wait_before"], "baseline_period": "Q1 2024/25", "target": e["wait_target"],
             "evidence_level": "outcome", "statement": "Average wait for a first appointment"},
            {"id": f"eoy-{aid}-satisfied", "source": "eoy-review-2024-25", "section": section, "area": aid,
             "measure": "share_reporting_improvement_pct", "value": e["satisfaction"], "unit": "percent", "period": "2024/25",
             "evidence_level": "outcome", "statement": "Share of hub users who were satisfied"},
        ]
        initiatives.append({"id": f"ini-{aid}-hub", "source": "eoy-review-2024-25", "section": section, "area": aid,
                            "name": f"{area_name(i)} community hub", "themes": "community_capacity;mental_health",
                            "partners": "Test council;Test charity", "summary": "An invented hub used to test the pipeline."})
        learning.append({"id": f"lp-eoy-{aid}-01", "source": "eoy-review-2024-25", "section": section, "area": aid,
                         "kind": "learning_point", "title": "Start small", "themes": "integrated_working",
                         "summary": "An invented lesson used to test the pipeline."})
        code, name = ons_code(i), f"{area_name(i)} Council"
        pop.append({"ons_code": code, "name": name, "population_mid2020": e["population"], "age_0_17_mid2020": e["population"] // 5,
                    "age_18_64_mid2020": e["population"] * 3 // 5, "age_65_plus_mid2020": e["population"] // 5,
                    "census2021_usual_residents": e["population"] + 100})
        imd25.append({"ons_code": code, "name": name, "districts_ranked": 296, "imd_average_score": 20 + i % 7,
                      "imd_rank_of_average_score": 10 + i, "imd_rank_of_average_rank": 11 + i, "share_lsoas_most_deprived_decile": 0.1,
                      "rank_of_share_most_deprived_decile": 20 + i, "extent": 0.2, "health_domain_rank_of_average_score": 30 + i})
        imd19.append({"ons_code": code, "name": name, "imd_average_score": 21, "imd_rank_of_average_score": 12 + i,
                      "districts_ranked": 317, "share_lsoas_most_deprived_decile": 0.12, "extent": 0.22})
        for key, label, unit, value, eng, cmp_ in (("life_expectancy_male", "Life expectancy at birth (male)", "years", 77.5, 79.8, "Worse"),
                                                   ("smoking_prevalence", "Smoking prevalence (18+)", "pct", 11.2, 10.4, "Similar")):
            ft.append({"ons_code": code, "name": name, "indicator": key, "fingertips_id": 1, "sex": "Persons", "label": label,
                       "unit": unit, "period": "2024", "value": value, "ci95_lower": value - 1, "ci95_upper": value + 1,
                       "compared_to_england": cmp_, "england_value": eng, "north_west_value": eng, "england_period_matches": "True"})
    _write_csv(data / "areas.csv", ["id", "name", "kind", "parent", "ons_code", "order"], areas)
    _write_csv(data / year / "figures.csv", LEDGER_HEADER, figures)
    _write_csv(data / year / "initiatives.csv", "id,source,section,area,name,themes,partners,summary,same_as".split(","), initiatives)
    _write_csv(data / year / "learning_points.csv", "id,source,section,area,kind,title,themes,summary".split(","), learning)
    _write_csv(data / year / "lesson_evidence.csv", "id,lesson,evidence,kind,note".split(","), [
        {"id": "le-01", "lesson": f"lp-eoy-{area_id(1)}-01", "evidence": f"ini-{area_id(1)}-hub", "kind": "initiative",
         "note": "An invented link."}])
    _write_csv(data / year / "place_roles.csv", "id,source,section,area,group,role,holder,organisation".split(","), [
        {"id": "role-loc_0-integrated-place-leader", "source": "eoy-review-2024-25", "section": "3. District partnerships",
         "area": "loc_0", "group": "locality_lead", "role": "Integrated Place Leader", "holder": "Test Leader", "organisation": ""}])
    _write_csv(data / year / "place_engagement.csv", "id,source,section,kind,name,period,status,summary".split(","), [])
    _write_csv(data / "claim_evidence.csv", "id,page,claim,verb,evidence,kind,note".split(","), [])
    _write_csv(data / "case-studies" / "derived.csv", "id,source,kind,first,second,label,note".split(","), [])
    _write_csv(data / "case-studies" / "crosswalk_matches.csv", "id,contribution,initiative,match,note".split(","), [])
    _write_csv(data / "case-studies" / "report_cases.csv", "id,source,number,area,title".split(","), [])
    _write_csv(data / year / "headlines.csv", ["figure", "label"], [
        {"figure": f"eoy-{area_id(1)}-people-supported", "label": "residents helped by the invented hub"}])
    _write_csv(data / "case-studies" / "figures.csv", LEDGER_HEADER, [
        {"id": "flt-fleetwood-population", "source": "fleetwood-case-study", "section": "Working together", "area": "fleetwood",
         "measure": "registered_population", "value": 28595, "unit": "count", "evidence_level": "context",
         "statement": "Patients registered with the local primary care network"}])
    _write_csv(data / "case-studies" / "initiatives.csv", "id,source,section,area,name,themes,partners,summary,same_as".split(","), [
        {"id": "ini-fleetwood-hub", "source": "fleetwood-case-study", "section": "The solution", "area": "fleetwood",
         "name": "Youth hub", "themes": "children_young_people", "partners": "PCN", "summary": "An invented summary."}])
    _write_csv(data / "case-studies" / "learning_points.csv", "id,source,section,area,kind,title,themes,summary".split(","), [
        {"id": "lp-flt-fleetwood-01", "source": "fleetwood-case-study", "section": "Learning points", "area": "fleetwood",
         "kind": "learning_point", "title": "", "themes": "integrated_working", "summary": "An invented lesson."}])
    _write_csv(data / "case-studies" / "event_contributions.csv", "id,source,question,themes,is_key_point,summary,part,same_as".split(","), [
        {"id": "mhe-barriers-001", "source": "mh-inequalities-event-2021", "question": "barriers", "themes": "workforce",
         "is_key_point": "true", "summary": "Invented contribution.", "part": "discussion_key_point", "same_as": ""}])
    ref = data / "reference"
    _write_csv(ref / "population.csv", list(pop[0]), pop)
    _write_csv(ref / "imd2025.csv", list(imd25[0]), imd25)
    _write_csv(ref / "imd2019.csv", list(imd19[0]), imd19)
    _write_csv(ref / "fingertips.csv", list(ft[0]), ft)
    for name in ("population", "imd2025", "imd2019", "fingertips"):
        meta = {"title": f"Synthetic {name}", "publisher": "Test suite", "licence": "Invented data, never published",
                "period": "none", "origin": "lancs_evidence.data.synthetic", "description": "Invented for tests.",
                "file": f"{name}.csv", "sha256": sha256(ref / f"{name}.csv")}
        (ref / f"{name}.meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    # relations.csv needs at least one row to be valid: link the first area's figure to itself
    _write_csv(data / "relations.csv", RELATIONS_HEADER, [
        {"id": "rel-test-01", "relation": "same_measure_as", "figure": f"eoy-{area_id(1)}-people-supported",
         "inputs": f"eoy-{area_id(1)}-people-supported", "note": "self link so the table has a row"}])
    ch = dest / "chapters"
    ch.mkdir(exist_ok=True)
    (ch / "index.md").write_text("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
                                 "kernelspec:\n  name: python3\n  display_name: Python 3\n  language: python\n---\n\n"
                                 "# Test book\n\nAn invented book for tests.\n", encoding="utf-8")
    contents = ("root: chapters/index\nparts:\n  - caption: Localities\n    chapters:\n"
                "      - pages: locality\n        sections: district\n")
    if chapters:  # real chapters that work on any data, e.g. "what-changed"
        contents += "  - caption: About\n    chapters:\n" + "".join(f"      - file: chapters/{c}\n" for c in chapters)
        for c in chapters:
            shutil.copy2(source / "chapters" / f"{c}.md", ch / f"{c}.md")
    (ch / "_contents.yml").write_text(contents, encoding="utf-8")
    return dest
