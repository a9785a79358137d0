"""Damage every table in data/, one kind of damage at a time, and check that `validate` names the file,
row and column and exits 1 without a traceback. The tables and their columns are read from the
project's own datapackage.json, so a table added later is fuzzed too.

Each kind of damage is applied to every table at once (each table's problem is reported against its
own file), which keeps this to one validation per kind."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lancs_evidence import cli
from lancs_evidence.data.synthetic import make_project
from lancs_evidence.data.validate import validate

from .conftest import run_cli

DAMAGES = ["drop_column", "blank_required", "bad_enum", "bad_number", "non_finite", "duplicate_key", "dangling_reference"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, repo) -> Path:
    return make_project(tmp_path_factory.mktemp("fuzz") / "book", repo, n_areas=2)


@pytest.fixture
def project(pristine, tmp_path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(pristine, root)
    return root


def read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def write(path: Path, records: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    path.write_text(out.getvalue(), encoding="utf-8")


def damage_table(data: Path, res: dict, kind: str) -> tuple[int, str, str] | None:
    """Damage one table; return (row, column, words the message must contain), or None when this kind
    of damage does not apply to the table (e.g. no enum column)."""
    path = data / res["path"]
    recs = read(path)
    header = recs[0]
    fields = res["schema"]["fields"]
    pk = res["schema"].get("primaryKey") or []
    pk = [pk] if isinstance(pk, str) else pk
    required = [f["name"] for f in fields if (f.get("constraints") or {}).get("required")]
    if len(recs) < 2 and kind != "drop_column":  # a table with no rows yet has no cell to damage
        return None
    if kind == "drop_column":
        col = required[-1]
        j = header.index(col)
        write(path, [[c for i, c in enumerate(r) if i != j] for r in recs])
        return 1, col, "column is missing"
    if kind == "blank_required":
        col = next((c for c in reversed(required) if c not in pk), required[-1])
        recs[1][header.index(col)] = ""
        write(path, recs)
        return 2, col, "required"
    if kind == "bad_enum":
        col = next((f["name"] for f in fields if (f.get("constraints") or {}).get("enum")), None)
        if col is None:
            return None
        recs[1][header.index(col)] = "zz_not_in_the_list"
        write(path, recs)
        return 2, col, "not allowed"
    if kind in ("bad_number", "non_finite"):
        col = next((f["name"] for f in fields if f.get("type") in ("number", "integer")), None)
        if col is None:
            return None
        recs[1][header.index(col)] = "lots" if kind == "bad_number" else "1e400"
        write(path, recs)
        return 2, col, "not a valid" if kind == "bad_number" else ""
    if kind == "duplicate_key":
        if not pk:
            return None
        recs.append(list(recs[1]))
        write(path, recs)
        return len(recs), ",".join(pk), "duplicate"
    if kind == "dangling_reference":
        fks = res["schema"].get("foreignKeys") or []
        if fks:
            col = fks[0]["fields"] if isinstance(fks[0]["fields"], str) else fks[0]["fields"][0]
        else:  # references the descriptor cannot state, checked by validate's own rules
            col = {"relations": "figure", "lesson-evidence": "evidence"}.get(res["name"].rsplit("-20", 1)[0])
            col = col or ("initiative" if res["name"].startswith("figures") else None)
            if col is None:
                return None
        recs[1][header.index(col)] = "zz-nowhere-zz"
        write(path, recs)
        return 2, col, "unknown"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", DAMAGES)
def test_every_table_damaged_is_reported_by_file_row_and_column(project, capsys, kind):
    data = project / "data"
    descriptor = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    expected = {}
    for res in descriptor["resources"]:
        if (data / res["path"]).exists():
            got = damage_table(data, res, kind)
            if got:
                expected[res["path"]] = got
    assert len(expected) >= 5  # the damage reached several tables
    code = cli.main(["--root", str(project), "validate"])
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert code == 1
    assert "Traceback" not in out.out + out.err
    missing = []
    for rel, (row, column, words) in expected.items():
        prefix = f"data/{rel}:{row}: {column + ': ' if column else ''}"
        if not any(prefix in line and words in line for line in lines):
            missing.append(f"{prefix}... {words}")
    assert not missing, "not reported:\n" + "\n".join(missing) + "\n--- output:\n" + out.out


HOSTILE = ["", " ", "nan", "inf", "-inf", "1e400", "-1", "0", "#REF!", "=1+1", "zz-nowhere", ";", "a;b;;", "\u202e", "<!--<script>",
           "true", "2025-04-01 00:00:00", "9" * 40, "place", "E07000121"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_cell_of_any_table_damaged_gives_problems_never_an_exception(project, data):
    """Hypothesis picks a table, a cell and a hostile value: validation reports problems in the
    FILE:ROW: COLUMN form or accepts the table, and never raises."""
    folder = project / "data"
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    with_rows = [r for r in descriptor["resources"] if (folder / r["path"]).exists()
                 and len(read(folder / r["path"])) > 1]  # a cell to damage
    res = data.draw(st.sampled_from(with_rows))
    path = folder / res["path"]
    original = path.read_bytes()
    try:
        recs = read(path)
        row = data.draw(st.integers(1, len(recs) - 1))
        col = data.draw(st.integers(0, len(recs[0]) - 1))
        recs[row][col] = data.draw(st.sampled_from(HOSTILE) | st.text(max_size=8))
        write(path, recs)
        for p in validate(folder):
            assert p.file and p.message
            assert p.row >= 0
    finally:
        path.write_bytes(original)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["own_parent", "cycle", "missing_reference_row", "empty_rank", "nan_value"])
def test_what_validate_refuses_never_reaches_a_notebook(project, damage):
    """The issue's examples: each used to pass validate and then fail (or hang) inside a notebook. Now
    `build` stops at validation, names the row, runs no notebook and publishes nothing."""
    data = project / "data"
    if damage in ("own_parent", "cycle"):
        recs = read(data / "areas.csv")
        h = recs[0]
        by_id = {r[0]: r for r in recs[1:]}
        if damage == "own_parent":
            by_id["testarea_001"][h.index("parent")] = "testarea_001"
        else:
            by_id["loc_0"][h.index("parent")] = "testarea_002"
        write(data / "areas.csv", recs)
        expect = "areas.csv:"
        words = "parent"
    elif damage == "missing_reference_row":
        recs = read(data / "reference" / "imd2025.csv")
        write(data / "reference" / "imd2025.csv", recs[:2])  # the second council's row is gone
        expect, words = "areas.csv:", "has no row in"
    elif damage == "empty_rank":
        recs = read(data / "reference" / "imd2019.csv")
        recs[1][recs[0].index("imd_rank_of_average_score")] = ""
        write(data / "reference" / "imd2019.csv", recs)
        expect, words = "reference/imd2019.csv:2: imd_rank_of_average_score", "required"
    else:
        recs = read(data / "2024-25" / "figures.csv")
        recs[1][recs[0].index("value")] = "nan"
        write(data / "2024-25" / "figures.csv", recs)
        expect, words = "2024-25/figures.csv:2: value", ""
    proc = run_cli("build", "-q", root=project)
    assert proc.returncode == 1
    assert any(expect in line and words in line for line in proc.stdout.splitlines()), proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not list((project / "chapters").rglob("*.ipynb"))  # no notebook ran
    assert not (project / "_build" / "html").exists()
