"""The book's sidebar navigation (src/lancs_evidence/build/theme.py): the outline read once per build and
the links each page writes, on a hand-built table of contents."""
from __future__ import annotations

import re
from types import SimpleNamespace

from docutils import nodes
from sphinx import addnodes

from lancs_evidence.build import theme


def _toctree(entries, caption=""):
    node = addnodes.toctree()
    node["entries"] = [(None, ref) for ref in entries]
    if caption:
        node["caption"] = caption
    return node


def _env():
    """index -> part "Places": north (a, b), south (c); part "About": methods, and an outside link."""
    tocs, titles = {}, {}

    def page(name, title, *toctrees):
        toc = nodes.bullet_list()
        toc += list(toctrees)
        tocs[name], titles[name] = toc, nodes.title(text=title)

    page("index", "Home", _toctree(["north", "south"], "Places"), _toctree(["methods", "https://example.org"], "About"))
    page("north", "North", _toctree(["a", "b"]))
    page("south", "South", _toctree(["c"]))
    page("a", "A & <b>")
    page("b", "B")
    page("c", "C")
    page("methods", "Methods")
    return SimpleNamespace(tocs=tocs, titles=titles)


def _uri(docname):
    return f"../{docname}.html"


def test_outline_holds_parts_pages_and_each_pages_branch():
    outline = theme.nav_outline(_env(), "index")
    assert [c for c, _ in outline.parts] == ["Places", "About"]
    assert [e.docname for e in outline.parts[0][1]] == ["north", "south"]
    assert [e.docname for e in outline.parts[0][1][0].children] == ["a", "b"]
    assert outline.parts[1][1][1].url == "https://example.org"
    assert outline.chains["b"] == {"index", "north", "b"}
    assert outline.size == 7


def test_outline_stops_at_the_depth_asked():
    outline = theme.nav_outline(_env(), "index", maxdepth=1)
    assert all(not e.children for _, entries in outline.parts for e in entries)


def test_full_navigation_marks_the_branch_and_keeps_other_branches_closed():
    html = theme.render_nav(theme.nav_outline(_env(), "index"), "b", _uri, collapse=False)
    # the page itself: a link to the top of the page, marked current
    assert '<li class="toctree-l2 current active"><a class="current reference internal" href="#">B</a></li>' in html
    # its parent is open and marked; the other branch is there, closed
    assert re.search(r'<li class="toctree-l1 current active has-children">.*?<details open="open">', html)
    assert '<li class="toctree-l1 has-children"><a class="reference internal" href="../south.html">South</a><details><summary>' in html
    assert 'href="../c.html"' in html
    # titles are escaped, parts are headings, toggles have a name
    assert "A &amp; &lt;b&gt;" in html and "<b>" not in html
    assert '<span class="caption-text">Places</span>' in html
    assert html.count(theme.TOGGLE_NAME) == 2
    assert '<ul class="current nav bd-sidenav">' in html and '<ul class="nav bd-sidenav">' in html


def test_collapsed_navigation_shows_only_the_branch_of_the_page():
    outline = theme.nav_outline(_env(), "index")
    html = theme.render_nav(outline, "b", _uri, collapse=True)
    assert 'href="../a.html"' in html and 'href="../south.html"' in html
    assert 'href="../c.html"' not in html
    assert '<li class="toctree-l1"><a class="reference internal" href="../south.html">South</a></li>' in html
    # the page a part begins with lists its own pages, open
    top = theme.render_nav(outline, "north", _uri, collapse=True)
    assert '<a class="current reference internal" href="#">North</a><details open="open"><summary>' in top
    assert '<ul>\n<li class="toctree-l2"><a class="reference internal" href="../a.html">' in top


def test_collapsed_navigation_does_not_grow_with_other_branches():
    env = _env()
    outline = theme.nav_outline(env, "index")
    small = theme.render_nav(outline, "b", _uri, collapse=True)
    # fifty more pages under the other branch leave this page's links as they were
    env.tocs["south"][0]["entries"] += [(None, f"s{i}") for i in range(50)]
    for i in range(50):
        env.tocs[f"s{i}"], env.titles[f"s{i}"] = nodes.bullet_list(), nodes.title(text=f"S{i}")
    bigger = theme.nav_outline(env, "index")
    assert bigger.size == outline.size + 50
    assert theme.render_nav(bigger, "b", _uri, collapse=True) == small
