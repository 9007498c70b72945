"""``do_compute``: every computed indicator for a period, from the Parquet snapshot.

The engine reads the snapshot through Ibis (DuckDB by default), sums each indicator's
``(numerator, denominator)`` rows up to the levels it rolls up to and replaces the stored
results of that period. Results carry the snapshot id; a zero denominator is stored with no
value ("—" on the dashboard).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from ibis.backends.duckdb.converter import DuckDBPyArrowData

from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.analytics import services as snapshot
from yigongti.analytics.queries import default_root
from yigongti.core import clock
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.queries import get_parameter
from yigongti.core.services import do_record_audit
from yigongti.geo.choices import DivisionLevel
from yigongti.indicators import definitions, drilldown, queries, rules
from yigongti.indicators.choices import Verdict
from yigongti.indicators.models import (
    EvidenceAssessment,
    EvidenceItem,
    IndicatorResult,
    evidence_upload_to,
)
from yigongti.organizations.choices import GRASSROOTS_TYPES
from yigongti.organizations.models import Institution, Medcom

ENGINES = ("duckdb", "spark")  # spark: the optional extra, yigongti[spark] (analytics/spark.py)
Progress = Callable[[str, int, int], None]


@dataclass
class ComputeResult:
    period: str
    snapshot_id: str
    results: int
    indicators: list[str]


def _files(root: Path, name: str) -> list[Path]:
    return sorted((root / name).rglob("*.parquet")) if (root / name).is_dir() else []


def _read(root: Path, name: str, columns: list[str] | None = None) -> pa.Table:
    """A whole table into memory (dimensions; an empty table with the schema if none), or
    only ``columns`` of it."""
    schema = snapshot.schema_of(next(s for s in snapshot.TABLES if s.name == name))
    if columns is not None:
        schema = pa.schema([schema.field(c) for c in columns])
    files = _files(root, name)
    if not files:
        return schema.empty_table()
    return pa.concat_tables(pq.read_table(f, columns=columns, schema=schema) for f in files)


RESIDENT_COLUMNS = ["resident_id", "division_id", "merged_into_id", "is_deceased"]


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


LEVEL_KEYS = {
    definitions.COUNTY: "county_id",
    definitions.TOWNSHIP: "township_id",
    definitions.INSTITUTION: "institution_id",
    definitions.DOCTOR: "doctor_id",
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
    """An engine opened on a snapshot: the tables as Ibis expressions; ``run``, which
    executes an expression to an Arrow table; and ``start``, which begins executing one in
    the background and returns what waits for its table (``later``)."""

    tables: definitions.Tables
    run: Callable[[Any], pa.Table]
    close: Callable[[], None]
    start: Callable[[Any], Callable[[], pa.Table]] | None = None

    def later(self, expr: Any) -> Callable[[], pa.Table]:
        """``expr`` executing while the caller goes on (builds and compiles the next query);
        call the result for the table. At once, on an engine with no ``start``."""
        if self.start is None:
            table = self.run(expr)
            return lambda: table
        return self.start(expr)


# Queries in flight at once. The planner builds, compiles and reads off in Python (one core,
# the GIL) while the engine executes the queries already sent: on the county year the two
# overlap. The county year's 18 queries alone took the same time with 2, 3 or 4 in flight on
# 2 cores (0.54–0.58 s; DuckDB already runs one query on both), 2026-12-03.
QUERY_THREADS = 2


def _background(run: Callable[[Any], pa.Table]) -> tuple[Callable[..., Any], Callable[[], None]]:
    """``start`` over a pool of ``QUERY_THREADS`` that calls ``run`` there, and its shutdown."""
    pool = ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="yigongti-query")

    def start(job: Any) -> Callable[[], pa.Table]:
        return pool.submit(run, job).result

    def stop() -> None:
        pool.shutdown(wait=True, cancel_futures=True)

    return start, stop


# Set by Ibis on its connection (ibis/backends/duckdb Backend._post_connect), per connection.
_CURSOR_SETTINGS = ("timezone", "python_enable_replacements")  # lower case


def _open_duckdb(root: Path, place: pa.Table, homes: pa.Table) -> Session:
    """The snapshot on an in-memory DuckDB: each fact table a view of its Parquet files,
    the small tables copied in. All in the database's own schema (not temporary), so that the
    background cursors (``start``: a cursor per pool thread, as DuckDB's Python API asks of
    threads) see them as the session's connection does."""
    con = ibis.duckdb.connect()

    def native(name: str, table: pa.Table) -> Any:
        # Copied into DuckDB's own storage once: the cubes join the 520,000 homes of a county a
        # fifth faster than from an Arrow scan each time (docs/indicators.md). By hand, as Ibis
        # 12's create_table from Arrow fails on this DuckDB; the in-memory connection closes
        # with the session and takes the table with it.
        stored = ibis.util.gen_name(f"yigongti_{name}")
        con.con.from_arrow(table).create(stored)
        return con.table(stored)

    def parquet(name: str) -> Any:
        """A fact table straight from its Parquet files (DuckDB reads them); empty if none."""
        if not _files(root, name):
            return native(name, _read(root, name))
        view = ibis.util.gen_name(f"yigongti_{name}")
        pattern = str(root / name / "**" / "*.parquet")
        con.con.read_parquet(pattern, hive_partitioning=True).create_view(view, replace=False)
        return con.table(view)

    tables = definitions.Tables(
        encounters=parquet("encounters"),
        settlements=parquet("external_settlements"),
        places=native("places", place),
        homes=native("homes", homes),
        diagnoses=native("diagnoses", _read(root, "diagnoses")),
        referrals=parquet("referrals"),
        schedules=parquet("schedules"),
        bookings=parquet("bookings"),
        bed_bookings=parquet("bed_bookings"),
        wards=parquet("wards"),
    )
    local = threading.local()
    cursors: list[Any] = []
    settings = con.con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE lower(name) IN $names",
        {"names": list(_CURSOR_SETTINGS)},
    ).fetchall()
    assert len(settings) == len(_CURSOR_SETTINGS), settings  # a setting renamed by DuckDB

    def execute(job: tuple[Any, str]) -> pa.Table:
        expr, sql = job
        if not hasattr(local, "cursor"):
            # a cursor is a connection of its own, on DuckDB's defaults: it takes the settings
            # Ibis made on connecting (the time zone UTC, which timestamps are read in)
            local.cursor = con.con.cursor()
            for name, value in settings:
                local.cursor.execute(f"SET {name} = {value!r}")
            cursors.append(local.cursor)
        table = local.cursor.sql(sql).to_arrow_table()
        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)

    submit, stop = _background(execute)

    def start(expr: Any) -> Callable[[], pa.Table]:
        if expr.op().find(ops.InMemoryTable):  # registered on the session's connection only
            table = con.to_pyarrow(expr)
            return lambda: table
        return submit((expr, con.compile(expr.as_table())))

    def close() -> None:
        stop()
        for cursor in cursors:
            cursor.close()
        con.disconnect()

    return Session(tables, con.to_pyarrow, close, start)


# definitions.Tables field → snapshot table (analytics/services.py TABLES); ``places`` and
# ``homes`` are built from the dimensions, and any other field reads the snapshot table of its
# own name, so a table added to both needs no change in the Spark opener.
SNAPSHOT_TABLES = {"settlements": "external_settlements"}


def _open_spark(root: Path, place: pa.Table, homes: pa.Table) -> Session:
    """The same expressions on Spark (PySpark, through Ibis): the snapshot's Parquet read by
    Spark, ``places``/``homes`` sent as Arrow, each registered as a temporary view. Reuses the
    active Spark session (the CLI's ``--spark-master``, a test's) or starts one on
    ``settings.SPARK_MASTER`` and stops it on close."""
    from yigongti.analytics import spark

    session, created = spark.get_session()
    con = ibis.pyspark.connect(session)
    views: list[str] = []
    built = {"places": place, "homes": homes}

    def view(name: str) -> Any:
        frame = (
            spark.from_arrow(session, built[name])
            if name in built
            else spark.read_table(session, root, SNAPSHOT_TABLES.get(name, name))
        )
        views.append(ibis.util.gen_name(f"yigongti_{name}"))
        frame.createOrReplaceTempView(views[-1])
        return con.table(views[-1])

    # No ``start``: queries sent ahead on a pool (as DuckDB's are) ran the province in the same
    # time, 85 against 88 s in one run each (2026-12-03); each runs when it is read.
    def close() -> None:
        for name in views:
            session.catalog.dropTempView(name)
        if created:
            session.stop()

    try:
        tables = definitions.Tables(
            **{f.name: view(f.name) for f in dataclasses.fields(definitions.Tables) if f.init}
        )
    except BaseException:
        close()
        raise
    return Session(tables, con.to_pyarrow, close)


OPENERS: dict[str, Callable[[Path, pa.Table, pa.Table], Session]] = {
    "duckdb": _open_duckdb,
    "spark": _open_spark,
}


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
    only: Iterable[str] | None = None,
) -> Evaluation:
    """Every indicator with a measure for each period (or only those of ``only``; a growth
    rate brings its base along unasked), from the snapshot, nothing stored."""
    if engine not in ENGINES:
        raise DomainError(f"计算引擎“{engine}”不可用，可选：{'、'.join(ENGINES)}", field="engine")
    root = root or default_root()
    manifest = snapshot.read_manifest(root)
    if not manifest.get("snapshot_id"):
        raise DomainError("还没有分析快照：请先运行 yigongti snapshot", field="snapshot")
    divisions = _read(root, "divisions")
    institutions = _read(root, "institutions")
    place, homes = places(divisions, institutions, _read(root, "residents", RESIDENT_COLUMNS))

    def code_of(table: Any, key: str) -> dict[int, str]:
        return dict(zip(table[key].to_pylist(), table["code"].to_pylist(), strict=True))

    division_codes = code_of(divisions, "division_id")
    codes = {
        definitions.COUNTY: division_codes,
        definitions.TOWNSHIP: division_codes,
        definitions.INSTITUTION: code_of(institutions, "institution_id"),
        definitions.DOCTOR: code_of(_read(root, "practitioners"), "practitioner_id"),
    }
    wanted = None if only is None else set(only)
    if wanted is not None and (unknown := wanted - {i.code for i in definitions.INDICATORS}):
        raise DomainError(f"没有指标：{'、'.join(sorted(unknown))}", field="only")
    computed = [
        i for i in definitions.INDICATORS if i.computed and (wanted is None or i.code in wanted)
    ]
    # what is planned: the measures asked for and the bases of the growth rates asked for
    measured = [i for i in computed if i.measure is not None]
    for i in computed:
        if i.growth_of and (base := definitions.get(i.growth_of)) not in measured:
            measured.append(base)
    session = OPENERS[engine](root, place, homes)
    rows: list[ResultRow] = []
    # Growth rates also need the same periods a year earlier, computed in the same pass.
    asked = {p.code for p in periods}
    earlier = []
    if any(i.growth_of for i in computed):
        earlier = [
            e for e in dict.fromkeys(rules.previous_year(p) for p in periods) if e.code not in asked
        ]

    def step(done: int, total: int) -> None:
        if progress is not None:
            progress("计算指标", done, total)

    try:
        memo = _levels_planned(session, measured, periods, step, earlier)
        for each in periods:
            for indicator in computed:
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
    manifest = snapshot.read_manifest(root or default_root())
    first, last = snapshot.data_range(manifest)
    # (no snapshot at all: evaluate says so)
    if manifest.get("snapshot_id") and rules.outside_data(periods[0], first, last):
        shown = f"快照的数据为 {first} 至 {last}" if first else "快照中还没有就诊数据"
        raise DomainError(
            f"统计期 {periods[0].code} 没有数据（{shown}），未计算：结果会全是 0",
            field="period",
        )
    # a breakdown's quarters and months after (or before) the data: not stored as zeros
    replaced = [p.code for p in periods]
    if first:
        periods = [periods[0], *(p for p in periods[1:] if not rules.outside_data(p, first, last))]
    result = evaluate(periods, engine=engine, root=root, progress=progress)
    with transaction.atomic():
        IndicatorResult.objects.filter(
            period__in=replaced, indicator_code__in=result.indicators
        ).delete()
        _store(result, engine, clock.now(), progress)
    return ComputeResult(periods[0].code, result.snapshot_id, len(result.rows), result.indicators)


# What ``_store`` inserts in one statement's batch.
STORE_BATCH = 5000
_STORED = (
    "indicator_code",
    "period",
    "level",
    "org_code",
    "category",
    "numerator",
    "denominator",
    "value",
    "snapshot_id",
    "engine",
    "computed_at",
)


def _store(
    result: Evaluation, engine: str, now: dt.datetime, progress: Progress | None = None
) -> None:
    """The evaluation's rows inserted as ``IndicatorResult``s, ``STORE_BATCH`` at a time, with
    a "保存结果" bar: PostgreSQL's ``COPY`` (psycopg's ``copy``), elsewhere ``executemany`` on
    the connection's cursor. Not ``bulk_create``: preparing 240,753 model instances field by
    field took 9 of the 12 s of a county's 17-period compute on SQLite, and ``executemany``
    7 s on PostgreSQL (bench county, 2026-12-03). The values go to the driver as the ORM sends
    them (text, Decimals; the time adapted once by its field), so they read back the same; the
    caller holds the transaction."""
    meta = IndicatorResult._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(
        quote(str(getattr(meta.get_field(name), "column", name))) for name in _STORED
    )
    stamp = meta.get_field("computed_at").get_db_prep_save(now, connection)
    adapt = connection.ops.adapt_decimalfield_value
    snapshot_id, rows, total = result.snapshot_id, result.rows, len(result.rows)

    def batch(start: int) -> list[tuple[Any, ...]]:
        return [
            (
                r.indicator_code,
                r.period,
                r.level,
                r.org_code,
                r.category,
                adapt(r.numerator),
                adapt(r.denominator),
                None if r.value is None else adapt(r.value),
                snapshot_id,
                engine,
                stamp,
            )
            for r in rows[start : start + STORE_BATCH]
        ]

    # the table and column names are the model's, quoted; every value is a parameter
    marks = ", ".join(["%s"] * len(_STORED))
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, total, STORE_BATCH):
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for values in batch(start):
                        copy.write_row(values)
            else:
                cursor.executemany(insert, batch(start))
            if progress is not None:
                progress("保存结果", min(start + STORE_BATCH, total), total)


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
        key=lambda k: (definitions.LEVEL_ORDER[k[0]], k[1], k[2]),
    ):
        numerator, denominator = rules.growth(this.get(key), last.get(key))
        out.append((*key, numerator, denominator))
    return out


GRAIN = ["county_id", "township_id", "institution_id", "doctor_id", "category"]
UNKNOWN_CATEGORY = "未知"


def _levels(
    session: Session, indicator: definitions.Indicator, period: rules.Period
) -> list[tuple[str, Any, str, Decimal, Decimal]]:
    """``(level, org id, category, numerator, denominator)`` for each level the indicator rolls
    up to: the total (category ``""``) and, for a broken-down indicator, each category. One
    query for this indicator at the finest grain; the levels are summed up here, exactly."""
    return _levels_later(session, indicator, period)()


def _levels_later(
    session: Session, indicator: definitions.Indicator, period: rules.Period
) -> Callable[[], list[tuple[str, Any, str, Decimal, Decimal]]]:
    """``_levels`` with its query sent (``Session.later``): call the result for the sums."""
    assert indicator.measure is not None
    measure = indicator.measure(session.tables, period)
    grouped = measure.group_by(GRAIN).aggregate(
        numerator=measure.numerator.sum(), denominator=measure.denominator.sum()
    )
    result = session.later(grouped)
    return lambda: _rollup(indicator, [_grain_table(result())])


# Sums are exact decimals throughout: the measures' values are ``definitions.MONEY``
# (decimal(18, 2)), the engines sum them to decimals of 38 digits, and Arrow adds those
# exactly (its decimal kernels, not floats) in the rollups below.
VALUE = pa.decimal128(38, 2)
_GRAIN_TYPES = {
    "county_id": pa.int64(),
    "township_id": pa.int64(),
    "institution_id": pa.int64(),
    "doctor_id": pa.int64(),
    "category": pa.string(),
    "numerator": VALUE,
    "denominator": VALUE,
}


def _grain_table(table: pa.Table) -> pa.Table:
    """Finest-grain rows in the one schema every branch and engine shares."""
    return pa.table({name: pc.cast(table[name], kind) for name, kind in _GRAIN_TYPES.items()})


def _rollup(indicator: definitions.Indicator, tables: list[pa.Table]) -> Sums:
    """Finest-grain rows (``_grain_table``s; a grain may repeat) summed up to the
    indicator's levels and categories, exactly (a missing value counts as 0), in a fixed
    order."""
    return _rollups(indicator, {"": tables})[""]


def _rollups(
    indicator: definitions.Indicator, tables: dict[str, list[pa.Table]]
) -> dict[str, Sums]:
    """``_rollup`` of each period's rows (period code → tables), in one grouping per level
    with the period as a key: Arrow's grouped sums (exact decimal kernels), as a year's
    breakdown rolls up 17 periods and 0.3 M rows."""
    codes = list(tables)
    parts = [
        t.append_column("period", pa.repeat(pa.scalar(at, pa.int32()), t.num_rows))
        for at, code in enumerate(codes)
        for t in tables[code]
        if t.num_rows
    ]
    out: dict[str, Sums] = {code: [] for code in codes}
    if not parts:
        return out
    table = pa.concat_tables(parts)
    if indicator.category_label:  # no category (null or "") is the unknown one
        category = table["category"]
        known = pc.fill_null(pc.not_equal(category, ""), False)
        table = table.set_column(
            table.schema.get_field_index("category"),
            "category",
            pc.if_else(known, category, UNKNOWN_CATEGORY),
        )
    sums = [("numerator", "sum"), ("denominator", "sum")]
    zero = Decimal(0)
    for level in sorted(indicator.levels, key=definitions.LEVEL_ORDER.__getitem__):
        key = LEVEL_KEYS[level]
        placed = table.filter(pc.is_valid(table[key]))
        total = placed.group_by(["period", key]).aggregate(sums)
        grouped = [total.append_column("category", pa.repeat(pa.scalar(""), total.num_rows))]
        if indicator.category_label:
            grouped.append(placed.group_by(["period", key, "category"]).aggregate(sums))
        names = ["period", key, "category", "numerator_sum", "denominator_sum"]
        ordered = pa.concat_tables([g.select(names) for g in grouped]).sort_by(
            [("period", "ascending"), (key, "ascending"), ("category", "ascending")]
        )
        period, org, category, numerator, denominator = (
            ordered[name].to_pylist() for name in names
        )
        for at, o, c, n, d in zip(period, org, category, numerator, denominator, strict=True):
            out[codes[at]].append((level, o, c, n or zero, d or zero))
    return out


# The planner: measures are written one per indicator and per period, but most read the same
# rows (the encounters at member institutions, filtered by visit, settlement or discharge date)
# and differ only in filters, values and period. Each measure is built once with a SYMBOLIC
# period (its dates are query parameters) and split into its union branches; a branch is a
# projection (``_shape``) over a base relation (a table or a join chain) under some filters.
# Branches over the same base are computed for EVERY period in ONE grouped query, a small cube:
#   - every distinct conjunct of the filters without the period is a boolean group key;
#   - every ``x.between(period start, period end)`` becomes a group key "bucket of x" (its
#     year, or year × 100 + month when a quarter or month is wanted): any period is a set of
#     buckets, so each period is read off the cube;
#   - the place (county, township, institution) and category expressions are group keys;
#   - every distinct numerator/denominator expression is one sum (a constant is a multiple of
#     the row count), shared by the branches that use it.
# Each branch then sums, per period, the cube rows whose keys it wants (in Arrow: the cube has
# hundreds to tens of thousands of rows). Exactly the sums of the separate per-period queries:
# a row counts for a branch and period iff all its filters hold. A measure of another shape
# (a period used in another way, e.g. as epoch seconds) is computed per period (``_levels``).
_PLACE_KEYS = ("county_id", "township_id", "institution_id", "doctor_id")
_NO_DOCTOR = ibis.null().cast("int64").op()


@dataclass(frozen=True)
class _Branch:
    indicator: definitions.Indicator
    base: tuple[Any, ...]  # ("rel", relation) or ("chain", first, rest) of a join chain
    conjuncts: tuple[Any, ...]  # boolean value ops bound to the base, free of the period
    ranges: tuple[Any, ...]  # value ops bound to the base that must fall in the period
    values: dict[str, Any]  # _shape's columns, bound to the base


@dataclass(frozen=True)
class _Symbolic:
    """The symbolic period: its start and end as query parameters (never bound: each branch
    replaces ``x.between(start, end)`` by the bucket of ``x``)."""

    period: rules.Period
    start: Any  # the ScalarParameter ops
    end: Any
    # op → whether it reads the period: the measures share their bases, so each is walked once
    uses: dict[Any, bool] = dataclasses.field(default_factory=dict, compare=False)

    def uses_period(self, op: Any) -> bool:
        if op not in self.uses:
            self.uses[op] = bool(op.find(ops.ScalarParameter))
        return self.uses[op]


def _symbolic() -> _Symbolic:
    start, end = ibis.param("date"), ibis.param("date")
    return _Symbolic(rules.Period("*", start, end), start.op(), end.op())


def _branches(op: Any) -> list[Any]:
    """The branches of a ``union(..., distinct=False)`` (the measure itself otherwise)."""
    if isinstance(op, ops.Union) and not op.distinct:
        return _branches(op.left) + _branches(op.right)
    return [op]


def _conjuncts(op: Any) -> list[Any]:
    if isinstance(op, ops.And):
        return _conjuncts(op.left) + _conjuncts(op.right)
    return [op]


def _split(indicator: definitions.Indicator, op: Any, symbolic: _Symbolic) -> _Branch | None:
    """A branch as base, period-free conjuncts, period ranges and projected values; ``None``
    for another shape or a period used other than as ``x.between(start, end)``."""
    filters: list[Any] = []
    if isinstance(op, ops.JoinChain):  # ``_shape`` over a join: the values sit in the chain
        base: tuple[Any, ...] = ("chain", op.first, op.rest)
        values = dict(op.values)
    elif isinstance(op, ops.Project):
        rel, values = op.parent, dict(op.values)
        while isinstance(rel, ops.Filter):  # move the filters' fields onto their parent
            parent = rel.parent
            onto = {ops.Field(rel, name): ops.Field(parent, name) for name in rel.schema.names}
            values = {k: v.replace(onto, filter=ops.Value) for k, v in values.items()}
            filters = [f.replace(onto, filter=ops.Value) for f in filters]
            filters += list(rel.predicates)
            rel = parent
        base = ("rel", rel)
    else:
        return None
    if not {*GRAIN, "numerator", "denominator"} <= values.keys():
        return None
    if definitions.DOCTOR not in indicator.levels:
        # no doctor level: the cube need not split its groups by doctor for this branch
        values["doctor_id"] = _NO_DOCTOR
    conjuncts: list[Any] = []
    ranges: list[Any] = []
    for predicate in filters:
        for c in _conjuncts(predicate):
            if (
                isinstance(c, ops.Between)
                and c.lower_bound == symbolic.start
                and c.upper_bound == symbolic.end
                and not symbolic.uses_period(c.arg)
            ):
                ranges.append(c.arg)
            else:
                conjuncts.append(c)
    parts = [*conjuncts, *values.values(), *(b for b in base[1:] if isinstance(b, ops.Node))]
    parts += [r for b in base[1:] if isinstance(b, tuple) for r in b]
    if any(symbolic.uses_period(x) for x in parts):
        return None
    return _Branch(indicator, base, tuple(conjuncts), tuple(ranges), values)


def _constant(op: Any) -> Decimal | None:
    """The value of a constant numerator/denominator (``_shape`` casts a literal to money),
    with the places of its decimal type (a sum of ``1.00`` is ``n.00``, as the engine's);
    ``None`` for an expression of the row."""
    scale = op.to.scale if isinstance(op, ops.Cast) and op.to.is_decimal() else None
    while isinstance(op, ops.Cast):
        op = op.arg
    if isinstance(op, ops.Literal) and isinstance(op.value, (int, Decimal)):
        value = Decimal(op.value)
        return value if scale is None else value.quantize(Decimal(1).scaleb(-scale))
    return None


MONTHLY, YEARLY = "month", "year"


def _bucket(op: Any, grain: str) -> Any:
    value = op.to_expr()
    if grain == YEARLY:
        return value.year().cast("int64")
    return (value.year() * 100 + value.month()).cast("int64")


def _buckets(period: rules.Period, grain: str) -> frozenset[int]:
    if grain == YEARLY:
        return frozenset(range(period.start.year, period.end.year + 1))
    return frozenset(int(month.replace("-", "")) for month in rules.months_of(period))


def _grain(periods: list[rules.Period]) -> str:
    whole_years = all(
        p.start == dt.date(p.start.year, 1, 1) and p.end == dt.date(p.end.year, 12, 31)
        for p in periods
    )
    return YEARLY if whole_years else MONTHLY


def _levels_planned(
    session: Session,
    indicators: list[definitions.Indicator],
    periods: list[rules.Period],
    progress: Callable[[int, int], None] | None = None,
    earlier: list[rules.Period] | None = None,
) -> dict[tuple[str, str], Sums]:
    """``_levels`` of every indicator with a measure for every period: ``(code, period code)``
    → sums. Planned branches share one query per base for all periods (and the ``earlier``
    ones, for growth rates); the rest are computed per period (``_sums`` computes an earlier
    period it needs)."""
    planned_periods = [*periods, *(earlier or [])]
    symbolic = _symbolic()
    alone: list[definitions.Indicator] = []
    groups: dict[tuple[Any, ...], list[_Branch]] = {}
    for indicator in indicators:
        assert indicator.measure is not None
        try:
            expr = indicator.measure(session.tables, symbolic.period)
        except Exception:  # the measure computes with the dates (e.g. epoch seconds)
            alone.append(indicator)
            continue
        split = [_split(indicator, op, symbolic) for op in _branches(expr.op())]
        if any(b is None for b in split):
            alone.append(indicator)
            continue
        for branch in split:
            assert branch is not None
            # by doctor in a cube of its own: grouping every branch of a base by doctor
            # would multiply the groups of those that have no doctor level
            key = (branch.base, definitions.DOCTOR in indicator.levels)
            groups.setdefault(key, []).append(branch)
    grain = _grain(planned_periods)
    wanted = [(p, _buckets(p, grain)) for p in planned_periods]
    rows: dict[tuple[str, str], list[pa.Table]] = {
        (i.code, p.code): [] for i in indicators if i not in alone for p in planned_periods
    }
    steps, done = len(groups) + len(alone) * len(periods), 0
    if progress is not None:  # the bar shows its length before the first (largest) query
        progress(done, steps)
    # Every query is sent before the first result is read: the engine executes the first
    # (largest) cube while the next ones are built and compiled here.
    pending: list[tuple[tuple[str, str] | None, Callable[[], Any]]] = [
        (None, _planned_query(session, branches, grain, wanted, rows))
        for branches in groups.values()
    ]
    pending += [((i.code, p.code), _levels_later(session, i, p)) for i in alone for p in periods]
    out: dict[tuple[str, str], Sums] = {}
    for measured, finish in pending:
        result = finish()
        if measured is not None:
            out[measured] = result
        done += 1
        if progress is not None:
            progress(done, steps)
    for indicator in indicators:
        if indicator not in alone:
            each = {p.code: rows[(indicator.code, p.code)] for p in planned_periods}
            for code, sums in _rollups(indicator, each).items():
                out[(indicator.code, code)] = sums
    return out


def _planned_query(
    session: Session,
    branches: list[_Branch],
    grain: str,
    wanted: list[tuple[rules.Period, frozenset[int]]],
    rows: dict[tuple[str, str], list[pa.Table]],
) -> Callable[[], None]:
    """One grouped query (the cube) for the branches over one base, for every period, sent;
    calling the result appends each branch's finest-grain rows per period to ``rows``."""

    def slot(items: list[Any], item: Any) -> int:
        if item not in items:
            items.append(item)
        return items.index(item)

    keys: list[Any] = []  # place, category and conjunct ops
    ranges: list[Any] = []  # ops bucketed by period
    sums: list[Any] = []  # value ops summed
    plan = []
    for b in branches:
        sides = []
        for side in ("numerator", "denominator"):
            constant = _constant(b.values[side])
            sides.append(
                ("const", constant)
                if constant is not None
                else ("sum", slot(sums, _summand(b.values[side])))
            )
        plan.append(
            (
                b.indicator.code,
                [slot(keys, b.values[k]) for k in (*_PLACE_KEYS, "category")],
                [slot(keys, c) for c in b.conjuncts],
                [slot(ranges, r) for r in b.ranges],
                sides,
            )
        )
    first = branches[0]
    if first.base[0] == "chain" or isinstance(first.base[1], ops.JoinChain):
        pushed = _pushed_down(session, first.base, keys, ranges, sums, plan, grain, wanted)
        if pushed is not None:
            return lambda: _read_off(pushed(), plan, wanted, rows)
    fields: dict[str, Any] = {f"k{j}": op for j, op in enumerate(keys)}
    fields.update({f"r{j}": op for j, op in enumerate(ranges)})
    fields.update({f"v{u}": op for u, op in enumerate(sums)})
    if first.base[0] == "chain":
        table = ops.JoinChain(first.base[1], first.base[2], fields).to_expr()
    else:
        table = ops.Project(first.base[1], fields).to_expr()
    cube = _cube(table, plan, grain, wanted, range(len(keys)), [f"v{u}" for u in range(len(sums))])
    result = session.later(cube)
    return lambda: _read_off(result(), plan, wanted, rows)


def _cube(
    table: Any,
    plan: list[Any],
    grain: str,
    wanted: list[tuple[rules.Period, frozenset[int]]],
    in_table: Iterable[int],
    summed: list[str],
) -> Any:
    """The grouped query over ``table`` (columns ``k…`` keys, ``r…`` ranges, ``summed``, and
    any other key such as the join column): only the rows some branch wants in some period
    (its conjuncts hold and its ranges fall between the first and the last day asked for),
    conjuncts null → false, ranges bucketed, grouped by all but ``summed``, with the count.
    ``in_table``: the key indexes that are columns of ``table`` (a conjunct of another one is
    checked after the query: the rows here are a superset)."""
    present = set(in_table)
    low = min(p.start for p, _b in wanted)
    high = max(p.end for p, _b in wanted)
    wants = _wanted_rows(
        [
            ([f"k{j}" for j in conj if j in present], [f"r{j}" for j in rng])
            for _c, _p, conj, rng, _s in plan
        ]
    )
    table = table.filter(_filter_of(table, wants, low, high))
    conjuncts = sorted({j for _c, _p, conj, _r, _s in plan for j in conj} & present)
    table = table.mutate(
        **{f"k{j}": table[f"k{j}"].fill_null(False) for j in conjuncts},
        **{
            name: _bucket(table[name].op(), grain) for name in table.columns if name.startswith("r")
        },
    )
    group = [name for name in table.columns if name not in summed]
    return table.group_by(group).aggregate(
        n=table.count(), **{name: table[name].sum() for name in summed}
    )


def _summand(op: Any) -> Any:
    """What a cube sums for the value ``op``: ``op`` less the casts that change no row's
    value (to a decimal of the same scale and at least the precision, or a flag as 0/1 to a
    narrower integer), since every sum is read back as ``VALUE``. DuckDB sums a decimal or an
    integer column of known range in 64 bits, a cast of it in 128: the county year's doctor
    cube took 0.226 s with the casts and 0.139 s without (measured in one process, raw SQL,
    docs/indicators.md)."""
    while isinstance(op, ops.Cast) and op.to.is_decimal():
        kind = op.arg.dtype
        if (
            kind.is_decimal()
            and None not in (kind.scale, kind.precision, op.to.precision)
            and kind.scale == op.to.scale
            and kind.precision <= op.to.precision
        ):
            op = op.arg
        elif kind.is_integer() and kind.nbytes <= 4:
            op = op.arg
        elif isinstance(op.arg, ops.Cast) and kind.is_integer() and op.arg.arg.dtype.is_boolean():
            op = ops.Cast(op.arg.arg, "int32")
        else:
            break
    return op


def _wanted_rows(terms: list[tuple[list[str], list[str]]]) -> list[frozenset[tuple[str, str]]]:
    """The rows some branch wants, as few alternatives as say the same: per branch, its
    conjunct columns (true) and range columns (between the first and last day asked for);
    a repeated alternative, or one that holds only where another already holds (its terms
    include all of another's), is dropped. Empty: every row."""
    alternatives = {
        frozenset([*(("k", c) for c in conj), *(("r", c) for c in rng)]) for conj, rng in terms
    }
    kept = [a for a in alternatives if not any(b < a for b in alternatives)]
    return sorted(kept, key=lambda a: sorted(a))


def _filter_of(
    table: Any, alternatives: list[frozenset[tuple[str, str]]], low: Any, high: Any
) -> Any:
    """``_wanted_rows`` as an Ibis predicate over the cube's columns."""

    def term(kind: str, column: str) -> Any:
        return table[column] if kind == "k" else table[column].between(low, high)

    ors = [
        ibis.and_(*(term(k, c) for k, c in sorted(a))) if a else ibis.literal(True)
        for a in alternatives
    ]
    return ibis.or_(*ors)


def _refs(op: Any) -> set[Any]:
    """The relations whose fields a value op reads (not looking inside subqueries)."""
    return {f.rel for f in op.find(ops.Field, filter=ops.Value)}


def _equi_key(link: Any) -> tuple[Any, str] | None:
    """A link joined on one equality of one of its table's columns with a value of the other
    side: (that value, the column); ``None`` for any other predicate."""
    if len(link.predicates) != 1 or not isinstance(link.predicates[0], ops.Equals):
        return None
    predicate = link.predicates[0]
    for ours, other in ((predicate.left, predicate.right), (predicate.right, predicate.left)):
        if (
            isinstance(ours, ops.Field)
            and ours.rel == link.table
            and link.table not in _refs(other)
        ):
            return other, ours.name
    return None


def _read_by_others(link: Any, rest: Iterable[Any]) -> bool:
    """Whether another link of the chain reads the link's table in its predicates."""
    return any(link.table in _refs(q) for x in rest if x is not link for q in x.predicates)


def _dimension(base: tuple[Any, ...], dimension: Any) -> tuple[Any, Any, str] | None:
    """The link of a join chain that inner-joins ``dimension`` on one equality of one of its
    columns, with the other side of that equality and the column; ``None`` if the chain has
    no such link or another link's predicates read it."""
    _kind, _first, rest = base
    for link in rest:
        if link.how != "inner" or link.table.parent != dimension:
            continue
        key = _equi_key(link)
        if key is None:
            continue
        if _read_by_others(link, rest):
            return None
        return link, *key
    return None


# The dimensions ``places`` builds hold one row per key: a left join to one on that key keeps
# each row of the other side once.
UNIQUE_KEYS = {"homes": "resident_id", "places": "institution_id"}


def _unique_on(session: Session, rel: Any, name: str) -> bool:
    """Whether ``rel`` has at most one row per value of its column ``name``: a dimension of
    ``UNIQUE_KEYS`` on its key, under filters and projections that pass that column on."""
    while True:
        if isinstance(rel, ops.Filter):
            rel = rel.parent
        elif isinstance(rel, ops.Project) and isinstance(rel.values.get(name), ops.Field):
            rel, name = rel.values[name].rel, rel.values[name].name
        else:
            return any(
                rel == getattr(session.tables, table).op() and name == key
                for table, key in UNIQUE_KEYS.items()
            )


def _unread_dropped(session: Session, rest: tuple[Any, ...], values: Iterable[Any]) -> tuple:
    """The links of a join chain less each left join that nothing reads (no value, no other
    link's predicates) on one equality with a key of a dimension unique on it: such a link
    keeps every row once and adds no column used, so the query is spared it (the homes of the
    patients, where a cube reads nothing of the home: 0.25 → 0.15 s for the county year's
    doctor cube, measured in one process)."""
    read = set().union(*(_refs(v) for v in values))
    kept = list(rest)
    for link in rest:
        if link.how != "left" or link.table in read or _read_by_others(link, kept):
            continue
        key = _equi_key(link)
        if key is not None and _unique_on(session, link.table.parent, key[1]):
            kept.remove(link)
    return tuple(kept)


def _case_split(op: Any, side: Callable[[Any], str]) -> tuple[Any, Any, Any] | None:
    """``ifelse(condition, a, b)`` under casts, with a condition of the dimension only and
    ``a``, ``b`` of the fact side: (condition, cast(a), cast(b)); ``None`` otherwise."""
    casts = []
    while isinstance(op, ops.Cast):
        casts.append(op.to)
        op = op.arg
    if not isinstance(op, ops.IfElse) or side(op.bool_expr) != "dim":
        return None
    pieces = []
    for piece in (op.true_expr, op.false_null_expr):
        if side(piece) != "fact":
            return None
        for to in reversed(casts):
            piece = ops.Cast(piece, to)
        pieces.append(piece)
    return op.bool_expr, pieces[0], pieces[1]


def _pushed_down(
    session: Session,
    base: tuple[Any, ...],
    keys: list[Any],
    ranges: list[Any],
    sums: list[Any],
    plan: list[Any],
    grain: str,
    wanted: list[tuple[rules.Period, frozenset[int]]],
) -> Callable[[], pa.Table] | None:
    """The cube of a join chain over ``places``, grouped BEFORE the places join: the
    encounter side (and its other joins) grouped by the institution as well, and what is read
    from the places (township, county, tier, 基层) — a function of the institution — joined to
    those few thousand groups afterwards, here. A sum of a value of the places alone is that
    value × the group's count; ``ifelse(place condition, a, b)`` sums to Σa or Σb. The same
    rows as ``_planned_query``'s single query (an inner join: groups of no institution in the
    places drop out; a place with several rows multiplies, as the join does): the county
    year's encounter cube took 0.58–0.64 s so against 0.81–0.84 s in one query (measured in one
    process, docs/indicators.md). ``None`` for a chain with no places
    link or a value mixing both sides in another way (the single query computes it). The
    queries are sent here; calling the result joins what they return."""
    if base[0] == "rel":  # a filtered join: its fields are the chain's values
        chain = base[1]
        onto = {ops.Field(chain, name): value for name, value in chain.values.items()}
        keys, ranges, sums = (
            [op.replace(onto, filter=ops.Value) for op in ops_] for ops_ in (keys, ranges, sums)
        )
        base = ("chain", chain.first, chain.rest)
    found = _dimension(base, session.tables.places.op())
    if found is None:
        return None
    link, join_on, dim_key = found

    def side(op: Any) -> str:
        refs = _refs(op)
        if link.table not in refs:
            return "fact"
        return "dim" if refs == {link.table} else "mixed"

    key_side = [side(k) for k in keys]
    if "mixed" in key_side or any(side(r) != "fact" for r in ranges):
        return None
    inner: list[Any] = []  # fact-side value ops summed in the engine
    outer: list[Any] = []  # places-side value ops read per institution
    how: list[tuple[Any, ...]] = []  # per sum: ("sum", i) | ("dim", i) | ("case", c, a, b)

    def piece(op: Any) -> tuple[str, Any]:
        constant = _constant(op)
        if constant is not None:
            return ("const", constant)
        op = _summand(op)
        if op not in inner:
            inner.append(op)
        return ("sum", inner.index(op))

    for value in sums:
        kind = side(value)
        if kind == "fact":
            how.append(piece(value))
        elif kind == "dim":
            outer.append(value)
            how.append(("dim", len(outer) - 1))
        elif (split := _case_split(value, side)) is not None:
            condition, then, otherwise = split
            outer.append(condition)
            how.append(("case", len(outer) - 1, piece(then), piece(otherwise)))
        else:
            return None
    _kind, first, rest = base
    rest = tuple(x for x in rest if x is not link)
    fields: dict[str, Any] = {f"k{j}": k for j, k in enumerate(keys) if key_side[j] == "fact"}
    fields.update({f"r{j}": op for j, op in enumerate(ranges)})
    fields.update({f"s{i}": op for i, op in enumerate(inner)})
    # the join column: a key already when the cube groups by the institution (most do)
    is_conjunct = {j for _c, _p, conj, _r, _s in plan for j in conj}
    joined_by = next(
        (
            f"k{j}"
            for j, k in enumerate(keys)
            if k == join_on and key_side[j] == "fact" and j not in is_conjunct
        ),
        "j0",
    )
    if joined_by == "j0":
        fields[joined_by] = join_on
    rest = _unread_dropped(session, rest, fields.values())
    table = ops.JoinChain(first, rest, fields).to_expr()
    fact_keys = [j for j, s in enumerate(key_side) if s == "fact"]
    cube = _cube(table, plan, grain, wanted, fact_keys, [f"s{i}" for i in range(len(inner))])
    dimension = link.table.parent
    onto = {
        ops.Field(link.table, name): ops.Field(dimension, name) for name in dimension.schema.names
    }
    looked_up: dict[str, Any] = {"j": ops.Field(dimension, dim_key)}
    looked_up.update(
        {
            f"k{j}": k.replace(onto, filter=ops.Value)
            for j, k in enumerate(keys)
            if key_side[j] == "dim"
        }
    )
    looked_up.update({f"d{i}": op.replace(onto, filter=ops.Value) for i, op in enumerate(outer)})
    facts_later = session.later(cube)  # the cube first: it takes longest
    dims_later = session.later(ops.Project(dimension, looked_up).to_expr())
    return lambda: _places_joined(
        _int64(facts_later(), joined_by),
        _int64(dims_later(), "j"),
        joined_by,
        how,
        key_side,
        is_conjunct,
    )


def _places_joined(
    facts: pa.Table,
    dims: pa.Table,
    joined_by: str,
    how: list[tuple[Any, ...]],
    key_side: list[str],
    is_conjunct: set[int],
) -> pa.Table:
    """``_pushed_down``'s cube groups joined to the places rows they read (``dims``): the keys
    read from the places filled in (``is_conjunct``: the keys that are a branch's conjunct,
    false when null), the sums of places values multiplied out."""
    # each group with each row of its institution (none: the group drops out; null keys match
    # nothing), as the inner join in the engine would
    joined = facts.join(dims, keys=joined_by, right_keys="j", join_type="inner")
    count = joined["n"]

    def amount(part: tuple[str, Any]) -> Any:
        return pc.cast(joined[f"s{part[1]}"], VALUE) if part[0] == "sum" else _times(part[1], count)

    columns = {name: joined[name] for name in joined.column_names if name[0] in "kr" or name == "n"}
    for j in (j for j, s in enumerate(key_side) if s == "dim" and j in is_conjunct):
        columns[f"k{j}"] = pc.fill_null(pc.cast(joined[f"k{j}"], pa.bool_()), False)
    for u, way in enumerate(how):
        if way[0] == "dim":
            columns[f"v{u}"] = _times_column(joined[f"d{way[1]}"], count)
        elif way[0] == "case":
            condition = pc.fill_null(pc.cast(joined[f"d{way[1]}"], pa.bool_()), False)
            columns[f"v{u}"] = pc.if_else(condition, amount(way[2]), amount(way[3]))
        else:
            columns[f"v{u}"] = amount(way)
    return pa.table(columns)


def _int64(table: pa.Table, name: str) -> pa.Table:
    """The table with its column ``name`` as int64 (the engines may type an id otherwise)."""
    return table.set_column(
        table.schema.get_field_index(name), name, pc.cast(table[name], pa.int64())
    )


def _times(value: Decimal, count: Any) -> Any:
    """``value × count`` per row, exactly, as ``VALUE`` (a constant summed over the rows)."""
    scale = max(-int(value.as_tuple().exponent), 0)
    factor = pa.scalar(value, pa.decimal128(18, scale))
    return pc.cast(pc.multiply(pc.cast(count, pa.decimal128(19, 0)), factor), VALUE)


def _times_column(values: Any, count: Any) -> Any:
    """``value × count`` per row of a decimal, integer or boolean column, as ``VALUE``."""
    kind = values.type
    if not pa.types.is_decimal(kind):  # an integer (or a flag as 0/1): multiplied as integers
        product = pc.multiply_checked(pc.cast(values, pa.int64()), pc.cast(count, pa.int64()))
        return pc.cast(pc.cast(product, pa.decimal128(38, 0)), VALUE)
    narrow = pa.decimal128(18, kind.scale)
    product = pc.multiply(pc.cast(values, narrow), pc.cast(count, pa.decimal128(19, 0)))
    return pc.cast(product, VALUE)


def _read_off(
    result: pa.Table,
    plan: list[Any],
    wanted: list[tuple[rules.Period, frozenset[int]]],
    rows: dict[tuple[str, str], list[pa.Table]],
) -> None:
    """Each branch's rows of the cube (``k…`` keys, ``r…`` buckets, ``n``, ``v…`` sums), per
    period it wants, appended to ``rows`` as ``_grain_table``s."""
    buckets = {period.code: pa.array(sorted(b), pa.int64()) for period, b in wanted}
    for code, place, conj, rng, sides in plan:
        values = [
            pc.cast(result[f"v{arg}"], VALUE) if kind == "sum" else _times(arg, result["n"])
            for kind, arg in sides
        ]
        grain = pa.table(
            {
                **{
                    name: pc.cast(result[f"k{place[at]}"], _GRAIN_TYPES[name])
                    for at, name in enumerate(GRAIN)
                },
                "numerator": values[0],
                "denominator": values[1],
                **{f"r{j}": result[f"r{j}"] for j in rng},
            }
        )
        if conj:  # conjunct columns are never null (the cube fills them with false)
            grain = grain.filter(_all_of([result[f"k{j}"] for j in conj]))
        for period, _b in wanted:
            if rng:
                inside = _all_of(
                    [pc.is_in(grain[f"r{j}"], value_set=buckets[period.code]) for j in rng]
                )
                chosen = grain.filter(inside)
            else:
                chosen = grain
            if chosen.num_rows:
                rows[(code, period.code)].append(chosen.select(list(_GRAIN_TYPES)))


def _all_of(masks: list[Any]) -> Any:
    """The rows where every boolean mask holds."""
    out = masks[0]
    for mask in masks[1:]:
        out = pc.and_(out, mask)
    return out


# ---------------------------------------------------------------------------
# Evidence register of the qualitative indicators nhc-01 … nhc-03
# ---------------------------------------------------------------------------

EVIDENCE_RESOURCE = "indicator_evidence"
ASSESSMENT_RESOURCE = "indicator_assessment"


@dataclass(frozen=True)
class EvidenceInput:
    """What an uploader states about one evidence file."""

    indicator_code: str
    criterion: str
    year: int
    title: str
    document_date: dt.date
    description: str = ""
    institution_code: str = ""  # the member institution it concerns; "" for the whole medcom


def check_register_medcom(actor: Actor, medcom: Medcom) -> None:
    """The actor's scope reaches a member of ``medcom``; AccessDenied otherwise."""
    if medcom.pk not in {m.pk for m in queries.list_register_medcoms(actor.scope)}:
        raise AccessDenied("该医共体不在您的数据范围内")


def _check_indicator_year(code: str, year: int, today: dt.date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not definitions.criteria_of(code):
        errors["indicator_code"] = [
            f"指标“{code}”不是定性指标，只有 nhc-01、nhc-02、nhc-03 登记证据"
        ]
    errors.update(rules.check_register_year(year, today))
    return errors


def check_add_evidence(actor: Actor, medcom: Medcom, data: EvidenceInput) -> Institution | None:
    """Authorise and validate an upload's statements; returns the institution it concerns."""
    if not rules.can_upload_evidence(actor.role):
        raise AccessDenied("只有县级管理员、管理中心工作人员和机构管理员可以上传证据材料")
    check_register_medcom(actor, medcom)
    today = clock.today()
    errors = _check_indicator_year(data.indicator_code, data.year, today)
    keys = {c.key for c in definitions.criteria_of(data.indicator_code)}
    if data.indicator_code not in errors and data.criterion not in keys:
        errors["criterion"] = ["请选择该指标的评判要点"]
    title = data.title.strip()
    if not title:
        errors["title"] = ["请填写标题"]
    elif len(title) > 200:
        errors["title"] = ["标题不能超过 200 字"]
    if data.document_date > today:
        errors["document_date"] = ["文件日期不能晚于今天"]
    institution = None
    if data.institution_code:
        institution = Institution.objects.filter(code=data.institution_code, medcom=medcom).first()
        if institution is None:
            errors["institution_code"] = [f"机构“{data.institution_code}”不是该医共体的成员单位"]
    if errors:
        raise DomainError(errors)
    if actor.role == Role.INSTITUTION_ADMIN:
        own = actor.institution
        if institution is None or own is None or institution.pk != own.pk:
            raise AccessDenied("机构管理员只能为本机构上传证据材料（请选择本机构）")
    elif institution is not None and not actor.scope.covers_institution(institution.path):
        raise AccessDenied("该机构不在您的数据范围内")
    return institution


def _inspect(upload: File) -> tuple[bytes, frozenset[str] | None, str]:
    """The first bytes, the names inside a ZIP package (``None`` if it is not one) and the
    SHA-256 of the whole file."""
    upload.seek(0)
    head = upload.read(16)
    zip_names: frozenset[str] | None = None
    if head.startswith(rules.ZIP_MAGIC):
        upload.seek(0)
        try:
            with zipfile.ZipFile(upload) as package:
                zip_names = frozenset(package.namelist())
        except zipfile.BadZipFile:
            zip_names = None
    digest = hashlib.sha256()
    upload.seek(0)
    for piece in upload.chunks():
        digest.update(piece)
    upload.seek(0)
    return head, zip_names, digest.hexdigest()


def do_add_evidence(
    actor: Actor, medcom: Medcom, data: EvidenceInput, upload: File, filename: str
) -> EvidenceItem:
    """Store one evidence file with its statements (audited). The file is checked by type,
    content and size (policy parameter ``indicators.evidence_max_mb``) and stored under
    MEDIA_ROOT by its SHA-256; equal content is stored once."""
    institution = check_add_evidence(actor, medcom, data)
    today = clock.today()
    max_mb = int(get_parameter("indicators.evidence_max_mb", today, medcom.division.code))
    size = int(upload.size or 0)
    head, zip_names, sha256 = b"", None, ""
    if rules.evidence_kind(filename) is not None and 0 < size <= max_mb * 1024 * 1024:
        head, zip_names, sha256 = _inspect(upload)
    errors = rules.check_evidence_file(filename, size, max_mb, head, zip_names)
    if errors:
        raise DomainError(errors)
    kind = rules.evidence_kind(filename) or ""
    item = EvidenceItem(
        medcom=medcom,
        indicator_code=data.indicator_code,
        criterion=data.criterion,
        year=data.year,
        title=data.title.strip(),
        description=data.description.strip(),
        document_date=data.document_date,
        institution=institution,
        file_name=Path(filename).name[:200],
        kind=kind,
        size=size,
        sha256=sha256,
        uploaded_by=actor.user,
        uploaded_at=clock.now(),
    )
    name = evidence_upload_to(item, filename)
    if not default_storage.exists(name):
        upload.seek(0)
        name = default_storage.save(name, upload)
    item.file.name = name
    item.save()
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.CREATE,
        resource_type=EVIDENCE_RESOURCE,
        resource_id=item.pk,
        basis=AccessBasis.DATA_ENTRY,
        detail={
            "medcom": medcom.code,
            "indicator": item.indicator_code,
            "criterion": item.criterion,
            "year": item.year,
            "file": item.file_name,
            "sha256": sha256,
            "size": size,
        },
    )
    return item


def do_withdraw_evidence(actor: Actor, item: EvidenceItem, reason: str) -> EvidenceItem:
    """Mark an item 已撤回 with a reason (nothing is deleted). County admins withdraw any item
    in their scope; uploaders withdraw their own."""
    if not queries.can_see_evidence(actor.scope, item):
        raise AccessDenied("该证据材料不在您的数据范围内")
    if actor.role != Role.COUNTY_ADMIN and (
        item.uploaded_by_id != actor.user.pk or not rules.can_upload_evidence(actor.role)
    ):
        raise AccessDenied("只有县级管理员或上传人本人可以撤回证据材料")
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写撤回原因", field="reason")
    if len(reason) > 200:
        raise DomainError("撤回原因不能超过 200 字", field="reason")
    now = clock.now()
    updated = EvidenceItem.objects.filter(pk=item.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=actor.user, withdraw_reason=reason
    )
    if updated != 1:
        raise DomainError("该证据材料已被撤回", field="reason")
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.UPDATE,
        resource_type=EVIDENCE_RESOURCE,
        resource_id=item.pk,
        basis=AccessBasis.DATA_ENTRY,
        purpose=reason,
        detail={"withdrawn": True, "indicator": item.indicator_code, "year": item.year},
    )
    item.refresh_from_db()
    return item


def do_assess(
    actor: Actor, medcom: Medcom, indicator_code: str, year: int, verdict: str, comment: str
) -> EvidenceAssessment:
    """Record the county's verdict for one qualitative indicator and year (county admin
    only). It becomes the current assessment; the previous one is kept, marked as superseded."""
    if not rules.can_assess_evidence(actor.role):
        raise AccessDenied("只有县级管理员可以评估定性指标")
    check_register_medcom(actor, medcom)
    comment = comment.strip()
    errors = _check_indicator_year(indicator_code, year, clock.today())
    errors.update(rules.check_assessment(verdict, comment, frozenset(Verdict.values)))
    if errors:
        raise DomainError(errors)
    now = clock.now()
    try:
        with transaction.atomic():
            previous = (
                EvidenceAssessment.objects.select_for_update()
                .filter(medcom=medcom, indicator_code=indicator_code, year=year, is_current=True)
                .first()
            )
            if previous is not None:
                EvidenceAssessment.objects.filter(pk=previous.pk).update(is_current=False)
            assessment = EvidenceAssessment.objects.create(
                medcom=medcom,
                indicator_code=indicator_code,
                year=year,
                verdict=verdict,
                comment=comment,
                assessed_by=actor.user,
                assessed_at=now,
            )
            if previous is not None:
                EvidenceAssessment.objects.filter(pk=previous.pk).update(superseded_by=assessment)
    except IntegrityError:
        # Another assessment of the same indicator and year was committed meanwhile.
        raise DomainError("其他人刚刚提交了该指标的评估，请刷新页面后重试") from None
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.CREATE,
        resource_type=ASSESSMENT_RESOURCE,
        resource_id=assessment.pk,
        basis=AccessBasis.DATA_ENTRY,
        detail={
            "medcom": medcom.code,
            "indicator": indicator_code,
            "year": year,
            "verdict": verdict,
            "supersedes": previous.pk if previous is not None else None,
        },
    )
    return assessment


def do_open_evidence(actor: Actor, pk: int) -> EvidenceItem:
    """The item whose file the actor downloads, audited as a read; a refused attempt is
    audited too and raises AccessDenied (Chinese)."""
    item = EvidenceItem.objects.select_related("institution", "medcom").filter(pk=pk).first()
    reason = ""
    if not rules.can_view_evidence(actor.role):
        reason = "您的角色不能查看定性指标证据材料"
    elif item is None or not queries.can_see_evidence(actor.scope, item):
        reason = "该证据材料不存在或不在您的数据范围内"
    if reason:
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.DENIED,
            resource_type=EVIDENCE_RESOURCE,
            resource_id=pk,
            detail={"reason": reason},
        )
        raise AccessDenied(reason)
    assert item is not None
    do_record_audit(
        actor.audit_context(),
        action=AuditAction.READ,
        resource_type=EVIDENCE_RESOURCE,
        resource_id=item.pk,
        basis=AccessBasis.NONE,
        detail={"file": item.file_name, "sha256": item.sha256},
    )
    return item


# ---------------------------------------------------------------------------
# Drill-down to the contributing records (issue 5 item 4)
# ---------------------------------------------------------------------------

RECORDS_RESOURCE = "indicator_records"


def read_records(
    indicator: definitions.Indicator,
    period: rules.Period,
    *,
    level: str,
    org_id: int,
    category: str = "",
    page: int = 1,
    size: int | None = None,
    engine: str = "duckdb",
    root: Path | None = None,
    institution_id: int | None = None,
) -> drilldown.RecordsPage:
    """Evaluate the indicator's measure over the current snapshot and return one page of the
    records behind ``org_id`` (a snapshot id) at ``level``; a page past the end gives the last
    page. Ids and contributions only: nothing person-level leaves the snapshot."""
    if indicator.measure is None:
        raise DomainError(
            f"指标“{indicator.code}”没有可计算的口径，无法查看明细", field="indicator"
        )
    if level not in indicator.levels:
        raise DomainError(f"指标“{indicator.code}”不统计到该层级", field="level")
    if engine not in OPENERS:
        raise DomainError(f"计算引擎“{engine}”不可用", field="engine")
    size = size or drilldown.PAGE_SIZE
    root = root or default_root()
    manifest = snapshot.read_manifest(root)
    if not manifest.get("snapshot_id"):
        raise DomainError(
            "还没有分析快照，暂不能查看明细：请联系信息中心生成数据快照", field="snapshot"
        )
    place, homes = places(
        _read(root, "divisions"),
        _read(root, "institutions"),
        _read(root, "residents", RESIDENT_COLUMNS),
    )
    session = OPENERS[engine](root, place, homes)
    try:
        rows = drilldown.contributing(
            indicator.measure(session.tables, period),
            key=LEVEL_KEYS[level],
            org_id=org_id,
            category=category,
            unknown=UNKNOWN_CATEGORY,
            institution_id=institution_id,
        )
        sums = session.run(drilldown.summary(rows)).to_pylist()[0]
        total = int(sums["records"] or 0)
        pages = drilldown.pages_for(total, size)
        number = min(max(page, 1), pages)
        shown = session.run(drilldown.page_of(rows, number, size)).to_pylist() if total else []
    finally:
        session.close()
    return drilldown.RecordsPage(
        rows=[
            drilldown.Contribution(
                str(r["record_kind"]),
                int(r["record_id"]),
                r["category"] or "",
                Decimal(r["numerator"] or 0),
                Decimal(r["denominator"] or 0),
            )
            for r in shown
        ],
        total=total,
        numerator=Decimal(sums["numerator"] or 0),
        denominator=Decimal(sums["denominator"] or 0),
        number=number,
        pages=pages,
        size=size,
        snapshot_id=str(manifest["snapshot_id"]),
    )


def check_drill(actor: Actor, org: queries.DrillOrg) -> None:
    """Raise AccessDenied (Chinese) unless the actor may open ``org``'s drill-down: the role
    (rules.drill_refusal) and the actor's data scope (the institution's tree path, or the
    county's or township's area code)."""
    if org.institution is not None:
        in_scope = actor.scope.covers_institution(org.institution.path)
    else:
        in_scope = actor.scope.covers_division(org.code)
    reason = rules.drill_refusal(actor.role, org.level, in_scope)
    if reason:
        raise AccessDenied(reason)


def _records_audit(
    indicator: definitions.Indicator,
    period: rules.Period,
    org: queries.DrillOrg,
    category: str,
    within: Institution | None,
) -> tuple[str, dict[str, Any]]:
    """The audit resource id and detail of a records page."""
    detail: dict[str, Any] = {
        "indicator": indicator.code,
        "period": period.code,
        "level": org.level,
        "org_code": org.code,
        "category": category,
    }
    if within is not None:
        detail["institution"] = within.code
    return f"{indicator.code}/{period.code}/{org.level}/{org.code}"[:64], detail


def check_read_records(
    actor: Actor,
    indicator: definitions.Indicator,
    period: rules.Period,
    org: queries.DrillOrg,
    *,
    category: str = "",
    within: Institution | None = None,
) -> None:
    """``check_drill`` for the records page, the refusal audited before AccessDenied is
    raised: the view asks it before it reads anything for the page."""
    try:
        check_drill(actor, org)
    except AccessDenied as exc:
        resource_id, detail = _records_audit(indicator, period, org, category, within)
        do_record_audit(
            actor.audit_context(),
            action=AuditAction.DENIED,
            resource_type=RECORDS_RESOURCE,
            resource_id=resource_id,
            detail={**detail, "reason": exc.reason},
        )
        raise


def do_read_indicator_records(
    actor: Actor,
    indicator: definitions.Indicator,
    period: rules.Period,
    org: queries.DrillOrg,
    *,
    category: str = "",
    page: int = 1,
    root: Path | None = None,
    within: Institution | None = None,
) -> drilldown.RecordsPage:
    """The gate of the records page: checks the actor, evaluates one page and writes one audit
    event naming the indicator, period, org and the record ids shown. A refused attempt is
    audited too, then AccessDenied is raised. ``within``: only the records of this member
    institution of a county or township (the page's 机构 filter)."""
    ctx = actor.audit_context()
    resource_id, detail = _records_audit(indicator, period, org, category, within)
    check_read_records(actor, indicator, period, org, category=category, within=within)
    records = read_records(
        indicator,
        period,
        level=org.level,
        org_id=org.pk,
        category=category,
        page=page,
        root=root,
        institution_id=None if within is None else within.pk,
    )
    shown: dict[str, list[int]] = {}
    for c in records.rows:
        shown.setdefault(c.record_kind, []).append(c.record_id)
    do_record_audit(
        ctx,
        action=AuditAction.READ,
        resource_type=RECORDS_RESOURCE,
        resource_id=resource_id,
        basis=AccessBasis.NONE,
        purpose="监测指标下钻明细",
        detail={
            **detail,
            "page": records.number,
            "pages": records.pages,
            "snapshot_id": records.snapshot_id,
            "records": shown,
        },
    )
    return records
