"""The real data: valid, complete, traceable, in our own words; and no figure typed into prose."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lancs_evidence.data.ledger import read_table
from lancs_evidence.data.project import Project
from lancs_evidence.data.reference import check_metadata, sha256
from lancs_evidence.data.validate import validate

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = REPO / "data"


@pytest.fixture(scope="module")
def ledger() -> pd.DataFrame:
    frames = [read_table(p).assign(file=str(p.relative_to(REPO))) for p in sorted(DATA.glob("*/figures.csv"))]
    return pd.concat(frames, ignore_index=True)


def test_real_data_is_valid():
    assert [str(p) for p in validate(DATA)] == []


def test_reference_metadata_is_complete_and_hashes_match():
    assert check_metadata(Project(REPO)) == []
    metas = list((DATA / "reference").glob("*.meta.json"))
    assert len(metas) >= 5  # population, IoD 2025 and 2019, Fingertips, boundaries
    for m in metas:
        meta = json.loads(m.read_text(encoding="utf-8"))
        assert sha256(DATA / "reference" / meta["file"]) == meta["sha256"]


def test_metadata_check_notices_an_edited_file(tmp_path):
    import shutil

    shutil.copytree(DATA, tmp_path / "data")
    (tmp_path / "_config.yml").write_text("")
    pop = tmp_path / "data" / "reference" / "population.csv"
    pop.write_text(pop.read_text().replace("89344", "89345"))
    problems = check_metadata(Project(tmp_path))
    assert any("population.meta.json" in p and "sha256" in p for p in problems)


def test_ledger_covers_all_five_sources_and_every_partnership(ledger):
    sources = set(read_table(DATA / "sources.csv")["id"])
    assert sources <= set(ledger["source"])
    areas = read_table(DATA / "areas.csv")
    partnerships = set(areas[areas["kind"] == "partnership"]["id"])
    review = ledger[ledger["source"] == "eoy-review-2024-25"]
    assert partnerships <= set(review["area"])
    lga_councils = {"basildon", "birmingham", "bristol", "camden_islington", "leeds", "sandwell", "st_albans", "surrey", "tameside_glossop"}
    assert lga_councils <= set(ledger[ledger["source"] == "lga-mental-health-councils"]["area"])
    assert len(ledger) >= 300


def test_review_sections_are_all_represented(ledger):
    sections = ledger[ledger["source"] == "eoy-review-2024-25"]["section"]
    for heading in ("Introduction", "2. Lancashire Place", "3.a Delivery in North Lancashire", "3.b Delivery in Central and West Lancashire",
                    "3.c Delivery in East Lancashire", "Enhanced Care in the Community", "Integrated Working in Neighbourhoods",
                    "Creating Healthy Communities", "Urgent and Emergency Care", "Respiratory", "Frailty", "Dolphinlee"):
        assert sections.str.contains(heading, regex=False).any(), heading


def _source_text(source_id: str) -> str:
    files = read_table(DATA / "sources.csv").set_index("id")["file"]
    return (SHARED / "sources" / files[source_id]).read_text(encoding="utf-8")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", "and"))


@pytest.mark.skipif(not (SHARED / "sources").exists(), reason="needs ../shared/sources beside the project")
def test_every_row_can_be_found_from_its_source_and_section(ledger):
    """The innermost heading of each section path appears in the source document."""
    texts = {s: _norm(_source_text(s)) for s in ledger["source"].unique()}
    missing = []
    for r in ledger.itertuples():
        inner = r.section.split(" > ")[-1]
        if _norm(inner).strip() not in texts[r.source]:
            missing.append(f"{r.id}: {inner!r}")
    assert missing == []


def test_no_statement_recorded_twice_and_measures_have_one_unit(ledger):
    key = ["source", "section", "area", "measure", "value", "period", "statement"]
    dupes = ledger[ledger.duplicated(key, keep=False)]
    assert dupes.empty, dupes[["id"] + key].to_string()
    measures = read_table(DATA / "measures.csv").set_index("id")
    assert (ledger["unit"] == ledger["measure"].map(measures["unit"])).all()
    assert ledger.groupby("measure")["unit"].nunique().max() == 1


def test_values_respect_their_units(ledger):
    measures = read_table(DATA / "measures.csv").set_index("id")
    v = pd.to_numeric(ledger["value"])
    words = ledger["value_words"]
    # no number only where the source gives only words; a number and words only when the words write that number ('1/3')
    assert (v.isna() == (words.ne("") & ~words.str.contains(r"\d"))).all()
    kind = ledger["measure"].map(measures["kind"])
    pct = (ledger["unit"] == "percent") & (kind == "level")
    assert v[pct].between(0, 100).all()
    counts = (ledger["unit"] == "count") & (kind != "change")
    assert (v[counts].dropna() >= 0).all()
    assert not ledger["value"].str.contains(r"[%£,a-zA-Z]").any()  # qualifiers and symbols never in the value


def test_statements_carry_no_numbers_and_every_key_resolves(ledger):
    assert not ledger["statement"].str.contains(r"\d{2,}").any(), ledger[ledger["statement"].str.contains(r"\d{2,}")][["id", "statement"]]
    relations = read_table(DATA / "relations.csv")
    ids = set(ledger["id"])
    for r in relations.itertuples():
        assert not r.figure or r.figure in ids, (r.id, r.figure)  # checks of text alone name no figure
        for i in filter(None, (x.strip() for x in r.inputs.split(";"))):
            assert i in ids, (r.id, i)


def test_qualitative_tables_exist_and_use_known_themes():
    themes = set(read_table(DATA / "themes.csv")["id"])
    for name in ("initiatives.csv", "learning_points.csv", "event_contributions.csv"):
        files = list(DATA.glob(f"*/{name}"))
        assert files, name
        for f in files:
            df = read_table(f)
            assert len(df) > 0
            used = {t for cell in df["themes"] for t in cell.split(";")}
            assert used <= themes, (f, used - themes)
    events = read_table(DATA / "case-studies" / "event_contributions.csv")
    assert set(events["question"]) == {"local_issues", "what_works", "barriers", "opportunities"}
    lessons = read_table(DATA / "2024-25" / "learning_points.csv")
    assert (lessons["kind"] == "lesson").sum() >= 9


@pytest.mark.skipif(not (SHARED / "tools" / "copycheck.py").exists(), reason="needs ../shared/tools")
def test_no_copied_passages():
    proc = subprocess.run([sys.executable, str(SHARED / "tools" / "copycheck.py")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


# --- no figure typed into prose -----------------------------------------------------------------------

ALLOWED = re.compile(
    r"\{glue(?::[a-z]+)?\}`[^`]*`"   # glued values
    r"|`[^`]*`"                       # inline code
    r"|\b(?:NMC2R|2HUCR|[A-Z]+[0-9]+[A-Z0-9]*)\b"  # acronyms that contain digits
    r"|\bIoD \d{4}\b|\bWCAG \d\.\d\b|\bCensus \d{4}\b|\bmid-\d{4}\b"  # names of datasets and standards
)


def prose_numbers(md_text: str) -> list[str]:
    """Digits in the Markdown prose of a MyST notebook (code cells, front matter and roles excluded)."""
    text = re.sub(r"\A---\n.*?\n---\n", "", md_text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"^\s*\(.*\)=\s*$", "", text, flags=re.M)  # targets
    text = re.sub(r"^\s*\d+\.\s", "", text, flags=re.M)  # ordered-list markers
    text = ALLOWED.sub("", text)
    return re.findall(r"[^\n]{0,30}\d[^\n]{0,30}", text)


def test_prose_check_catches_a_typed_figure():
    assert prose_numbers("Some text with 1,234 people.\n")
    assert not prose_numbers("Some text with {glue:text}`people` people and `code 12`.\n```{code-cell}\nx = 5\n```\n")
    assert not prose_numbers("1. First step\n2. Second step\n")
    assert prose_numbers("1. Reached 40 people\n")


def test_no_figure_is_typed_into_the_prose_of_the_book():
    offenders = {}
    for path in [*sorted((REPO / "chapters").rglob("*.md")), *sorted((REPO / "templates").glob("*.md"))]:
        found = prose_numbers(path.read_text(encoding="utf-8"))
        if found:
            offenders[str(path.relative_to(REPO))] = found
    assert offenders == {}


def test_a_note_is_shown_as_a_sentence():
    from lancs_evidence.data.ledger import full_stop

    assert full_stop("target described as the optimal stay") == "target described as the optimal stay."
    assert full_stop("likely Q1 as baseline)") == "likely Q1 as baseline)."
    assert full_stop("Already ends.") == "Already ends."
    assert full_stop("Is it? ") == "Is it?"
    assert full_stop("(one family event.)") == "(one family event.)"
    assert full_stop("") == "" and full_stop(None) == "" and full_stop(float("nan")) == ""


def test_every_ledger_note_reads_as_a_sentence():
    from lancs_evidence.data.ledger import Data

    notes = Data(REPO, "2024-25").figures["note"]
    assert notes.ne("").sum() > 50
    assert notes[notes.ne("")].str.endswith((".", "?", "!", '."', ".'", ".)", "?)", "!)")).all()
