"""``do_compute``: every computed indicator for a period, from the Parquet snapshot.

The engine reads the snapshot through Ibis (DuckDB by default), sums each indicator's
``(numerator, denominator)`` rows up to the levels it rolls up to and replaces the stored
results of that period. Results carry the snapshot id; a zero denominator is stored with no
value ("—" on the dashboard).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction

from yigongti.analytics import services as snapshot
from yigongti.analytics.queries import default_root
from yigongti.core import clock
from yigongti.core.errors import DomainError
from yigongti.geo.choices import DivisionLevel
from yigongti.indicators import definitions, rules
from yigongti.indicators.models import IndicatorResult
from yigongti.organizations.choices import GRASSROOTS_TYPES

ENGINES = ("duckdb",)
Progress = Callable[[str, int, int], None]


@dataclass
class ComputeResult:
    period: str
    snapshot_id: str
    results: int
    indicators: list[str]


def _files(root: Path, name: str) -> list[Path]:
    return sorted((root / name).rglob("*.parquet")) if (root / name).is_dir() else []


def _read(root: Path, name: str) -> pa.Table:
    """A whole table into memory (dimensions; an empty table with the schema if none)."""
    schema = snapshot.schema_of(next(s for s in snapshot.TABLES if s.name == name))
    files = _files(root, name)
    if not files:
        return schema.empty_table()
    return pa.concat_tables(pq.read_table(f, schema=schema) for f in files)


def places(
    divisions: pa.Table, institutions: pa.Table, residents: pa.Table
) -> tuple[pa.Table, pa.Table]:
    """institution → (township, county, grassroots, tier) and resident → (county, township,
    counted), from the division tree (village → township → county)."""
    level = dict(
        zip(divisions["division_id"].to_pylist(), divisions["level"].to_pylist(), strict=True)
    )
    parent = dict(
        zip(divisions["division_id"].to_pylist(), divisions["parent_id"].to_pylist(), strict=True)
    )

    def up(division: int | None, wanted: str) -> int | None:
        while division is not None and level.get(division) != wanted:
            division = parent.get(division)
        return division

    inst_ids = institutions["institution_id"].to_pylist()
    # The area an institution serves places it: a county hospital sits in the seat town but
    # serves the county, so it belongs to no township.
    inst_div = [
        served if served is not None else located
        for served, located in zip(
            institutions["service_division_id"].to_pylist(),
            institutions["division_id"].to_pylist(),
            strict=True,
        )
    ]
    inst_type = institutions["inst_type"].to_pylist()
    place = pa.table(
        {
            "institution_id": pa.array(inst_ids, pa.int64()),
            "township_id": pa.array([up(d, DivisionLevel.TOWNSHIP) for d in inst_div], pa.int64()),
            "county_id": pa.array([up(d, DivisionLevel.COUNTY) for d in inst_div], pa.int64()),
            "grassroots": pa.array([t in GRASSROOTS_TYPES for t in inst_type], pa.bool_()),
            "tier": pa.array([rules.institution_tier(t) for t in inst_type], pa.string()),
        }
    )
    # Residents are many (5 million in a ten-county province) but live in a few hundred
    # villages each: walk the tree once per distinct division and map with Arrow kernels.
    home_div = residents["division_id"]
    villages = pc.unique(home_div)
    at = pc.index_in(home_div, value_set=villages)

    def up_homes(wanted: str) -> Any:
        return pa.array([up(d, wanted) for d in villages.to_pylist()], pa.int64()).take(at)

    homes = pa.table(
        {
            "resident_id": residents["resident_id"],
            "county_id": up_homes(DivisionLevel.COUNTY),
            "township_id": up_homes(DivisionLevel.TOWNSHIP),
            # In the population (per-1,000 indicators): one record per person, alive as far
            # as the register knows (the snapshot has no dates of death).
            "counted": pc.and_(
                pc.is_null(residents["merged_into_id"]),
                pc.invert(pc.fill_null(residents["is_deceased"], False)),
            ),
        }
    )
    return place, homes


def _table(con: Any, root: Path, name: str) -> Any:
    """A fact table straight from its Parquet files (DuckDB reads them); empty if none."""
    if not _files(root, name):
        return ibis.memtable(_read(root, name))
    return con.read_parquet(str(root / name / "**" / "*.parquet"), hive_partitioning=True)


LEVEL_KEYS = {
    definitions.COUNTY: "county_id",
    definitions.TOWNSHIP: "township_id",
    definitions.INSTITUTION: "institution_id",
}


@dataclass(frozen=True)
class ResultRow:
    """One computed value, before it is stored (what every engine returns)."""

    indicator_code: str
    period: str
    level: str
    org_code: str
    category: str
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None


@dataclass
class Evaluation:
    snapshot_id: str
    engine: str
    indicators: list[str]
    rows: list[ResultRow]


@dataclass
class Session:
    """An engine opened on a snapshot: the tables as Ibis expressions and ``run``, which
    executes an expression to an Arrow table."""

    tables: definitions.Tables
    run: Callable[[Any], pa.Table]
    close: Callable[[], None]


def _open_duckdb(root: Path, place: pa.Table, homes: pa.Table) -> Session:
    con = ibis.duckdb.connect()
    tables = definitions.Tables(
        encounters=_table(con, root, "encounters"),
        settlements=_table(con, root, "external_settlements"),
        places=ibis.memtable(place),
        homes=ibis.memtable(homes),
        diagnoses=ibis.memtable(_read(root, "diagnoses")),
    )
    return Session(tables, con.to_pyarrow, con.disconnect)


OPENERS: dict[str, Callable[[Path, pa.Table, pa.Table], Session]] = {"duckdb": _open_duckdb}


def parse_periods(period_text: str, *, breakdown: bool = False) -> list[rules.Period]:
    """The period and, with ``breakdown`` (a year), its quarters and months."""
    try:
        period = rules.parse_period(period_text)
        return [period, *(rules.parts_of_year(period) if breakdown else [])]
    except ValueError as exc:
        raise DomainError(str(exc), field="period") from None


def evaluate(
    periods: list[rules.Period],
    *,
    engine: str = "duckdb",
    root: Path | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Every indicator with a measure for each period, from the snapshot, nothing stored."""
    if engine not in ENGINES:
        raise DomainError(f"计算引擎“{engine}”不可用，可选：{'、'.join(ENGINES)}", field="engine")
    root = root or default_root()
    manifest = snapshot.read_manifest(root)
    if not manifest.get("snapshot_id"):
        raise DomainError("还没有分析快照：请先运行 yigongti snapshot", field="snapshot")
    divisions = _read(root, "divisions")
    institutions = _read(root, "institutions")
    place, homes = places(divisions, institutions, _read(root, "residents"))
    division_codes = dict(
        zip(divisions["division_id"].to_pylist(), divisions["code"].to_pylist(), strict=True)
    )
    codes = {
        definitions.COUNTY: division_codes,
        definitions.TOWNSHIP: division_codes,
        definitions.INSTITUTION: dict(
            zip(
                institutions["institution_id"].to_pylist(),
                institutions["code"].to_pylist(),
                strict=True,
            )
        ),
    }
    session = OPENERS[engine](root, place, homes)
    computed = [i for i in definitions.INDICATORS if i.computed]
    rows: list[ResultRow] = []
    steps = len(computed) * len(periods)
    memo: dict[tuple[str, str], Sums] = {}
    try:
        for p_index, each in enumerate(periods):
            for n, indicator in enumerate(computed, start=1):
                for level, org, category, numerator, denominator in _sums(
                    session, indicator, each, memo
                ):
                    rows.append(
                        ResultRow(
                            indicator.code,
                            each.code,
                            level,
                            codes[level].get(org, str(org)),
                            category,
                            numerator,
                            denominator,
                            rules.ratio(numerator, denominator, indicator.scale),
                        )
                    )
                if progress is not None:
                    progress("计算指标", p_index * len(computed) + n, steps)
    finally:
        session.close()
    return Evaluation(manifest["snapshot_id"], engine, [i.code for i in computed], rows)


def do_compute(
    period_text: str,
    *,
    engine: str = "duckdb",
    root: Path | None = None,
    progress: Progress | None = None,
    breakdown: bool = False,
) -> ComputeResult:
    """Compute every indicator with a measure for the period and store the results (replacing
    the period's earlier ones); ``breakdown`` (a year) also computes its quarters and months,
    for trends."""
    periods = parse_periods(period_text, breakdown=breakdown)
    result = evaluate(periods, engine=engine, root=root, progress=progress)
    now = clock.now()
    with transaction.atomic():
        IndicatorResult.objects.filter(
            period__in=[p.code for p in periods], indicator_code__in=result.indicators
        ).delete()
        IndicatorResult.objects.bulk_create(
            [
                IndicatorResult(
                    indicator_code=r.indicator_code,
                    period=r.period,
                    level=r.level,
                    org_code=r.org_code,
                    category=r.category,
                    numerator=r.numerator,
                    denominator=r.denominator,
                    value=r.value,
                    snapshot_id=result.snapshot_id,
                    engine=engine,
                    computed_at=now,
                )
                for r in result.rows
            ],
            batch_size=1000,
        )
    return ComputeResult(periods[0].code, result.snapshot_id, len(result.rows), result.indicators)


Sums = list[tuple[str, Any, str, Decimal, Decimal]]


def _sums(
    session: Session,
    indicator: definitions.Indicator,
    period: rules.Period,
    memo: dict[tuple[str, str], Sums],
) -> Sums:
    """``_levels`` of the indicator for the period, remembered in ``memo``; for a growth rate
    (``growth_of``), the growth of its base indicator against the same period a year earlier
    (engine-independent: it works on what ``_levels`` returns)."""
    key = (indicator.code, period.code)
    if key not in memo:
        if indicator.growth_of:
            base = definitions.get(indicator.growth_of)
            memo[key] = growth_sums(
                indicator,
                _sums(session, base, period, memo),
                _sums(session, base, rules.previous_year(period), memo),
            )
        else:
            memo[key] = _levels(session, indicator, period)
    return memo[key]


def growth_sums(indicator: definitions.Indicator, current: Sums, previous: Sums) -> Sums:
    """Per level, org and category of either period: ``rules.growth`` of the per-unit values
    (``(0, 0)``, no value, where either period has nothing to divide by)."""
    this = {(lv, org, cat): (num, den) for lv, org, cat, num, den in current}
    last = {(lv, org, cat): (num, den) for lv, org, cat, num, den in previous}
    out = []
    for key in sorted(
        {k for k in (*this, *last) if k[0] in indicator.levels},
        key=lambda k: (LEVEL_ORDER[k[0]], k[1], k[2]),
    ):
        numerator, denominator = rules.growth(this.get(key), last.get(key))
        out.append((*key, numerator, denominator))
    return out


GRAIN = ["county_id", "township_id", "institution_id", "category"]
LEVEL_ORDER = {definitions.COUNTY: 0, definitions.TOWNSHIP: 1, definitions.INSTITUTION: 2}
UNKNOWN_CATEGORY = "未知"


def _levels(
    session: Session, indicator: definitions.Indicator, period: rules.Period
) -> list[tuple[str, Any, str, Decimal, Decimal]]:
    """``(level, org id, category, numerator, denominator)`` for each level the indicator rolls
    up to: the total (category ``""``) and, for a broken-down indicator, each category. One
    query per indicator at the finest grain; the levels are summed up here, exactly."""
    assert indicator.measure is not None
    measure = indicator.measure(session.tables, period)
    grouped = measure.group_by(GRAIN).aggregate(
        numerator=measure.numerator.sum(), denominator=measure.denominator.sum()
    )
    sums: dict[tuple[str, Any, str], list[Decimal]] = {}
    for row in session.run(grouped).to_pylist():
        numerator = Decimal(row["numerator"] or 0)
        denominator = Decimal(row["denominator"] or 0)
        categories = [""]
        if indicator.category_label:
            categories.append(row["category"] or UNKNOWN_CATEGORY)
        for level in indicator.levels:
            org = row[LEVEL_KEYS[level]]
            if org is None:
                continue
            for category in categories:
                acc = sums.setdefault((level, org, category), [Decimal(0), Decimal(0)])
                acc[0] += numerator
                acc[1] += denominator
    return [
        (level, org, category, acc[0], acc[1])
        for (level, org, category), acc in sorted(
            sums.items(), key=lambda kv: (LEVEL_ORDER[kv[0][0]], kv[0][1], kv[0][2])
        )
    ]
