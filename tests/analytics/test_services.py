"""``yigongti snapshot``: Parquet files per year/month, a manifest, incremental reruns."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from yigongti.analytics.services import do_snapshot
from yigongti.encounters.services import (
    EncounterInput,
    ExternalSettlementInput,
    ValidationContext,
    clean_encounter,
    clean_external_settlement,
    upsert_encounters,
    upsert_external_settlements,
)
from yigongti.staff.models import Practitioner

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 12, 31)
ZHANG = "439901195103150033"
CHEN = "439901199006120033"
D = Decimal


def visit(external_id: str, on: dt.date, total: str, who: str = ZHANG, **kw: Any) -> EncounterInput:
    return EncounterInput(
        source_system="HIS",
        external_id=external_id,
        id_number=who,
        institution_code="QH1002",
        setting=kw.pop("setting", "outpatient"),
        visit_date=on,
        principal_diagnosis="I10",
        total_cost=D(total),
        fund_paid=D(total),
        **kw,
    )


def add(*rows: EncounterInput) -> None:
    ctx = ValidationContext.load(today=TODAY)
    upsert_encounters([clean_encounter(r, ctx) for r in rows])


@pytest.fixture
def county(world: Any) -> None:
    add(
        visit("A1", dt.date(2025, 1, 5), "100.50"),
        visit("A2", dt.date(2025, 1, 20), "20.00", who=CHEN, other_diagnoses=["E11.9"]),
        visit(
            "A3",
            dt.date(2025, 3, 30),
            "5000.00",
            setting="inpatient",
            discharge_date=dt.date(2025, 4, 2),
            is_tcm=True,
        ),
    )
    ctx = ValidationContext.load(today=TODAY)
    upsert_external_settlements(
        [
            clean_external_settlement(
                ExternalSettlementInput(
                    source_system="YB",
                    external_id="S1",
                    kind="pharmacy",
                    id_number=ZHANG,
                    settlement_date=dt.date(2025, 2, 11),
                    institution_name="青禾大药房",
                    total_cost=D("36.80"),
                    personal_paid=D("36.80"),
                ),
                ctx,
            )
        ]
    )


def files(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*.parquet")}


def test_snapshot_writes_partitions_manifest_and_no_identities(
    county: None, tmp_path: Path
) -> None:
    result = do_snapshot(tmp_path)
    assert result.changed
    assert result.tables["encounters"].written == ["2025-01", "2025-03"]
    assert sorted(files(tmp_path)) == [
        "bed_bookings/part-0.parquet",  # the referral and pool tables: written whole, even empty
        "bookings/part-0.parquet",
        "diagnoses/part-0.parquet",
        "divisions/part-0.parquet",
        "encounters/year=2025/month=1/part-0.parquet",
        "encounters/year=2025/month=3/part-0.parquet",
        "external_settlements/year=2025/month=2/part-0.parquet",
        "institutions/part-0.parquet",
        "practitioners/part-0.parquet",
        "referrals/part-0.parquet",
        "residents/part-0.parquet",
        "schedules/part-0.parquet",
        "wards/part-0.parquet",
    ]
    january = pq.read_table(tmp_path / "encounters/year=2025/month=1/part-0.parquet").to_pylist()
    assert [(r["visit_date"], r["total_cost"], r["other_diagnoses"]) for r in january] == [
        (dt.date(2025, 1, 5), D("100.50"), []),
        (dt.date(2025, 1, 20), D("20.00"), ["E11.9"]),
    ]
    march = pq.read_table(tmp_path / "encounters/year=2025/month=3/part-0.parquet").to_pylist()
    assert [(r["setting"], r["discharge_date"], r["is_tcm"]) for r in march] == [
        ("inpatient", dt.date(2025, 4, 2), True)
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert manifest["snapshot_id"] == result.snapshot_id
    assert manifest["data_until"] == "2025-03"
    assert manifest["tables"]["encounters"]["rows"] == 3
    assert manifest["tables"]["external_settlements"]["rows"] == 1
    part = manifest["tables"]["encounters"]["partitions"]["2025-01"]
    assert part["rows"] == 2 and len(part["sha256"]) == 64
    residents = pq.read_table(tmp_path / "residents/part-0.parquet")
    assert "name" not in residents.column_names and "id_number" not in residents.column_names
    # the doctor level (issue 5): 工号 and employer only, no names
    practitioners = pq.read_table(tmp_path / "practitioners/part-0.parquet")
    assert practitioners.column_names == ["practitioner_id", "code", "employer_id"]
    chen = Practitioner.objects.get(code="QH1002-0001")
    assert {"practitioner_id": chen.pk, "code": chen.code, "employer_id": chen.employer_id} in (
        practitioners.to_pylist()
    )
    assert manifest["tables"]["practitioners"]["rows"] == Practitioner.objects.count()
    zhang = [r for r in residents.to_pylist() if r["birth_year"] == 1951]
    assert zhang and zhang[0]["has_hypertension"] is True
    diagnoses = pq.read_table(tmp_path / "diagnoses/part-0.parquet").to_pylist()
    assert {"code": "I10", "chapter": "IX", "chapter_name": "循环系统疾病"} in diagnoses
    assert manifest["tables"]["diagnoses"]["rows"] == len(diagnoses) == 407  # the catalogue
    # wards: departments with beds and ⌈beds × 1/4⌉ reserved (县人民医院 7, each 卫生院 全科)
    wards = sorted(
        (r["beds"], r["reserved_beds"])
        for r in pq.read_table(tmp_path / "wards/part-0.parquet").to_pylist()
    )
    assert wards == [
        (20, 5),
        (30, 8),
        (40, 10),
        (50, 13),
        (60, 15),
        (60, 15),
        (60, 15),
        (120, 30),
        (120, 30),
    ]
    assert pq.read_table(tmp_path / "referrals/part-0.parquet").num_rows == 0


def test_rerun_without_new_data_changes_nothing(county: None, tmp_path: Path) -> None:
    first = do_snapshot(tmp_path)
    before = files(tmp_path)
    manifest = (tmp_path / "manifest.json").read_text("utf-8")
    again = do_snapshot(tmp_path)
    assert not again.changed and again.snapshot_id == first.snapshot_id
    assert all(not t.written and not t.dropped for t in again.tables.values())
    assert files(tmp_path) == before
    assert (tmp_path / "manifest.json").read_text("utf-8") == manifest


def test_only_the_changed_month_is_rewritten(county: None, tmp_path: Path) -> None:
    do_snapshot(tmp_path)
    before = files(tmp_path)
    add(visit("A4", dt.date(2025, 3, 2), "8.00"))
    result = do_snapshot(tmp_path)
    assert result.tables["encounters"].written == ["2025-03"]
    assert result.tables["encounters"].kept == ["2025-01"]
    after = files(tmp_path)
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == ["encounters/year=2025/month=3/part-0.parquet"]
    assert pq.read_table(tmp_path / changed[0]).num_rows == 2


def test_command_prints_counts(
    county: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("snapshot", "--out", str(tmp_path))
    out = capsys.readouterr().out
    assert "encounters: 3 行；重写 2 个分区，未变 0，删除 0" in out
    call_command("snapshot", "--out", str(tmp_path))
    assert "无新数据，未改动" in capsys.readouterr().out
