"""How figures are written for readers: thousands separators, units, qualifiers kept, ranges.

A figure the source gives as "over 7,000" is always shown as "over 7,000": the qualifier travels with
the number wherever it appears.
"""
from __future__ import annotations

import math
import re

QUALIFIER_WORDS = {
    "over": "over",
    "circa": "about",
    "up_to": "up to",
    "almost": "almost",
    "at_least": "at least",
    "under": "under",
}


def number(value: float, decimals: int | None = None) -> str:
    """1234.0 -> '1,234'; 4.1 -> '4.1'; 8.24 -> '8.24'. Keeps the precision the value was written with."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    value = float(value)
    if decimals is None:
        decimals = _decimals(value)
    text = f"{value:,.{decimals}f}"
    return text


def _decimals(value: float) -> int:
    text = repr(abs(value))
    if "e" in text:
        return 0
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return min(len(frac), 3)


def decimals_of(value: float) -> int:
    """How many decimal places a stated value was written with (9.5 -> 1, 48 -> 0)."""
    return _decimals(float(value))


def _in_words(v: float, sizes: tuple[tuple[float, str], ...], places: int) -> str:
    """'119 billion', '2.4 million': a non-negative amount in the largest of `sizes` it reaches, only when it is
    a whole number of `places` decimals of that size (so no precision is lost or invented); '' otherwise."""
    for size, word in sizes:
        scaled = v / size * 10 ** places
        if v >= size and round(scaled, 6) == round(scaled):
            return f"{number(round(v / size, places))} {word}"
    return ""


def money(value: float, decimals: int | None = None) -> str:
    """£ as a source writes large sums: £119,000,000,000 -> '£119 billion', 2,400,000 -> '£2.4 million',
    10,680,000 -> '£10.68 million' (only when the sum is a whole number of hundredths of a billion or
    million, so no precision is lost or invented); anything else in full, '£142,838'."""
    v = float(value)
    sign, v = ("−", -v) if v < 0 else ("", v)
    return f"{sign}£{_in_words(v, ((1e9, 'billion'), (1e6, 'million')), 2) or number(v, decimals)}"


def large_count(value: float) -> str:
    """A count of a million or more as a source writes it, '1.3 million' (1,300,000), when it is a whole
    number of tenths of a million, so the digits do not suggest a precision the source never gave; '' for
    anything else (1,235,355 stays in full)."""
    v = float(value)
    words = _in_words(abs(v), ((1e6, "million"),), 1)
    return f"-{words}" if words and v < 0 else words


def with_unit(value: float, unit: str, decimals: int | None = None) -> str:
    n = number(value, decimals)
    if unit == "percent":
        return f"{n}%"
    if unit == "percentage_points":
        return f"{n} percentage points"
    if unit == "gbp":
        return money(value, decimals) if value is not None else ""
    if unit == "ratio":  # "twice the average" is a ratio of 2: said as "2 times", never a bare 2
        return f"{n} times" if n else n
    if unit in ("count", ""):
        return large_count(value) or n
    if unit in ("score", "rank"):
        return n
    if unit == "per_1000":
        return f"{n} per 1,000"
    if unit == "per_100000":
        return f"{n} per 100,000"
    singular = {"years": "year", "months": "month", "weeks": "week", "days": "day", "hours": "hour", "minutes": "minute"}
    if unit in singular:
        return f"{n} {singular[unit] if float(value) == 1 else unit}"
    return f"{n} {unit}"


def figure(value: float, unit: str, qualifier: str = "", value_high: float | None = None, decimals: int | None = None) -> str:
    """The figure as a reader sees it: qualifier, number or range, unit (at the precision it was written)."""
    if value_high is not None and not (isinstance(value_high, float) and math.isnan(value_high)):
        if unit == "percent":
            body = f"{number(value, decimals)}% to {number(value_high, decimals)}%"
        elif unit == "gbp":
            body = f"{money(value, decimals)} to {money(value_high, decimals)}"
        else:
            body = f"{number(value, decimals)} to {with_unit(value_high, unit, decimals)}"
    else:
        body = with_unit(value, unit, decimals)
    words = QUALIFIER_WORDS.get(qualifier or "", "")
    return f"{words} {body}" if words else body


def _dp(get, col):
    d = get(f"{col}_dp", None)
    try:
        return None if d is None or (isinstance(d, float) and math.isnan(d)) else int(d)
    except (TypeError, ValueError):
        return None


def _getter(row):
    return row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or (isinstance(x, str) and not x.strip())


def ledger_figure(row) -> str:
    """A ledger figure as text: THE one way the book writes a ledger row's figure, everywhere (cards,
    tables, chart labels and descriptions, roll-ups, summaries, CSV downloads).

    Keeps the source's qualifier ("over 7,000"), its range ("250 to 300"), its precision, and, for a
    figure the source never puts a number on, its words ("hundreds of", with no number). A fall the ledger
    stores as a negative change is written with its sign in words, as sources write it ("reduced by 31%",
    "an improvement of 19%"): 'a fall of 31%', never '-31%'."""
    get = _getter(row)
    words = get("value_words", "")
    if not _blank(words) and _blank(get("value")):
        return f"{str(words).strip()} (no number given)"
    if not _blank(words):  # a number the source writes its own way ('1/3'): shown so, never as '33.3%'
        return str(words).strip()
    dp = _dp(get, "value")
    if dp is not None:
        dp = max(dp, _dp(get, "value_high") or 0)
    return stated_figure(get("value"), get("unit", ""), get("qualifier", "") or "", get("value_high"), dp)


def stated_figure(value: float, unit: str, qualifier: str = "", value_high: float | None = None,
                  decimals: int | None = None) -> str:
    """`figure`, with a fall (a negative change) written with its sign in words, as sources write it:
    -31 percent is 'a fall of 31%', never '-31%'; a range of falls -5 to -3 is 'a fall of 3% to 5%'."""
    has_high = not _blank(value_high)
    if not _blank(value) and float(value) < 0 and (not has_high or float(value_high) <= 0):
        lo, hi = (abs(float(value_high)), abs(float(value))) if has_high else (abs(float(value)), None)
        return "a fall of " + figure(lo, unit, qualifier, hi, decimals)
    return figure(value, unit, qualifier, value_high if has_high else None, decimals)


row_figure = ledger_figure  # older name, same function


_CURRENT = re.compile(r"(?:(?P<year>\d{4}/\d{2})\s+)?current(?:\s+(?P<what>position|average|figure|level))?", re.I)


def period_text(row) -> str:
    """The period a figure covers as the source gives it, or a plain statement that it gives none.

    A source's "current" (or "now", which the ledger records as `current`) is no date: a reader cannot tell
    when "current" was. It is said to be undated, with what the source called it and, when the ledger
    names the report's year (`2024/25 current position`), that it is the position when that report was
    written: 'No date given; the current position when the 2024/25 report was written'."""
    period = _getter(row)("period", "")
    if _blank(period):
        return "No date given"
    period = str(period).strip()
    m = _CURRENT.fullmatch(period)
    if m:
        what = f"the current {m['what'].lower()}" if m["what"] else "current"
        if m["year"]:
            return f"No date given; {what if m['what'] else 'described as current'} when the {m['year']} report was written"
        return f"No date given; the source describes it as {what}"
    return period


def period_inline(row) -> str:
    """`period_text` for the middle of a sentence or a label: 'no date given' in lower case, a stated
    period ('April 2024', 'Q3 2024/25') exactly as given."""
    text = period_text(row)
    return "n" + text[1:] if text.startswith("No date given") else text


def footprint_text(row, area_name: str = "") -> str:
    """The footprint a figure covers: the row's declared footprint when it differs from its area, else the area."""
    foot = _getter(row)("footprint", "")
    return area_name if _blank(foot) else str(foot).strip()


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def count_words(n: int, one: str, many: str | None = None) -> str:
    """A count for running prose, where '0 figures' and '1 district council' read like a form filled in:
    'no figures', 'one figure', '3 figures'."""
    n = int(n)
    if n == 0:
        return f"no {many or one + 's'}"
    if n == 1:
        return f"one {one}"
    return plural(n, one, many)


def counted_names(names: list[str], one: str, many: str | None = None) -> str:
    """What a set of named things is, for prose: 'one district council (Burnley Borough Council)',
    '2 district councils (Chorley Council and South Ribble Borough Council)', 'no district councils'."""
    names = [str(x) for x in names]
    head = count_words(len(names), one, many)
    return f"{head} ({join_words(names)})" if names else head


def titled_for_year(title: str, year_label: str) -> str:
    """A report's title with the year it covers, said once: 'Review 2024/25' stays as it is, 'Review' becomes
    'Review for 2024/25' (never '... 2024/25 End of Year Review for 2024/25')."""
    title, year_label = str(title).strip(), str(year_label).strip()
    return title if not year_label or year_label in title else f"{title} for {year_label}"


def bracketed(text: str) -> str:
    """Text in round brackets after something else, as readers write nested brackets: brackets already in
    the text become square ones, so '(… The solution (later paragraphs))' never closes twice:
    'A (B)' -> '(A [B])'."""
    inner = re.sub(r"\(c\)", "\u00a9", str(text), flags=re.I)  # '(c)' is the copyright sign, not a bracket
    inner = inner.replace("(", "[").replace(")", "]")
    return f"({inner})"


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'; when an item itself contains ' and ' ('access and stigma'), a comma
    before the last 'and' keeps the items apart: 'access and stigma, and data and digital'."""
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    # (an item already in quotation marks is kept apart by them)
    last = ", and " if any(" and " in i and i[:1] not in "\u2018\u201c'\"" for i in items) else " and "
    return ", ".join(items[:-1]) + last + items[-1]


MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_markdown(text: str) -> str:
    """Make a data value safe to place in Markdown (a heading, a link's text): every special character
    escaped, runs of white space made one space."""
    return MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def district_links(areas, partnerships) -> str:
    """Markdown links to the district pages of the given partnerships (ids, repeats allowed), in the
    book's order of areas (`areas` is the areas table indexed by id, with name and order)."""
    parts = sorted(set(partnerships), key=lambda a: areas.loc[a, "order"])
    return ", ".join(f"[{escape_markdown(areas.loc[a, 'name'])}](districts/{a}.ipynb)" for a in parts)


def long_date(iso: str) -> str:
    """An ISO date as readers write it: '2021-03-04' -> '4 March 2021'."""
    from datetime import date

    when = date.fromisoformat(str(iso).strip())
    return f"{when.day} {when:%B %Y}"


def lower_first(text: str) -> str:
    """A sentence made to follow a colon or semicolon: its first letter in lower case, unless it starts an
    acronym or a name written in capitals ('NHS', 'UHMBT')."""
    return text[:1].lower() + text[1:] if text[1:2].islower() or len(text) < 2 else text


def _sentences(text: str) -> list[str]:
    """A note split into its sentences, each ending with its full stop (so sentences can be compared)."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", str(text or "").strip()) if p.strip()]
    return [p if p[-1] in ".!?" else p + "." for p in parts]


def sum_label(label: str, statements: list[str]) -> str:
    """What a sum of like figures adds up: the measure, then each part (a reader must see what was added)."""
    parts = list(dict.fromkeys(lower_first(str(s).strip()) for s in statements if str(s).strip()))
    return f"{label}, added up from: {'; '.join(parts)}" if parts else label


def sum_caveat(parts: list[tuple[str, str]]) -> str:
    """The caveats of the figures in a sum: a sentence every part shares is said once; any other sentence is
    tied to the figure it belongs to, so one part's caveat is not read as the whole sum's."""
    split = [(str(statement).strip(), _sentences(note)) for statement, note in parts]
    shared = [s for s in dict.fromkeys(s for _, ss in split for s in ss) if all(s in ss for _, ss in split)]
    out = []
    for statement, ss in split:
        own = [s for s in ss if s not in shared]
        if own:
            out.append(f"{statement}: {lower_first(' '.join(own))}")
    return " ".join([o if o[-1] in ".!?" else o + "." for o in out] + shared)


def notes_text(notes: list[str]) -> str:
    """Distinct notes of figures shown together, each sentence once, as running text."""
    seen = dict.fromkeys(s for n in notes for s in _sentences(n))
    return " ".join(seen)


def top_labels(counts, label: str = "label", value: str = "initiatives") -> list[str]:
    """The labels that share the highest count (more than one when tied), in the order given."""
    if counts is None or len(counts) == 0:
        return []
    top = counts[value].max()
    return [str(x) for x in counts.loc[counts[value] == top, label]]


def most_common_sentence(labels: list[str], noun: str = "theme") -> str:
    """'The most common theme here is x.' or, when tied, 'The most common themes here, level, are x and y.'"""
    if not labels:
        return ""
    words = join_words([str(lab).lower() for lab in labels])
    if len(labels) == 1:
        return f"The most common {noun} here is {words}."
    return f"The most common {noun}s here, level with each other, are {words}."


def join_clauses(clauses: list[str]) -> str:
    """Clauses about one figure as one sentence: joined by semicolons, each after the first starting in lower case."""
    clauses = [str(c) for c in clauses if str(c)]
    return "; ".join(clauses[:1] + [lower_first(c) for c in clauses[1:]])
