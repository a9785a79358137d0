"""Judgements the source supports: check that every claim in the book's prose rests on evidence that can bear it.

Authors record, beside the prose, what each sentence that says something happened, changed or was achieved
rests on, in `data/claim_evidence.csv` (one row per piece of evidence; see data/README.md):

    id,page,claim,verb,evidence,kind,note
    ce-001,chapters/priorities/dolphinlee.md,Stays in the unit got shorter,reduced,eoy-dolphinlee-los,figure,

`check_claim_evidence` returns one problem per row that is wrong:
- the page file does not exist;
- the evidence does not exist (a ledger id, initiative id or learning point id, by `kind`; a source section
  `source-id > heading` whose heading must appear in the source text);
- a result verb ("reduced", "improved", "achieved"...) whose claim rests on no ledger row at outcome or impact
  level: a count of activity or output, an initiative description, context or one person's account cannot
  show that something was achieved;
- a change verb ("rose", "fell", "doubled"...) whose claim rests on no ledger row that records a change (a
  change measure or a figure with a baseline) above activity level;
- a delivery verb ("delivered", "trained", "set up"...) resting only on context or testimony.
Aim words ("aims", "plans", "expects") need evidence to exist but make no claim of a result.
The same rules apply to `lesson_evidence.csv` links (they are checked for existence only).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lancs_evidence.data.vocab import NOT_WORK_LEVELS, RESULT_LEVELS

RESULT_VERBS = frozenset("""achieved reduced improved prevented saved avoided met exceeded strengthened transformed helped improving
reducing succeeded benefited""".split())
CHANGE_VERBS = frozenset("increased decreased cut fell rose lowered doubled halved shortened grew dropped declined boosted".split())
DELIVERY_VERBS = frozenset("""delivered trained supported reached completed held launched ran established funded set_up opened
registered allocated secured provided created recruited appointed engaged referred assessed mobilised""".split())
AIM_VERBS = frozenset("aims plans seeks intends expects hopes proposes commits aspires targets".split())
KINDS = ("figure", "initiative", "learning_point", "section")


@dataclass(frozen=True)
class EvidenceProblem:
    row: int  # line in the CSV (header is line 1)
    column: str
    message: str

    def __str__(self) -> str:
        return f"data/claim_evidence.csv:{self.row}: {self.column}: {self.message}"


def verb_class(verb: str) -> str:
    v = str(verb).strip().lower().replace(" ", "_")
    if v in RESULT_VERBS:
        return "result"
    if v in CHANGE_VERBS:
        return "change"
    if v in AIM_VERBS:
        return "aim"
    return "delivery"  # anything else says something happened: it needs evidence that exists


def _section_found(section: str, source_text: str | None) -> bool:
    """The innermost heading of `source-id > ... > heading` appears in the source text (case and spacing ignored)."""
    if source_text is None:
        return True  # the source file is not available here: existence of the source id is all we can check
    heading = section.split(">")[-1].strip().lower()
    return " ".join(heading.split()) in " ".join(source_text.lower().split())


def check_claim_evidence(links: pd.DataFrame, figures: pd.DataFrame, initiatives: pd.DataFrame,
                         learning_points: pd.DataFrame, sources: pd.DataFrame, root: Path,
                         source_texts: dict[str, str] | None = None) -> list[EvidenceProblem]:
    """Problems with the evidence recorded for prose claims (empty list when every claim is supported).

    `figures` needs id and evidence_level; `sources` is indexed by source id; `source_texts` maps a
    source id to its text (missing ids are checked for existence only)."""
    problems: list[EvidenceProblem] = []
    levels = dict(zip(figures["id"], figures["evidence_level"])) if not figures.empty else {}
    is_change = {}
    if not figures.empty:
        kinds = figures["kind"] if "kind" in figures else pd.Series("level", index=figures.index)
        base = figures["baseline"] if "baseline" in figures else pd.Series(float("nan"), index=figures.index)
        is_change = dict(zip(figures["id"], (kinds == "change") | pd.to_numeric(base, errors="coerce").notna()))
    ini_ids = set(initiatives["id"]) if not initiatives.empty else set()
    lp_ids = set(learning_points["id"]) if not learning_points.empty else set()
    source_texts = source_texts or {}
    claim_levels: dict[tuple[str, str], set[str]] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, r in enumerate(links.to_dict("records"), start=2):
        page, kind, ev = str(r.get("page", "")).strip(), str(r.get("kind", "")).strip(), str(r.get("evidence", "")).strip()
        key = (page, str(r.get("claim", "")).strip())
        first_line.setdefault(key, line)
        claim_levels.setdefault(key, set())
        if not (root / page).is_file():
            problems.append(EvidenceProblem(line, "page", f"no page {page!r} in the book"))
        if kind not in KINDS:
            problems.append(EvidenceProblem(line, "kind", f"{kind!r} is not one of {', '.join(KINDS)}"))
            continue
        if kind == "figure":
            if ev not in levels:
                problems.append(EvidenceProblem(line, "evidence", f"no ledger row {ev!r}"))
                continue
            claim_levels[key].add(levels[ev])
            if is_change.get(ev) and levels[ev] not in ("activity", *NOT_WORK_LEVELS):
                claim_levels[key].add("measured change")
        elif kind == "initiative" and ev not in ini_ids:
            problems.append(EvidenceProblem(line, "evidence", f"no initiative {ev!r}"))
        elif kind == "learning_point" and ev not in lp_ids:
            problems.append(EvidenceProblem(line, "evidence", f"no learning point {ev!r}"))
        elif kind == "section":
            source_id = ev.split(">")[0].strip()
            if source_id not in sources.index:
                problems.append(EvidenceProblem(line, "evidence", f"no source {source_id!r} (write 'source-id > section heading')"))
            elif ">" not in ev or not _section_found(ev, source_texts.get(source_id)):
                problems.append(EvidenceProblem(line, "evidence", f"section heading of {ev!r} not found in the source text"))
        if kind != "figure":
            claim_levels[key].add(kind)
    # the verb must be supported by the claim's evidence taken together
    verbs: dict[tuple[str, str], str] = {}
    for r in links.to_dict("records"):
        verbs.setdefault((str(r.get("page", "")).strip(), str(r.get("claim", "")).strip()), str(r.get("verb", "")))
    for key, found in claim_levels.items():
        cls = verb_class(verbs[key])
        line = first_line[key]
        if cls == "result" and not (found & RESULT_LEVELS):
            problems.append(EvidenceProblem(line, "verb", f"{verbs[key]!r} says something changed, but {key[1]!r} rests on no "
                                            f"ledger row at outcome or impact level (found: {', '.join(sorted(found)) or 'nothing'})"))
        elif cls == "change" and "measured change" not in found:
            problems.append(EvidenceProblem(line, "verb", f"{verbs[key]!r} says something changed, but {key[1]!r} rests on no "
                                            "ledger row recording a change (a change measure or a baseline) above activity level"))
        elif cls == "delivery" and found and found <= NOT_WORK_LEVELS:
            problems.append(EvidenceProblem(line, "verb", f"{verbs[key]!r} says the work did something, but {key[1]!r} rests only "
                                            "on context or one person's account"))
    return problems


def load_and_check(project) -> list[EvidenceProblem]:
    """Check the project's data/claim_evidence.csv against its ledger and sources."""
    from lancs_evidence.data.ledger import Data, read_table

    data = Data.load(project)
    path = project.data / "claim_evidence.csv"
    if not path.exists():
        return []
    links = read_table(path)
    texts = {}
    for s in data.sources.to_dict("records"):
        f = project.root.parent / "shared" / "sources" / s.get("file", "")
        if s.get("file") and f.is_file():
            texts[s["id"]] = f.read_text(encoding="utf-8")
    return check_claim_evidence(links, data.figures, data.initiatives, data.learning_points, data.sources, project.root, texts)
