"""Unit tests for what readers meet: escaped JSON in scripts, tables that stack on phones, chart specs
tuned for small screens, the per-page script list and the site root page. Small hand-built inputs."""
from __future__ import annotations

import json
import re

import pandas as pd

from lancs_evidence.build import theme
from lancs_evidence.pages import charts
from lancs_evidence.pages.html import script_json, table

HOSTILE = "<!--<script>alert(1)</script> & </script><p>"


def test_script_json_escapes_every_angle_bracket_and_ampersand_and_still_parses():
    text = json.dumps({"statement": HOSTILE})
    safe = script_json(text)
    assert not set("<>&") & set(safe)
    assert json.loads(safe) == {"statement": HOSTILE}


def _figure(title: str, values=(3, 12)) -> str:
    df = pd.DataFrame({"label": ["First area", "Second area"], "value": list(values)})
    chart = charts.bar(df, "label", "value", x_title="Number of things")
    return charts.accessible_chart(chart, df, title=title, description="d", source="s", csv_name="x.csv")


def _spec(fig: str) -> dict:
    body = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', fig, re.S).group(1)
    assert not set("<>&") & set(body)
    return json.loads(body)


def test_chart_spec_in_the_page_carries_hostile_text_only_as_escapes():
    fig = _figure(HOSTILE)
    spec = _spec(fig)
    assert spec["description"] == "d"
    assert "<!--" not in fig.split("application/json")[1].split("</script>")[0]


def test_table_cells_carry_their_column_header_for_stacking():
    html = table([["Preston", "12", "Worse"]], ["Partnership", "Per 1,000 residents", "Compared with England"], "Cap <b>")
    assert re.findall(r'data-label="([^"]+)"', html) == ["Partnership", "Per 1,000 residents", "Compared with England"]
    assert "lx-stack" in html and "lx-many" not in html
    assert "Cap &lt;b&gt;" in html
    wide = table([list("abcde")], list("ABCDE"), "five columns")
    assert "lx-many" in wide


def _axes(spec: dict, channel: str) -> list[dict]:
    found = []

    def walk(n):
        if isinstance(n, dict):
            e = n.get("encoding", {}).get(channel)
            if isinstance(e, dict) and e.get("type") == "quantitative":
                found.append(e.get("axis", {}))
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(spec)
    return found


def test_whole_number_data_gets_whole_number_ticks_and_fractions_do_not():
    ints = _axes(_spec(_figure("t", (3, 12))), "x")
    assert ints and all(a.get("tickMinStep") == 1 and a.get("format") == ",d" for a in ints)
    halves = _axes(_spec(_figure("t", (3.5, 9.5))), "x")
    assert halves and not any("tickMinStep" in a for a in halves)


def test_long_labels_wrap_rather_than_being_cut():
    long = "Living Better Lives in Lancashire: 2024/25 End of Year Review"
    df = pd.DataFrame({"label": [long, "Short"], "value": [5, 7]})
    spec = _spec(charts.accessible_chart(charts.bar(df, "label", "value", x_title="Number"), df, title="t",
                                          description="d", source="s", csv_name="x.csv"))
    assert spec["config"]["axis"]["labelLimit"] == 0
    y = spec["layer"][0]["encoding"]["y"]
    assert "split(" in y["axis"]["labelExpr"]
    assert spec["height"]["step"] >= charts.wrapped_lines(long) * charts.LINE_PX
    assert charts.wrapped_lines(long) == 3 and charts.wrapped_lines("Short") == 1


def test_chart_titles_start_with_a_capital():
    fig = _figure("most figures come from one source")
    assert re.search(r'class="lx-chart-title">Most figures come', fig)


def test_chart_text_is_12px():
    spec = _spec(_figure("t"))
    assert spec["config"]["text"]["fontSize"] >= 12
    assert spec["config"]["axis"]["labelFontSize"] >= 12


class _JS(str):
    def __new__(cls, filename, **attributes):
        obj = super().__new__(cls, filename or "")
        obj.filename, obj.attributes, obj.priority = filename, attributes, 500
        return obj


def test_chart_scripts_only_with_a_chart_deferred_and_thebe_gone():
    scripts = [_JS("documentation_options.js"), _JS(None, body='const THEBE_JS_URL = "x"'), _JS("sphinx-thebe.js"),
               _JS("vega-bundle.js"), _JS("lx-charts.js"), _JS("lx-a11y.js"), _JS("lx-a11y.js")]
    without = [str(s.filename) for s in theme.page_scripts(scripts, has_chart=False)]
    assert without == ["documentation_options.js", "lx-a11y.js"]
    with_chart = theme.page_scripts(scripts, has_chart=True)
    assert [s.filename for s in with_chart] == ["documentation_options.js", "vega-bundle.js", "lx-charts.js", "lx-a11y.js"]
    assert all(s.attributes.get("defer") == "defer" for s in with_chart[1:])
    # an inline line on every page needs this one at once
    assert "defer" not in with_chart[0].attributes


def test_chart_page_names_the_vega_bundle_on_its_chart_script_instead_of_loading_it():
    scripts = [_JS("documentation_options.js"), _JS("vega-bundle.js"), _JS("lx-charts.js")]
    out = theme.page_scripts(scripts, has_chart=True, vega_url="../_static/vega-bundle.js")
    assert [s.filename for s in out] == ["documentation_options.js", "lx-charts.js"]
    assert out[1].attributes.get("data-vega") == "../_static/vega-bundle.js"
    assert out[1].attributes.get("defer") == "defer"


def test_extension_files_only_on_pages_whose_body_uses_them():
    assert theme.unused_assets('<div class="highlight-python"><div class="highlight"><pre>x</pre></div></div>') == {
        "sphinx-design.min.css", "design-tabs.js", "togglebutton.css", "togglebutton.js"}
    unused = theme.unused_assets("<p>Plain text</p>")
    assert {"pygments.css", "copybutton.js", "sphinx-design.min.css", "togglebutton.js"} <= unused
    css = [_JS("pygments.css"), _JS("lx-book.css"), _JS("sphinx-design.min.css")]
    assert [c.filename for c in theme.page_css(css, unused)] == ["lx-book.css"]
    scripts = [_JS("togglebutton.js"), _JS(None, body="var togglebuttonSelector = '.toggle';"),
               _JS(None, body="DOCUMENTATION_OPTIONS.pagename = 'p';"), _JS("lx-a11y.js")]
    kept = theme.page_scripts(scripts, has_chart=False, unused=unused)
    assert [s.attributes.get("body") or s.filename for s in kept] == ["DOCUMENTATION_OPTIONS.pagename = 'p';", "lx-a11y.js"]


def test_page_weight_counts_the_vega_bundle_a_chart_page_names(tmp_path):
    from lancs_evidence.build.weights import page_weights

    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "lx-charts.js").write_text("x" * 100)
    (tmp_path / "_static" / "vega-bundle.js").write_text("v" * 5000)
    (tmp_path / "index.html").write_text("<html></html>")
    page = ('<html><script defer src="_static/lx-charts.js" data-vega="_static/vega-bundle.js"></script>'
            '<div class="lx-vega"></div></html>')
    (tmp_path / "chart.html").write_text(page)
    w = {x.page: x for x in page_weights(tmp_path)}["chart.html"]
    assert w.chart and w.files == 3 and w.raw == len(page) + 100 + 5000


def test_site_root_page_has_title_language_and_a_visible_link():
    html = theme.root_index_html("Book <1>", "chapters/index.html")
    assert '<html lang="en">' in html and "<title>Book &lt;1&gt;</title>" in html
    assert '<a href="chapters/index.html">' in html and 'url=chapters/index.html' in html


def test_pdf_contents_reads_named_destinations(tmp_path, monkeypatch):
    from lancs_evidence.build import pdf

    class Done:
        stdout = 'Page  Destination                 Name\n     3 [ XYZ   72  769 null ] "place"\n    11 [ XYZ 72 700 null ] "audit"\n'

    monkeypatch.setattr(pdf.shutil, "which", lambda name: "/usr/bin/pdfinfo")
    monkeypatch.setattr(pdf.subprocess, "run", lambda *a, **k: Done())
    assert pdf.heading_pages(tmp_path / "x.pdf", ["place", "audit", "missing"]) == {"place": 3, "audit": 11}


def test_trimmed_stylesheet_keeps_what_a_page_can_match_and_drops_the_rest():
    from lancs_evidence.build.csstrim import trim_css

    css = ('@charset "UTF-8";\n:root{--a:1}p{color:red}.used .gone,.used>b{margin:0}.gone{color:blue}'
           'a:not(.gone){color:green}[data-theme=dark] .used{color:white}'
           '@font-face{font-family:"Font Awesome 6 Free";src:url(x.woff2)}@font-face{font-family:Body;src:url(b.woff2)}'
           '@media (min-width:960px){.gone{top:0}}@media print{.used{top:1px}}')
    out, stats = trim_css(css, {"used"})
    assert out.startswith('@charset "UTF-8";')
    for kept in (":root{--a:1}", "p{color:red}", ".used>b{margin:0}", "a:not(.gone){color:green}",
                 "[data-theme=dark] .used{color:white}", "font-family:Body", "@media print{.used{top:1px}}"):
        assert kept in out, kept
    assert ".gone" not in out.replace("a:not(.gone)", "") and "Font Awesome" not in out and "960px" not in out
    assert stats == {"selectors": 3, "rules": 3}


def test_trimming_keeps_classes_a_script_builds_from_pieces(tmp_path):
    from lancs_evidence.build.csstrim import trim_css, used_names

    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "tip.js").write_text('el.classList.add(`bs-${this.constructor.NAME}-auto`); x.className = "shown"')
    (tmp_path / "page.html").write_text('<p class="lead">x</p><script>document.body.classList.add("inline-added")</script>')
    used = used_names(tmp_path)
    out, _ = trim_css(".bs-tooltip-auto{a:1}.bs-other{b:2}.shown{c:3}.lead{d:4}.inline-added{e:5}.never{f:6}", used)
    assert out.strip() == ".bs-tooltip-auto{a:1}\n.shown{c:3}\n.lead{d:4}\n.inline-added{e:5}"


def test_theme_stylesheets_are_swapped_for_their_trimmed_copies():
    from lancs_evidence.build.csstrim import trimmed_name

    assert trimmed_name("_static/styles/pydata-sphinx-theme.css") == "_static/styles/lx-trim-pydata-sphinx-theme.css"
    assert trimmed_name("styles/sphinx-book-theme.css?v=1") == "styles/lx-trim-sphinx-book-theme.css?v=1"
    assert trimmed_name("mystnb.abc123.css") == "lx-trim-mystnb.abc123.css"
    assert trimmed_name("lx-book.css") is None and trimmed_name("sphinx-design.min.css") is None


def test_page_weight_checks_stored_and_sent_size():
    from lancs_evidence.build.weights import TARGET_PLAIN, PageWeight

    assert PageWeight("a.html", 1, TARGET_PLAIN - 1, 10, False).ok
    stored_over = PageWeight("b.html", 1, TARGET_PLAIN, 10, False)
    assert not stored_over.ok and stored_over.ok_sent and not stored_over.ok_stored


def test_pages_named_in_lx_nosearch_are_left_out_of_the_search_index():
    from types import SimpleNamespace

    from lancs_evidence.build.theme import mark_nosearch

    app = SimpleNamespace(config=SimpleNamespace(lx_nosearch=["chapters/reviewers/receipts", "chapters/gone"]))
    env = SimpleNamespace(all_docs={"chapters/reviewers/receipts": 1.0, "chapters/place": 1.0},
                          metadata={"chapters/place": {"title": "x"}})
    mark_nosearch(app, env)
    assert env.metadata["chapters/reviewers/receipts"] == {"nosearch": True}
    assert env.metadata["chapters/place"] == {"title": "x"}  # a page not named is searched as before
    assert "chapters/gone" not in env.metadata  # a name that is not a page is ignored


def test_search_index_is_written_compactly_and_reads_back():
    import io
    from types import SimpleNamespace

    from sphinx.search import js_index

    from lancs_evidence.build.theme import CompactSearchIndex, compact_search_index

    data = {"terms": {"lancashire": [0, 2], "preston": 1}, "titles": ["A page", "Preston"]}
    fmt = CompactSearchIndex()
    text = fmt.dumps(data)
    assert text == 'Search.setIndex({"terms":{"lancashire":[0,2],"preston":1},"titles":["A page","Preston"]})'
    assert len(text) < len(js_index.dumps(data))
    assert fmt.load(io.StringIO(text)) == data == js_index.loads(text)  # Sphinx reads it back as its own
    for bad in ("", "Search.setIndex()", '{"terms":{}}'):
        try:
            fmt.loads(bad)
        except ValueError:
            continue
        raise AssertionError(f"read {bad!r} as an index")
    builder = SimpleNamespace(indexer_format=js_index)
    compact_search_index(SimpleNamespace(builder=builder))
    assert isinstance(builder.indexer_format, CompactSearchIndex)
    other = SimpleNamespace(indexer_format="something else")  # a builder with its own format keeps it
    compact_search_index(SimpleNamespace(builder=other))
    assert other.indexer_format == "something else"
