"""Small, safe HTML components for notebook outputs.

Escaping is carried by type: a piece of HTML is a `markupsafe.Markup`, and anything else is text. `esc`,
`tag`, `table` and the templates (`render`) escape every value that is not already Markup and pass Markup
through, so a cell containing `<script>` or MyST syntax is shown as the characters it holds and never
runs, and nothing can be escaped twice or not at all. Pages emit HTML (not Markdown) for data-derived
content for the same reason: Markdown output would be parsed.

Join fragments with `join` (or pass a list as a tag's body), never with `"".join`: a plain `str.join`
turns Markup back into text, which the next `tag` would then escape.
"""
from __future__ import annotations

import html as _html
import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from IPython.display import HTML, display
from markupsafe import Markup

TEMPLATES = "templates"  # package folder (lancs_evidence/pages/templates) of the Jinja2 templates


def esc(value) -> Markup:
    """Text as HTML: Markup passes through unchanged; None and NaN are empty; anything else is escaped
    (`&`, `<`, `>`, `"` and `'`, so the result is safe in element content and in a quoted attribute)."""
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Markup("")
    return Markup(_html.escape(str(value), quote=True))


def join(parts: Iterable, sep: str = "") -> Markup:
    """Fragments joined into one piece of HTML (text parts and the separator escaped, Markup kept)."""
    return esc(sep).join(esc(p) for p in parts)


_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character: CommonMark lets each be escaped
_MD_NUMBER = re.compile(r"(?<![\w.,/])((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?)(?![\w])")


def prose_markdown(text: str) -> str:
    """A sentence made from data, as Markdown that reads exactly as the text: every ASCII punctuation mark is
    backslash-escaped (so no character in the data can become markup, a role or a link), and each number
    standing on its own, other than a year, is set in bold, as every glued figure in the book is."""
    out = []
    for i, part in enumerate(_MD_NUMBER.split(str(text))):
        escaped = _MD_PUNCT.sub(r"\\\1", part)
        is_year = bool(re.fullmatch(r"(19|20)\d\d", part))  # "the 2021 Census": a year is a name here, not a figure
        out.append(f"**{escaped}**" if i % 2 and not is_year else escaped)
    return "".join(out)


def script_json(text: str) -> str:
    """JSON text made safe to sit inside a <script> element.

    `<`, `>` and `&` become the JSON escapes \\u003c, \\u003e and \\u0026, which parse to the same
    characters, so no value can close the element (`</script>`), open an HTML comment that swallows the
    rest of the page (`<!--<script>`), or be read as a character reference."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _children(body) -> Markup:
    if isinstance(body, Iterable) and not isinstance(body, str) and not hasattr(body, "__html__"):
        return join(body)
    return esc(body)


def tag(name: str, body="", **attrs) -> Markup:
    """An element. `body` is text (escaped), Markup (kept) or a list of either; attribute values are escaped
    unless Markup. `class_="x"` gives `class="x"`, `data_label=` gives `data-label=`; None or False leaves the
    attribute out and True writes it bare."""
    parts = [name]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{esc(value)}"')
    return Markup(f"<{' '.join(parts)}>{_children(body)}</{name}>")


def table(
    rows: Iterable[Sequence],
    headers: Sequence[str],
    caption: str,
    *,
    row_header: bool = True,
    numeric: Sequence[int] = (),
    classes: str = "lx-table",
) -> Markup:
    """An accessible table: caption, column headers with scope, first column as row header.

    A cell that is Markup (built with `tag`/`esc`) is kept as it is; any other cell is escaped.
    """
    head = [tag("th", h, scope="col", class_="lx-num" if i in numeric else None) for i, h in enumerate(headers)]
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            cls = "lx-num" if i in numeric else None
            # data-label: on a narrow screen each row stacks as "header: value" pairs (see lx-book.css)
            label = headers[i] if i < len(headers) else None
            if i == 0 and row_header:
                cells.append(tag("th", esc(v), scope="row", class_=cls, data_label=label))
            else:
                cells.append(tag("td", esc(v), class_=cls, data_label=label))
        body.append(tag("tr", cells))
    inner = [tag("caption", caption), tag("thead", tag("tr", head)), tag("tbody", body)]
    stack = "lx-stack lx-many" if len(headers) >= 5 else "lx-stack"
    return tag("div", tag("table", inner, class_=f"{classes} {stack}"), class_="lx-table-wrap", tabindex="0", role="region",
               aria_label=caption)


def _spaceless(source: str) -> str:
    """A template's source as one line: each line's leading indentation and the line breaks are dropped, so
    templates can be laid out for reading and still give the compact HTML the pages always had. (Spaces that
    matter are written inside a line, never at its end.)"""
    return "".join(line.lstrip() for line in source.splitlines())


@lru_cache(maxsize=1)
def environment():
    """The Jinja2 environment for the page templates: autoescape on, and every `{{ value }}` passes through
    `esc` first, so a template escapes exactly as `tag` does (Markup kept, text escaped once)."""
    import jinja2
    import jinja2.ext

    class Spaceless(jinja2.ext.Extension):
        def preprocess(self, source, name, filename=None):
            return _spaceless(source)

    env = jinja2.Environment(loader=jinja2.PackageLoader("lancs_evidence.pages", TEMPLATES), autoescape=True,
                             finalize=esc, undefined=jinja2.StrictUndefined, extensions=[Spaceless])
    env.filters["script_json"] = lambda text: Markup(script_json(str(text)))
    return env


def render(name: str, **values) -> Markup:
    """A template from pages/templates as HTML."""
    return Markup(environment().get_template(name).render(**values))


def show(*fragments: str) -> None:
    """Display HTML fragments as one notebook output."""
    display(HTML("\n".join(str(f) for f in fragments)))
