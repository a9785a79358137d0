"""`lancs-evidence pdf`: the book as one PDF for a UK reader: A4, the title and "Page n of N" on every page,
a contents list whose page numbers lead to the chapters, and its text, figures and drawn charts."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap

import pytest
import yaml

from lancs_evidence.data.synthetic import area_name, expected
from lancs_evidence.pages.charts import TITLE_WRAP_CHARS
from lancs_evidence.pages.view import RESULTS_AXIS

from .conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_pdf_holds_text_figures_and_drawn_charts(tiny, tmp_path):
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "make test installs poppler-utils"
    proc = run_cli("pdf", "-o", tmp_path / "book.pdf", root=tiny)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pdf = tmp_path / "book.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert area_name(1) in text and area_name(2) in text
    assert f"over {expected(1)['people_supported']:,}" in text  # a glued figure with its qualifier
    # axis titles exist only inside the drawn SVG charts, so finding them proves the charts rendered;
    # a long title is drawn wrapped onto lines of TITLE_WRAP_CHARS, so each wrapped line is looked for
    axis_lines = textwrap.wrap(RESULTS_AXIS, TITLE_WRAP_CHARS)
    assert len(axis_lines) >= 1 and all(line in text for line in axis_lines), axis_lines
    assert text.count("Compared with England") >= 2
    # the health profile's six columns fit an A4 page, so it prints as a table: its header row is there
    # and no cell carries its column's name as a stacked "label: value" pair would
    assert "Compared with England:" not in text
    assert re.search(r"Indicator\s+(Period|Council)\s+Value", text), text[:2000]
    # A4, and every page carries the book's title and its page number
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    n_pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    pages = text.split("\f")[:n_pages]
    title = yaml.safe_load((tiny / "_config.yml").read_text(encoding="utf-8"))["title"]
    missing = [i for i, page in enumerate(pages, 1) if title not in page or f"Page {i} of {n_pages}" not in page]
    assert missing == []
    # the contents list gives, for each partnership, the page its chapter starts on
    contents = next(page for page in pages if re.search(r"^\s*Contents\s*$", page, re.M))
    for name in (area_name(1), area_name(2)):
        found = re.search(rf"^\s*{re.escape(name)}\s+(\d+)\s*$", contents, re.M)
        assert found, (name, contents)
        start = pages[int(found.group(1)) - 1]
        body = start.split("\n", 2)[-1]  # below the running title
        assert re.search(rf"^\s*{re.escape(name)}\s*$", body, re.M), (name, start[:400])
    # and the marks are there: render the pages and count pixels of the bar colour
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    from PIL import Image

    bar = (0x0B, 0x4F, 0x8A)
    pages_with_marks = 0
    for png in sorted(tmp_path.glob("page-*.png")):
        im = Image.open(png).convert("RGB")
        n = sum(1 for px in im.get_flattened_data() if all(abs(a - b) < 12 for a, b in zip(px, bar)))
        pages_with_marks += n > 150
    assert pages_with_marks >= 1
