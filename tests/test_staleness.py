"""Property: after any single change to a small book, an incremental build publishes exactly the site a
clean build of the changed book publishes (byte for byte; no field is declared volatile, so none is ignored).

Each example copies the session's built book, makes one random change of one kind (a ledger cell, a
vocabulary entry, a reference table, its metadata, a relation, an area's name, a template line), rebuilds
it incrementally, builds a clean copy of it elsewhere and compares the two sites. Examples are few (each
costs a clean build); set LX_STALENESS_EXAMPLES for a longer search. A change to a `src/` function is
checked without building (the package is shared by every test) in test_incremental.py.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lancs_evidence.data.reference import sha256

from .conftest import copy_project, run_cli
from .test_reliability import site_files

pytestmark = pytest.mark.slow

KINDS = ["ledger_value", "ledger_statement", "vocabulary", "reference_table", "reference_meta", "relation",
         "area_name", "template_line"]


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _set(path: Path, pick: int, column: str, value: str, where=lambda r: True) -> None:
    rows = _rows(path)
    col = rows[0].index(column)
    candidates = [r for r in rows[1:] if where(dict(zip(rows[0], r)))]
    candidates[pick % len(candidates)][col] = value
    _write(path, rows)


def apply_change(root: Path, kind: str, pick: int, word: str, number: int) -> None:
    data = root / "data"
    if kind == "ledger_value":
        _set(data / "2024-25" / "figures.csv", pick, "value", str(number), where=lambda r: r["unit"] == "count")
    elif kind == "ledger_statement":
        _set(data / "2024-25" / "figures.csv", pick, "statement", f"Residents {word} helped")
    elif kind == "vocabulary":
        name, column = [("themes.csv", "label"), ("measures.csv", "label"), ("units.csv", "label")][pick % 3]
        _set(data / name, pick // 3, column, f"Label {word}")
    elif kind == "reference_table":
        table = data / "reference" / "population.csv"
        _set(table, pick, "population_mid2020", str(10000 + number))
        meta_path = data / "reference" / "population.meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["sha256"] = sha256(table)
        meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    elif kind == "reference_meta":
        meta_path = data / "reference" / ["population", "imd2025", "fingertips"][pick % 3]
        meta_path = meta_path.with_suffix(".meta.json")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["publisher"] = f"Publisher {word}"  # issue 19.1: district pages kept the old source line
        meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    elif kind == "relation":
        _set(data / "relations.csv", pick, "note", f"note {word}")
    elif kind == "area_name":
        _set(data / "areas.csv", pick, "name", f"Area {word}", where=lambda r: r["kind"] in ("partnership", "locality"))
    elif kind == "template_line":
        tpl = root / "templates" / ["district.md", "locality.md"][pick % 2]
        text = tpl.read_text(encoding="utf-8")
        heading = next(line for line in text.splitlines() if line.startswith("## "))
        tpl.write_text(text.replace(heading, f"{heading} ({word})", 1), encoding="utf-8")
    else:
        raise AssertionError(kind)


def clean_copy(src: Path, dest: Path) -> Path:
    """The book's sources only: no _build, no executed notebooks, no cache."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("_build", "*.ipynb"))
    return dest


@settings(max_examples=int(os.environ.get("LX_STALENESS_EXAMPLES", "3")), deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), pick=st.integers(0, 1000),
       word=st.text(alphabet=string.ascii_letters, min_size=3, max_size=8), number=st.integers(1, 99999))
def test_incremental_build_publishes_what_a_clean_build_would(tiny_built, tmp_path_factory, kind, pick, word, number):
    work = tmp_path_factory.mktemp("stale")
    inc = copy_project(tiny_built, work / "incremental")
    apply_change(inc, kind, pick, word, number)
    proc = run_cli("build", "-q", root=inc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    clean = clean_copy(inc, work / "clean")
    run_cli("build", "-q", root=clean, check=True)
    a, b = site_files(inc), site_files(clean)
    assert sorted(a) == sorted(b)
    stale = sorted(k for k in a if a[k] != b[k])
    assert stale == [], f"after a {kind} change, the incremental build left these pages stale: {stale}"
