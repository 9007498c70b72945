"""Drill-down to the records behind an indicator value: the indicator's own measure, filtered.

Plain Ibis over the measure (``contributing``, ``summary``, ``page_of``), no engine and no
database: they run on whichever engine opened the snapshot. ``services.read_records`` runs
them (DuckDB by default) and returns one page of ``(record_kind, record_id, numerator,
denominator)`` — ids only; the person-level rows are loaded from the app database by
``queries.list_record_rows`` for a scoped, audited page (``services.do_read_indicator_records``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PAGE_SIZE = 50


def contributing(
    measure: Any,
    *,
    key: str,
    org_id: int,
    category: str = "",
    unknown: str = "",
    institution_id: int | None = None,
) -> Any:
    """The measure's rows whose ``key`` (county_id, township_id or institution_id) is
    ``org_id``, and whose category is ``category`` when one is given (``""``: the total).
    ``unknown`` is the label the engine stores a missing category under; it matches a null or
    empty category. ``institution_id`` narrows a county's or township's rows to one member
    institution's (a settlement outside the county has none: it drops out)."""
    rows = measure.filter(measure[key] == org_id)
    if institution_id is not None:
        rows = rows.filter(rows.institution_id == institution_id)
    if category:
        same = rows.category == category
        if unknown and category == unknown:
            same = same | rows.category.isnull() | (rows.category == "")
        rows = rows.filter(same)
    return rows


def summary(rows: Any) -> Any:
    """One row: how many records, and their numerator and denominator sums."""
    return rows.aggregate(
        records=rows.count(),
        numerator=rows.numerator.sum(),
        denominator=rows.denominator.sum(),
    )


def page_of(rows: Any, number: int, size: int = PAGE_SIZE) -> Any:
    """Page ``number`` (from 1) of the rows, ordered by record."""
    ordered = rows.order_by(
        [rows.record_kind, rows.record_id, rows.category, rows.numerator, rows.denominator]
    )
    return ordered.select("record_kind", "record_id", "category", "numerator", "denominator").limit(
        size, offset=(number - 1) * size
    )


@dataclass(frozen=True)
class Contribution:
    """One contributing record and what it adds to the numerator and the denominator."""

    record_kind: str
    record_id: int
    category: str
    numerator: Decimal
    denominator: Decimal


@dataclass(frozen=True)
class RecordsPage:
    rows: list[Contribution]
    total: int  # records in all pages
    numerator: Decimal  # sums over all pages
    denominator: Decimal
    number: int  # this page, from 1
    pages: int
    size: int
    snapshot_id: str


def pages_for(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / size))
