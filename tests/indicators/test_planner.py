"""The planner (services._levels_planned): every period of a breakdown in one pass per base
must give exactly the sums of each measure's own query per period (services._levels), on the
hand-built county (conftest.py) — including the December-admitted, January-discharged stay,
out-of-county settlements, residents counted by home, and a growth rate's earlier year."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from yigongti.indicators import definitions, rules, services

pytestmark = pytest.mark.django_db


def test_buckets_and_grain() -> None:
    q2 = rules.parse_period("2025-Q2")
    year = rules.parse_period("2025")
    assert services._buckets(q2, services.MONTHLY) == {202504, 202505, 202506}
    assert services._buckets(year, services.YEARLY) == {2025}
    assert services._buckets(year, services.MONTHLY) == {202500 + m for m in range(1, 13)}
    assert services._grain([year, rules.parse_period("2024")]) == services.YEARLY
    assert services._grain([year, q2]) == services.MONTHLY


def test_constants_keep_their_places() -> None:
    import ibis

    one = ibis.literal(1).cast(definitions.MONEY).op()
    assert str(services._constant(one)) == "1.00"
    assert services._constant(ibis.literal(0).op()) == Decimal(0)
    column = ibis.table({"x": "int64"}, name="t").x.cast(definitions.MONEY).op()
    assert services._constant(column) is None


def test_planned_sums_equal_each_measure_per_period(county: Path) -> None:
    periods = [*services.parse_periods("2025", breakdown=True), rules.parse_period("2026-01")]
    earlier = [rules.parse_period("2024")]
    divisions = services._read(county, "divisions")
    place, homes = services.places(
        divisions,
        services._read(county, "institutions"),
        services._read(county, "residents", services.RESIDENT_COLUMNS),
    )
    session = services.OPENERS["duckdb"](county, place, homes)
    try:
        measured = [i for i in definitions.INDICATORS if i.measure is not None]
        planned = services._levels_planned(session, measured, periods, None, earlier)
        # every indicator for every period; the earlier year for the planned ones (ref-06,
        # computed per period, gets it from services._sums when a growth rate needs it)
        assert {(i.code, p.code) for i in measured for p in periods} <= set(planned)
        assert ("nhc-10", "2024") in planned
        compared = 0
        for indicator in measured:
            for period in [*periods, *earlier]:
                if (indicator.code, period.code) not in planned:
                    continue
                plain = services._levels(session, indicator, period)
                assert planned[(indicator.code, period.code)] == plain, (indicator.code, period)
                # equal as text too (1.00, not 1): what is stored and exported
                assert [tuple(map(str, r)) for r in planned[(indicator.code, period.code)]] == [
                    tuple(map(str, r)) for r in plain
                ]
                compared += len(plain)
    finally:
        session.close()
    # the fixture's rows reach most indicators and periods (not an empty comparison)
    assert compared > 400
