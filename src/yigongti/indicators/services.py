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
    """institution → (township, county, grassroots) and resident → county, from the division
    tree (village → township → county)."""
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
        }
    )
    homes = pa.table(
        {
            "resident_id": residents["resident_id"],
            "county_id": pa.array(
                [up(d, DivisionLevel.COUNTY) for d in residents["division_id"].to_pylist()],
                pa.int64(),
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


def do_compute(
    period_text: str,
    *,
    engine: str = "duckdb",
    root: Path | None = None,
    progress: Progress | None = None,
    breakdown: bool = False,
) -> ComputeResult:
    """Compute every indicator with a measure for the period and store the results;
    ``breakdown`` (a year) also computes its quarters and months, for trends."""
    try:
        period = rules.parse_period(period_text)
        periods = [period]
        if breakdown:
            periods += rules.parts_of_year(period)
    except ValueError as exc:
        raise DomainError(str(exc), field="period") from None
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
    con = ibis.duckdb.connect()
    tables = definitions.Tables(
        encounters=_table(con, root, "encounters"),
        settlements=_table(con, root, "external_settlements"),
        places=ibis.memtable(place),
        homes=ibis.memtable(homes),
    )
    computed = [i for i in definitions.INDICATORS if i.measure is not None]
    now = clock.now()
    rows: list[IndicatorResult] = []
    steps = len(computed) * len(periods)
    for p_index, each in enumerate(periods):
        for n, indicator in enumerate(computed, start=1):
            assert indicator.measure is not None
            for level, org, category, numerator, denominator in _levels(
                con, indicator, tables, each
            ):
                rows.append(
                    IndicatorResult(
                        indicator_code=indicator.code,
                        period=each.code,
                        level=level,
                        org_code=codes[level].get(org, str(org)),
                        category=category,
                        numerator=numerator,
                        denominator=denominator,
                        value=rules.ratio(numerator, denominator, indicator.scale),
                        snapshot_id=manifest["snapshot_id"],
                        engine=engine,
                        computed_at=now,
                    )
                )
            if progress is not None:
                progress("计算指标", p_index * len(computed) + n, steps)
    with transaction.atomic():
        IndicatorResult.objects.filter(
            period__in=[p.code for p in periods], indicator_code__in=[i.code for i in computed]
        ).delete()
        IndicatorResult.objects.bulk_create(rows, batch_size=1000)
    return ComputeResult(
        period.code, manifest["snapshot_id"], len(rows), [i.code for i in computed]
    )


def _levels(
    con: Any, indicator: definitions.Indicator, tables: definitions.Tables, period: rules.Period
) -> list[tuple[str, Any, str, Decimal, Decimal]]:
    """``(level, org id, category, numerator, denominator)`` for each level the indicator rolls
    up to: the total (category ``""``) and, for a broken-down indicator, each category."""
    assert indicator.measure is not None
    measure = indicator.measure(tables, period)
    out = []
    for level in indicator.levels:
        key = LEVEL_KEYS[level]
        groupings: list[list[str]] = [[key]]
        if indicator.category_label:
            groupings.append([key, "category"])
        for keys in groupings:
            sums = (
                measure.filter(measure[key].notnull())
                .group_by(keys)
                .aggregate(numerator=measure.numerator.sum(), denominator=measure.denominator.sum())
                .order_by(keys)
            )
            for row in con.to_pyarrow(sums).to_pylist():
                out.append(
                    (
                        level,
                        row[key],
                        row.get("category") or "",
                        Decimal(row["numerator"] or 0),
                        Decimal(row["denominator"] or 0),
                    )
                )
    return out
