"""Indicators computed on DuckDB from a snapshot of a hand-built county.

Every expected numerator and denominator is written out below from the rows of the fixture.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from yigongti.analytics.services import do_snapshot
from yigongti.core.errors import DomainError
from yigongti.encounters.services import (
    EncounterInput,
    ExternalSettlementInput,
    ValidationContext,
    clean_encounter,
    clean_external_settlement,
    upsert_encounters,
    upsert_external_settlements,
)
from yigongti.geo.models import Division
from yigongti.indicators.models import IndicatorResult
from yigongti.indicators.services import do_compute

pytestmark = pytest.mark.django_db
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


def results(
    code: str, period: str, level: str
) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
    return {
        r.org_code: (r.numerator, r.denominator, r.value)
        for r in IndicatorResult.objects.filter(indicator_code=code, period=period, level=level)
    }


def county_code() -> str:
    return Division.objects.get(level="county").code


def hekou_code() -> str:
    return Division.objects.get(level="township", name="河口乡").code


def test_county_year_2025(county: Path) -> None:
    result = do_compute("2025", root=county)
    assert result.indicators == ["nhc-07", "nhc-08", "nhc-09", "nhc-10", "nhc-11", "nhc-12"]
    c = county_code()
    # 07: visits E1, E2 (基层) of E1–E4 (E5 is 2024)
    assert results("nhc-07", "2025", "county") == {c: (D(2), D(4), D("50.000000"))}
    # 08: in county 30 + 50 + 200 + 0 + 6000 (S1, discharged 2025) + 1500 + 0 = 7780;
    #     outside 14000 (X1) + 300 (X3); the pharmacy (X2) is excluded
    assert results("nhc-08", "2025", "county") == {c: (D(7780), D(22080), D("35.235507"))}
    # 09: 基层 30 + 50 + 1500 = 1580 of 7780
    assert results("nhc-09", "2025", "county") == {c: (D(1580), D(7780), D("20.308483"))}
    # 10: insured stays discharged in 2025: S1 8000 + S2 2000 over 2 (S3 uninsured)
    assert results("nhc-10", "2025", "county") == {c: (D(10000), D(2), D("5000.000000"))}
    # 11: insured stays in county 2 (S1, S2) of 3 (X1 outside)
    assert results("nhc-11", "2025", "county") == {c: (D(2), D(3), D("66.666667"))}
    # 12: 中医类 E2, E4 of 4 visits
    assert results("nhc-12", "2025", "county") == {c: (D(2), D(4), D("50.000000"))}


def test_township_and_institution_levels(county: Path) -> None:
    do_compute("2025", root=county)
    # The county hospitals serve the county: no township; 河口乡 has its centre and 桃源村.
    assert results("nhc-07", "2025", "township") == {hekou_code(): (D(2), D(2), D("100.000000"))}
    assert results("nhc-07", "2025", "institution") == {
        "QH0001": (D(0), D(1), D("0.000000")),
        "QH0002": (D(0), D(1), D("0.000000")),
        "QH1002": (D(1), D(1), D("100.000000")),
        "QH2003": (D(1), D(1), D("100.000000")),
    }
    assert results("nhc-10", "2025", "institution") == {
        "QH0001": (D(8000), D(1), D("8000.000000")),
        "QH1002": (D(2000), D(1), D("2000.000000")),
    }
    assert results("nhc-08", "2025", "institution") == {}  # county level only


def test_period_boundaries(county: Path) -> None:
    do_compute("2024-12", root=county)
    do_compute("2025-Q1", root=county)
    c = county_code()
    # S1 was admitted in December but is counted when discharged (January)
    assert results("nhc-10", "2024-12", "county") == {}
    assert results("nhc-10", "2025-Q1", "county") == {c: (D(8000), D(1), D("8000.000000"))}
    assert results("nhc-07", "2024-12", "county") == {c: (D(1), D(1), D("100.000000"))}
    # Q1: no stays outside the county yet, so every insured stay was in the county
    assert results("nhc-11", "2025-Q1", "county") == {c: (D(1), D(1), D("100.000000"))}


def test_recompute_replaces_and_refusals(county: Path) -> None:
    do_compute("2025", root=county)
    first = IndicatorResult.objects.count()
    do_compute("2025", root=county)
    assert IndicatorResult.objects.count() == first
    with pytest.raises(DomainError, match="统计期“2025-13”无效"):
        do_compute("2025-13", root=county)
    with pytest.raises(DomainError, match="还没有分析快照"):
        do_compute("2025", root=county / "nothing-here")


def test_command(county: Path, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    settings.SNAPSHOT_ROOT = county
    call_command("indicators", "compute", "--period", "2025")
    assert "统计期 2025：6 项指标" in capsys.readouterr().out
