"""Pure indicator rules: periods and values. No ORM, no clock."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    code: str  # 2025 | 2025-Q3 | 2025-07
    start: dt.date
    end: dt.date  # inclusive


def parse_period(text: str) -> Period:
    """``2025``, ``2025-Q3`` or ``2025-07``; ValueError with a Chinese message otherwise."""
    value = (text or "").strip().upper()
    if m := _YEAR.match(value):
        year = int(m.group(1))
        return Period(value, dt.date(year, 1, 1), dt.date(year, 12, 31))
    if m := _QUARTER.match(value):
        year, quarter = int(m.group(1)), int(m.group(2))
        first = 3 * quarter - 2
        last = first + 2
        return Period(
            value,
            dt.date(year, first, 1),
            dt.date(year, last, calendar.monthrange(year, last)[1]),
        )
    if (m := _MONTH.match(value)) and 1 <= int(m.group(2)) <= 12:
        year, month = int(m.group(1)), int(m.group(2))
        return Period(
            value,
            dt.date(year, month, 1),
            dt.date(year, month, calendar.monthrange(year, month)[1]),
        )
    raise ValueError(f"统计期“{text}”无效，应为 2025、2025-Q3 或 2025-07")


def parts_of_year(period: Period) -> list[Period]:
    """The quarters and months of a year period (for trends)."""
    if len(period.code) != 4:
        raise ValueError(f"只有年度统计期可以细分到季度和月份：{period.code}")
    year = period.code
    return [parse_period(f"{year}-Q{q}") for q in range(1, 5)] + [
        parse_period(f"{year}-{m:02d}") for m in range(1, 13)
    ]


def previous_year(period: Period) -> Period:
    """The same period one year earlier (for growth rates)."""
    year = period.start.year - 1
    return parse_period(str(year) + period.code[4:])


VALUE_PLACES = Decimal("0.000001")


def ratio(numerator: Decimal, denominator: Decimal, scale: int = 1) -> Decimal | None:
    """``numerator / denominator × scale`` to six decimals; ``None`` for a zero denominator
    (shown as "—", never an error)."""
    if denominator == 0:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(
        VALUE_PLACES, rounding=ROUND_HALF_UP
    )


GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"


def status(value: Decimal | None, target: Decimal | None, direction: str, band: Decimal) -> str:
    """Red/amber/green against the target: for "higher is better" green at or above the
    target, amber at or above ``band`` × target, else red; "lower is better" mirrors it (amber
    up to target ÷ band). ``none`` without a value or a target."""
    if value is None or target is None or direction not in ("higher", "lower"):
        return NONE
    if direction == "higher":
        if value >= target:
            return GREEN
        return AMBER if value >= target * band else RED
    if value <= target:
        return GREEN
    return AMBER if value * band <= target else RED
