"""Periods and values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yigongti.indicators import rules


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("2025-q3", dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025-12", dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
    ],
)
def test_periods(text: str, start: dt.date, end: dt.date) -> None:
    period = rules.parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["", "25", "2025-13", "2025-Q5", "2025/07", "2025-7", "明年"])
def test_bad_periods_refused_in_chinese(text: str) -> None:
    with pytest.raises(ValueError, match="应为 2025、2025-Q3 或 2025-07"):
        rules.parse_period(text)


@given(st.integers(1900, 2999), st.integers(1, 12))
def test_months_tile_their_quarter_and_year(year: int, month: int) -> None:
    m = rules.parse_period(f"{year}-{month:02d}")
    q = rules.parse_period(f"{year}-Q{(month - 1) // 3 + 1}")
    y = rules.parse_period(str(year))
    assert y.start <= q.start <= m.start <= m.end <= q.end <= y.end
    assert (m.end + dt.timedelta(days=1)).day == 1


def test_previous_year() -> None:
    assert rules.previous_year(rules.parse_period("2025-Q3")).code == "2024-Q3"
    assert rules.previous_year(rules.parse_period("2025")).code == "2024"


def test_ratio() -> None:
    assert rules.ratio(Decimal(7780), Decimal(22080), 100) == Decimal("35.235507")
    assert rules.ratio(Decimal(2), Decimal(3), 100) == Decimal("66.666667")
    assert rules.ratio(Decimal(1), Decimal(0), 100) is None
    assert rules.ratio(Decimal(10000), Decimal(2)) == Decimal("5000.000000")


def test_parts_of_year() -> None:
    parts = rules.parts_of_year(rules.parse_period("2025"))
    assert [p.code for p in parts][:5] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2025-01"]
    assert len(parts) == 16 and parts[-1].code == "2025-12"
    with pytest.raises(ValueError, match="只有年度统计期可以细分"):
        rules.parts_of_year(rules.parse_period("2025-Q1"))


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        ("65", "65", "higher", "green"),
        ("70", "65", "higher", "green"),
        ("58.5", "65", "higher", "amber"),  # exactly 90% of the target
        ("58.49", "65", "higher", "red"),
        ("10", "10", "lower", "green"),
        ("11.1", "10", "lower", "amber"),  # 11.1 × 0.9 = 9.99 ≤ 10
        ("11.2", "10", "lower", "red"),
        (None, "65", "higher", "none"),
        ("50", None, "higher", "none"),
        ("50", "65", "", "none"),
    ],
)
def test_status(value: str | None, target: str | None, direction: str, expected: str) -> None:
    to_d = lambda v: None if v is None else Decimal(v)  # noqa: E731
    assert rules.status(to_d(value), to_d(target), direction, Decimal("0.9")) == expected
