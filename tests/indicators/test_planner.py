"""The planner (services._levels_planned): every period of a breakdown in one pass per base
must give exactly the sums of each measure's own query per period (services._levels), on the
hand-built county (conftest.py) — including the December-admitted, January-discharged stay,
out-of-county settlements, residents counted by home, and a growth rate's earlier year."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

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


def test_a_cube_sums_the_column_under_a_cast_that_changes_no_value() -> None:
    import ibis

    t = ibis.table(
        {
            "cost": "decimal(12, 2)",
            "rate": "decimal(12, 3)",
            "n": "int64",
            "k": "int32",
            "flag": "boolean",
        },
        name="t",
    )
    money = definitions.MONEY
    assert services._summand(t.cost.cast(money).op()) == t.cost.op()
    assert services._summand(t.k.cast(money).op()) == t.k.op()
    # a flag as 0/1: summed as a 32-bit integer
    assert services._summand(t.flag.cast("int64").cast(money).op()) == t.flag.cast("int32").op()
    # a cast that rounds (another scale) or could overflow (a 64-bit integer) is kept
    for kept in (t.rate.cast(money), t.n.cast(money), t.cost.cast("decimal(10, 2)")):
        assert services._summand(kept.op()) == kept.op()
    assert services._summand(t.n.op()) == t.n.op()


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
    assert compared > 300  # 371 rows on 2026-12-02


def _session(county: Path) -> services.Session:
    place, homes = services.places(
        services._read(county, "divisions"),
        services._read(county, "institutions"),
        services._read(county, "residents", services.RESIDENT_COLUMNS),
    )
    return services.OPENERS["duckdb"](county, place, homes)


def test_wanted_rows_drop_repeats_and_alternatives_another_covers() -> None:
    wanted = services._wanted_rows(
        [
            (["k4"], ["r0"]),
            (["k4"], ["r0"]),  # a repeat
            (["k9", "k4"], ["r0"]),  # holds only where k4 ∧ r0 holds
            (["k5", "k6"], ["r2"]),
            (["k5"], ["r2"]),  # covers the one above
            ([], ["r1"]),
        ]
    )
    assert wanted == [
        frozenset({("k", "k4"), ("r", "r0")}),
        frozenset({("k", "k5"), ("r", "r2")}),
        frozenset({("r", "r1")}),
    ]
    # a branch with neither conjuncts nor ranges wants every row: nothing else is kept
    assert services._wanted_rows([(["k4"], ["r0"]), ([], [])]) == [frozenset()]


@pytest.fixture
def pushed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Per cube the planner tried to push below the places join: whether it did."""
    seen: list[bool] = []
    real = services._pushed_down

    def spy(*args: object, **kwargs: object) -> object:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(out is not None)
        return out

    monkeypatch.setattr(services, "_pushed_down", spy)
    return seen


def test_the_encounter_cube_is_grouped_before_the_places_join(
    county: Path, pushed: list[bool]
) -> None:
    """Every base joined to ``places`` on the institution is pushed down (nhc-09's
    ``ifelse(基层, fund, 0)`` included), and the sums equal the measures' own queries."""
    wanted = [definitions.get(c) for c in ("nhc-07", "nhc-09", "op-03", "ref-01")]
    year = rules.parse_period("2025")
    session = _session(county)
    try:
        planned = services._levels_planned(session, wanted, [year])
        for indicator in wanted:
            assert planned[(indicator.code, "2025")] == services._levels(
                session, indicator, year
            ), indicator.code
    finally:
        session.close()
    # the encounter base without the doctor level (nhc-07, nhc-09, ref-01's stays), the same
    # base by doctor (op-03: a cube of its own) and the referrals at the sender (ref-01's
    # referrals): all joined to places, all pushed down
    assert pushed == [True, True, True]


def test_a_value_mixing_place_and_encounter_otherwise_is_computed_in_one_query(
    county: Path, pushed: list[bool]
) -> None:
    """A sum of fund × 基层 (not an ``ifelse`` on the place) cannot be summed before the join:
    the planner falls back to the single grouped query, with the same sums."""
    import dataclasses

    import ibis

    def mixed(t: definitions.Tables, p: rules.Period) -> object:
        v = definitions._member(t).filter(definitions._settled_in(p))
        return definitions._shape(v, v.fund_paid * v.grassroots.cast("int64"), ibis.literal(1))

    indicator = dataclasses.replace(definitions.get("nhc-09"), code="test-mixed", measure=mixed)
    year = rules.parse_period("2025")
    session = _session(county)
    try:
        planned = services._levels_planned(session, [indicator], [year])
        plain = services._levels(session, indicator, year)
    finally:
        session.close()
    assert pushed == [False]
    assert planned[("test-mixed", "2025")] == plain
    county_row = next(r for r in plain if r[0] == definitions.COUNTY)
    # the fixture's 基层 fund in 2025 is not nothing: the comparison has something to compare
    assert county_row[3] > 0


def test_an_unread_left_join_to_a_unique_dimension_is_dropped(county: Path) -> None:
    """``_member``'s left join to the homes keeps each encounter once (one home a resident):
    a cube that reads nothing of the home is spared it; one that reads the home keeps it, and a
    left join to a table not declared unique on its key (the ICD-10 catalogue) is kept."""
    session = _session(county)
    try:
        member = definitions._member(session.tables).op()
        links = member.rest
        homes = [x for x in links if x.how == "left"]
        assert len(homes) == 1
        of_encounter = [member.values["total_cost"]]
        kept = services._unread_dropped(session, links, of_encounter)
        assert homes[0] not in kept
        assert len(kept) == len(links) - 1
        of_home = [*of_encounter, member.values["home_county_id"]]
        assert services._unread_dropped(session, links, of_home) == links
        chapter = definitions._with_chapter(session.tables, definitions._placed(session.tables))
        chain = chapter.op()
        assert [x.how for x in chain.rest] == ["inner", "left"]
        unread = [chain.values["total_cost"]]
        assert services._unread_dropped(session, chain.rest, unread) == chain.rest
    finally:
        session.close()


def test_constants_and_place_values_times_the_count_are_exact_decimals() -> None:
    import pyarrow as pa

    count = pa.array([3, 0, 12_000_000], pa.int64())
    assert services._times(Decimal("1.00"), count).to_pylist() == [
        Decimal("3.00"),
        Decimal("0.00"),
        Decimal("12000000.00"),
    ]
    money = pa.array([Decimal("0.10"), None, Decimal("99999.99")], pa.decimal128(18, 2))
    assert services._times_column(money, count).to_pylist() == [
        Decimal("0.30"),
        None,
        Decimal("1199999880000.00"),
    ]
    flags = pa.array([True, False, None])
    assert services._times_column(flags, count).to_pylist() == [Decimal("3.00"), Decimal(0), None]


def test_queries_in_the_background_give_what_one_at_a_time_gives(
    county: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner sends every query before reading the first (services.Session.later): the
    rows equal those of the same evaluation with each query run in turn, and the queries did
    run on the pool's threads (each with a cursor of its own, in UTC like the session)."""
    threads: list[str] = []
    real = services._background

    def traced(run: Any) -> Any:
        def on_thread(job: Any) -> Any:
            threads.append(threading.current_thread().name)
            return run(job)

        return real(on_thread)

    monkeypatch.setattr(services, "_background", traced)
    periods = services.parse_periods("2025", breakdown=True)
    background = services.evaluate(periods, root=county).rows
    sent = len(threads)
    opener = services.OPENERS["duckdb"]
    monkeypatch.setitem(
        services.OPENERS,
        "duckdb",
        lambda *a: dataclasses.replace(opener(*a), start=None),
    )
    in_turn = services.evaluate(periods, root=county).rows
    assert len(threads) == sent  # the second evaluation sent none to the pool
    assert background == in_turn
    assert len(background) > 300  # 322 rows on 2026-12-03
    # the cubes and the per-period queries of ref-06 (17 periods), all on the pool
    assert sent > 17
    assert set(threads) <= {f"yigongti-query_{n}" for n in range(services.QUERY_THREADS)}


def test_a_failing_background_query_raises_where_its_result_is_read(county: Path) -> None:
    import duckdb
    import ibis

    session = _session(county)
    try:
        bad = session.tables.wards.select(x=ibis.literal("十二").cast("int64"))
        result = session.later(bad)
        with pytest.raises(duckdb.ConversionException):
            result()
        # the session goes on: the next query runs
        counted = session.later(session.tables.wards.count().name("n").as_table())()
        assert counted.to_pylist() == [{"n": services._read(county, "wards").num_rows}]
    finally:
        session.close()
