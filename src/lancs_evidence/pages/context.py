"""Context that the figures alone leave out: who leads the Place, how it is governed, how it listens,
each locality's people, and the links that take a reader onward from a page.

Every list here comes from a table in data/ (`<year>/place_roles.csv`, `<year>/place_engagement.csv`,
the ledger, the official population table and areas.csv), so a new year's review changes the pages by
changing the tables, not this code. Functions take the page object (any `pages.view.View`) so that what they
show is recorded in its receipt and what prose needs is glued.
"""
from __future__ import annotations

import posixpath
from pathlib import Path

import pandas as pd
import yaml
from markupsafe import Markup

from lancs_evidence.data.ledger import read_table
from lancs_evidence.pages import fmt
from lancs_evidence.pages.html import esc, join, show, table, tag

# The chapters that take up the work a district's initiatives are tagged with. The healthy communities
# chapter compares every partnership's work theme by theme, so every district links to it.
THEME_CHAPTERS: dict[str, list[tuple[str, str]]] = {
    "integrated_working": [("chapters/workstreams/integrated-neighbourhoods", "Integrated neighbourhood working")],
    "older_people_frailty": [("chapters/priorities/frailty", "Frailty")],
    "urgent_intermediate_care": [("chapters/priorities/urgent-care", "Urgent and emergency care"),
                                 ("chapters/workstreams/enhanced-care", "Enhanced care")],
    "mental_health": [("chapters/case-studies/lga-councils", "Councils' public mental health work"),
                      ("chapters/case-studies/event-2021", "The 2021 mental health and inequalities event")],
}
ALL_DISTRICTS_CHAPTER = ("chapters/workstreams/healthy-communities", "Healthy communities: every partnership's work by theme")

GROUP_WORDS = {
    "board_officer": "Officers of the partnership",
    "board_nominated": "Nominated representatives",
    "board_role": "Members because of their role",
}
STATUS_WORDS = {
    "identified": "identified as a priority",
    "held": "held",
    "agreed": "agreed",
    "engaged": "engaged during the year",
    "in_progress": "under way; no results reported yet",
}


def href(from_key: str, to_key: str, anchor: str = "") -> str:
    """The relative URL of page `to_key` seen from page `from_key` (both docnames like 'chapters/place')."""
    rel = posixpath.relpath(to_key + ".html", posixpath.dirname(from_key) or ".")
    return rel + (f"#{anchor}" if anchor else "")


def link(from_key: str, to_key: str, text: str) -> str:
    return tag("a", esc(text), href=href(from_key, to_key))


COLUMNS = {"place_roles": ["id", "source", "section", "area", "group", "role", "holder", "organisation"],
           "place_engagement": ["id", "source", "section", "kind", "name", "period", "status", "summary"]}


def _year_table(page, name: str) -> pd.DataFrame:
    """The year's table (an empty one with the right columns when a year has none)."""
    path = Path(page.project.data) / page.year / f"{name}.csv"
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS[name], dtype=str)
    return read_table(path)


def roles(page) -> pd.DataFrame:
    return _year_table(page, "place_roles")


def engagement(page) -> pd.DataFrame:
    return _year_table(page, "place_engagement")


def _source_note(page, rows: pd.DataFrame) -> str:
    if rows.empty:
        return ""
    src = rows.iloc[0]["source"]
    sections = list(dict.fromkeys(s.split(" > ")[-1] for s in rows["section"]))
    return f"Source: {page.source_title(src)}, {fmt.join_words(sections)}."


# --- the Place: vision, members, governance, listening ------------------------------------------
def glue_place_context(page) -> None:
    """Names and counts that the place chapter's prose uses."""
    r = roles(page)
    e = engagement(page)
    dph = r[r["group"] == "leadership"]
    page.glue("dph_name", dph.iloc[0]["holder"] if not dph.empty else "the Director of Public Health")
    board = r[r["group"].str.startswith("board")]
    page.glue("n_board_seats", fmt.plural(len(board), "seat"))
    page.glue("n_nominated", fmt.plural(int((board["group"] == "board_nominated").sum()), "nominated representative"))
    kinds = e["kind"] if not e.empty else pd.Series(dtype=str)
    page.glue("n_scrutiny_committees", fmt.plural(int((kinds == "scrutiny_committee").sum()), "scrutiny committee"))
    leads = r[r["group"] == "locality_lead"]
    page.glue("n_locality_leads", fmt.plural(len(leads), "named lead"))
    page.record("place_roles", r[["id", "holder"]] if not r.empty else [])
    page.record("place_engagement", e[["id", "status"]] if not e.empty else [])


def show_priorities(page) -> None:
    e = engagement(page)
    rows = e[e["kind"] == "priority"]
    if rows.empty:
        return
    items = join(tag("li", esc(s)) for s in rows["summary"])
    show(tag("ul", items), tag("p", esc(_source_note(page, rows)), class_="lx-source"))


def show_members(page) -> None:
    r = roles(page)
    board = r[r["group"].isin(list(GROUP_WORDS))].copy()
    if board.empty:
        return
    board["_order"] = board["group"].map({g: i for i, g in enumerate(GROUP_WORDS)})
    body = [[row["role"], row["holder"], row["organisation"], GROUP_WORDS[row["group"]]]
            for row in board.sort_values("_order", kind="stable").to_dict("records")]
    show(table(body, ["Seat", "Held by (post)", "Organisation", "Kind of seat"],
               "Who sits on the Lancashire Place Partnership (the review names posts, not people)"),
         tag("p", esc(_source_note(page, board)), class_="lx-source"))


def show_locality_leads(page, from_key: str = "chapters/place") -> None:
    r = roles(page)
    leads = r[r["group"] == "locality_lead"]
    if leads.empty:
        return
    areas = page.data.areas
    body = []
    for area, rows in leads.groupby("area", sort=False):
        by_role = dict(zip(rows["role"], rows["holder"]))
        name = areas.loc[area, "name"] if area in areas.index else area
        body.append([link(from_key, f"chapters/localities/{area}", name),
                     esc(by_role.get("Integrated Place Leader", "not named")),
                     esc(by_role.get("Clinical and Care Professional Lead", "not named"))])
    show(table(body, ["Locality", "Integrated place leader", "Clinical and care professional lead"],
               "Who leads each locality"),
         tag("p", esc(_source_note(page, leads)), class_="lx-source"))


def show_engagement(page, kinds: list[str], caption: str) -> None:
    e = engagement(page)
    rows = e[e["kind"].isin(kinds)]
    if rows.empty:
        return
    body = [[row["name"], row["summary"], row["period"] or "Not stated", STATUS_WORDS.get(row["status"], row["status"]).capitalize()]
            for row in rows.to_dict("records")]
    show(table(body, ["What", "In brief", "When", "How far it got"], caption),
         tag("p", esc(_source_note(page, rows)), class_="lx-source"))


# --- a locality: its leads, its people, its districts --------------------------------------------
def glue_locality_context(page, area: str) -> None:
    r = roles(page)
    leads = r[(r["group"] == "locality_lead") & (r["area"] == area)]
    by_role = dict(zip(leads["role"], leads["holder"]))
    page.glue("place_leader", by_role.get("Integrated Place Leader", "not named in the review"))
    page.glue("clinical_lead", by_role.get("Clinical and Care Professional Lead", "not named in the review"))
    out = page.data.select("figures", source=page.review_source, areas=[area])
    stated = out[out["measure"] == "population"]
    census = locality_census(page, area)
    census_words = f"the 2021 Census counted {fmt.number(census)} usual residents in its district councils"
    if not stated.empty:
        row = stated.iloc[0]
        note = (row.get("note") or "").strip()
        sentence = (f"The review puts its population at {fmt.row_figure(row)}, without a date or a source; "
                    f"{census_words}. The Census count is the one this book uses for rates.")
        gap = float(row["value"]) - census
        if census and abs(gap) / census > 0.05:  # more than the rounding of a "c337k"-style figure explains
            sentence += (f" The review's figure is {fmt.number(abs(gap))} {'above' if gap > 0 else 'below'} the Census "
                         f"count ({fmt.number(abs(gap) / census * 100, 0)}%), more than rounding explains; the review does "
                         "not say what area or date its figure covers.")
        if note:
            sentence += f" How this book reads the review's figure: {fmt.lower_first(note)}"
    else:
        sentence = f"The review gives no population for this locality; {census_words}."
    page.glue_prose("population_sentence", sentence)
    page.record("locality_population", {"stated": stated[["id", "value"]].to_dict("records") if not stated.empty else [],
                                        "census2021": census})


def locality_census(page, area: str) -> int:
    """Census 2021 usual residents of the district councils in the locality."""
    areas = page.data.areas
    codes = [areas.loc[a, "ons_code"] for a in page.data.subtree(area)
             if a in areas.index and areas.loc[a, "kind"] == "district" and areas.loc[a, "ons_code"]]
    pop = page.data.reference("population")
    return int(pop[pop["ons_code"].isin(codes)]["census2021_usual_residents"].sum())


def show_locality_districts(page, area: str) -> None:
    parts = page.data.partnerships()
    parts = parts[parts["parent"] == area] if "parent" in parts.columns else parts
    from_key = f"chapters/localities/{area}"
    items = join(tag("li", link(from_key, f"chapters/districts/{pid}", f"{row['name']} Health and Wellbeing Partnership"))
                    for pid, row in parts.iterrows())
    show(tag("nav", tag("p", "Its partnerships:") + tag("ul", items), aria_label="Partnerships in this locality",
             class_="lx-onward"))


# --- a district: its locality and the chapters its work belongs to --------------------------------
def district_chapters(themes: list[str]) -> list[tuple[str, str]]:
    out = [ALL_DISTRICTS_CHAPTER]
    for theme in themes:
        for item in THEME_CHAPTERS.get(theme, []):
            if item not in out:
                out.append(item)
    return out


def show_district_onward(page, area: str) -> None:
    from_key = f"chapters/districts/{area}"
    locality = page.data.locality_of(area)
    items = []
    if locality:
        items.append(tag("li", "Its locality: " + link(from_key, f"chapters/localities/{locality}",
                                                         page.data.areas.loc[locality, "name"])))
    themes: list[str] = []
    init = getattr(page, "initiatives", pd.DataFrame())
    if not init.empty:
        for t in init["themes"]:
            themes += [x.strip() for x in str(t).split(";") if x.strip()]
    ordered = [t for t, _ in pd.Series(themes).value_counts().items()] if themes else []
    in_book = set(book_pages(page.project))
    for key, title in district_chapters(ordered):
        if key in in_book:
            items.append(tag("li", link(from_key, key, title)))
    show(tag("nav", tag("p", "Read on:") + tag("ul", items), aria_label="Where to go next", class_="lx-onward"))


# --- the home page: every part of the book ---------------------------------------------------------
def _toc(project) -> dict:
    path = Path(project.root) / "_toc.yml"
    toc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not toc or "parts" not in toc:
        from lancs_evidence.build.toc import build_toc

        toc = build_toc(project)
    return toc


def book_pages(project) -> list[str]:
    """Every page in the book's table of contents (so links go only to pages that exist)."""
    from lancs_evidence.build.toc import toc_files

    return toc_files(_toc(project))


def parts(project) -> list[tuple[str, str]]:
    """(caption, first page key) for each part of the table of contents."""
    toc = _toc(project)
    out = []
    for part in toc.get("parts", []):
        chapters = part.get("chapters") or []
        if chapters:
            out.append((part["caption"], chapters[0]["file"]))
    return out


def show_part_links(page, from_key: str = "chapters/index") -> None:
    items = join(tag("li", link(from_key, key, caption)) for caption, key in parts(page.project))
    show(tag("nav", tag("ul", items), aria_label="Parts of this book", class_="lx-onward"))


# --- the reviewers' part: receipts and rerun commands, away from the reader's page ----------------------
RECEIPTS_KEY = "chapters/reviewers/receipts"


def page_key(template: str, params: dict) -> str:
    """The book docname of the page a template (or chapter source) produces with these parameters."""
    if template.startswith("chapters/"):
        return template.removesuffix(".md")
    from lancs_evidence.build.jobs import front_matter
    from lancs_evidence.data.project import Project

    meta = front_matter(Project.here().root / template).get("lancs_evidence") or {}
    each = meta.get("each")
    value = params.get(each["param"]) if isinstance(each, dict) else params.get("area")
    return meta["output"].format(id=value).removesuffix(".ipynb")


def anchor_of(key: str) -> str:
    return "receipt-" + key.replace("/", "-").replace("_", "-").lower()


def reviewer_link(key: str) -> str:
    return tag("p", "How this page was made, and how to check its figures: "
               + tag("a", Markup("see its record in the reviewers' section"), href=href(key, RECEIPTS_KEY, anchor_of(key))) + ".",
               class_="lx-reviewer-link")


def has_record(page) -> bool:
    """Whether the page's source shows a provenance record (so it glues `provenance_box`)."""
    try:
        return ".provenance(" in Path(page.source).read_text(encoding="utf-8")
    except OSError:
        return False


def _heading(source) -> str:
    try:
        for line in Path(source).read_text(encoding="utf-8").splitlines():
            if line.startswith("# ") and "{{" not in line:
                return line[2:].strip()
    except OSError:
        pass
    return ""


def receipts_page_text(pages) -> str:
    """MyST text of the reviewers' receipts page: each page's provenance box, glued from that page."""
    lines = ["# Page records for reviewers", "",
             "Each page of the book is made by running a notebook on the data. For every page this section gives",
             "what a reviewer needs to run it again and compare: the parameters, the data it read, the versions",
             "of the code and packages, the commands, and a receipt (a short hash of every figure the page",
             "computes). A rerun with the same data and code gives the same receipt.", ""]
    for p in pages:
        if p.key == RECEIPTS_KEY or not has_record(p):
            continue
        title = p.title or _heading(p.source) or p.key.rsplit("/", 1)[-1].replace("-", " ").capitalize()
        rel = posixpath.relpath(p.key, posixpath.dirname(RECEIPTS_KEY))
        lines += [f"({anchor_of(p.key)})=", f"## {title}", "",
                  f"[The page itself]({rel}.ipynb)", "",
                  "```{glue:any} provenance_box", f":doc: {rel}.ipynb", "```", ""]
    return "\n".join(lines)


def write_receipts_page(project, pages) -> bool:
    """Write chapters/reviewers/receipts.ipynb (Markdown only, never executed); True when it changed."""
    import json

    text = receipts_page_text(pages)
    nb = {"cells": [{"cell_type": "markdown", "id": "receipts", "metadata": {}, "source": text}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    out = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    path = Path(project.root) / (RECEIPTS_KEY + ".ipynb")
    if path.exists() and path.read_text(encoding="utf-8") == out:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out, encoding="utf-8")
    return True


# --- sentences that read as prose for every count, zero included --------------------------------------
def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


RESTATED = "a result the review gives more than once, or also as a change or a share, counts once"


def evidence_sentence(who: str, total: int, outcome_impact: int, with_baseline: int, with_target: int,
                      with_comparator: int, results: int | None = None) -> str:
    """How strong a set of figures is, worded for any counts (no "0 figures come with ...").

    `total` is the number of figures; `results` (when given and smaller) the number of separate results they
    state (`summaries.evidence_profile` with relations), and then the other counts are of results, and the
    sentence says so rather than counting one result's restatements as separate evidence."""
    if total == 0:
        return f"The review gives no figures for {who}, so there is nothing here to weigh."
    lead, noun = "", "figure"
    if results is not None and results < total:
        how_many = "all state one result" if results == 1 else f"state {fmt.plural(results, 'separate result')}"
        lead = f"The {fmt.plural(total, 'figure')} for {who} {how_many} ({RESTATED}). "
        total, noun, who = results, "result", "them"
    if total == 1:  # "none of the 1 figure" and "1 figure comes with" read like a form; say it of the one figure
        kinds = [words for n, words in ((with_baseline, "an earlier value to compare against"), (with_target, "a target"),
                                        (with_comparator, "another comparison")) if n]
        what = ("describes an outcome or a wider impact" if outcome_impact else
                "does not describe an outcome or a wider impact")
        then = (f"it comes with {fmt.join_words(kinds)}" if kinds else
                "it comes with no earlier value, target or other comparison, so it cannot show a change")
        one = f"The one {noun} for {who}" if not lead else "That one result"
        return f"{lead}{one} {what}; {then}."
    of = f"the {fmt.plural(total, noun)} for {who}" if not lead else f"those {fmt.plural(total, noun)}"
    if outcome_impact == 0:
        first = f"None of {of} describes an outcome or a wider impact"
    else:
        first = (f"Of {of}, {fmt.number(outcome_impact)} "
                 f"{_verb(outcome_impact, 'describes', 'describe')} outcomes or wider impact")
    kinds = [(with_baseline, "an earlier value to compare against"), (with_target, "a target"),
             (with_comparator, "another comparison")]
    have = [f"{fmt.plural(n, noun)} {_verb(n, 'comes', 'come')} with {words}" for n, words in kinds if n]
    lack = [words for n, words in kinds if not n]
    if not have:
        second = "none comes with an earlier value, a target or any other comparison, so none can show a change"
    else:
        second = fmt.join_words(have)
        if lack:
            second += "; none has " + " or ".join(lack)
    return f"{lead}{first}; {second}."


def activity_sentence(levels: list[str], who: str) -> str:
    """How many of a set of figures describe activity, worded for any count (never "All 5 figures of the
    workstream's figures" nor "All 1 figure")."""
    n, k = len(levels), sum(1 for lv in levels if lv == "activity")
    what = "activity: what partners set up or planned."
    if n == 0:
        return f"The review gives no figures for {who}."
    if n == 1:
        return f"The one figure for {who} {'describes ' + what if k else 'does not describe activity alone.'}"
    if k == n:
        return f"All {fmt.plural(n, 'figure')} for {who} describe {what}"
    if k == 0:
        return f"None of the {fmt.plural(n, 'figure')} for {who} describes activity alone."
    return f"{fmt.number(k)} of the {fmt.plural(n, 'figure')} for {who} {_verb(k, 'describes', 'describe')} {what}"


def glue_district_evidence(page) -> None:
    from lancs_evidence.analysis.summaries import evidence_profile

    # the most recent official count of residents (Census 2021), not the older mid-2020 estimate
    page.glue("census_population", fmt.number(int(page.population()["census2021_usual_residents"].sum())))

    prof = evidence_profile(page.figures, page.data.relations)  # a restated result counts once
    page.glue_prose("evidence_sentence", evidence_sentence(
        "this partnership", int(prof["figures"]), int(prof["outcome"] + prof["impact"]), int(prof["with_baseline"]),
        int(prof["with_target"]), int(prof["with_comparator"]), int(prof["results"])))


def profile_sentence(total: int, worse: int, similar: int, better: int) -> str:
    """The health profile's comparison with England, worded for any counts."""
    if total == 0:
        return "No indicator values are available to compare with England."

    def part(n: int, words: str) -> str:
        if n == 0:
            return f"none is {words}"
        return f"{fmt.number(n)} {_verb(n, 'is', 'are')} {words}"

    return (f"Of the {fmt.plural(total, 'indicator value')} shown, {part(worse, 'significantly worse than England')}, "
            f"{part(similar, 'similar')} and {part(better, 'better')}.")


def clause(n: int, verb_one: str, verb_many: str, noun: str = "figure", nouns: str | None = None) -> str:
    """'none measures a result', '1 figure measures a result', '3 figures measure a result'."""
    if n == 0:
        return f"none {verb_one}"
    return f"{fmt.plural(int(n), noun, nouns)} {verb_one if n == 1 else verb_many}"


def case_evidence_sentence(activity_output: int, results: int, context: int, with_comparison: int, noted: int) -> str:
    return (f"Counting each figure once however often it is stated, {clause(activity_output, 'counts', 'count')} effort or delivery (activity and "
            f"output), {clause(results, 'measures', 'measure')} a result, and "
            f"{clause(context, 'describes', 'describe')} the population rather than the work itself. In all, "
            f"{clause(with_comparison, 'comes', 'come')} with an earlier value or a comparison, and "
            f"{clause(noted, 'carries', 'carry')} a caveat in the ledger.")
