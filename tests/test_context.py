"""The context pages and reader-facing rules: what the book leaves out (rule 7), reader pages that speak
to readers with receipts kept for reviewers (rule 9), onward links and sentences for zero cases (issue 18)."""
from __future__ import annotations

import html as _html
import re
import urllib.parse
from pathlib import Path

import pytest
import yaml

from lancs_evidence.build.jobs import PageJob
from lancs_evidence.build.toc import REVIEWERS_CAPTION, build_toc, toc_files, write_toc
from lancs_evidence.data.project import Project
from lancs_evidence.data.validate import validate
from lancs_evidence.pages import context as vc

# --- unit tests on hand-built inputs ---------------------------------------------------------------


def test_relative_links_between_pages():
    assert vc.href("chapters/districts/lancaster", "chapters/localities/north") == "../localities/north.html"
    assert vc.href("chapters/index", "chapters/place") == "place.html"
    assert vc.href("chapters/index", "chapters/districts/preston") == "districts/preston.html"
    assert vc.href("chapters/place", "chapters/reviewers/receipts", "receipt-chapters-place") == \
        "reviewers/receipts.html#receipt-chapters-place"


@pytest.mark.parametrize("counts", [(3, 0, 0, 0, 0), (3, 2, 1, 0, 0), (4, 1, 0, 2, 0), (0, 0, 0, 0, 0), (1, 1, 1, 1, 1),
                                    (1, 0, 0, 0, 0), (1, 0, 1, 0, 0)])
def test_evidence_sentence_never_reads_like_template_output(counts):
    text = vc.evidence_sentence("this partnership", *counts)
    assert not re.search(r"\b0 \w+", text), text  # no "0 figures ..."
    assert "1 figures" not in text and "1 describe " not in text, text
    assert "of the 1 " not in text.lower(), text
    total, oi, base, target, comp = counts
    if total == 1:
        assert text.startswith("The one figure for this partnership"), text
        assert ("does not describe" in text) == (not oi), text
        assert ("no earlier value, target or other comparison" in text) == (not (base or target or comp)), text
    elif total and not (base or target or comp):
        assert "none comes with an earlier value, a target or any other comparison" in text
    if total > 1 and base and not target:
        assert "none has a target" in text


def test_evidence_sentence_counts_restated_results_once_and_says_so():
    text = vc.evidence_sentence("this partnership", 12, 3, 2, 0, 0, results=7)
    assert text.startswith("The 12 figures for this partnership state 7 separate results"), text
    assert "counts once" in text and "Of those 7 results, 3 describe" in text and "2 results come with" in text, text
    one = vc.evidence_sentence("this partnership", 3, 1, 1, 0, 0, results=1)
    assert "all state one result" in one and "That one result describes" in one and "1 separate" not in one, one
    assert vc.evidence_sentence("this partnership", 3, 1, 1, 0, 0, results=3) == vc.evidence_sentence("this partnership", 3, 1, 1, 0, 0)


def test_evidence_sentence_for_a_single_figure_speaks_of_one_figure():
    alone = vc.evidence_sentence("this partnership", 1, 0, 0, 0, 0)
    assert "None of the 1" not in alone and "1 figure" not in alone, alone
    assert alone.startswith("The one figure for this partnership does not describe an outcome"), alone
    assert "cannot show a change" in alone
    result = vc.evidence_sentence("this partnership", 1, 1, 1, 0, 0)
    assert result.startswith("The one figure for this partnership describes an outcome"), result
    assert "it comes with an earlier value to compare against" in result and "cannot show" not in result


def test_district_links_follow_its_themes_and_always_reach_the_theme_comparison():
    chapters = [k for k, _ in vc.district_chapters(["integrated_working", "housing_environment"])]
    assert chapters[0] == vc.ALL_DISTRICTS_CHAPTER[0]
    assert "chapters/workstreams/integrated-neighbourhoods" in chapters
    assert "chapters/priorities/frailty" not in chapters
    assert [k for k, _ in vc.district_chapters([])] == [vc.ALL_DISTRICTS_CHAPTER[0]]


def test_receipts_page_pastes_each_pages_record_under_an_anchor(tmp_path):
    with_record = tmp_path / "a.md"
    with_record.write_text("# A page\n\n```{code-cell} python\npage.provenance()\n```\n", encoding="utf-8")
    without = tmp_path / "b.md"
    without.write_text("# Plain\n", encoding="utf-8")
    pages = [PageJob(key="chapters/districts/x_y", source=with_record, output=tmp_path / "x.ipynb", title="X and Y"),
             PageJob(key="chapters/plain", source=without, output=tmp_path / "p.ipynb")]
    text = vc.receipts_page_text(pages)
    assert "(receipt-chapters-districts-x-y)=" in text
    assert "## X and Y" in text
    assert ":doc: ../districts/x_y.ipynb" in text
    assert "chapters/plain" not in text and "Plain" not in text  # no record to paste
    assert vc.anchor_of("chapters/districts/x_y") == "receipt-chapters-districts-x-y"


def test_toc_always_holds_the_reviewers_page(tiny):
    project = Project(tiny)
    contents = tiny / "chapters" / "_contents.yml"
    data = yaml.safe_load(contents.read_text(encoding="utf-8"))
    data["parts"] = [p for p in data["parts"] if p["caption"] != REVIEWERS_CAPTION]
    contents.write_text(yaml.safe_dump(data), encoding="utf-8")
    toc = build_toc(project)
    assert toc["parts"][-1]["caption"] == REVIEWERS_CAPTION
    assert toc_files(toc).count(vc.RECEIPTS_KEY) == 1
    write_toc(project)
    assert (tiny / (vc.RECEIPTS_KEY + ".ipynb")).exists()


def test_a_bad_role_row_is_reported_by_file_row_and_column(tiny):
    path = tiny / "data" / "2024-25" / "place_roles.csv"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("role-nowhere-lead,eoy-review-2024-25,3. Somewhere,nowhere,locality_lead,Integrated Place Leader,A Person,\n")
    problems = [str(p) for p in validate(tiny / "data")]
    assert any("place_roles.csv:3" in p and "area" in p for p in problems), problems


def test_an_engagement_row_needs_a_known_status(tiny):
    path = tiny / "data" / "2024-25" / "place_engagement.csv"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("eng-x,eoy-review-2024-25,2. Place,joint_meeting,A meeting,,achieved,Something\n")
    problems = [str(p) for p in validate(tiny / "data")]
    assert any("place_engagement.csv:2" in p and "status" in p for p in problems), problems


# --- the reader-page scan (rule 9), on a built book ------------------------------------------------

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
LEDGER_ID = re.compile(r"\b(?:eoy|flt|kf|lga|mhe|ini|lp|role|eng|rel)-[a-z0-9_]+-[a-z0-9_-]+\b")
PATH = re.compile(r"(?:\b[\w.-]+/)+[\w.-]+\.(?:csv|md|ipynb|py|json|ya?ml|xlsx)\b|\b[\w-]+\.(?:csv|ipynb|py|md|yml)\b")
COMMAND = re.compile(r"\b(?:lancs-evidence|papermill|jupytext|jupyter-book|pip install)\b|\.venv\b|--force\b")


def reader_pages(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    reviewers = {item["file"] for p in toc["parts"] if p["caption"] == REVIEWERS_CAPTION
                 for item in p["chapters"]}
    return [k for k in toc_files(toc) if k not in reviewers]


def visible_text(page_html: str) -> str:
    m = re.search(r'<article class="bd-article">(.*)</article>', page_html, re.S)
    body = m.group(1) if m else page_html
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", _html.unescape(body))


def csv_headers(page_html: str) -> list[str]:
    out = []
    for href in re.findall(r'href="data:text/csv;charset=utf-8,([^"]*)"', page_html):
        text = urllib.parse.unquote(_html.unescape(href))
        out.append(text.split("\n", 1)[0])
    return out


def reader_page_problems(root: Path) -> list[str]:
    problems = []
    site = root / "_build" / "html"
    for key in reader_pages(root):
        page_html = (site / f"{key}.html").read_text(encoding="utf-8")
        text = visible_text(page_html)
        for name, pattern in (("code-style name", SNAKE), ("ledger id", LEDGER_ID), ("file path", PATH), ("command", COMMAND)):
            for m in pattern.finditer(text):
                problems.append(f"{key}: {name} {m.group(0)!r} in '...{text[max(0, m.start() - 40):m.end() + 40]}...'")
        for header in csv_headers(page_html):
            for m in SNAKE.finditer(header):
                problems.append(f"{key}: CSV header column {m.group(0)!r} ({header})")
    return problems


def test_the_scan_catches_what_it_looks_for():
    page = ('<article class="bd-article"><p>See eoy-lancaster-health-checks and ci95_lower in data/2024-25/figures.csv; '
            'run lancs-evidence run --force</p><a href="data:text/csv;charset=utf-8,ci95_lower%2CValue%0A1%2C2">x</a></article>')
    text = visible_text(page)
    assert LEDGER_ID.search(text) and SNAKE.search(text) and PATH.search(text) and COMMAND.search(text)
    assert csv_headers(page) == ["ci95_lower,Value"]
    assert not SNAKE.search(visible_text('<article class="bd-article"><p>Per 1,000 residents, 95% interval</p></article>'))


@pytest.mark.slow
def test_reader_pages_show_no_ids_paths_commands_or_code_names(tiny_built):
    assert reader_pages(tiny_built), "no reader pages found"
    problems = reader_page_problems(tiny_built)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.slow
def test_pages_link_onward_and_to_their_record_for_reviewers(tiny_built):
    from lancs_evidence.data.synthetic import area_id

    site = tiny_built / "_build" / "html" / "chapters"
    locality = (site / "localities" / "loc_0.html").read_text(encoding="utf-8")
    for i in (1, 2):
        assert f'href="../districts/{area_id(i)}.html"' in locality
        district = (site / "districts" / f"{area_id(i)}.html").read_text(encoding="utf-8")
        assert 'href="../localities/loc_0.html"' in district
        anchor = vc.anchor_of(f"chapters/districts/{area_id(i)}")
        assert f'href="../reviewers/receipts.html#{anchor}"' in district
        assert "lx-provenance" not in district  # the receipt box itself is not on the reader's page
    receipts = (site / "reviewers" / "receipts.html").read_text(encoding="utf-8")
    for i in (1, 2):
        assert f'id="{vc.anchor_of(f"chapters/districts/{area_id(i)}")}"' in receipts
    assert receipts.count("lx-provenance") >= 3  # the locality and both districts
    # the locality page names its lead from place_roles.csv and sets a Census count beside the review's
    text = visible_text(locality)
    assert "Test Leader" in text
    assert "2021 Census counted" in text


@pytest.mark.parametrize("counts", [(12, 6, 5, 1), (2, 1, 1, 0), (1, 0, 1, 0), (0, 0, 0, 0)])
def test_health_profile_sentence_agrees_in_number(counts):
    text = vc.profile_sentence(*counts)
    assert not re.search(r"\b1 \w+ are\b|\b1 indicator values\b|\b0 ", text), text
    if counts[0] and counts[3] == 0:
        assert "none is better" in text


def test_chart_titles_start_with_a_capital():
    import altair as alt
    import pandas as pd

    from lancs_evidence.pages import charts

    df = pd.DataFrame({"label": ["A"], "value": [1]})
    out = charts.accessible_chart(alt.Chart(df).mark_bar(), df, title="the frailty programme: output leads",
                                   description="d", source="s", csv_name="x.csv", table_columns={"label": "Label", "value": "Value"})
    assert ">The frailty programme: output leads</figcaption>" in out
    assert "Label%2CValue" in out  # the CSV header uses the table's reader-facing names


@pytest.mark.parametrize("counts", [(5, 0, 0, 0, 3), (1, 1, 2, 1, 0), (0, 0, 0, 0, 0)])
def test_case_study_evidence_sentence_has_no_zero_counts(counts):
    text = vc.case_evidence_sentence(*counts)
    assert not re.search(r"(?<![\d,.])0 \w+", text), text
    assert "1 figures" not in text


def test_figures_quoted_for_a_wider_area_are_kept_apart_from_the_partnerships_own():
    import pandas as pd

    from lancs_evidence.pages.district import quoted_for_other_areas

    figures = pd.DataFrame({
        "id": ["own", "icb", "national", "elsewhere", "unlinked"],
        "area": ["borough", "icb", "national", "icb", "icb"],
        "initiative": ["ini-a", "ini-a", "ini-b", "ini-other", ""],
    })
    wider = quoted_for_other_areas(figures, ["ini-a", "ini-b"], ["borough", "borough_council"])
    assert list(wider["id"]) == ["icb", "national"]  # not the borough's own row, nor rows of other initiatives
    assert quoted_for_other_areas(figures, [], ["borough"]).empty


@pytest.mark.parametrize("n_worse, expected", [(0, "Place: no indicator is significantly worse than England"),
                                              (1, "Place: 1 of 12 indicator values is worse than England"),
                                              (3, "Place: 3 of 12 indicator values are worse than England")])
def test_health_profile_chart_title_agrees_in_number(n_worse, expected):
    from lancs_evidence.pages.district import profile_chart_title

    assert profile_chart_title("Place", n_worse, 12) == expected


@pytest.mark.parametrize("levels, expected", [
    (["activity"] * 5, "All 5 figures for the workstream describe activity: what partners set up or planned."),
    (["activity"], "The one figure for the workstream describes activity: what partners set up or planned."),
    (["activity", "output", "activity"], "2 of the 3 figures for the workstream describe activity: what partners set up or planned."),
    (["outcome", "output"], "None of the 2 figures for the workstream describes activity alone."),
    ([], "The review gives no figures for the workstream."),
])
def test_activity_sentence_reads_well_for_any_count(levels, expected):
    assert vc.activity_sentence(levels, "the workstream") == expected


def test_profile_summary_names_the_widest_gaps_only_among_values_that_differ_beyond_chance():
    import pandas as pd

    from lancs_evidence.pages.district import profile_gaps

    d = pd.DataFrame([
        {"label": "Smoking", "council": "A", "value": 20.1, "england_value": 10.4, "comparison": "Similar"},
        {"label": "CVD deaths", "council": "A", "value": 100.2, "england_value": 74.3, "comparison": "Worse"},
        {"label": "Self-harm", "council": "A", "value": 80.9, "england_value": 117.0, "comparison": "Better"},
        {"label": "Suicide", "council": "A", "value": 18.3, "england_value": 10.9, "comparison": "Not compared"}])
    text = profile_gaps(d)
    assert "Smoking" not in text and "Suicide" not in text  # similar, or not compared: never 'furthest'
    assert text == ("Of the values that differ from England beyond chance, furthest above England is CVD deaths in A "
                    "(100.2 against 74.3) and furthest below England is Self-harm in A (80.9 against 117).")
    only_worse = d.iloc[[0, 1]]
    assert profile_gaps(only_worse).endswith("furthest above England is CVD deaths in A (100.2 against 74.3).")
    assert profile_gaps(d.iloc[[0]]) == "No value differs from England by more than chance."


def test_a_chart_table_or_csv_never_carries_a_code_style_column_name():
    import altair as alt
    import pandas as pd

    from lancs_evidence.pages import charts

    for bad in (["Council", "period"], ["ci95_lower"], ["Council", "Value_high"]):
        with pytest.raises(ValueError, match="code-style"):
            charts.check_reader_headers(bad, "test.csv")
    charts.check_reader_headers(["Council", "Period", "Lower 95% limit", "Share (%)", "ONS code"], "test.csv")
    frame = pd.DataFrame({"Council": ["A"], "period": ["2024"], "Rate": [1.0]})
    chart = alt.Chart(frame).mark_bar().encode(x="Rate:Q", y="Council:N")
    html = str(charts.accessible_chart(chart, frame, title="t", description="d", source="s", csv_name="x.csv"))
    assert "Council%2CPeriod%2CRate" in html and ">period<" not in html  # a plain name is given its capital
    for named in ({"Council": "Council", "period": "period"}, {"Council": "Council", "ci95_lower": "Ci95_lower"}):
        with pytest.raises(ValueError, match="code-style"):
            charts.accessible_chart(chart, frame.rename(columns={"period": list(named)[1]}), title="t", description="d",
                                    source="s", csv_name="x.csv", table_columns=named)
    with pytest.raises(ValueError, match="code-style"):  # a snake_case column cannot be capitalised into a reader's name
        charts.accessible_chart(chart, frame.rename(columns={"period": "ci95_lower"}), title="t", description="d",
                                source="s", csv_name="x.csv")


def test_the_audit_line_reads_as_a_sentence_for_any_counts():
    from lancs_evidence.pages.view import audit_line_text

    assert audit_line_text(["not_checked"]) == "The claim audit judges one of these figures: it could not be checked."
    assert audit_line_text(["not_checked"] * 2) == "The claim audit judges 2 of these figures: neither could be checked."
    assert audit_line_text(["consistent"] * 3) == "The claim audit judges 3 of these figures: all of them add up."
    mixed = audit_line_text(["inconsistent", "differs", "differs", "consistent"])
    assert mixed == "The claim audit judges 4 of these figures: 1 does not add up, 2 are stated differently and 1 adds up.", mixed


def test_a_case_studys_evidence_counts_take_a_restated_figure_once():
    """Fleetwood's ten years of joint working, stated three times, was counted as three figures of activity."""
    import pandas as pd

    from lancs_evidence.pages.case_studies import evidence_counts

    nan = float("nan")
    rows = pd.DataFrame([
        {"id": "a", "evidence_level": "activity", "baseline": nan, "comparator": "", "note": "n"},
        {"id": "b", "evidence_level": "activity", "baseline": nan, "comparator": "", "note": "n"},
        {"id": "c", "evidence_level": "activity", "baseline": nan, "comparator": "", "note": ""},
        {"id": "d", "evidence_level": "outcome", "baseline": nan, "comparator": "before", "note": ""},
        {"id": "e", "evidence_level": "context", "baseline": nan, "comparator": "", "note": "n"},
        {"id": "f", "evidence_level": "testimony", "baseline": nan, "comparator": "", "note": "n"},
    ])
    relations = pd.DataFrame([{"id": "r1", "relation": "same_measure_as", "figure": "b", "inputs": "a"},
                              {"id": "r2", "relation": "same_measure_as", "figure": "c", "inputs": "b"}])
    assert evidence_counts(rows, relations) == {"activity_output": 1, "results": 1, "context": 1, "with_comparison": 1,
                                                "noted": 2}
