"""Charts that can be read without seeing them.

`accessible_figure` wraps an Altair chart in a <figure> with:
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
import urllib.parse

import altair as alt
import pandas as pd

from . import fmt
from .html import esc, tag

# Okabe-Ito: distinguishable for the common colour-vision deficiencies. The first three are far apart in
# lightness too, so they survive greyscale printing.
PALETTE = ["#0b4f8a", "#e69f00", "#56b4e9", "#009e73", "#d55e00", "#cc79a7", "#000000", "#f0e442"]
LOCALITY_COLOURS = {"north": "#0b4f8a", "central_west": "#e69f00", "east": "#56b4e9"}
COMPARISON_COLOURS = {"Better": "#0b4f8a", "Similar": "#e6b800", "Worse": "#c0392b", "Not compared": "#8c8c8c"}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def theme_config() -> dict:
    return {
        "font": FONT,
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 220, "titleColor": "#1a1a1a", "labelColor": "#1a1a1a"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "direction": "vertical", "labelLimit": 320},
        "title": {"fontSize": 14},
        "view": {"stroke": None},
        "range": {"category": PALETTE},
    }


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


def accessible_figure(
    chart: alt.TopLevelMixin,
    data: pd.DataFrame,
    *,
    title: str,
    description: str,
    source: str,
    csv_name: str,
    table_columns: dict[str, str] | None = None,
    responsive: bool = True,
) -> str:
    """Return the HTML for one accessible chart. `data` is exactly what the chart plots."""
    table_columns = table_columns or {c: c for c in data.columns}
    title = title[:1].upper() + title[1:]  # a title is a sentence: it starts with a capital (issue 18)
    chart = (chart.properties(width="container", description=description) if responsive
             else chart.properties(description=description)).configure(**theme_config())
    spec = chart.to_dict()
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # a script element's text must not close the element early
    spec_json = spec_json.replace("</", "<\\/")
    digest = hashlib.sha256(spec_json.encode()).hexdigest()[:12]
    fig_id = f"lx-fig-{digest}"
    cols = list(table_columns)
    head = "".join(tag("th", esc(table_columns[c]), scope="col") for c in cols)
    body = "".join(
        tag("tr", "".join((tag("th", esc(_plain(v)), scope="row") if i == 0 else tag("td", esc(_plain(v))))
                          for i, v in enumerate(rec)))
        for rec in data[cols].itertuples(index=False)
    )
    data_table = tag(
        "details",
        tag("summary", "Show the chart's data as a table")
        + tag("div", tag("table", tag("caption", esc(f"Data for: {title}")) + tag("thead", tag("tr", head)) + tag("tbody", body),
                         class_="lx-table"), class_="lx-table-wrap", tabindex="0", role="region", aria_label=f"Data for: {title}"),
        class_="lx-chart-data",
    )
    # the CSV's header uses the same reader-facing column names as the table (rule 9: no code-style names)
    download = tag("a", "Download the data (CSV)", href=_csv_href(data[cols].rename(columns=table_columns)), download=csv_name)
    return tag(
        "figure",
        tag("figcaption", esc(title), id=f"{fig_id}-title", class_="lx-chart-title")
        + tag("div", "", class_="lx-vega", data_spec_id=f"{fig_id}-spec", role="img",
              aria_labelledby=f"{fig_id}-title", aria_describedby=f"{fig_id}-desc")
        + f'<script type="application/json" id="{fig_id}-spec">{spec_json}</script>'
        + tag("p", esc(description), id=f"{fig_id}-desc", class_="lx-chart-desc")
        + data_table
        + tag("p", "Source: " + esc(source) + ". " + download, class_="lx-chart-source"),
        class_="lx-chart",
        id=fig_id,
    )


def bar(data: pd.DataFrame, label: str, value: str, *, x_title: str, colour: str | None = None,
        colour_title: str | None = None, colour_scale: dict | None = None, sort: str = "-x") -> alt.Chart:
    """Horizontal bars: the most readable form on a phone, with the value written at the end of each bar."""
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
    text = base.mark_text(align="left", dx=3, color="#1a1a1a").encode(
        y=alt.Y(f"{label}:N", sort=sort), x=alt.X(f"{value}:Q"), text=alt.Text(f"{value}:Q", format=","))
    return alt.layer(bars, text).properties(height=alt.Step(26))


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
