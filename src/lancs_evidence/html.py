"""Small, safe HTML components for notebook outputs.

Every piece of text that comes from a data file passes through `esc` before it reaches the page, so a
cell containing `<script>` or MyST syntax is shown as the characters it holds and never runs. Pages emit
HTML (not Markdown) for data-derived content for the same reason: Markdown output would be parsed.
"""
from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Iterable, Sequence

from IPython.display import HTML, display

_SLUG = re.compile(r"[^a-z0-9]+")


def esc(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _html.escape(str(value), quote=True)


def slug(text: str) -> str:
    return _SLUG.sub("-", str(text).lower()).strip("-") or "x"


def tag(name: str, body: str = "", **attrs) -> str:
    """An element; `body` must already be safe HTML. Attribute values are escaped here."""
    parts = [name]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{esc(value)}"')
    return f"<{' '.join(parts)}>{body}</{name}>"


def table(
    rows: Iterable[Sequence[str]],
    headers: Sequence[str],
    caption: str,
    *,
    row_header: bool = True,
    numeric: Sequence[int] = (),
    classes: str = "lx-table",
    safe_cells: bool = False,
) -> str:
    """An accessible table: caption, column headers with scope, first column as row header.

    Cells are escaped unless `safe_cells` (for cells built from `tag`/`esc` already).
    """
    cell = (lambda v: v) if safe_cells else esc
    head = "".join(tag("th", esc(h), scope="col", class_="lx-num" if i in numeric else None) for i, h in enumerate(headers))
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            cls = "lx-num" if i in numeric else None
            if i == 0 and row_header:
                cells.append(tag("th", cell(v), scope="row", class_=cls))
            else:
                cells.append(tag("td", cell(v), class_=cls))
        body.append(tag("tr", "".join(cells)))
    inner = tag("caption", esc(caption)) + tag("thead", tag("tr", head)) + tag("tbody", "".join(body))
    return tag("div", tag("table", inner, class_=classes), class_="lx-table-wrap", tabindex="0", role="region", aria_label=caption)


def frame_table(df, caption: str, columns: dict[str, str], numeric: Sequence[str] = (), row_header: bool = True) -> str:
    """A pandas frame as an accessible table; `columns` maps frame columns to header labels."""
    cols = list(columns)
    rows = [[("" if (isinstance(v, float) and math.isnan(v)) else v) for v in rec] for rec in df[cols].itertuples(index=False)]
    return table(rows, [columns[c] for c in cols], caption, numeric=[cols.index(c) for c in numeric if c in cols], row_header=row_header)


def note(text: str, kind: str = "info") -> str:
    return tag("div", tag("p", esc(text)), class_=f"lx-note lx-note-{kind}")


def definition_list(items: Sequence[tuple[str, str]], classes: str = "lx-facts", safe: bool = False) -> str:
    body = "".join(tag("dt", esc(k)) + tag("dd", v if safe else esc(v)) for k, v in items)
    return tag("dl", body, class_=classes)


def show(*fragments: str) -> None:
    """Display HTML fragments as one notebook output."""
    display(HTML("\n".join(fragments)))


def paragraph(text: str) -> str:
    return tag("p", esc(text))


def bullet_list(items: Iterable[str], safe: bool = False) -> str:
    return tag("ul", "".join(tag("li", i if safe else esc(i)) for i in items))
