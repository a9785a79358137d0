"""`lancs-evidence pdf`: the whole book as one PDF, charts included.

Runs the notebooks (cached), builds the book as a single HTML page, then prints it with Debian's
Chromium through Playwright once every chart is drawn: A4, the book's title at the top and "Page n of N"
at the foot of every page, a contents list with page numbers at the front (a first print finds where
each chapter starts, from the PDF's named destinations; a second writes the numbers in), and PDF
bookmarks. Pages are laid out at the printed width so charts fit the page. The print stylesheet hides
navigation and opens every data table and provenance box.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from lancs_evidence.build.book import ensure_vega_bundle, sphinx_build, write_status_page
from lancs_evidence.build.jobs import discover
from lancs_evidence.build.runner import run_pages
from lancs_evidence.build.toc import write_toc
from lancs_evidence.data.project import Project, UserError
from lancs_evidence.data.validate import stop_on_problems

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str:
    for c in CHROMIUM_CANDIDATES:
        if Path(c).exists():
            return c
    found = shutil.which("chromium")
    if found:
        return found
    raise UserError("Chromium not found: install Debian's chromium (make system-deps) to print the PDF")


# What the printed book carries on every page: its title at the top, "Page n of N" at the bottom.
HEADER = ('<div style="font-size:8pt;width:100%;padding:0 15mm;color:#333;font-family:system-ui,sans-serif;">'
          '<span>{title}</span></div>')
FOOTER = ('<div style="font-size:8pt;width:100%;padding:0 15mm;color:#333;font-family:system-ui,sans-serif;text-align:right;">'
          'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')
# A4 less the margins is about 180 mm, about 680 CSS pixels: lay the page out at that width so charts,
# which take their container's width, are drawn at the size they are printed.
PRINT_VIEWPORT = {"width": 700, "height": 990}

# Builds the contents list at the top of the book from its chapter headings (one per document in the
# single page), with a cell for each page number, filled in by the second pass.
CONTENTS_JS = r"""() => {
  const main = document.querySelector('.bd-article') || document.body;
  const title = main.querySelector('section h1') || main.querySelector('h1');
  const entries = Array.from(main.querySelectorAll('span[id^="document-"]')).map(span => {
    let el = span.nextElementSibling;
    while (el && !el.matches('section, h1, h2, h3')) el = el.nextElementSibling;
    const head = el && (el.matches('h1, h2, h3') ? el : el.querySelector('h1, h2, h3'));
    let depth = 0, up = span.parentElement;
    while (up && up !== main) { if (up.matches('section')) depth += 1; up = up.parentElement; }
    return {id: span.id, text: head ? head.textContent.replace(/[#¶]\s*$/, '').trim() : span.id, depth};
  });
  const nav = document.createElement('nav');
  nav.id = 'lx-print-contents'; nav.setAttribute('aria-label', 'Contents');
  const h = document.createElement('h2'); h.textContent = 'Contents'; nav.appendChild(h);
  const ol = document.createElement('ol');
  const base = Math.min(...entries.map(e => e.depth));
  entries.forEach(e => {
    const li = document.createElement('li');
    li.style.paddingLeft = (1.25 * (e.depth - base)) + 'rem';
    const a = document.createElement('a'); a.href = '#' + e.id; a.textContent = e.text;
    const pg = document.createElement('span'); pg.className = 'lx-pg'; pg.dataset.target = e.id;
    li.appendChild(a); li.appendChild(pg); ol.appendChild(li);
  });
  nav.appendChild(ol);
  if (title) { title.after(nav); } else { main.insertBefore(nav, main.firstChild); }
  return entries.map(e => e.id);
}"""
CONTENTS_CSS = """
#jb-print-docs-body { display: none !important; }
#lx-print-contents { break-after: page; margin-top: 2rem; }
.bd-article h1 { display: block !important; }
#lx-print-contents ol { list-style: none; padding: 0; }
#lx-print-contents li { display: flex; gap: 0.5rem; border-bottom: 1px dotted #999; padding: 0.15rem 0; }
#lx-print-contents li a { flex: 1; color: #000; text-decoration: none; }
#lx-print-contents .lx-pg { min-width: 2.5rem; text-align: right; font-variant-numeric: tabular-nums; }
span[id^="document-"] { display: block; break-before: page; }
"""


def _pdf_options(title: str) -> dict:
    import html as _html

    return dict(format="A4", print_background=True, display_header_footer=True,
                header_template=HEADER.format(title=_html.escape(title)), footer_template=FOOTER,
                margin={"top": "18mm", "bottom": "16mm", "left": "15mm", "right": "15mm"},
                prefer_css_page_size=False, outline=True, tagged=True)


def heading_pages(pdf: Path, ids: list[str]) -> dict[str, int]:
    """The page each heading id lands on, from the PDF's named destinations (poppler's `pdfinfo -dests`)."""
    exe = shutil.which("pdfinfo")
    if not exe:
        raise UserError("pdfinfo not found: install poppler-utils (make system-deps) to number the contents")
    out = subprocess.run([exe, "-dests", str(pdf)], capture_output=True, text=True, timeout=120).stdout
    pages: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit():
            name = line.split('"')[1] if '"' in line else parts[-1]
            pages.setdefault(name, int(parts[0]))
    return {i: pages[i] for i in ids if i in pages}


def draw_charts(page, timeout_ms: int, everywhere: bool = True) -> None:
    """Wait until every chart on a Playwright page has been drawn or says why it could not be. Charts are
    drawn as they come near the screen (`_static/lx-charts.js`), so with `everywhere` the page is first
    asked to draw the rest, as it does before printing; without it, only what the page drew by itself
    is waited for."""
    if everywhere:
        page.evaluate("window.lxCharts ? window.lxCharts.drawAll() : null")
    page.wait_for_function("Array.from(document.querySelectorAll('.lx-vega'))"
                           ".every(e => e.dataset.rendered || e.textContent.trim())", timeout=timeout_ms)


def print_to_pdf(html: Path, out: Path, title: str = "", timeout_ms: int = 60000) -> dict[str, int]:
    """Print `html` to an A4 PDF with the book's title and page numbers on every page and a contents
    list with page numbers at the front; return the page of each chapter heading."""
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.pdf")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport=PRINT_VIEWPORT)
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort())
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            draw_charts(page, timeout_ms)
            # wide tables that fit an A4 page stay tables on paper (lx-a11y.js measures them at that width)
            page.evaluate("window.lxTables ? window.lxTables.fitForPrint() : null")
            page.emulate_media(media="print")
            page.add_style_tag(content=CONTENTS_CSS)
            ids = page.evaluate(CONTENTS_JS)
            opts = _pdf_options(title or page.title())
            page.pdf(path=str(tmp), **opts)  # first pass: where does each chapter start?
            where = heading_pages(tmp, ids)
            for _ in range(4):  # write the numbers in and print again, until the pages they name stay put
                page.evaluate("""(where) => { document.querySelectorAll('#lx-print-contents .lx-pg').forEach(s => {
                    s.textContent = where[s.dataset.target] ? String(where[s.dataset.target]) : ''; }); }""", where)
                page.pdf(path=str(tmp), **opts)
                now = heading_pages(tmp, ids)
                if now == where:
                    break
                where = now
            else:
                raise UserError("the PDF's contents list would not settle on its page numbers; please report this")
        finally:
            browser.close()
    if not tmp.exists() or tmp.stat().st_size == 0:
        raise UserError("Chromium could not print the PDF")
    os.replace(tmp, out)
    return where


def build_pdf(project: Project, out: Path | None = None) -> int:
    if stop_on_problems(project.data, "no PDF was written"):
        return 1
    ensure_vega_bundle(project)
    pages = discover(project)
    write_toc(project, pages)
    report = run_pages(project, pages=pages, progress=False)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
        return 1
    write_status_page(project, report)
    work = project.work / "jb-single"
    code, log = sphinx_build(project, work, builder="singlehtml")
    if code != 0:
        print(log[-20000:], file=sys.stderr)
        print("the single-page build failed; no PDF written", file=sys.stderr)
        return 1
    single = work / "_build" / "singlehtml"
    # Sphinx writes the single page at the root document's path (chapters/index.html) but links its
    # _static files as if it sat at the top, so print a copy that does sit at the top.
    import yaml

    root_doc = yaml.safe_load((project.root / "_toc.yml").read_text(encoding="utf-8"))["root"]
    page = single / "book.html"
    shutil.copyfile(single / f"{root_doc}.html", page)
    out = out or (project.build_dir / "pdf" / "lancashire-evidence-book.pdf")
    title = yaml.safe_load((project.root / "_config.yml").read_text(encoding="utf-8")).get("title", "")
    print_to_pdf(page, out, title=title)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
