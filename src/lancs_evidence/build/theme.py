"""Theme fixes made inside Sphinx, as a local extension (listed in `_config.yml`), so a theme upgrade
cannot silently undo them: what this module changes is the page *context* and the templates in
`_templates/`, never the built HTML text.

What it does, page by page (`html-page-context`):
- drops Thebe (live code), which the book never uses: its script names a CDN and is included twice,
  which logs a console error on every page (its per-page config node goes at `doctree-resolved`);
- gives the chart script (`lx-charts.js`) only to pages that have a chart, naming on its tag the Vega
  bundle (`vega-bundle.js`, 0.9 MB), which it fetches once a chart is about to be drawn, after the first
  paint; and loads every script file with `defer` so none holds up the first paint;
- leaves out the files of sphinx-design, sphinx-togglebutton, sphinx-copybutton and Pygments' colours on
  pages whose body uses none of their markup (`OPTIONAL_ASSETS`): most pages use none;
- draws the book's navigation (the primary sidebar, which is also the phone menu) from an outline of the
  table of contents made once per build, not by Sphinx's `toctree()` on every page (see `NavOutline`),
  and names its expand/collapse toggles, which are icons only (WCAG 4.1.2).

As the builder starts, it writes the search index (`searchindex.js`) as compact JSON: Sphinx's own writer
puts a space after every comma and colon, a sixth of the file (the search page is the heaviest page).

And once per build (`build-finished`): writes the site root `index.html` as a real page (title, language,
a visible link) that forwards to the book's first page, before sphinx-external-toc would write a bare
redirect.

The templates in `_templates/` do the rest: no 1.5 MB icon-font script (the few icons used are inline
SVG in `lx-book.css`), no search scripts on pages that do not search, a visible menu button that opens
the menu at every width, search and colour-mode buttons whose names contain their visible text (WCAG
2.5.3) and the sidebar's title inside a landmark. `tests/test_browser.py` checks the result with axe.
"""
from __future__ import annotations

import html as _html
import json
from dataclasses import dataclass, field
from pathlib import Path

from lancs_evidence.build.csstrim import trimmed_name, write_trimmed

CHART_SCRIPTS = ("vega-bundle.js", "lx-charts.js")
# Files the extensions Jupyter Book turns on add to every page, with what a page's body must contain for
# them to do anything there. A page without it gets none of them: each is one more request, and every
# stylesheet holds up the first paint (sphinx-design's alone is 55 KB).
OPTIONAL_ASSETS = {
    # sphinx-design: cards, grids, tabs, badges
    ("sphinx-design.min.css", "design-tabs.js"): ('class="sd-', ' sd-'),
    # sphinx-togglebutton: `.toggle` blocks and dropdown admonitions
    ("togglebutton.css", "togglebutton.js"): ("toggle", "dropdown"),
    # sphinx-copybutton and Pygments' colours: code blocks
    ("copybutton.css", "copybutton.js", "clipboard.min.js", "pygments.css"): ('class="highlight',),
}
# the inline settings lines that only the files above read
OPTIONAL_INLINE = {"togglebutton.js": ("toggleHint", "toggleOpenOnPrint", "togglebuttonSelector")}
# Every script file is deferred (it runs after the page is parsed, in order, never holding up the first
# paint) except this one, which an inline line on every page (`DOCUMENTATION_OPTIONS.pagename = ...`) needs.
NOT_DEFERRED = ("documentation_options.js",)


def _filename(asset) -> str:
    return str(getattr(asset, "filename", asset) or "")


def _is_thebe(asset) -> bool:
    name = _filename(asset)
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE_JS_URL" in body


def unused_assets(body: str) -> set[str]:
    """Base names of the optional extension files (OPTIONAL_ASSETS) that this page body has no use for."""
    out: set[str] = set()
    for names, marks in OPTIONAL_ASSETS.items():
        if not any(m in body for m in marks):
            out.update(names)
    return out


def _inline_for_unused(asset, unused: set[str]) -> bool:
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return bool(body) and any(name in unused and any(m in body for m in marks)
                              for name, marks in OPTIONAL_INLINE.items())


def page_css(css_files: list, unused: set[str] = frozenset(), trim: bool = False) -> list:
    """The page's stylesheets without Thebe's and without the optional ones the page does not use; with
    `trim`, the theme's and MyST-NB's are swapped for their reduced copies (csstrim.py)."""
    from sphinx.builders.html._assets import _CascadingStyleSheet

    out = []
    for c in css_files:
        if _is_thebe(c) or _filename(c).rsplit("/", 1)[-1] in unused:
            continue
        name = trimmed_name(_filename(c)) if trim else None
        if name:
            c = _CascadingStyleSheet(name, priority=getattr(c, "priority", 500), **getattr(c, "attributes", {}))
        out.append(c)
    return out


def page_scripts(scripts: list, has_chart: bool, defer: bool = True, unused: set[str] = frozenset(),
                 vega_url: str | None = None) -> list:
    """The page's script list: Thebe removed, chart scripts only with a chart, files deferred (unless the
    page's own inline code calls them as it loads, as Sphinx's search page does), no duplicates. With
    `vega_url` (the Vega bundle's address from this page), the bundle is not listed: `lx-charts.js` names
    it (`data-vega`) and fetches it when the first chart is about to be drawn."""
    from sphinx.builders.html._assets import _JavaScript

    out, seen = [], set()
    for js in scripts:
        name = _filename(js)
        if _is_thebe(js):
            continue
        base = name.rsplit("/", 1)[-1]
        if base in CHART_SCRIPTS and not has_chart:
            continue
        if base in unused or _inline_for_unused(js, unused):
            continue
        if base == CHART_SCRIPTS[0] and vega_url:
            continue
        if name and name in seen:
            continue
        seen.add(name)
        extra = {"data-vega": vega_url} if base == CHART_SCRIPTS[1] and vega_url else {}
        if (defer or extra) and name and "://" not in name and base not in NOT_DEFERRED:
            attrs = {k: v for k, v in getattr(js, "attributes", {}).items() if k not in ("async", "defer")}
            js = _JavaScript(name, priority=getattr(js, "priority", 500), defer="defer", **{**attrs, **extra})
        out.append(js)
    return out


# --- the book's navigation ------------------------------------------------------------------------
#
# sphinx-book-theme draws the sidebar with pydata-sphinx-theme's `generate_toctree_html`, which asks Sphinx
# for the whole table of contents on every page (Sphinx copies every page's own contents to do so, even
# when branches are collapsed afterwards) and then reparses the result with BeautifulSoup. Each page so
# costs time in proportion to the number of pages: on 200 pages this was over half of the whole build, and
# the build grew with the square of its size. Here the outline is read once per build and each page writes
# only the links it shows, in the theme's own markup (classes, `<details>` toggles), so the theme's styles
# and scripts apply unchanged.

@dataclass
class NavEntry:
    title: str
    docname: str = ""  # a page of the book, or
    url: str = ""  # an outside address
    children: list[NavEntry] = field(default_factory=list)


@dataclass
class NavOutline:
    """The table of contents once: parts (caption, entries), each page's chain of pages above it
    (itself included), and how many entries there are."""
    parts: list[tuple[str, list[NavEntry]]]
    chains: dict[str, frozenset[str]]
    size: int


def nav_outline(env, root: str, maxdepth: int = 4) -> NavOutline:
    """Read the outline from the toctrees Sphinx collected (`env.tocs`), as `toctree()` would with
    `includehidden` and `titles_only`: the root page's toctrees are the parts, the toctrees in a page are
    its children, down to `maxdepth` levels."""
    from sphinx import addnodes
    from sphinx.util import url_re

    chains: dict[str, frozenset[str]] = {}
    size = 0

    def entries(toctree, above: tuple[str, ...], depth: int) -> list[NavEntry]:
        nonlocal size
        out = []
        for title, ref in toctree["entries"]:
            if url_re.match(ref):
                out.append(NavEntry(title or ref, url=ref))
            elif ref in env.tocs and ref not in above:
                name = title or (env.titles[ref].astext() if ref in env.titles else ref)
                entry = NavEntry(name, docname=ref)
                chain = (*above, ref)
                chains.setdefault(ref, frozenset(chain))
                if depth < maxdepth:
                    for sub in env.tocs[ref].findall(addnodes.toctree):
                        entry.children += entries(sub, chain, depth + 1)
                out.append(entry)
            else:
                continue
            size += 1
        return out

    parts = [(str(t.get("caption") or ""), entries(t, (root,), 1)) for t in env.tocs[root].findall(addnodes.toctree)]
    return NavOutline([(c, e) for c, e in parts if e], chains, size)


TOGGLE_NAME = '<span class="visually-hidden">Show or hide the pages in this part</span>'
TOGGLE_ICON = '<span class="toctree-toggle" role="presentation"><i class="fa-solid fa-chevron-down"></i></span>'


def render_nav(outline: NavOutline, pagename: str, uri, collapse: bool) -> str:
    """The sidebar's links for one page, in the markup pydata-sphinx-theme gives them. `uri(docname)` is
    the link from this page. With `collapse`, only the pages on the way to this one show their children
    (as Sphinx's `collapse` does), so a page writes the parts, the top-level pages and its own branch."""
    chain = outline.chains.get(pagename, frozenset())
    esc = _html.escape
    out: list[str] = []

    def item(e: NavEntry, level: int) -> None:
        on_path = bool(e.docname) and e.docname in chain
        kids = e.children if (on_path or not collapse) else []
        cls = f"toctree-l{level}" + (" current active" if on_path else "") + (" has-children" if kids else "")
        if e.url:
            link = f'<a class="reference external" href="{esc(e.url)}">{esc(e.title)}</a>'
        elif e.docname == pagename:
            link = f'<a class="current reference internal" href="#">{esc(e.title)}</a>'
        else:
            link = f'<a class="reference internal" href="{esc(uri(e.docname))}">{esc(e.title)}</a>'
        out.append(f'<li class="{cls}">{link}')
        if kids:
            opened = ' open="open"' if on_path else ""
            ul_cls = ' class="current"' if on_path and e.docname != pagename else ""
            out.append(f"<details{opened}><summary>{TOGGLE_NAME}{TOGGLE_ICON}</summary><ul{ul_cls}>\n")
            for k in kids:
                item(k, level + 1)
            out.append("</ul>\n</details>")
        out.append("</li>\n")

    for caption, entries in outline.parts:
        if caption:
            out.append(f'<p aria-level="2" class="caption" role="heading"><span class="caption-text">{esc(caption)}</span></p>\n')
        current = any(e.docname and e.docname in chain for e in entries)
        out.append(f'<ul class="{"current " if current else ""}nav bd-sidenav">\n')
        for e in entries:
            item(e, 1)
        out.append("</ul>\n")
    return "".join(out)


def _outline(app, maxdepth: int) -> NavOutline:
    outline = getattr(app, "_lx_nav_outline", None)
    if outline is None:
        outline = app._lx_nav_outline = nav_outline(app.env, app.config.root_doc, maxdepth)
    return outline


def forget_outline(app, env):
    """The outline is read again after Sphinx has (re)read the sources."""
    app._lx_nav_outline = None


def add_sidebar_nav(app, pagename, templatename, context, doctree):
    """`lx_sidebar_nav()` for `_templates/sbt-sidebar-nav.html`; set before the theme's own handlers,
    which render the sidebar once to see whether it is empty."""
    from markupsafe import Markup

    made: list[Markup] = []

    def lx_sidebar_nav():
        if not made:
            outline = _outline(app, int(context.get("theme_max_navbar_depth") or 4))
            collapse = outline.size > app.config.lx_nav_collapse_above

            def uri(docname):
                return app.builder.get_relative_uri(pagename, docname)

            made.append(Markup(render_nav(outline, pagename, uri, collapse)))
        return made[0]

    context["lx_sidebar_nav"] = lx_sidebar_nav


def on_page_context(app, pagename, templatename, context, doctree):
    body = context.get("body") or ""
    has_chart = 'class="lx-vega' in body
    unused = unused_assets(body)
    pathto = context.get("pathto")
    vega_url = pathto(f"_static/{CHART_SCRIPTS[0]}", 1) if has_chart and callable(pathto) else None
    if "script_files" in context:
        context["script_files"] = page_scripts(list(context["script_files"]), has_chart, defer=pagename != "search",
                                               unused=unused, vega_url=vega_url)
    if "css_files" in context:
        context["css_files"] = page_css(list(context["css_files"]), unused, trim=app.config.lx_trim_css)
    context["lx_has_chart"] = has_chart

    def lx_css(path: str) -> str:
        """A stylesheet the template links itself (`_templates/layout.html`): its reduced copy if trimmed."""
        return (trimmed_name(path) or path) if app.config.lx_trim_css else path

    context["lx_css"] = lx_css


def root_index_html(title: str, target: str, language: str = "en") -> str:
    """A small real page for the site root: a title, a language, a visible link, then forwarding."""
    t, h = _html.escape(title), _html.escape(target, quote=True)
    return (f'<!DOCTYPE html>\n<html lang="{_html.escape(language, quote=True)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{t}</title>\n'
            f'<meta http-equiv="refresh" content="0; url={h}">\n<link rel="canonical" href="{h}">\n'
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;line-height:1.5;color:#1a1a1a;background:#fff}"
            "a{color:#0b4f8a}a:focus{outline:3px solid #0b4f8a;outline-offset:2px}</style>\n</head>\n<body>\n<main>\n"
            f'<h1>{t}</h1>\n<p><a href="{h}">Open the evidence book</a></p>\n</main>\n</body>\n</html>\n')


def write_trimmed_css(app, exception):
    """The reduced copies of the theme's stylesheets, from every page written (csstrim.py); after Sphinx
    has copied the theme's static files and after MyST-NB writes its stylesheet (its own `build-finished`)."""
    if exception is None and app.config.lx_trim_css and getattr(app.builder, "format", "") == "html":
        write_trimmed(Path(app.outdir))


def on_build_finished(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    root = app.config.root_doc
    if root == "index":
        return
    (Path(app.outdir) / "index.html").write_text(
        root_index_html(app.config.html_title or app.config.project or "Evidence book", f"{root}.html",
                        app.config.language or "en"), encoding="utf-8")


def drop_thebe_config(app, doctree, docname):
    """sphinx-thebe writes a `text/x-thebe-config` script into every notebook page; nothing reads it."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.raw)):
        if "x-thebe-config" in node.astext():
            node.parent.remove(node)


# Extensions Jupyter Book loads whose `setup` does not say whether Sphinx may read pages in parallel, so that
# Sphinx assumes not, says so in a warning (a failure under -W) and reads serially. Each is declared safe
# here for the version read, with the reason; an upgrade is not declared, so it is looked at again.
PARALLEL_READ_SAFE = {
    # always loaded by sphinx-external-toc. It keeps no data in the environment: it replaces
    # `TocTreeCollector.assign_section_numbers`, which Sphinx calls in the main process once every page
    # has been read and merged, so a reader process holds nothing back.
    "sphinx_multitoc_numbering": "0.1.3",
    # loaded for LaTeX output (`latex.use_jupyterbook_latex`, on by default). Its read-time transforms
    # change only the page being read (attributes and hidden nodes in that page's doctree, which goes back
    # to the main process with it); what it keeps in the environment it sets only for the LaTeX builder.
    "sphinx_jupyterbook_latex": "1.0.0",
}


def declare_parallel_read_safe(app) -> None:
    """Mark the extensions in PARALLEL_READ_SAFE, at the versions listed there, safe to read in parallel."""
    for name, version in PARALLEL_READ_SAFE.items():
        ext = app.extensions.get(name)
        if ext is not None and ext.parallel_read_safe is None and getattr(ext.module, "__version__", "") == version:
            ext.parallel_read_safe = True


class CompactSearchIndex:
    """Sphinx's search index format (`Search.setIndex({...})`, read back for incremental builds), written
    without the spaces Sphinx's `json.dumps` puts after each separator: the same JSON, 15% smaller."""

    PREFIX = "Search.setIndex("
    SUFFIX = ")"

    def dumps(self, data) -> str:
        return self.PREFIX + json.dumps(data, sort_keys=True, separators=(",", ":")) + self.SUFFIX

    def loads(self, s: str):
        if not (s.startswith(self.PREFIX) and s.endswith(self.SUFFIX)) or len(s) <= len(self.PREFIX + self.SUFFIX):
            raise ValueError("invalid data")
        return json.loads(s[len(self.PREFIX):-len(self.SUFFIX)])

    def dump(self, data, f) -> None:
        f.write(self.dumps(data))

    def load(self, f):
        return self.loads(f.read())


def compact_search_index(app) -> None:
    """Have an HTML builder that writes Sphinx's JavaScript search index write it compactly instead."""
    from sphinx.search import js_index

    if getattr(app.builder, "indexer_format", None) is js_index:
        app.builder.indexer_format = CompactSearchIndex()


def mark_nosearch(app, env) -> None:
    """Leave the pages named in `lx_nosearch` out of the search index (Sphinx's own `nosearch` metadata):
    the reviewers' page records are hashes and parameters, which would turn up for every word a reader
    searches for and made the search index alone 0.2 MB. Set in the main process once pages are read, so it
    holds for a parallel build too."""
    for docname in app.config.lx_nosearch:
        if docname in env.all_docs:
            env.metadata.setdefault(docname, {})["nosearch"] = True


def setup(app):
    # the extensions Jupyter Book lists before this one are loaded by now; checked again as the builder starts
    declare_parallel_read_safe(app)
    app.connect("builder-inited", declare_parallel_read_safe)
    app.connect("builder-inited", compact_search_index)
    # after sphinx-thebe's own doctree-resolved handler (priority 500), which adds the node
    app.connect("doctree-resolved", drop_thebe_config, priority=900)
    app.connect("html-page-context", on_page_context, priority=900)
    # a book with more pages than this shows in its navigation only the branch of the page being read
    app.add_config_value("lx_nav_collapse_above", 100, "html", int)
    app.connect("env-updated", forget_outline)
    app.connect("html-page-context", add_sidebar_nav, priority=400)
    # before sphinx-external-toc's build-finished handler (priority 500), which writes a bare redirect
    app.connect("build-finished", on_build_finished, priority=400)
    # pages link reduced copies of the theme's stylesheets, written once every page is (issue 18)
    app.add_config_value("lx_trim_css", True, "html", bool)
    app.add_config_value("lx_nosearch", [], "html", list)
    app.connect("env-updated", mark_nosearch)
    app.connect("build-finished", write_trimmed_css, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
