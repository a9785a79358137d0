"""A smaller copy of the theme's stylesheet, made at build time for this book's pages (issue 18).

pydata-sphinx-theme ships one stylesheet (`_static/styles/pydata-sphinx-theme.css`, about 0.4 MB) holding
all of Bootstrap, the theme's own rules and about 2,000 Font Awesome icon classes; a page of this book
uses a small part of it. `trim_css` parses it with a real CSS parser (tinycss2) and keeps a rule unless no
page can match it: a selector is dropped only when, outside `:not()`, `:is()`, `:where()`, `:has()` and
attribute brackets, it needs a class that no built page's `class` attribute and no shipped script names
(as PurgeCSS does, conservatively: a class any script mentions, even in a comment, is kept). Font
Awesome's `@font-face` rules go too: the book draws its few icons as inline SVG (`_static/lx-book.css`,
which also turns every icon's glyph off with `content: none`), so the font is never used. Everything else
(custom properties, element and attribute selectors, keyframes, the dark theme's rules) is kept in order.

The theme's file itself is never edited: the extension (theme.py) writes the reduced copy next to it and
the page template links the copy, so a theme upgrade is still a version bump.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

# the stylesheets of the theme and of Sphinx/MyST-NB that are trimmed (paths under `_static`, or a name's
# start for MyST-NB's, whose name carries a hash); each copy is written beside its original, named `lx-trim-*`
TRIMMED = ("styles/pydata-sphinx-theme.css", "styles/sphinx-book-theme.css", "basic.css", "mystnb.")
PREFIX = "lx-trim-"


def trimmed_name(path: str) -> str | None:
    """The reduced copy's path for a stylesheet path under `_static` (query kept), or None if not trimmed."""
    bare, _, query = path.partition("?")
    head, _, base = bare.rpartition("/")
    rel = bare.split("_static/", 1)[-1]
    if not any(rel == t or (t.endswith(".") and rel.startswith(t) and rel.endswith(".css")) for t in TRIMMED):
        return None
    return f"{head + '/' if head else ''}{PREFIX}{base}" + (f"?{query}" if query else "")
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# pseudo-classes whose arguments do not have to match for the selector to match
_OPTIONAL_ARGS = {"not", "is", "where", "has", "matches", "-webkit-any", "-moz-any"}


class _Classes(HTMLParser):
    """Every class named in a page's `class` attributes, and every word of its inline scripts."""

    def __init__(self, names: set[str]):
        super().__init__(convert_charrefs=True)
        self.names = names
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "class" and v:
                self.names.update(v.split())
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.names.update(TOKEN.findall(data))


class Used:
    """The class names a site can carry, and the shapes of names its scripts build from pieces
    (`bs-${name}-auto` in a template string, `"lx-" + x`): a class of either kind is kept."""

    def __init__(self, names: set[str], patterns: set[tuple[str, str]] = frozenset()):
        self.names = names
        self.patterns = [re.compile(re.escape(a) + r"[A-Za-z0-9_-]+" + re.escape(b)) for a, b in patterns]

    def __contains__(self, name: str) -> bool:
        return name in self.names or any(p.fullmatch(name) for p in self.patterns)

    def add_script(self, text: str) -> None:
        self.names.update(TOKEN.findall(text))
        for a, b in BUILT_IN_TEMPLATE.findall(text) + [(a, "") for a in BUILT_BY_PLUS.findall(text)]:
            if len(a) >= 3 and a.endswith("-"):  # a family of names (`bs-`...), not any word ending in `-auto`
                self.patterns.append(re.compile(re.escape(a) + r"[A-Za-z0-9_-]+" + re.escape(b)))


# a class name made in a script from a fixed part and a variable one
BUILT_IN_TEMPLATE = re.compile(r"([A-Za-z0-9_-]*)\$\{[^}`]*\}([A-Za-z0-9_-]*)")
BUILT_BY_PLUS = re.compile(r"""["']([A-Za-z][A-Za-z0-9_-]*-)["']\s*\+""")


def used_names(site: Path) -> Used:
    """Class names the built site can carry: from every HTML page and every script file it ships."""
    site = Path(site)
    used = Used(set())
    for page in site.rglob("*.html"):
        parser = _Classes(used.names)
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        parser.close()
    for script in site.rglob("*.js"):
        used.add_script(script.read_text(encoding="utf-8", errors="replace"))
    return used


def _split_selectors(prelude: list) -> list[list]:
    out: list[list] = [[]]
    for tok in prelude:
        if tok.type == "literal" and tok.value == ",":
            out.append([])
        else:
            out[-1].append(tok)
    return [s for s in out if any(t.type not in ("whitespace", "comment") for t in s)]


def required_classes(selector: list) -> set[str]:
    """The classes an element must carry for this selector (a token list) to match it. Arguments of
    functional pseudo-classes and attribute brackets are not looked into (conservative)."""
    need: set[str] = set()
    for prev, tok in zip([None, *selector], selector):
        if tok.type == "ident" and prev is not None and prev.type == "literal" and prev.value == ".":
            need.add(tok.value)
    return need


def _is_icon_font_face(rule) -> bool:
    import tinycss2

    return (rule.type == "at-rule" and rule.lower_at_keyword == "font-face"
            and "font awesome" in tinycss2.serialize(rule.content or []).lower().replace("\\", ""))


def _trim_rules(rules: list, names, stats: dict) -> list[str]:
    import tinycss2

    out: list[str] = []
    for rule in rules:
        if rule.type == "qualified-rule":
            kept = [s for s in _split_selectors(rule.prelude) if all(c in names for c in required_classes(s))]
            stats["selectors"] += len(_split_selectors(rule.prelude)) - len(kept)
            if kept:
                sel = ",".join(tinycss2.serialize(s).strip() for s in kept)
                out.append(f"{sel}{{{tinycss2.serialize(rule.content)}}}")
            else:
                stats["rules"] += 1
        elif rule.type == "at-rule":
            if rule.lower_at_keyword == "charset":
                continue
            if _is_icon_font_face(rule):
                stats["rules"] += 1
                continue
            if rule.lower_at_keyword in ("media", "supports", "layer", "container") and rule.content is not None:
                inner = _trim_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True),
                                    names, stats)
                if inner:
                    out.append(f"@{rule.at_keyword} {tinycss2.serialize(rule.prelude).strip()}{{{''.join(inner)}}}")
                continue
            out.append(tinycss2.serialize([rule]))
        # comments, whitespace and parse errors are left out
    return out


def trim_css(css: str, names) -> tuple[str, dict]:
    """The stylesheet without the rules (and selectors in a list) that need a class not in `names` (a set
    or a `Used`),
    and without Font Awesome's @font-face rules; also how many selectors and rules went."""
    import tinycss2

    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    stats = {"selectors": 0, "rules": 0}
    charset = '@charset "UTF-8";\n' if css.startswith("@charset") else ""
    return charset + "\n".join(_trim_rules(rules, names, stats)) + "\n", stats


def write_trimmed(site: Path) -> list[Path]:
    """Write the reduced copies (`lx-trim-*`) of the trimmed stylesheets of a built site, from the names
    its pages and scripts use; returns the paths written."""
    static = Path(site) / "_static"
    used = used_names(site)
    out = []
    for source in sorted(static.rglob("*.css")):
        rel = source.relative_to(static).as_posix()
        name = trimmed_name(rel)
        if name is None or source.name.startswith(PREFIX):
            continue
        text, _ = trim_css(source.read_text(encoding="utf-8"), used)
        target = static / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        out.append(target)
    return out
