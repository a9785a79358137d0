"""Failures, interruptions, hostile text, determinism and incremental rebuilds, on tiny invented books."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
from pathlib import Path

import pytest

from lancs_evidence.data.synthetic import area_id, make_project

from .conftest import run_cli

pytestmark = pytest.mark.slow


def site_files(root: Path) -> dict[str, bytes]:
    site = (root / "_build" / "html").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def set_cell(root: Path, rel: str, row_id: str, column: str, value: str) -> None:
    path = root / rel
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    col = records[0].index(column)
    for r in records[1:]:
        if r[0] == row_id:
            r[col] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    path.write_text(out.getvalue(), encoding="utf-8")


def page_text(root: Path, rel: str) -> str:
    html = (root / "_build" / "html" / rel).read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- failure isolation ---------------------------------------------------------------------------

def test_one_failing_partnership_does_not_stop_the_others(tmp_path, repo):
    root = make_project(tmp_path / "book", repo, n_areas=3)
    tpl = root / "templates" / "district.md"
    text = tpl.read_text(encoding="utf-8")
    bad = f'if area == "{area_id(2)}":\n    raise RuntimeError("the data for this area is broken")\n'
    text = text.replace("page.glue_all()\n", "page.glue_all()\n" + bad, 1)
    tpl.write_text(text, encoding="utf-8")
    proc = run_cli("build", "-q", root=root)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert f"FAILED chapters/districts/{area_id(2)} (area {area_id(2)})" in out
    # cell 4 of the executed notebook: title, parameters, papermill's injected parameters, then the setup cell
    assert "cell 4 (the cell starting `from lancs_evidence.pages.district import DistrictView`) raised RuntimeError: the data for this area is broken" in out
    assert "Traceback" not in out
    kept = root / "_build" / "failed" / f"chapters--districts--{area_id(2)}.ipynb"
    assert kept.exists()
    assert "the data for this area is broken" in kept.read_text(encoding="utf-8")
    for ok in (1, 3):
        assert (root / "chapters" / "districts" / f"{area_id(ok)}.ipynb").exists()
    assert not (root / "_build" / "html").exists()  # nothing was published


# --- interrupted builds ----------------------------------------------------------------------------

def test_a_killed_build_leaves_the_site_and_the_next_build_succeeds(tmp_path, repo):
    from .test_interrupts import add_gate, start_gated_build, wait_for

    root = make_project(tmp_path / "book", repo, n_areas=4)
    add_gate(root)
    run_cli("build", "-q", root=root, check=True)
    before = site_files(root)
    set_cell(root, "data/2024-25/figures.csv", f"eoy-{area_id(1)}-people-supported", "value", "4321")
    gate = tmp_path / "gate"
    proc = start_gated_build(root, gate)
    # Wait for proof that *this* build is executing notebooks: a page of it says so and then waits.
    wait_for(lambda: any(gate.glob("started-*")), "a page started", proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert site_files(root) == before  # the published site is exactly as it was
    assert (root / "_build" / ".work" / "BUILDING").exists()
    again = run_cli("build", "-q", root=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "over 4,321" in page_text(root, f"chapters/districts/{area_id(1)}.html")
    assert not list((root / "chapters").rglob(".*.tmp")) and not list((root / "chapters").rglob(".*running*"))


# --- hostile text ------------------------------------------------------------------------------------

HOSTILE = {
    "script": "<script>window.__pwned = 'script'</script>",
    "img": "\"><img src=x onerror=\"window.__pwned='img'\">",
    "js_link": "[read more](javascript:window.__pwned='link')",
    "myst": "{glue:text}`name` and **bold** and ```{code-cell} python\nimport os\n```",
}


def test_hostile_text_in_data_is_shown_as_text_and_never_runs(tmp_path, repo):
    from .browser import browser, new_context, serve

    root = make_project(tmp_path / "book", repo, n_areas=1)
    a = area_id(1)
    set_cell(root, "data/2024-25/initiatives.csv", f"ini-{a}-hub", "summary", HOSTILE["script"] + " " + HOSTILE["js_link"])
    set_cell(root, "data/2024-25/initiatives.csv", f"ini-{a}-hub", "name", HOSTILE["img"])
    set_cell(root, "data/2024-25/figures.csv", f"eoy-{a}-satisfied", "statement", HOSTILE["myst"].replace("\n", " "))
    set_cell(root, "data/2024-25/learning_points.csv", f"lp-eoy-{a}-01", "summary", HOSTILE["img"])
    areas = root / "data" / "areas.csv"
    areas.write_text(areas.read_text(encoding="utf-8").replace("Testarea 001,", '"Testarea 001 <b>*x*</b> <img src=x onerror=\'window.__pwned=9\'> [y](javascript:alert(1))",', 1),
                     encoding="utf-8")
    proc = run_cli("build", "-q", root=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = root / "_build" / "html"
    with serve(site) as base, browser() as b:
        ctx = new_context(b, base)
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}/chapters/districts/{a}.html", wait_until="networkidle")
        for link in page.locator("a[href^='javascript']").all():
            link.click()
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
        text = page.inner_text("main")
        assert "<script>window.__pwned = 'script'</script>" in text
        assert "onerror=" in text
        assert "{glue:text}`name`" in text and "**bold**" in text
        assert "<b>*x*</b>" in page.inner_text("article h1")
        assert "<b>*x*</b>" in page.inner_text("#jb-print-docs-body h1")  # the theme's print-only heading too


# --- determinism ---------------------------------------------------------------------------------------

def _notebook_outputs(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted((root / "chapters").rglob("*.ipynb")):
        nb = json.loads(p.read_text(encoding="utf-8"))
        out[p.relative_to(root).as_posix()] = json.dumps([c.get("outputs", []) for c in nb["cells"]], sort_keys=True)
    return out


def test_two_clean_builds_give_the_same_site_byte_for_byte(tiny_built, tmp_path, repo):
    """Issue 15.11: same inputs, same bytes: the whole published site, nothing ignored (notebooks have fixed
    cell ids, the search index is made afresh, timings go to _build/reviewers/, not the site)."""
    other = make_project(tmp_path / "elsewhere" / "book", repo, n_areas=2)
    run_cli("build", "-q", root=other, check=True)
    a, b = site_files(tiny_built), site_files(other)
    assert a.keys() == b.keys()
    differ = sorted(k for k in a if a[k] != b[k])
    assert differ == []
    assert _notebook_outputs(tiny_built) == _notebook_outputs(other)
    assert (other / "_build" / "reviewers" / "timings.csv").exists()
    nb = json.loads((other / "chapters" / "districts" / f"{area_id(1)}.ipynb").read_text(encoding="utf-8"))
    assert "papermill" not in nb["metadata"]
    assert all("execution" not in c["metadata"] and "papermill" not in c["metadata"] for c in nb["cells"])
    assert [c["id"] for c in nb["cells"]] == [f"cell-{i}" for i in range(len(nb["cells"]))]


# --- incremental rebuilds --------------------------------------------------------------------------------

def test_no_change_rebuild_runs_nothing(tiny_built, tmp_path):
    from .conftest import copy_project

    root = copy_project(tiny_built, tmp_path / "copy")
    proc = run_cli("build", "-q", root=root, check=True)
    assert "notebooks: 0 ran" in proc.stdout
    assert "nothing changed" in proc.stdout


def test_one_value_change_reruns_only_what_reads_it_and_leaves_nothing_stale(tmp_path, repo):
    # whole-book pages that show counts of figures, not their values
    counting = ("methods", "data-dictionary", "audit")
    root = make_project(tmp_path / "book", repo, n_areas=3, chapters=counting)
    run_cli("build", "-q", root=root, check=True)
    nbs = {p.name: p.stat().st_mtime_ns for p in (root / "chapters" / "districts").glob("*.ipynb")}
    set_cell(root, "data/2024-25/figures.csv", f"eoy-{area_id(2)}-people-supported", "value", "98765")
    proc = run_cli("build", "-q", root=root, check=True)
    after = {p.name: p.stat().st_mtime_ns for p in (root / "chapters" / "districts").glob("*.ipynb")}
    assert after[f"{area_id(2)}.ipynb"] != nbs[f"{area_id(2)}.ipynb"]
    for other in (1, 3):
        assert after[f"{area_id(other)}.ipynb"] == nbs[f"{area_id(other)}.ipynb"], "an unaffected partnership was re-run"
    assert "over 98,765" in page_text(root, f"chapters/districts/{area_id(2)}.html")
    # the locality summary adds up its partnerships' counts, so it shows the new figure too
    assert "98,765" in page_text(root, "chapters/localities/loc_0.html")
    ran = set(re.search(r"^ran: (.*)$", proc.stdout, re.M).group(1).split(", "))
    assert {f"chapters/districts/{area_id(2)}", "chapters/localities/loc_0"} <= ran
    assert not any(f"districts/{area_id(i)}" in r for r in ran for i in (1, 3))
    # pages that read only counts of figures (Data.profile, Data.count) are not re-run by a changed value
    assert not ran & {f"chapters/{c}" for c in counting}, ran


FREE_TEXT = {"name", "title", "publisher", "licence_note", "label", "description", "section", "value_words", "period",
             "baseline_period", "statement", "note", "footprint", "partners", "summary", "role", "holder", "organisation",
             "says", "other_says", "ambiguity", "advice", "term", "verb"}


def _payload(tag_: str, text: str) -> str:
    """`text` behind an HTML payload that, if it ever ran, would name where it was put; then an entity that
    must show as written (escaped once, neither decoded nor escaped twice) and a Markdown link that must not
    become one."""
    return (f"<img src=x onerror=\"window.__pwned='{tag_}'\"><script>window.__pwned='{tag_}'</script> &amp; "
            f"[{tag_}](javascript:window.__pwned='{tag_}') {text}")


def _shown(tag_: str, text: str) -> bool:
    """Whether a page's text shows the payload `tag_` as the characters it holds (prose may curl a quote)."""
    return re.search(rf"window\.__pwned=\W{re.escape(tag_)}\W</script> &amp; \[{re.escape(tag_)}\]\(javascript:", text) is not None


def _poison_csv(path: Path, table: str, columns: list[str]) -> list[str]:
    """Poison the first filled cell of each of `columns` in the CSV at `path`; the `table.column` tags poisoned."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    poisoned = []
    for col in [c for c in columns if rows and c in rows[0]]:
        row = next((r for r in rows if r[col].strip()), None)
        if row is not None:
            row[col] = _payload(f"{table}.{col}", row[col])
            poisoned.append(f"{table}.{col}")
    if poisoned:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return poisoned


def _poison_every_free_text_column(root: Path) -> list[str]:
    """Prefix the first filled cell of every free-text column of every table with an HTML payload naming its
    table and column: the FREE_TEXT columns of the project's tables; every text column of the official
    reference tables that no pattern or list constrains, and every text field of their records
    (`<name>.meta.json`), whose hashes are then re-recorded as an author who updated them would."""
    descriptor = json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8"))
    poisoned = []
    for res in descriptor["resources"]:
        path = root / "data" / res["path"]
        if not path.exists():
            continue
        fields = res["schema"]["fields"]
        if res["path"].startswith("reference/"):
            columns = [f["name"] for f in fields if f.get("type", "string") == "string"
                       and not {"pattern", "enum"} & set(f.get("constraints", {}))]
        else:
            columns = [f["name"] for f in fields if f["name"] in FREE_TEXT]
        poisoned += _poison_csv(path, res["name"], columns)
    records = sorted((root / "data" / "reference").glob("*.meta.json"))
    for meta_path in records:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        name = meta_path.name.removesuffix(".json")
        for key, value in meta.items():
            if key not in ("file", "sha256") and isinstance(value, str) and value.strip():
                meta[key] = _payload(f"{name}.{key}", value)
                poisoned.append(f"{name}.{key}")
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    run_cli("reference-accept", *(p.name.removesuffix(".meta.json") for p in records), root=root, check=True)
    return poisoned


def test_hostile_text_in_every_free_text_column_never_runs_on_any_page(tmp_path, repo):
    """Issue 15: every free-text column of every table the book shows, in a real browser, on every page,
    the official reference tables and their records included (as an author who updated them would bring)."""
    from .browser import browser, charts_drawn, new_context, serve

    # methods lists every reference record (and links to the other two)
    root = make_project(tmp_path / "book", repo, n_areas=2, chapters=("methods", "data-dictionary", "audit"))
    poisoned = _poison_every_free_text_column(root)
    assert len(poisoned) >= 20, poisoned
    proc = run_cli("build", "-q", root=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    site = root / "_build" / "html"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "_static" not in p.parts and p != site / "index.html")  # the root only redirects
    ran, shown, tipped = {}, set(), set()
    with serve(site) as base, browser() as b:
        ctx = new_context(b, base)
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for rel in pages:
            page.goto(f"{base}/{rel}", wait_until="load")
            text = page.evaluate("""() => { const b = document.body.cloneNode(true);
                b.querySelectorAll('script, style').forEach(e => e.remove()); return b.textContent; }""")
            shown |= {t for t in poisoned if _shown(t, text)}
            # every mark of every chart hovered: its tooltip shows the values it plots
            charts_drawn(page)  # charts are drawn as they come into view: ask for all of them
            marks = page.locator("div.lx-vega svg [role='graphics-symbol']")
            sized = marks.evaluate_all("ms => ms.map((m, i) => [i, m.getBoundingClientRect()])"
                                       ".filter(([, r]) => r.width > 0 && r.height > 0).map(([i]) => i)")
            for i in sized:  # a bar of length 0 cannot be pointed at
                marks.nth(i).hover(force=True)
                tip = page.locator("#vg-tooltip-element")
                if tip.count():
                    tipped |= {t for t in poisoned if _shown(t, tip.inner_text())}
            # nothing ran, and nothing that could run later (an injected image or a javascript: link) is there
            if page.evaluate("window.__pwned") is not None or page.locator("img[src='x'], a[href^='javascript']").count():
                ran[rel] = page.evaluate("window.__pwned")
    assert ran == {} and dialogs == []
    # the payloads reached the pages and are shown there as text (others feed only downloads or ids)
    core = {"initiatives-2024-25.name", "initiatives-2024-25.summary", "learning-points-2024-25.title",
            "figures-2024-25.statement", "themes.label"}
    assert core <= shown, sorted(shown)
    # a district page's health profile shows each indicator's name, period and (lacking a short label) unit, and
    # every page that cites a reference table, and the methods page's list of sources, show its record
    reference = {"reference-fingertips.label", "reference-fingertips.period", "reference-fingertips.unit"}
    reference |= {f"{name}.meta.{key}" for name in ("population", "imd2025", "imd2019", "fingertips")
                  for key in ("title", "publisher", "licence", "period")}
    assert reference <= shown, sorted(reference - shown)
    assert "themes.label" in tipped, sorted(tipped)  # the district page's chart of themes, hovered
