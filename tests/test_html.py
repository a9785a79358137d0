"""Escaping by type (pages/html.py): text is escaped exactly once wherever it goes, Markup passes through.

Each test puts hostile text in one place (a cell, a header, an attribute, a template variable) and checks
the page holds it escaped once: never raw (it would run) and never twice (a reader would see `&amp;lt;`).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import Markup

from lancs_evidence.pages import charts, provenance
from lancs_evidence.pages.html import esc, join, render, table, tag

HOSTILE = "<script>alert(\"x\" & 'y')</script>"
ONCE = "&lt;script&gt;alert(&quot;x&quot; &amp; &#x27;y&#x27;)&lt;/script&gt;"


def twice(text: str) -> bool:
    return "&amp;lt;" in text or "&amp;quot;" in text or "&amp;#x27;" in text or "&amp;amp;" in text


def test_esc_escapes_text_once_and_returns_markup():
    out = esc(HOSTILE)
    assert isinstance(out, Markup)
    assert out == ONCE


def test_esc_passes_markup_through_unchanged():
    m = Markup("<b>bold</b>")
    assert esc(m) == "<b>bold</b>"
    assert esc(esc(HOSTILE)) == ONCE  # escaping what is already HTML does nothing


@pytest.mark.parametrize("value", [None, float("nan")])
def test_esc_of_missing_is_empty(value):
    assert esc(value) == ""


def test_tag_escapes_text_body_and_attributes_and_keeps_markup_body():
    out = tag("p", HOSTILE, title=HOSTILE, class_="lx-x", data_label=HOSTILE)
    assert isinstance(out, Markup)
    assert out == f'<p title="{ONCE}" class="lx-x" data-label="{ONCE}">{ONCE}</p>'
    inner = tag("b", HOSTILE)
    assert tag("p", inner) == f"<p><b>{ONCE}</b></p>"


def test_tag_body_list_mixes_text_and_markup():
    out = tag("ul", [tag("li", "a & b"), "c < d", Markup("<li>kept</li>")])
    assert out == "<ul><li>a &amp; b</li>c &lt; d<li>kept</li></ul>"


def test_tag_body_number_is_text():
    assert tag("td", 5) == "<td>5</td>"
    assert tag("td", (x for x in ["<", tag("b", "1")])) == "<td>&lt;<b>1</b></td>"


def test_tag_leaves_out_none_and_false_and_writes_true_bare():
    assert tag("details", "x", open=True, hidden=False, title=None) == "<details open>x</details>"


def test_concatenating_text_with_markup_escapes_the_text():
    out = "a < b " + tag("em", "c")
    assert isinstance(out, Markup)
    assert out == "a &lt; b <em>c</em>"


def test_join_keeps_markup_and_escapes_text():
    assert join([tag("li", "<x>"), "<y>"]) == "<li>&lt;x&gt;</li>&lt;y&gt;"
    assert join(["a", "b"], Markup("<br>")) == "a<br>b"
    assert join(["a", "b"], "<br>") == "a&lt;br&gt;b"


def test_table_escapes_every_text_cell_header_and_caption_once():
    out = table([[HOSTILE, HOSTILE, 3]], [HOSTILE, "Second", "Third"], HOSTILE, numeric=[2])
    assert "<script>" not in out
    assert not twice(out)
    # row header, cell, column header, data-label (x2 for its two cells), caption and aria-label
    assert out.count(ONCE) == 1 + 1 + 1 + 1 + 1 + 1
    assert '<td class="lx-num" data-label="Third">3</td>' in out


def test_table_keeps_markup_cells_as_they_are():
    link = tag("a", "Preston & Chorley", href="x.html?a=1&b=2")
    out = table([[link, tag("strong", "12"), "plain < text"]], ["Place", "Figure", "Note"], "caption")
    assert '<th scope="row" data-label="Place"><a href="x.html?a=1&amp;b=2">Preston &amp; Chorley</a></th>' in out
    assert '<td data-label="Figure"><strong>12</strong></td>' in out
    assert '<td data-label="Note">plain &lt; text</td>' in out


def test_table_cell_that_is_missing_is_empty():
    out = table([["a", None, float("nan")]], ["A", "B", "C"], "c")
    assert '<td data-label="B"></td>' in out and '<td data-label="C"></td>' in out


def test_table_no_longer_takes_a_safe_cells_flag():
    with pytest.raises(TypeError):
        table([["a"]], ["A"], "c", safe_cells=True)


def test_template_escapes_each_variable_once_and_keeps_markup(tmp_path):
    out = render("provenance.html.j2", facts=[(HOSTILE, HOSTILE)], files=[(HOSTILE, "0123456789abcdef")],
                 rerun=HOSTILE, receipt=Markup("<i>r</i>"))
    assert isinstance(out, Markup)
    assert "<script>" not in out and not twice(out)
    assert out.count(ONCE) == 4  # dt, dd, file name, rerun commands
    assert '<code class="lx-receipt"><i>r</i></code>' in out
    assert "\n" not in out.replace(ONCE, "")  # the template's layout lines are joined; only data keeps its line breaks


def test_template_keeps_line_breaks_inside_values():
    out = render("provenance.html.j2", facts=[], files=[], rerun="one\ntwo", receipt="r")
    assert "<pre><code>one\ntwo</code></pre>" in out


def test_provenance_box_escapes_parameters_and_file_names_once(tmp_path):
    out = provenance.box(params={"area": HOSTILE}, inputs={HOSTILE: "ab" * 32}, root=tmp_path, template=HOSTILE,
                         rerun=[HOSTILE], receipt_value=HOSTILE)
    assert "<script>" not in out and not twice(out)
    assert f"<dt>Template</dt><dd>{ONCE}</dd>" in out
    assert f'<th scope="row">{ONCE}</th><td><code>{"ab" * 8}</code></td>' in out


def _figure(**kw):
    df = pd.DataFrame({"label": [HOSTILE, "b"], "value": [1.0, 2.0]})
    args = dict(title=HOSTILE, description=HOSTILE, source=HOSTILE, csv_name=HOSTILE)
    args.update(kw)
    return charts.accessible_chart(charts.bar(df, "label", "value", x_title="Number"), df, **args)


def test_chart_template_escapes_title_description_source_and_file_name_once():
    out = _figure()
    assert isinstance(out, Markup)
    outside = re.sub(r"<script type=\"application/json\"[^>]*>.*?</script>", "", out, flags=re.S)
    assert "<script>" not in outside and not twice(outside)
    title_once = esc(charts.capitalised(HOSTILE))
    assert f'class="lx-chart-title">{title_once}</figcaption>' in out
    assert f'class="lx-chart-desc">{ONCE}</p>' in out
    assert f'<p class="lx-chart-source">Source: {ONCE}. <a href="data:text/csv' in out
    assert f'download="{ONCE}">Download the data (CSV)</a>' in out
    assert f"<th scope=\"row\" data-label=\"Label\">{ONCE}</th>" in out  # the data table's cell, once (header given its capital)


def test_chart_json_in_its_script_has_no_angle_bracket_or_ampersand_and_parses_back():
    out = _figure()
    body = re.search(r'<script type="application/json" id="([^"]+)">(.*?)</script>', out, re.S)
    assert not re.search(r"[<>&]", body.group(2))
    spec = json.loads(body.group(2))
    labels = [rec["label"] for rows in spec["datasets"].values() for rec in rows]
    assert HOSTILE in labels  # the JSON escapes parse back to the very characters
    chart_id = re.search(r'<figure class="lx-chart" id="([^"]+)">', out).group(1)
    assert body.group(1) == f"{chart_id}-spec"


def test_every_template_is_package_data():
    import tomllib

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["lancs_evidence"]
    pkg = root / "src" / "lancs_evidence"
    shipped = {p for g in globs for p in pkg.glob(g)}
    templates = set((pkg / "pages" / "templates").glob("*"))
    assert templates and templates <= shipped


@pytest.mark.parametrize("text", [
    "The review puts its population at about 392,000, without a date; read as thousands (c337k).",
    "Hostile: <script>alert(1)</script> *not emphasis* _nor this_ [a link](http://x) {glue:text}`key` \\ back # 1. `code` ~~s~~ |t|",
    "Of 92 checks, 33 add up, 6 do not; 2024/25 at 12.5% and 1,235,355 residents at the 2021 Census.",
])
def test_prose_markdown_renders_as_exactly_its_text_with_numbers_in_bold(text):
    from markdown_it import MarkdownIt
    from markupsafe import escape

    from lancs_evidence.pages.html import prose_markdown

    rendered = MarkdownIt("commonmark").renderInline(prose_markdown(text))
    # nothing but <strong> is markup: with the bold tags removed, it is the text, HTML-escaped once
    assert rendered.replace("<strong>", "").replace("</strong>", "") == str(escape(text)).replace("&#39;", "'").replace("&#34;", "&quot;")
    bold = re.findall(r"<strong>(.*?)</strong>", rendered)
    numbers = re.findall(r"(?<![\w.,/])((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?)(?![\w])", text)
    assert bold == [n for n in numbers if not re.fullmatch(r"(19|20)\d\d", n)]  # a year is not set in bold
    if "c337k" in text:  # a number inside a word stays as it is
        assert "c337k" in rendered and "<strong>337" not in rendered
