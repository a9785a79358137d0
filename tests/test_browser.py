"""The built site in a real browser (Debian's Chromium), every non-local request blocked.

Every page is opened once per viewport (1280 px and 390 px, one browser page object each, reused), and
looked at in both colour schemes: axe in both schemes at both widths; the menu opened from the visible
control; tables that fit their box; chart text inside its chart, uncut and at least 12 px; no console
errors beyond a named allow-list; every chart drawn; a skip link that reaches the main content; no
sideways scrolling; nothing fetched from outside the site. Page weight is measured from the files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from lancs_evidence.build.bench import copy_book
from lancs_evidence.build.weights import TARGET_CHART, TARGET_PLAIN, page_weights

from .browser import CONSOLE_ALLOW, LAYOUT_JS, browser, charts_drawn, new_context, open_menu, serve, set_scheme, site_pages
from .conftest import REPO, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = ((1280, 900), (390, 844))
SCHEMES = ("light", "dark")


@pytest.fixture(scope="session")
def real_site(tmp_path_factory, repo) -> Path:
    root = copy_book(REPO, tmp_path_factory.mktemp("real") / "book")
    run_cli("build", "-q", root=root, check=True)
    return root / "_build" / "html"


@pytest.fixture(scope="session")
def site_checks(real_site):
    """Visit every page once per viewport; collect what the tests assert on. The two viewports run at the
    same time, each in its own thread with its own Playwright and browser (Playwright's sync API is used
    one instance per thread), so the two cores share the work."""
    from concurrent.futures import ThreadPoolExecutor

    results: dict = {}
    with serve(real_site) as base, ThreadPoolExecutor(max_workers=len(VIEWPORTS)) as pool:
        futures = [pool.submit(_visit_at, real_site, base, width, height) for width, height in VIEWPORTS]
        blocked: list[str] = []
        for future in futures:  # .result() re-raises a failure inside a thread here, in the test
            seen, outside = future.result()
            for rel, r in seen.items():
                results.setdefault(rel, {}).update(r)
            blocked += outside
        results["__blocked__"] = blocked
    return results


def _visit_at(real_site: Path, base: str, width: int, height: int) -> tuple[dict, list[str]]:
    """Every page at one viewport: returns what was seen per page, and any request for outside the site."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    results: dict = {}
    blocked: list[str] = []
    with browser() as b:
        ctx = new_context(b, base, width, height, blocked)
        page = ctx.new_page()
        console: list = []
        page.on("console", lambda m, c=console: c.append((m.type, m.text)))
        page.on("pageerror", lambda e, c=console: c.append(("error", str(e))))
        for rel in site_pages(real_site):
            r = results.setdefault(rel, {})
            console.clear()
            page.emulate_media(color_scheme="light")
            page.goto(f"{base}/{rel}", wait_until="load")
            charts_drawn(page)
            if width == 1280:
                r["charts"] = page.evaluate("""Array.from(document.querySelectorAll('.lx-vega')).map(e => {
                    const svg = e.querySelector('svg');
                    return svg ? svg.querySelectorAll('path, rect, circle, line, text, symbol').length : 0; })""")
                # keyboard: the first Tab stop is the skip link, and following it moves focus to the main content
                page.keyboard.press("Tab")
                r["first_tab"] = page.evaluate("document.activeElement && [document.activeElement.textContent.trim(), "
                                               "document.activeElement.getAttribute('href')]")
                page.keyboard.press("Enter")
                page.wait_for_function("location.hash === '#main-content' || document.activeElement !== document.body",
                                       timeout=5000)
                r["skip_to_main"] = page.evaluate("""(() => { const m = document.querySelector('main, [role=main], #main-content');
                    const a = document.activeElement; return !!m && (m === a || m.contains(a) || location.hash === '#main-content'); })()""")
                r["console"] = list(console)  # before axe: axe's own stylesheet reads log 404s of theme @imports
                r["focus_rings"] = page.evaluate(FOCUS_JS)
            for scheme in SCHEMES:
                set_scheme(page, scheme)
                # the dark scheme changes colours only, so its pass runs axe's colour rules (half the time)
                options = {"resultTypes": ["violations"]} if scheme == "light" else \
                    {"resultTypes": ["violations"], "runOnly": ["color-contrast", "link-in-text-block"]}
                violations = axe.run(page, options=options).response["violations"]
                r[f"axe {width} {scheme}"] = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in violations]
            r[f"menu {width}"] = open_menu(page)
            r[f"layout {width}"] = page.evaluate(LAYOUT_JS)
        ctx.close()
    return results, blocked


# Every button and link on the page, focused in turn: does it draw a visible focus indicator?
FOCUS_JS = r"""() => {
  const bare = [];
  document.querySelectorAll('button, a[href], summary').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') return;
    el.focus({focusVisible: true});
    if (document.activeElement !== el) return;
    const s = getComputedStyle(el);
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none');
    if (!ring) bare.push((el.getAttribute('aria-label') || el.textContent || el.className).trim().slice(0, 40));
  });
  document.activeElement && document.activeElement.blur();
  return bare;
}"""


def _pages(site_checks):
    return {k: v for k, v in site_checks.items() if not k.startswith("__")}


def test_every_page_was_visited(site_checks, real_site):
    pages = _pages(site_checks)
    assert len(pages) >= 25
    assert any(k.startswith("chapters/districts/") for k in pages)


def test_no_console_errors_beyond_the_allow_list(site_checks):
    bad = {}
    for rel, r in _pages(site_checks).items():
        errors = [t for kind, t in r["console"] if kind == "error" and not any(a in t for a in CONSOLE_ALLOW)]
        if errors:
            bad[rel] = errors
    assert bad == {}


def test_every_chart_renders_with_marks(site_checks):
    pages = _pages(site_checks)
    assert sum(len(r["charts"]) for r in pages.values()) > 20
    empty = {rel: r["charts"] for rel, r in pages.items() if any(n == 0 for n in r["charts"])}
    assert empty == {}


def test_district_pages_each_have_a_chart(site_checks):
    districts = {k: v for k, v in _pages(site_checks).items() if k.startswith("chapters/districts/")}
    assert len(districts) == 10
    assert all(len(v["charts"]) >= 1 for v in districts.values())


def test_skip_link_reaches_main_content(site_checks):
    bad = {rel: r["first_tab"] for rel, r in _pages(site_checks).items()
           if not (r["first_tab"] and "main" in (r["first_tab"][1] or "") and r["skip_to_main"])}
    assert bad == {}


@pytest.mark.parametrize("width", [w for w, _ in VIEWPORTS])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_no_violations(site_checks, width, scheme):
    bad = {rel: r[f"axe {width} {scheme}"] for rel, r in _pages(site_checks).items() if r[f"axe {width} {scheme}"]}
    assert bad == {}


def test_every_control_shows_keyboard_focus(site_checks):
    bad = {rel: r["focus_rings"] for rel, r in _pages(site_checks).items() if r["focus_rings"]}
    assert bad == {}


def test_menu_opens_from_the_visible_control_on_a_phone(site_checks):
    pages = _pages(site_checks)
    # on every page the menu shows the book's parts on screen...
    few = {rel: len(r["menu 390"]) for rel, r in pages.items() if len(r["menu 390"]) < 5}
    assert few == {}
    # ...and on a district page, the district partnerships themselves
    for rel, r in pages.items():
        if rel.startswith("chapters/districts/"):
            assert any("districts/" in href for href in r["menu 390"]), (rel, r["menu 390"])


def test_menu_is_beside_the_page_on_a_desktop(site_checks):
    few = {rel: len(r["menu 1280"]) for rel, r in _pages(site_checks).items() if len(r["menu 1280"]) < 5}
    assert few == {}


@pytest.mark.parametrize("width", [w for w, _ in VIEWPORTS])
def test_no_sideways_scroll(site_checks, width):
    bad = {rel: r[f"layout {width}"]["overflow"] for rel, r in _pages(site_checks).items() if r[f"layout {width}"]["overflow"] > 1}
    assert bad == {}


@pytest.mark.parametrize("width", [w for w, _ in VIEWPORTS])
def test_tables_fit_their_box(site_checks, width):
    bad = {rel: r[f"layout {width}"]["wide_tables"] for rel, r in _pages(site_checks).items() if r[f"layout {width}"]["wide_tables"]}
    assert bad == {}


@pytest.mark.parametrize("width", [w for w, _ in VIEWPORTS])
def test_wide_tables_stack_only_when_their_columns_do_not_fit(site_checks, width):
    bad = {rel: r[f"layout {width}"]["needless_stacks"] for rel, r in _pages(site_checks).items()
           if r[f"layout {width}"]["needless_stacks"]}
    assert bad == {}
    if width >= 992:  # on a wide screen most of the book's five-plus-column tables are real tables
        shown = sum(r[f"layout {width}"]["many_as_tables"] for r in _pages(site_checks).values())
        assert shown > 0


@pytest.mark.parametrize("width", [w for w, _ in VIEWPORTS])
def test_chart_text_stays_inside_its_chart_uncut(site_checks, width):
    bad = {rel: r[f"layout {width}"]["clipped_text"] + r[f"layout {width}"]["cut_labels"]
           for rel, r in _pages(site_checks).items()
           if r[f"layout {width}"]["clipped_text"] or r[f"layout {width}"]["cut_labels"]}
    assert bad == {}


@pytest.mark.parametrize("width", [w for w, _ in VIEWPORTS])
def test_chart_text_is_at_least_12px(site_checks, width):
    bad = {}
    for rel, r in _pages(site_checks).items():
        small = r[f"layout {width}"]["small_text"]
        if small:
            bad[rel] = small[:5]
    assert bad == {}


def test_nothing_is_requested_from_outside_the_site(site_checks):
    assert site_checks["__blocked__"] == []


def test_real_reader_pages_show_no_ids_paths_commands_or_code_names(real_site):
    """Rule 9 on the real book: every page outside the 'For reviewers' part, and its CSV downloads."""
    from .test_context import reader_page_problems

    problems = reader_page_problems(real_site.parent.parent)
    assert not problems, "\n".join(problems[:40])


def test_page_weight_within_targets(real_site):
    """What a reader downloads per page, gzipped as a static host sends it, and as stored (what a host that
    does not compress sends), every page under its target both ways, the search page included (its index is
    written as compact JSON, `theme.CompactSearchIndex`)."""
    weights = page_weights(real_site)
    assert len(weights) >= 25
    over = {w.page: (w.gzipped, w.target) for w in weights if w.gzipped >= w.target}
    assert over == {}
    over_stored = {w.page: (w.raw, w.target) for w in weights if w.raw >= w.target}
    assert over_stored == {}
    assert all(w.raw < TARGET_CHART for w in weights if w.chart)
    plain = [w for w in weights if not w.chart]
    assert plain and all(w.gzipped < TARGET_PLAIN for w in plain)
    assert any(w.chart for w in weights) and all(w.gzipped < TARGET_CHART for w in weights if w.chart)


def test_chart_script_only_on_chart_pages_and_deferred(real_site):
    for rel in site_pages(real_site):
        html = (real_site / rel).read_text(encoding="utf-8")
        # no page loads the Vega bundle itself: a chart page's deferred chart script names it and fetches it
        assert re.findall(r"<script[^>]*src=\"[^\"]*vega-bundle\.js", html) == [], rel
        tags = re.findall(r"<script[^>]*lx-charts\.js[^>]*>", html)
        if 'class="lx-vega' in html:
            assert len(tags) == 1 and "defer" in tags[0] and re.search(r'data-vega="[^"]*vega-bundle\.js"', tags[0]), rel
        else:
            assert tags == [], rel
        assert "fontawesome" not in html, rel
        if rel != "search.html":  # the search page loads the index itself; no other page needs it
            assert "searchindex.js" not in html, rel


def test_site_root_is_a_real_page(real_site):
    html = (real_site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<html lang="en">', html)
    title = re.search(r"<title>(.+?)</title>", html)
    assert title and "Lancashire" in title.group(1)
    link = re.search(r'<a href="([^"]+)">([^<]+)</a>', html)
    assert link and (real_site / link.group(1)).exists() and link.group(2).strip()


def test_hostile_statement_in_a_chart_leaves_the_rest_of_the_page(tmp_path, repo):
    """A statement beginning `<!--<script>` inside a chart's embedded JSON must not open a comment
    that swallows what follows: the chart draws and the paragraph after it is still on the page."""
    import pandas as pd

    from lancs_evidence.pages import charts

    hostile = "<!--<script>document.title='hacked'</script> & more"
    df = pd.DataFrame({"label": [hostile, "Plain"], "value": [4, 9]})
    chart_html = charts.accessible_chart(charts.bar(df, "label", "value", x_title="Number of things"), df, title=hostile,
                                   description=hostile, source="a test", csv_name="t.csv")
    static = repo / "_static"
    (tmp_path / "page.html").write_text(
        "<!DOCTYPE html><html lang='en'><head><title>fixture</title>"
        f"<script defer src='vega-bundle.js'></script><script defer src='lx-charts.js'></script></head><body>"
        f"{chart_html}<p id='after'>The page goes on after the chart.</p></body></html>", encoding="utf-8")
    for name in ("vega-bundle.js", "lx-charts.js"):
        (tmp_path / name).write_bytes((static / name).read_bytes())
    with serve(tmp_path) as base, browser() as b:
        page = new_context(b, base).new_page()
        page.goto(f"{base}/page.html", wait_until="load")
        charts_drawn(page, everywhere=False)  # a chart at the top of the page is drawn without being asked
        assert page.locator("#after").inner_text() == "The page goes on after the chart."
        assert page.title() == "fixture"
        assert page.evaluate("document.querySelector('.lx-vega').dataset.rendered") == "1"
        assert hostile in page.locator(".lx-chart-title").inner_text()


# Every chart is drawn for its box's present width (a faceted one, whose panels have a set width, no
# wider than its box), and its text is at least 12 px as drawn (a chart drawn wider than its box is scaled
# down, and its text with it).
CHARTS_FIT_JS = r"""() => Array.from(document.querySelectorAll('.lx-vega')).every(box => {
  const svg = box.querySelector('svg');
  if (!box.dataset.rendered || !svg) return false;
  const facet = !!JSON.parse(document.getElementById(box.dataset.specId).textContent).facet;
  const w = svg.width.baseVal.value, scale = svg.getBoundingClientRect().width / w;
  return (facet ? w <= box.clientWidth + 1 : Math.abs(w - box.clientWidth) <= 1) && Array.from(svg.querySelectorAll('text')).every(t =>
    !t.textContent.trim() || parseFloat(getComputedStyle(t).fontSize) * scale >= 11.9);
})"""


def test_charts_are_drawn_again_at_their_new_width_when_the_window_changes(real_site):
    """A phone turned round or a window widened: each chart is redrawn for its box's new width. (Vega's
    own resize handling once left a chart drawn 1,632 px wide in a 672 px box, its text scaled to 6 px.)"""
    with serve(real_site) as base, browser() as b:
        ctx = new_context(b, base, 390, 844)
        page = ctx.new_page()
        for rel in ("chapters/audit.html", "chapters/districts/preston.html"):
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{base}/{rel}", wait_until="load")
            charts_drawn(page)
            for width in (1280, 390, 1280):
                page.set_viewport_size({"width": width, "height": 900})
                page.wait_for_function(CHARTS_FIT_JS, timeout=15000)
        ctx.close()


def test_search_finds_pages_offline(real_site):
    """A reader searches with the network blocked: the (compactly written) index loads and the results list
    the pages that name the word, the Preston district page among them, and none of the reviewers' page
    records; the text quoted under each result keeps its words apart (table cells once ran together, as in
    "ContradictedWhat is compared") and does not start with the page's own buttons (".pdf")."""
    blocked: list[str] = []
    found: dict[str, tuple[list, list]] = {}
    with serve(real_site) as base, browser() as b:
        ctx = new_context(b, base, 390, 844, blocked)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for query in ("Preston", "contradicted"):
            page.goto(f"{base}/search.html?q={query}", wait_until="load")
            # Sphinx's summary reads "Search finished, found N page(s) ..." once every result is listed;
            # each result's quoted text is fetched after that
            page.wait_for_function("() => /finished/i.test(document.querySelector('#search-results .search-summary')"
                                   "?.textContent || '')", timeout=20000)
            page.wait_for_function("() => Array.from(document.querySelectorAll('#search-results ul.search li'))"
                                   ".every(li => li.querySelector('p.context'))", timeout=20000)
            found[query] = (
                page.eval_on_selector_all("#search-results ul.search li > a", "els => els.map(a => a.getAttribute('href'))"),
                page.eval_on_selector_all("#search-results ul.search li p.context", "els => els.map(p => p.textContent)"))
        ctx.close()
    assert errors == [] and blocked == []
    links, _ = found["Preston"]
    assert any("districts/preston" in h for h in links), links
    assert not any("reviewers/receipts" in h for h in links), links
    quotes = found["Preston"][1] + found["contradicted"][1]
    assert len(found["contradicted"][1]) >= 3, found["contradicted"]
    run_together = [q for q in quotes if re.search(r"[a-z]{3}(?:Contradicted|What|Where|First|Second)\b", q)]
    assert run_together == [] and not any(".pdf" in q for q in quotes), run_together
