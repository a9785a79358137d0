"""How figures are written for readers: thousands separators, units, qualifiers kept, ranges.

A figure the source gives as "over 7,000" is always shown as "over 7,000": the qualifier travels with
the number wherever it appears.
"""
from __future__ import annotations

import math

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


def with_unit(value: float, unit: str, decimals: int | None = None) -> str:
    n = number(value, decimals)
    if unit == "percent":
        return f"{n}%"
    if unit == "percentage_points":
        return f"{n} percentage points"
    if unit == "gbp":
        if value is not None and float(value) < 0:
            return f"−£{number(-float(value), decimals)}"
        return f"£{n}"
    if unit in ("count", "ratio", "score", "rank", ""):
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
            body = f"£{number(value, decimals)} to £{number(value_high, decimals)}"
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


def row_figure(row) -> str:
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    dp = _dp(get, "value")
    if dp is not None:
        dp = max(dp, _dp(get, "value_high") or 0)
    return figure(get("value"), get("unit", ""), get("qualifier", "") or "", get("value_high"), dp)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def join_words(items: list[str]) -> str:
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
