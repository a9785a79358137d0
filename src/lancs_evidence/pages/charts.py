"""Charts that can be read without seeing them.

`accessible_chart` wraps an Altair chart in a <figure> with:
- a title that states the finding (the figcaption);
- a text alternative generated from the plotted data (highest and lowest values), shown as text and
  given to the SVG as its description;
- the plotted data as a table behind a disclosure, and as a CSV download (a data: link, so it works
  offline and the file is exactly what is plotted);
- a source line naming the document and section.

The chart itself is drawn in the browser by the vendored Vega bundle (`_static/vega-bundle.js`) through
`_static/lx-charts.js`; no page loads anything from the network. Element ids derive from the chart's
content, so two builds of the same data give identical HTML.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
import urllib.parse

import altair as alt
import pandas as pd
from markupsafe import Markup

from lancs_evidence.pages import fmt
from lancs_evidence.pages.html import render, script_json
from lancs_evidence.pages.html import table as html_table

# Okabe-Ito: distinguishable for the common colour-vision deficiencies. The first three are far apart in
# lightness too, so they survive greyscale printing.
PALETTE = ["#0b4f8a", "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#cc79a7", "#000000", "#f0e442"]
LOCALITY_COLOURS = {"north": "#0b4f8a", "central_west": "#e69f00", "east": "#56b4e9"}
COMPARISON_COLOURS = {"Better": "#0b4f8a", "Similar": "#e6b800", "Worse": "#c0392b", "Not compared": "#8c8c8c"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def theme_config() -> dict:
    return {
        "font": FONT,
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 0, "labelOverlap": "greedy", "labelSeparation": 6, "titleColor": "#1a1a1a", "labelColor": "#1a1a1a"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "direction": "vertical", "labelLimit": 0},
        "header": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 0},
        "text": {"fontSize": 12},
        "title": {"fontSize": 14},
        "view": {"stroke": None},
        "range": {"category": PALETTE},
    }


WRAP_CHARS = 22  # a wrapped axis label is at most this many characters wide (about 150 px at 12 px)
HEADER_WRAP_CHARS = 40
TITLE_WRAP_CHARS = 20  # an axis title wider than a phone's plot area would run past the chart's edge
LINE_PX = 15  # one line of 12 px label text


def wrap_expr(width: int) -> str:
    """A Vega expression that breaks `datum.label` into lines of at most `width` characters at spaces,
    so a long label wraps instead of being cut with an ellipsis (a word longer than that stays whole)."""
    return (r"split(trim(replace(datum.label, regexp('(.{1,%d})(\\s+|$)', 'g'), '$1\n')), '\n')" % width)


def wrapped_lines(text, width: int = WRAP_CHARS) -> int:
    """How many lines `wrap_expr` makes of `text` (the same rule in Python, to size the rows)."""
    import re

    return max(1, len(re.findall(r"(.{1,%d})(\s+|$)" % width, str(text).strip())))


def _integral(series: pd.Series) -> bool:
    v = pd.to_numeric(series, errors="coerce").dropna()
    return not v.empty and bool(((v - v.round()).abs() < 1e-9).all())


def _field_values(spec: dict, data: pd.DataFrame, field) -> pd.Series | None:
    """The values a chart plots for `field`: from the spec's own datasets (altair puts the chart's data
    there, under its original column names), else from the table given beside the chart."""
    values = [rec[field] for rows in (spec.get("datasets") or {}).values() if isinstance(rows, list)
              for rec in rows if isinstance(rec, dict) and field in rec]
    if values:
        return pd.Series(values)
    return data[field] if isinstance(field, str) and field in data.columns else None


def _tune(spec: dict, data: pd.DataFrame) -> None:
    """Adjust a chart spec in place for small screens and honest axes:
    - a quantitative axis whose plotted values are all whole numbers gets whole-number ticks (no 0.5);
    - a nominal y axis wraps long labels onto lines, and its rows grow to hold them;
    - a facet's row headers wrap the same way."""
    def walk(node):
        if isinstance(node, dict):
            enc = node.get("encoding")
            if isinstance(enc, dict):
                for ch in ("x", "y"):
                    e = enc.get(ch)
                    if not isinstance(e, dict) or e.get("axis", {}) is None:
                        continue
                    field = e.get("field")
                    title = e.get("title")
                    if isinstance(title, str) and len(title) > TITLE_WRAP_CHARS:  # a long axis title wraps too
                        e["title"] = textwrap.wrap(title, TITLE_WRAP_CHARS)
                    values = _field_values(spec, data, field) if field else None
                    if e.get("type") == "quantitative" and values is not None and _integral(values) \
                            and e.get("aggregate") in (None, "sum", "count"):
                        axis = e.setdefault("axis", {})
                        axis.setdefault("tickMinStep", 1)
                        axis.setdefault("format", ",d")
                    if ch == "y" and e.get("type") == "nominal":
                        axis = e.setdefault("axis", {})
                        axis.setdefault("labelExpr", wrap_expr(WRAP_CHARS))
                        if values is not None:
                            lines = max((wrapped_lines(v) for v in values.dropna().unique()), default=1)
                            node_h = spec.get("height")
                            if lines > 1 and isinstance(node_h, dict) and "step" in node_h:
                                node_h["step"] = max(node_h["step"], lines * LINE_PX + 6)
            facet = node.get("facet")
            if isinstance(facet, dict):
                for part in facet.values():
                    if isinstance(part, dict) and "field" in part:
                        header = part.setdefault("header", {})
                        if header is not None:
                            header.setdefault("labelExpr", wrap_expr(HEADER_WRAP_CHARS))
            for key, value in node.items():
                if key not in ("data", "datasets"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)


def capitalised(text: str) -> str:
    """A title begins with a capital letter whatever the data's first word is."""
    text = str(text)
    return text[:1].upper() + text[1:]


def describe_extremes(data: pd.DataFrame, label: str, value: str, unit: str = "count", what: str = "",
                      shown: str | None = None) -> str:
    """'Highest: A (1,200). Lowest: B (3).' computed from the data (ties listed together).

    `shown` names a column holding each value as the source states it (fmt.ledger_figure), so a
    qualifier such as "over" stays in the description."""
    d = data.dropna(subset=[value])
    if d.empty:
        return "The chart has no values."
    hi, lo = d[value].max(), d[value].min()
    hi_labels = fmt.join_words([str(x) for x in d.loc[d[value] == hi, label]])
    lo_labels = fmt.join_words([str(x) for x in d.loc[d[value] == lo, label]])

    def as_text(v):
        return str(d.loc[d[value] == v, shown].iloc[0]) if shown else fmt.with_unit(v, unit)

    prefix = f"{what}: " if what else ""
    if len(d) == 1:
        return f"{prefix}one value, {hi_labels} at {as_text(hi)}."
    return (f"{prefix}highest is {hi_labels} at {as_text(hi)}; "
            f"lowest is {lo_labels} at {as_text(lo)}.")


def _csv_href(data: pd.DataFrame) -> str:
    text = data.to_csv(index=False, lineterminator="\n")
    return "data:text/csv;charset=utf-8," + urllib.parse.quote(text)


def _plain(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return fmt.number(value)
    return str(value)


CODE_STYLE = re.compile(r"[a-z0-9_]+|[A-Za-z0-9]+(_[A-Za-z0-9]+)+")


def check_reader_headers(headers: list[str], where: str) -> None:
    """Rule 9: a chart's table and CSV download speak to readers, so no column may carry a code-style name
    ('period', 'ci95_lower'): a header starts with a capital and has no underscores."""
    bad = [str(h) for h in headers if CODE_STYLE.fullmatch(str(h))]
    if bad:
        raise ValueError(f"{where}: code-style column names in a reader's table or CSV: {', '.join(bad)}; "
                         "name them for readers (table_columns, or rename the frame's columns)")


def accessible_chart(
    chart: alt.TopLevelMixin,
    data: pd.DataFrame,
    *,
    title: str,
    description: str,
    source: str,
    csv_name: str,
    table_columns: dict[str, str] | None = None,
    responsive: bool = True,
) -> Markup:
    """Return the HTML for one accessible chart (templates/chart.html.j2). `data` is exactly what the chart plots."""
    # a column not named for readers gets a capital ('period' -> 'Period'); a code-style name is refused below
    table_columns = table_columns or {c: str(c)[:1].upper() + str(c)[1:] for c in data.columns}
    title = title[:1].upper() + title[1:]  # a title is a sentence: it starts with a capital (issue 18)
    chart = (chart.properties(width="container", description=description) if responsive
             else chart.properties(description=description)).configure(**theme_config())
    spec = chart.to_dict()
    _tune(spec, data)
    title = capitalised(title)
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # ids derive from the JSON as it sits in the page (script_json: the template escapes it the same way)
    digest = hashlib.sha256(script_json(spec_json).encode()).hexdigest()[:12]
    cols = list(table_columns)
    check_reader_headers([table_columns[c] for c in cols], csv_name)
    rows = [[_plain(v) for v in rec] for rec in data[cols].itertuples(index=False)]
    # the CSV's header uses the same reader-facing column names as the table (rule 9: no code-style names)
    return render("chart.html.j2", chart_id=f"lx-fig-{digest}", title=title, spec_json=spec_json, description=description,
                  data_table=html_table(rows, [table_columns[c] for c in cols], f"Data for: {title}"), source=source,
                  csv_href=_csv_href(data[cols].rename(columns=table_columns)), csv_name=csv_name)


INSIDE_SHARE = 0.6  # a bar longer than this share of the longest carries its number inside its end


def bar(data: pd.DataFrame, label: str, value: str, *, x_title: str, colour: str | None = None,
        colour_title: str | None = None, colour_scale: dict | None = None, sort: str = "-x") -> alt.Chart:
    """Horizontal bars: the most readable form on a phone, with the value written at the end of each bar.

    The number goes just past the end of a short bar, and inside the end (in white) of a long one, so it
    never runs past the chart's edge however narrow the screen."""
    base = alt.Chart(data)
    enc = dict(
        y=alt.Y(f"{label}:N", sort=sort, title=None),
        x=alt.X(f"{value}:Q", title=x_title),
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{value}:Q", format=",")],
    )
    if colour:
        scale = alt.Scale(domain=list(colour_scale), range=list(colour_scale.values())) if colour_scale else alt.Undefined
        enc["color"] = alt.Color(f"{colour}:N", title=colour_title or colour, scale=scale)
    else:
        enc["color"] = alt.value(PALETTE[0])
    bars = base.mark_bar().encode(**enc)
    if colour:  # stacked segments: a label per segment would sit in the wrong place, so the table carries values
        return bars.properties(height=alt.Step(26))
    values = pd.to_numeric(data[value], errors="coerce")
    top = float(values.max()) if values.notna().any() else 0.0
    cut = INSIDE_SHARE * top if top > 0 else float("inf")
    text_enc = dict(y=alt.Y(f"{label}:N", sort=sort), x=alt.X(f"{value}:Q"), text=alt.Text(f"{value}:Q", format=","))
    outside = base.transform_filter(alt.datum[value] <= cut).mark_text(
        align="left", dx=3, color="#1a1a1a", fontSize=12).encode(**text_enc)
    inside = base.transform_filter(alt.datum[value] > cut).mark_text(
        align="right", dx=-4, color="#ffffff", fontSize=12, fontWeight="bold").encode(**text_enc)
    return alt.layer(bars, outside, inside).properties(height=alt.Step(26))


def _signed_area(ring: list) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:] + ring[:1])) / 2


def rewind_for_d3(geometry: dict) -> dict:
    """Vega draws with d3-geo, which reads ring orientation on the sphere: exterior rings must run
    clockwise and holes anticlockwise, the reverse of GeoJSON's RFC 7946 order. A ring the wrong way
    round is drawn as the rest of the world, which fills the whole map."""
    def fix(polygon):
        out = []
        for i, ring in enumerate(polygon):
            clockwise = _signed_area(ring) < 0
            want_clockwise = i == 0
            out.append(ring if clockwise == want_clockwise else list(reversed(ring)))
        return out

    if geometry["type"] == "Polygon":
        return {**geometry, "coordinates": fix(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {**geometry, "coordinates": [fix(p) for p in geometry["coordinates"]]}
    return geometry
