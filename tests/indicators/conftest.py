"""The hand-built county shared by the indicator tests (every row written out here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

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

TODAY = dt.date(2025, 12, 31)
ZHANG = "439901195103150033"  # 河口乡桃源村
CHEN = "439901199006120033"  # 城关镇东门社区
D = Decimal


def enc(
    ext: str,
    who: str,
    where: str,
    setting: str,
    on: dt.date,
    total: str,
    fund: str,
    *,
    out: dt.date | None = None,
    tcm: bool = False,
    insurance: str = "resident",
) -> EncounterInput:
    return EncounterInput(
        source_system="HIS",
        external_id=ext,
        id_number=who,
        institution_code=where,
        setting=setting,
        visit_date=on,
        discharge_date=out,
        principal_diagnosis="I10",
        total_cost=D(total),
        fund_paid=D(fund),
        personal_paid=D(total) - D(fund),
        is_tcm=tcm,
        insurance_type=insurance,
    )


def ext(
    ref: str, who: str, kind: str, setting: str, on: dt.date, total: str, fund: str
) -> ExternalSettlementInput:
    stay = setting == "inpatient"
    return ExternalSettlementInput(
        source_system="YB",
        external_id=ref,
        kind=kind,
        id_number=who,
        settlement_date=on,
        institution_name="省人民医院" if kind == "out_of_county" else "青禾大药房",
        total_cost=D(total),
        fund_paid=D(fund),
        personal_paid=D(total) - D(fund),
        setting=setting,
        admission_date=on - dt.timedelta(days=10) if stay else None,
        discharge_date=on if stay else None,
    )


@pytest.fixture
def county(world: Any, tmp_path: Path) -> Path:
    ctx = ValidationContext.load(today=TODAY)
    rows = [
        # visits (门急诊)
        enc("E1", ZHANG, "QH2003", "outpatient", dt.date(2025, 3, 1), "50", "30"),  # 村卫生室
        enc("E2", ZHANG, "QH1002", "outpatient", dt.date(2025, 3, 2), "80", "50", tcm=True),
        enc("E3", CHEN, "QH0001", "emergency", dt.date(2025, 3, 3), "300", "200"),  # 县医院
        enc(
            "E4",
            CHEN,
            "QH0002",
            "outpatient",
            dt.date(2025, 3, 4),
            "120",
            "0",
            tcm=True,
            insurance="none",
        ),
        enc("E5", ZHANG, "QH2003", "outpatient", dt.date(2024, 12, 30), "40", "20"),  # last year
        # stays: S1 admitted in December 2024, discharged in January 2025
        enc(
            "S1",
            ZHANG,
            "QH0001",
            "inpatient",
            dt.date(2024, 12, 28),
            "8000",
            "6000",
            out=dt.date(2025, 1, 5),
        ),
        enc(
            "S2",
            CHEN,
            "QH1002",
            "inpatient",
            dt.date(2025, 6, 10),
            "2000",
            "1500",
            out=dt.date(2025, 6, 15),
        ),
        enc(
            "S3",
            ZHANG,
            "QH0001",
            "inpatient",
            dt.date(2025, 7, 1),
            "3000",
            "0",
            out=dt.date(2025, 7, 3),
            insurance="none",
        ),
    ]
    upsert_encounters([clean_encounter(r, ctx) for r in rows])
    upsert_external_settlements(
        [
            clean_external_settlement(s, ctx)
            for s in (
                ext(
                    "X1",
                    ZHANG,
                    "out_of_county",
                    "inpatient",
                    dt.date(2025, 8, 20),
                    "20000",
                    "14000",
                ),
                ext("X2", ZHANG, "pharmacy", "outpatient", dt.date(2025, 2, 11), "36.80", "0"),
                ext("X3", CHEN, "out_of_county", "outpatient", dt.date(2025, 9, 1), "500", "300"),
            )
        ]
    )
    do_snapshot(tmp_path)
    return tmp_path
