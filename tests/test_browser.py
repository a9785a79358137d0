"""The built site in a real browser (Debian's Chromium), every non-local request blocked.

Across every page: no console errors beyond a named allow-list, every chart drawn with marks, a skip
link that reaches the main content, no sideways scrolling at 390 px, and no axe violations."""
from __future__ import annotations

from pathlib import Path

import pytest

from lancs_evidence.bench import copy_book

from .browser import CONSOLE_ALLOW, browser, new_context, serve, site_pages
from .conftest import REPO, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="session")
def real_site(tmp_path_factory, repo) -> Path:
    root = copy_book(REPO, tmp_path_factory.mktemp("real") / "book")
    run_cli("build", "-q", root=root, check=True)
    return root / "_build" / "html"


@pytest.fixture(scope="session")
def site_checks(real_site):
    """Visit every page once at desktop and once at phone width; collect what the tests assert on."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    results = {}
    with serve(real_site) as base, browser() as b:
        blocked: list[str] = []
        desk = new_context(b, base, 1280, 900, blocked)
        phone = new_context(b, base, 390, 844, blocked)
        for rel in site_pages(real_site):
            page = desk.new_page()
            console = []
            page.on("console", lambda m, c=console: c.append((m.type, m.text)))
            page.on("pageerror", lambda e, c=console: c.append(("error", str(e))))
            page.goto(f"{base}/{rel}", wait_until="networkidle")
            page.wait_for_function("Array.from(document.querySelectorAll('.lx-vega')).every(e => e.dataset.rendered || e.textContent.trim())",
                                   timeout=15000)
            charts = page.evaluate("""Array.from(document.querySelectorAll('.lx-vega')).map(e => {
                const svg = e.querySelector('svg');
                return svg ? svg.querySelectorAll('path, rect, circle, line, text, symbol').length : 0; })""")
            # keyboard: the first Tab stop is the skip link, and following it moves focus to the main content
            page.keyboard.press("Tab")
            first = page.evaluate("document.activeElement && [document.activeElement.textContent.trim(), document.activeElement.getAttribute('href')]")
            page.keyboard.press("Enter")
            page.wait_for_timeout(100)
            in_main = page.evaluate("""(() => { const m = document.querySelector('main, [role=main], #main-content');
                const a = document.activeElement; return !!m && (m === a || m.contains(a) || location.hash === '#main-content'); })()""")
            console_before_axe = list(console)  # axe's own stylesheet fetches log 404s of theme @imports
            violations = axe.run(page).response["violations"]
            page.close()
            p = phone.new_page()
            p.goto(f"{base}/{rel}", wait_until="networkidle")
            p.wait_for_timeout(300)
            overflow = p.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            p.close()
            results[rel] = {"console": console_before_axe, "charts": charts, "first_tab": first, "skip_to_main": in_main,
                            "axe": [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in violations],
                            "overflow": overflow}
        results["__blocked__"] = blocked
    return results


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


def test_no_horizontal_scroll_on_a_phone(site_checks):
    bad = {rel: r["overflow"] for rel, r in _pages(site_checks).items() if r["overflow"] > 1}
    assert bad == {}


def test_axe_finds_no_violations(site_checks):
    bad = {rel: r["axe"] for rel, r in _pages(site_checks).items() if r["axe"]}
    assert bad == {}


def test_nothing_is_requested_from_outside_the_site(site_checks):
    assert site_checks["__blocked__"] == []


def test_real_reader_pages_show_no_ids_paths_commands_or_code_names(real_site):
    """Rule 9 on the real book: every page outside the 'For reviewers' part, and its CSV downloads."""
    from .test_context import reader_page_problems

    problems = reader_page_problems(real_site.parent.parent)
    assert not problems, "\n".join(problems[:40])
