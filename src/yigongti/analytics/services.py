"""``do_snapshot``: the analytic tables to Parquet, partitioned by year and month, incremental.

Facts (encounters, external settlements) are written one file per year/month partition, and a
partition is rewritten only when its fingerprint (row count, newest update, sum of ids) changed
since the last manifest. Dimensions (divisions, institutions, de-identified residents, the ICD-10
catalogue's chapters, practitioners' codes and employers) are one file each, rewritten when their
content hash changed. Files are written beside their target and renamed into place, and the manifest
last, so a reader never sees a half-written snapshot. No names, identity numbers, phones or
addresses leave the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import models
from django.db.models import Count, Max, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from yigongti.analytics import rules
from yigongti.core import clock
from yigongti.core.cli import sha256_file
from yigongti.encounters.models import DiagnosisCode, Encounter, ExternalSettlement
from yigongti.geo.models import Division
from yigongti.organizations.models import Department, Institution
from yigongti.referrals.models import Referral
from yigongti.residents.models import Resident
from yigongti.scheduling.models import BedBooking, Booking, Schedule
from yigongti.scheduling.services import PoolPolicy
from yigongti.staff.models import Practitioner

MANIFEST = "manifest.json"
BATCH_ROWS = 50_000
MONEY = pa.decimal128(12, 2)
MOMENT = pa.timestamp("us", tz="UTC")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TableSpec:
    """One analytic table: its rows, its columns (source → name and Arrow type), and the date
    that partitions it (``None`` for a dimension written whole)."""

    name: str
    rows: Callable[[], models.QuerySet[Any]]
    columns: tuple[tuple[str, str, pa.DataType], ...]  # (values_list path, column, type)
    partition_by: str | None = None
    convert: dict[str, Callable[[Any], Any]] = field(default_factory=dict)


def _birth_year(value: dt.date) -> int:
    return value.year


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "encounters",
        lambda: Encounter.objects.all(),
        (
            ("id", "encounter_id", pa.int64()),
            ("resident_id", "resident_id", pa.int64()),
            ("institution_id", "institution_id", pa.int64()),
            ("department_id", "department_id", pa.int64()),
            ("doctor_id", "doctor_id", pa.int64()),
            ("setting", "setting", pa.string()),
            ("visit_date", "visit_date", pa.date32()),
            ("discharge_date", "discharge_date", pa.date32()),
            ("principal_diagnosis", "principal_diagnosis", pa.string()),
            ("other_diagnoses", "other_diagnoses", pa.list_(pa.string())),
            ("is_tcm", "is_tcm", pa.bool_()),
            ("total_cost", "total_cost", MONEY),
            ("drug_cost", "drug_cost", MONEY),
            ("material_cost", "material_cost", MONEY),
            ("exam_cost", "exam_cost", MONEY),
            ("service_cost", "service_cost", MONEY),
            ("insurance_type", "insurance_type", pa.string()),
            ("fund_paid", "fund_paid", MONEY),
            ("personal_paid", "personal_paid", MONEY),
            ("deductible", "deductible", MONEY),
        ),
        partition_by="visit_date",
    ),
    TableSpec(
        "external_settlements",
        lambda: ExternalSettlement.objects.all(),
        (
            ("id", "settlement_id", pa.int64()),
            ("kind", "kind", pa.string()),
            ("resident_id", "resident_id", pa.int64()),
            ("settlement_date", "settlement_date", pa.date32()),
            ("setting", "setting", pa.string()),
            ("admission_date", "admission_date", pa.date32()),
            ("discharge_date", "discharge_date", pa.date32()),
            ("region_code", "region_code", pa.string()),
            ("level", "level", pa.string()),
            ("principal_diagnosis", "principal_diagnosis", pa.string()),
            ("is_referred", "is_referred", pa.bool_()),
            ("insurance_type", "insurance_type", pa.string()),
            ("total_cost", "total_cost", MONEY),
            ("fund_paid", "fund_paid", MONEY),
            ("personal_paid", "personal_paid", MONEY),
        ),
        partition_by="settlement_date",
    ),
    TableSpec(
        "divisions",
        lambda: Division.objects.all(),
        (
            ("id", "division_id", pa.int64()),
            ("code", "code", pa.string()),
            ("name", "name", pa.string()),
            ("level", "level", pa.string()),
            ("parent_id", "parent_id", pa.int64()),
        ),
    ),
    TableSpec(
        "institutions",
        lambda: Institution.objects.all(),
        (
            ("id", "institution_id", pa.int64()),
            ("code", "code", pa.string()),
            ("name", "name", pa.string()),
            ("inst_type", "inst_type", pa.string()),
            ("level", "level", pa.string()),
            ("medcom_id", "medcom_id", pa.int64()),
            ("parent_id", "parent_id", pa.int64()),
            ("division_id", "division_id", pa.int64()),
            ("service_division_id", "service_division_id", pa.int64()),
            ("beds", "beds", pa.int64()),
        ),
    ),
    TableSpec(
        "residents",
        lambda: Resident.objects.all(),
        (
            ("id", "resident_id", pa.int64()),
            ("sex", "sex", pa.string()),
            ("birth_date", "birth_year", pa.int32()),
            ("division_id", "division_id", pa.int64()),
            ("insurance_type", "insurance_type", pa.string()),
            ("has_hypertension", "has_hypertension", pa.bool_()),
            ("has_diabetes", "has_diabetes", pa.bool_()),
            ("has_severe_mental_illness", "has_severe_mental_illness", pa.bool_()),
            ("is_deceased", "is_deceased", pa.bool_()),
            ("merged_into_id", "merged_into_id", pa.int64()),
        ),
        convert={"birth_date": _birth_year},
    ),
    TableSpec(
        # The ICD-10 catalogue's chapters, for indicators broken down by chapter.
        "diagnoses",
        lambda: DiagnosisCode.objects.all(),
        (
            ("code", "code", pa.string()),
            ("chapter", "chapter", pa.string()),
            ("chapter_name", "chapter_name", pa.string()),
        ),
    ),
    TableSpec(
        # The practitioners, for the doctor level of the indicators: the 工号 a result is
        # stored under and the employer that lists them; no name or other personal field.
        "practitioners",
        lambda: Practitioner.objects.all(),
        (
            ("id", "practitioner_id", pa.int64()),
            ("code", "code", pa.string()),
            ("employer_id", "employer_id", pa.int64()),
        ),
    ),
)


def _wards() -> models.QuerySet[Any]:
    """Departments with beds and their reserved beds under the bed-pool share in force today:
    ⌈beds × share⌉ in integer arithmetic, as scheduling.rules.reserved_count."""
    share = PoolPolicy.on(clock.today()).bed_share
    num, den = share.numerator, share.denominator
    return Department.objects.filter(beds__gt=0).annotate(
        reserved_beds=(models.F("beds") * num + den - 1) / den
    )


def _has_items(value: Any) -> bool:
    return bool(value)


# Two-way referral and the slot and bed pools (issue #6): small tables, written whole.
REFERRAL_TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "referrals",
        lambda: Referral.objects.all(),
        (
            ("id", "referral_id", pa.int64()),
            ("direction", "direction", pa.string()),
            ("urgency", "urgency", pa.string()),
            ("status", "status", pa.string()),
            ("resident_id", "resident_id", pa.int64()),
            ("from_institution_id", "from_institution_id", pa.int64()),
            ("to_institution_id", "to_institution_id", pa.int64()),
            ("parent_id", "parent_id", pa.int64()),
            ("green_channel", "green_channel", pa.bool_()),
            ("submitted_at", "submitted_at", MOMENT),
            ("accepted_at", "accepted_at", MOMENT),
            ("completed_at", "completed_at", MOMENT),
            ("closed_at", "closed_at", MOMENT),
        ),
        convert={"green_channel": _has_items},
    ),
    TableSpec(
        "schedules",
        lambda: Schedule.objects.all(),
        (
            ("id", "schedule_id", pa.int64()),
            ("institution_id", "institution_id", pa.int64()),
            ("department_id", "department_id", pa.int64()),
            ("day", "day", pa.date32()),
            ("slot_count", "slot_count", pa.int64()),
            ("reserved_count", "reserved_count", pa.int64()),
            ("status", "status", pa.string()),
        ),
    ),
    TableSpec(
        "bookings",
        lambda: Booking.objects.all(),
        (
            ("id", "booking_id", pa.int64()),
            ("schedule_id", "schedule_id", pa.int64()),
            ("pool", "pool", pa.string()),
            ("channel", "channel", pa.string()),
            ("status", "status", pa.string()),
            ("booked_at", "booked_at", MOMENT),
        ),
    ),
    TableSpec(
        "bed_bookings",
        lambda: BedBooking.objects.all(),
        (
            ("id", "bed_booking_id", pa.int64()),
            ("department_id", "department_id", pa.int64()),
            ("pool", "pool", pa.string()),
            ("up_referral", "up_referral", pa.bool_()),
            ("status", "status", pa.string()),
            ("admitted_at", "admitted_at", MOMENT),
            ("closed_at", "closed_at", MOMENT),
        ),
    ),
    TableSpec(
        "wards",
        _wards,
        (
            ("id", "department_id", pa.int64()),
            ("institution_id", "institution_id", pa.int64()),
            ("beds", "beds", pa.int64()),
            ("reserved_beds", "reserved_beds", pa.int64()),
        ),
    ),
)
TABLES = TABLES + REFERRAL_TABLES


@dataclass
class TableResult:
    rows: int = 0
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


@dataclass
class SnapshotResult:
    snapshot_id: str
    root: Path
    tables: dict[str, TableResult]
    changed: bool


def schema_of(spec: TableSpec) -> pa.Schema:
    return pa.schema([(name, kind) for _path, name, kind in spec.columns])


def _batches(spec: TableSpec, qs: models.QuerySet[Any]) -> Iterator[pa.RecordBatch]:
    paths = [path for path, _name, _kind in spec.columns]
    schema = schema_of(spec)
    converters = [spec.convert.get(path) for path in paths]
    columns: list[list[Any]] = [[] for _ in paths]
    for row in qs.order_by("pk").values_list(*paths).iterator(chunk_size=BATCH_ROWS):
        for i, value in enumerate(row):
            convert = converters[i]
            columns[i].append(
                convert(value) if convert is not None and value is not None else value
            )
        if len(columns[0]) >= BATCH_ROWS:
            yield pa.RecordBatch.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
                schema=schema,
            )
            columns = [[] for _ in paths]
    if columns[0]:
        yield pa.RecordBatch.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
        )


def _write(path: Path, spec: TableSpec, batches: Iterator[pa.RecordBatch]) -> tuple[int, str]:
    """Write the batches to ``path`` through a temporary file; (rows, sha256 of the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    rows = 0
    with pq.ParquetWriter(tmp, schema_of(spec), compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    os.replace(tmp, path)
    return rows, sha256_file(path)


def _fact_fingerprints(spec: TableSpec) -> dict[str, tuple[str, int, int]]:
    """partition key → (fingerprint, year, month), one aggregate query."""
    assert spec.partition_by is not None
    rows = (
        spec.rows()
        .annotate(y=ExtractYear(spec.partition_by), m=ExtractMonth(spec.partition_by))
        .values("y", "m")
        .annotate(n=Count("pk"), newest=Max("updated_at"), ids=Sum("pk"))
        .order_by("y", "m")
    )
    return {
        rules.partition_key(r["y"], r["m"]): (
            rules.fingerprint(r["n"], r["newest"], r["ids"]),
            r["y"],
            r["m"],
        )
        for r in rows
    }


def data_range(manifest: dict[str, Any]) -> tuple[str, str]:
    """The first and the last month of any fact table's partitions (``("2024-01",
    "2025-12")``; ``("", "")`` for none)."""
    months = [
        key for table in manifest.get("tables", {}).values() for key in table.get("partitions", {})
    ]
    return rules.data_from(months), rules.data_until(months)


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        return {"version": rules.MANIFEST_VERSION, "tables": {}}
    manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return manifest


def do_snapshot(root: Path, *, progress: Progress | None = None) -> SnapshotResult:
    """Bring the Parquet snapshot under ``root`` up to date with the database."""
    root.mkdir(parents=True, exist_ok=True)
    old = read_manifest(root)
    tables: dict[str, Any] = {}
    results: dict[str, TableResult] = {}
    for n, spec in enumerate(TABLES, start=1):
        before = old.get("tables", {}).get(spec.name, {}).get("partitions", {})
        result = TableResult()
        partitions: dict[str, Any] = {}
        if spec.partition_by is None:
            partitions = _snapshot_dimension(root, spec, before, result)
        else:
            partitions = _snapshot_facts(root, spec, before, result)
        result.rows = sum(p["rows"] for p in partitions.values())
        tables[spec.name] = {
            "rows": result.rows,
            "partitioned_by": spec.partition_by or "",
            "columns": [name for _path, name, _kind in spec.columns],
            "partitions": partitions,
        }
        results[spec.name] = result
        if progress is not None:
            progress("写入分析快照", n, len(TABLES))
    changed = any(r.written or r.dropped for r in results.values()) or not old.get("snapshot_id")
    if not changed:
        return SnapshotResult(old["snapshot_id"], root, results, changed=False)
    taken = clock.now()
    body = json.dumps(tables, sort_keys=True, ensure_ascii=False)
    snapshot_id = (
        taken.strftime("%Y%m%dT%H%M%S") + "-" + hashlib.sha256(body.encode()).hexdigest()[:8]
    )
    manifest = {
        "version": rules.MANIFEST_VERSION,
        "snapshot_id": snapshot_id,
        "taken_at": taken.isoformat(),
        "data_until": rules.data_until(tables["encounters"]["partitions"]),
        "tables": tables,
    }
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
    os.replace(tmp, root / MANIFEST)
    return SnapshotResult(snapshot_id, root, results, changed=True)


def _snapshot_facts(
    root: Path, spec: TableSpec, before: dict[str, Any], result: TableResult
) -> dict[str, Any]:
    current = _fact_fingerprints(spec)
    plan = rules.plan_table({k: v[0] for k, v in current.items()}, before)
    partitions = {k: before[k] for k in plan.keep}
    result.kept = plan.keep
    for key in plan.write:
        fp, year, month = current[key]
        rel = rules.partition_path(spec.name, key)
        assert spec.partition_by is not None
        qs = spec.rows().filter(
            **{f"{spec.partition_by}__year": year, f"{spec.partition_by}__month": month}
        )
        rows, digest = _write(root / rel, spec, _batches(spec, qs))
        partitions[key] = {"file": rel, "rows": rows, "sha256": digest, "fingerprint": fp}
        result.written.append(key)
    for key in plan.drop:
        (root / before[key]["file"]).unlink(missing_ok=True)
        result.dropped.append(key)
    return partitions


def _snapshot_dimension(
    root: Path, spec: TableSpec, before: dict[str, Any], result: TableResult
) -> dict[str, Any]:
    """A dimension is small: extract it, and write it only when its content changed."""
    batches = list(_batches(spec, spec.rows()))
    table = pa.Table.from_batches(batches, schema=schema_of(spec))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    fp = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    rel = rules.partition_path(spec.name, rules.WHOLE)
    plan = rules.plan_table({rules.WHOLE: fp}, before)
    if not plan.write and (root / rel).is_file():
        result.kept = [rules.WHOLE]
        return {rules.WHOLE: before[rules.WHOLE]}
    rows, digest = _write(root / rel, spec, iter(batches))
    result.written = [rules.WHOLE]
    return {rules.WHOLE: {"file": rel, "rows": rows, "sha256": digest, "fingerprint": fp}}
