"""Small, safe HTML components for notebook outputs.

Every piece of text that comes from a data file passes through `esc` before it reaches the page, so a
cell containing `<script>` or MyST syntax is shown as the characters it holds and never runs. Pages emit
HTML (not Markdown) for data-derived content for the same reason: Markdown output would be parsed.
"""
from __future__ import annotations

import html as _html
import math
from collections.abc import Iterable, Sequence

from IPython.display import HTML, display


def esc(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _html.escape(str(value), quote=True)



def script_json(text: str) -> str:
    """JSON text made safe to sit inside a <script> element.

    `<`, `>` and `&` become the JSON escapes \\u003c, \\u003e and \\u0026, which parse to the same
    characters, so no value can close the element (`</script>`), open an HTML comment that swallows the
    rest of the page (`<!--<script>`), or be read as a character reference."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


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
            # data-label: on a narrow screen each row stacks as "header: value" pairs (see lx-book.css)
            label = headers[i] if i < len(headers) else None
            if i == 0 and row_header:
                cells.append(tag("th", cell(v), scope="row", class_=cls, data_label=label))
            else:
                cells.append(tag("td", cell(v), class_=cls, data_label=label))
        body.append(tag("tr", "".join(cells)))
    inner = tag("caption", esc(caption)) + tag("thead", tag("tr", head)) + tag("tbody", "".join(body))
    stack = "lx-stack lx-many" if len(headers) >= 5 else "lx-stack"
    return tag("div", tag("table", inner, class_=f"{classes} {stack}"), class_="lx-table-wrap", tabindex="0", role="region",
               aria_label=caption)





def show(*fragments: str) -> None:
    """Display HTML fragments as one notebook output."""
    display(HTML("\n".join(fragments)))

