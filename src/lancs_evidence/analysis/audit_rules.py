"""Rules behind the audit's newer kinds of check, and scanners that find candidates in the sources.

The audit's findings always come from data (`data/relations.csv`): each row names a rule and the
statements it compares. This module holds

* the rules that judge those rows (statuses that disagree, an abbreviation expanded two ways, a passage
  repeated under two areas, a figure whose footprint is wider than its heading, the plausibility checks
  across capacity, stay, throughput and occupancy, and a count against the share it is said to be), and
* scanners that read the source texts (or the ledger) and list candidates, so an author can see what a
  careful reader would find and record it as a row: `lancs-evidence audit --scan DIR`.

Nothing here knows about a particular source or figure.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

# --- statuses ---------------------------------------------------------------------------------------

STATUS_WORDS = {
    "planned": "planned or intended",
    "developing": "being developed",
    "established": "established or in place",
    "done": "completed or delivered",
    "partly_done": "done in some places but not others",
    "not_done": "not done",
}


def status_verdict(a: str, b: str) -> tuple[str, str]:
    """Two statements of where the same piece of work stands: (status, words)."""
    a, b = (a or "").strip(), (b or "").strip()
    unknown = [s for s in (a, b) if s not in STATUS_WORDS]
    if unknown:
        return "not_checked", f"unknown status {', '.join(repr(u) for u in unknown)} (known: {', '.join(STATUS_WORDS)})"
    if a == b:
        return "consistent", f"both passages say it is {STATUS_WORDS[a]}"
    return "contradicted", f"one passage says it is {STATUS_WORDS[a]}, the other that it is {STATUS_WORDS[b]}"


# --- abbreviations ----------------------------------------------------------------------------------

_SMALL = {"of", "to", "and", "for", "the", "in", "on", "at", "a", "an", "&", "with"}


def _norm_words(text: str) -> list[str]:
    text = (text or "").lower().replace("&", " and ").replace("-", " ")
    return re.findall(r"[a-z0-9]+", text)


def same_expansion(a: str, b: str) -> bool:
    """Two expansions are the same when their words are (case, punctuation, '&' and plurals aside)."""
    strip = lambda ws: [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in ws]  # noqa: E731
    return strip(_norm_words(a)) == strip(_norm_words(b))


def initials(expansion: str) -> str:
    return "".join(w[0] for w in _norm_words(expansion) if w not in _SMALL).upper()


def abbreviation_verdict(term: str, a: str, b: str) -> tuple[str, str]:
    a, b = (a or "").strip(), (b or "").strip()
    if not a and not b:
        return "not_checked", f"{term} is never spelled out, and the passages use it for different things"
    if not a or not b:
        return "not_checked", f"{term} is spelled out in one passage only ('{a or b}'), so the other use is ambiguous"
    if same_expansion(a, b):
        return "consistent", f"{term} is spelled out the same way ('{a}')"
    if is_slip(a, b):
        return "differs", (f"the same name is written '{a}' in one passage and '{b}' in the other, which looks like a typing "
                           "slip rather than two different things")
    if not is_abbreviation(term):  # a name or a word used two ways: it is not spelled out, and nothing says which is right
        return "contradicted", (f"{term} is '{a}' in one passage and '{b}' in the other: two different names or meanings "
                                "for one thing, so a reader cannot tell which the source intends")
    return "contradicted", (f"{term} is spelled out as '{a}' in one passage and '{b}' in the other: two different "
                            "phrases for one abbreviation, so at most one is the right name")


def is_abbreviation(term: str) -> bool:
    """Letters standing for words (NMC2R, CAMHS, ASC), not a name or a phrase (Foxton Centre, Rossendale)."""
    t = (term or "").strip()
    return bool(re.fullmatch(r"[A-Z][A-Za-z0-9&]{1,9}", t)) and sum(c.isupper() for c in t) >= 2


def is_slip(a: str, b: str) -> bool:
    """Two spellings of one name: the same letters in another order, or nearly the same characters."""
    x, y = a.lower().strip(), b.lower().strip()
    if sorted(x) == sorted(y):
        return True
    if abs(len(x) - len(y)) <= 1 and difflib.SequenceMatcher(None, x, y).ratio() >= 0.9:
        return True
    return _garbled_copy(_norm_words(a), _norm_words(b))


def _garbled_copy(x: list[str], y: list[str]) -> bool:
    """One word left out and another misspelt ('Adult Mental Health Professionals' / 'Adult Mental Professions'):
    a copy gone wrong. A word left out cleanly ('Living Well' / 'Living Life Well') may be a deliberate short
    name, so it is not called a slip."""
    if len(x) < len(y):
        x, y = y, x
    if len(x) != len(y) + 1 or len(y) < 2:
        return False
    for i in range(len(x)):
        rest = x[:i] + x[i + 1:]
        pairs = list(zip(rest, y))
        stems = all(p == q or (len(p) >= 5 and len(q) >= 5 and p[:5] == q[:5]) for p, q in pairs)
        if stems and any(p != q for p, q in pairs):
            return True
    return False


_ABBR_AFTER = re.compile(r"((?:[A-Za-z][\w'’]*[\s-]+){1,7}?[A-Za-z][\w'’]*)\s*\(([A-Z][A-Za-z0-9&]{1,9})\)")


@dataclass
class AbbreviationUse:
    term: str
    expansion: str
    source: str
    section: str


def scan_abbreviations(texts: dict[str, str]) -> dict[str, list[AbbreviationUse]]:
    """Abbreviations spelled out more than one way: {term: uses}. `texts` maps a source id to its text.
    An expansion is the run of capitalised words before '(ABBR)' whose initials spell it."""
    found: dict[str, list[AbbreviationUse]] = {}
    for source, text in texts.items():
        for section, _line, para in paragraphs(text, 1):
            for m in _ABBR_AFTER.finditer(para):
                words, term = m.group(1).split(), m.group(2)
                letters = re.sub(r"[^A-Z]", "", term.upper())
                for start in range(len(words)):
                    if not words[start][:1].isupper() or words[start].lower() in _SMALL:
                        continue
                    cand = " ".join(words[start:])
                    ini = initials(cand)
                    if ini and (ini == letters or ini.replace("T", "") == letters.replace("T", "")):
                        found.setdefault(term, []).append(AbbreviationUse(term, cand, source, section))
                        break
    out = {}
    for term, uses in found.items():
        distinct: list[AbbreviationUse] = []
        for u in uses:
            if not any(same_expansion(u.expansion, d.expansion) for d in distinct):
                distinct.append(u)
        if len(distinct) > 1:
            out[term] = distinct
    return out


# --- repeated passages ------------------------------------------------------------------------------

@dataclass
class Repeat:
    source: str
    section: str
    other_section: str
    similarity: float
    text: str
    other_text: str


def paragraphs(text: str, min_words: int = 12) -> list[tuple[str, int, str]]:
    """(nearest heading above, first line number, paragraph) for every paragraph of at least min_words."""
    out, heading, buf, start = [], "(start)", [], 0
    lines = text.splitlines() + [""]
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        bullet = s.startswith(("·", "•", "- "))
        if not s or bullet:
            if buf:
                para = " ".join(" ".join(buf).split())
                if len(buf) == 1 and _looks_like_heading(para) and not buf[0].startswith(("·", "•", "- ")):
                    heading = para
                elif len(para.split()) >= min_words:
                    out.append((heading, start, para.lstrip("·•- ").strip()))
            buf = []
            if not s:
                continue
        if not buf:
            start = i
        buf.append(s)
    return out


def _looks_like_heading(s: str) -> bool:
    return 0 < len(s.split()) <= 9 and not s.endswith((".", ",", ";", ":", "”", '"')) and not s.startswith(("-", "•", "·"))


def similarity(a: str, b: str) -> float:
    """Share of words the two passages have in common, in order (difflib's ratio on word lists)."""
    return difflib.SequenceMatcher(None, _norm_words(a), _norm_words(b), autojunk=False).ratio()


def scan_repeats(source: str, text: str, threshold: float = 0.75, min_words: int = 12) -> list[Repeat]:
    """Paragraphs that appear almost word for word in two places of one source (two headings, or one list
    twice), with the heading above each and its line number."""
    paras = paragraphs(text, min_words)
    out = []
    for i, (ha, la, pa) in enumerate(paras):
        for hb, lb, pb in paras[i + 1:]:
            wa, wb = len(pa.split()), len(pb.split())
            if min(wa, wb) / max(wa, wb) < threshold:
                continue
            s = similarity(pa, pb)
            if s >= threshold:
                out.append(Repeat(source, f"{ha} (line {la})", f"{hb} (line {lb})", round(s, 2), pa, pb))
    return out


def same_heading(section: str, other_section: str) -> bool:
    """Two passages sit under one heading when their section paths match once a remark in brackets at the
    end ('(second copy)', '(two bullets later)') is set aside."""
    strip = lambda s: re.sub(r"\s*\([^()]*\)\s*$", "", s or "").strip().lower()  # noqa: E731
    return bool(strip(section)) and strip(section) == strip(other_section)


def repeat_verdict(same_value: bool | None, areas_differ: bool, one_heading: bool = False) -> tuple[str, str]:
    """A passage repeated under two headings cannot be checked from the text alone: say what the risk is."""
    if one_heading and same_value is None:
        return "not_checked", ("the same wording appears twice under one heading, most likely pasted twice, so counting the "
                               "items under that heading would count it twice")
    if same_value is True and areas_differ:
        return "not_checked", ("the same figure is credited to two different areas in near-identical words, so it may be one "
                               "piece of work reported twice, or text copied from one section to the other")
    if same_value is False:
        return "not_checked", ("the wording is shared but the figures differ, which suggests text reused as a template; "
                               "each figure may be right for its own area, but the copied wording cannot show which")
    return "not_checked", ("near-identical wording appears under both headings; a reader cannot tell whether this is one "
                           "piece of work described twice or two separate pieces described with copied text")


# --- sections of a plain-text source ----------------------------------------------------------------

def split_sections(text: str) -> list[tuple[str, str]]:
    """Cut a plain-text source into (heading, body) pairs. A heading is a short line with no full stop
    followed by a blank line; it is the nearest such line above each paragraph."""
    lines = text.splitlines()
    out: list[tuple[str, list[str]]] = [("(start)", [])]
    for i, line in enumerate(lines):
        s = line.strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        is_heading = (0 < len(s.split()) <= 9 and not s.endswith((".", ",", ";", ":", "”", "\"")) and not s.startswith(("-", "•", "·"))
                      and nxt == "" and not re.match(r"^\d+[.)]?$", s))
        if is_heading:
            out.append((s, []))
        else:
            out[-1][1].append(line)
    return [(h, "\n".join(body)) for h, body in out if "\n".join(body).strip()]


def read_sources(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(folder).glob("*.txt"))}


# --- scope: a figure against the heading it sits under ---------------------------------------------

def heading_area(section: str, areas: list[dict]) -> str | None:
    """The innermost area whose name (or id words) a section path names, e.g. '... > Hyndburn > ...'."""
    parts = [p.strip().lower() for p in (section or "").split(">")]
    best = None
    for part in parts:
        for a in areas:
            name = str(a["name"]).lower()
            if not name:
                continue
            if part == name or part.startswith(name + " ") or re.search(r"(^|[\s–-])" + re.escape(name) + r"($|[\s–-])", part):
                best = a["id"]
    return best


def within(area: str, ancestor: str, parents: dict[str, str]) -> bool:
    seen = set()
    while area and area not in seen:
        if area == ancestor:
            return True
        seen.add(area)
        area = parents.get(area, "")
    return False


def scope_verdict(figure_area: str, head: str | None, parents: dict[str, str], names: dict[str, str]) -> tuple[str, str]:
    if not head:
        return "not_checked", "the section heading names no area, so the figure's footprint cannot be compared with it"
    if within(figure_area, head, parents):
        return "consistent", f"the figure covers {names.get(figure_area, figure_area)}, which is within the heading's {names.get(head, head)}"
    return "differs", (f"the figure covers {names.get(figure_area, figure_area)}, a wider or different area, but sits under "
                       f"the heading for {names.get(head, head)}, so a reader could take it as that area's own result")


def scan_scope(figures: list[dict], areas: list[dict]) -> list[tuple[str, str, str]]:
    """Ledger rows whose area is not within the area their section heading names: (id, area, heading area).
    A national statistic recorded as context (a case study's background on the whole country) is not
    offered: the source presents it as national, and the book labels it context wherever it goes."""
    parents = {a["id"]: a.get("parent", "") for a in areas}
    countries = {a["id"] for a in areas if a.get("kind") == "country"}
    local = [a for a in areas if a.get("kind") in ("partnership", "district", "neighbourhood", "case_study_area", "locality")]
    out = []
    for r in figures:
        if r.get("evidence_level") == "context" and r["area"] in countries:
            continue
        head = heading_area(r.get("section", ""), local)
        if head and not within(r["area"], head, parents):
            out.append((r["id"], r["area"], head))
    return out


# --- plausibility -----------------------------------------------------------------------------------

PER_YEAR = {"per year": 1.0, "a year": 1.0, "per month": 12.0, "a month": 12.0, "per week": 52.0, "per day": 365.0}
DAYS_IN = {"days": 1.0, "weeks": 7.0, "months": 30.4, "hours": 1 / 24}


def per_year_factor(period: str) -> float | None:
    p = (period or "").lower()
    for k, f in PER_YEAR.items():
        if k in p:
            return f
    return None


def implied_occupancy(capacity: float, admissions_per_year: float, stay_days: float) -> float:
    """Average share of places in use: admissions × average stay ÷ (places × 365), in percent."""
    return 100.0 * admissions_per_year * stay_days / (capacity * 365.0)


def whole_counts_for_share(share: float, whole: float, half: float) -> list[int]:
    """Whole numbers k (0..whole) whose share 100k/whole rounds to the stated share."""
    if whole <= 0:
        return []
    lo = math.floor((share - half) * whole / 100.0) - 1
    hi = math.ceil((share + half) * whole / 100.0) + 1
    return [k for k in range(max(0, lo), min(int(whole), hi) + 1) if abs(100.0 * k / whole - share) <= half + 1e-9]


def common_bases(pairs: list[tuple[float, float, float]], limit: int = 10_000_000) -> list[int]:
    """Whole numbers N such that every (count, share, half) pair has 100·count/N within half of share."""
    if not pairs:
        return []
    lo, hi = 1, limit
    for count, share, half in pairs:
        if count <= 0 or share <= 0:
            return []
        lo = max(lo, math.ceil(100.0 * count / (share + half) - 1e-9))
        hi = min(hi, math.floor(100.0 * count / max(share - half, 1e-9) + 1e-9))
    if hi < lo:
        return []
    return list(range(lo, min(hi, lo + 50) + 1))
