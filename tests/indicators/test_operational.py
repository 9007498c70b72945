"""Operational indicators (op-01 … op-06) and the nhc-10 growth rate (nhc-10g), computed on
DuckDB from a second hand-built county whose every row is written out in ``ops`` below.

Residents (personas): 张德福 ZHANG and 李秀英 LI live in 河口乡 (桃源村), 陈晓东 CHEN in 城关镇
(东门社区): 3 residents in the county, 2 in 河口乡, 1 in 城关镇. Institutions: QH0001 县人民医院
and QH0002 县中医医院 (县级, no township), QH1001 城关镇卫生院 and QH1002 河口乡卫生院 (乡镇),
QH2003 桃源村卫生室 (村, 河口乡).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from yigongti.analytics.services import do_snapshot
from yigongti.core.models import AuditEvent
from yigongti.encounters.models import Encounter
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
from yigongti.residents.models import Resident

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2025, 12, 31)
ZHANG = "439901195103150033"
LI = "439901195308210044"
CHEN = "439901199006120033"


def visit(
    ext: str,
    who: str,
    where: str,
    on: dt.date,
    total: str,
    drug: str,
    *,
    setting: str = "outpatient",
    out: dt.date | None = None,
    dx: str = "I10",
    insurance: str = "resident",
    doctor: str = "",
) -> EncounterInput:
    fund = D(0) if insurance == "none" else (D(total) / 2).quantize(D("0.01"))
    return EncounterInput(
        source_system="HIS",
        external_id=ext,
        id_number=who,
        institution_code=where,
        setting=setting,
        visit_date=on,
        discharge_date=out,
        principal_diagnosis=dx,
        total_cost=D(total),
        drug_cost=D(drug),
        fund_paid=fund,
        personal_paid=D(total) - fund,
        insurance_type=insurance,
        doctor_code=doctor,
    )


def stay(
    ext: str, who: str, where: str, on: dt.date, out: dt.date, total: str, drug: str, **kw: Any
) -> EncounterInput:
    return visit(ext, who, where, on, total, drug, setting="inpatient", out=out, **kw)


def settled(
    ref: str, who: str, kind: str, setting: str, on: dt.date, total: str, dx: str = ""
) -> ExternalSettlementInput:
    inpatient = setting == "inpatient"
    return ExternalSettlementInput(
        source_system="YB",
        external_id=ref,
        kind=kind,
        id_number=who,
        settlement_date=on,
        institution_name="省人民医院" if kind == "out_of_county" else "青禾大药房",
        total_cost=D(total),
        fund_paid=D(total) / 2,
        personal_paid=D(total) / 2,
        setting=setting,
        admission_date=on - dt.timedelta(days=7) if inpatient else None,
        discharge_date=on if inpatient else None,
        principal_diagnosis=dx,
    )


# The doctors (personas): 李心远 CARDIO (QH0001-0001, employed by 县人民医院, also practising at
# 河口乡卫生院), 王建国 (QH2003-0001, 桃源村卫生室), 赵敏 (QH1001-0001, 城关镇卫生院), 陈立
# (QH1002-0001, 河口乡卫生院). S3 and S4 record no doctor.
CARDIO = "QH0001-0001"
ENCOUNTERS = (
    # 门急诊 (visits) in 2025, and one in 2024
    visit("V1", ZHANG, "QH2003", dt.date(2025, 2, 10), "60", "30", doctor="QH2003-0001"),  # 村
    # 乡镇 (河口乡), seen by the county cardiologist on his day there (多点执业)
    visit("V2", LI, "QH1002", dt.date(2025, 3, 5), "100", "50", dx="E11.9", doctor=CARDIO),
    visit(
        "V3", CHEN, "QH0001", dt.date(2025, 4, 1), "400", "100", setting="emergency", doctor=CARDIO
    ),  # 县级
    # a free visit: 乡镇, 城关镇
    visit("V4", CHEN, "QH1001", dt.date(2025, 5, 1), "0", "0", doctor="QH1001-0001"),
    visit("V5", ZHANG, "QH2003", dt.date(2024, 6, 1), "50", "20", doctor="QH2003-0001"),  # 2024
    # stays; S1 is admitted in December 2024 and discharged in January 2025
    stay(
        "S0",
        ZHANG,
        "QH0001",
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 8),
        "6000",
        "2000",
        doctor=CARDIO,
    ),
    stay("S4", ZHANG, "QH1002", dt.date(2024, 11, 1), dt.date(2024, 11, 5), "1600.01", "600"),
    stay(
        "S1",
        ZHANG,
        "QH0001",
        dt.date(2024, 12, 28),
        dt.date(2025, 1, 5),
        "8000",
        "3000",
        dx="I63.9",
        doctor=CARDIO,
    ),
    stay(
        "S2",
        LI,
        "QH1002",
        dt.date(2025, 6, 10),
        dt.date(2025, 6, 15),
        "2000",
        "800",
        dx="J18.9",
        doctor="QH1002-0001",
    ),
    stay(
        "S3",
        CHEN,
        "QH0001",
        dt.date(2025, 7, 1),
        dt.date(2025, 7, 3),
        "3000",
        "900",
        dx="K35.9",
        insurance="none",
    ),
)
SETTLEMENTS = (
    settled("X1", ZHANG, "out_of_county", "inpatient", dt.date(2025, 8, 20), "20000", "I63.9"),
    settled("X4", LI, "out_of_county", "inpatient", dt.date(2025, 10, 10), "9000"),  # no diagnosis
    settled("X3", CHEN, "out_of_county", "outpatient", dt.date(2025, 9, 1), "500", "J18.9"),
    settled("X2", ZHANG, "pharmacy", "outpatient", dt.date(2025, 2, 11), "36.80"),
)


@pytest.fixture
def ops(world: Any, tmp_path: Path) -> Path:
    ctx = ValidationContext.load(today=TODAY)
    upsert_encounters([clean_encounter(r, ctx) for r in ENCOUNTERS])
    upsert_external_settlements([clean_external_settlement(s, ctx) for s in SETTLEMENTS])
    root = tmp_path / "snapshot"
    do_snapshot(root)
    return root


def res(
    code: str, period: str, level: str, category: str = ""
) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
    return {
        r.org_code: (r.numerator, r.denominator, r.value)
        for r in IndicatorResult.objects.filter(
            indicator_code=code, period=period, level=level, category=category
        )
    }


def cats(code: str, period: str) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
    """The county's results per category."""
    return {
        r.category: (r.numerator, r.denominator, r.value)
        for r in IndicatorResult.objects.filter(
            indicator_code=code, period=period, level="county"
        ).exclude(category="")
    }


def division(name: str) -> str:
    return Division.objects.get(name=name).code


@pytest.fixture
def codes(world: Any) -> dict[str, str]:
    return {"c": division("青禾县"), "hk": division("河口乡"), "cg": division("城关镇")}


def test_visits_and_stays_per_thousand_residents(ops: Path, codes: dict[str, str]) -> None:
    do_compute("2025", root=ops)
    c, hk, cg = codes["c"], codes["hk"], codes["cg"]
    # op-01: visits of the area's residents: V1 (张, 河口乡), V2 (李, 河口乡), V3 and V4 (陈,
    # 城关镇) and X3 (陈, outside the county); the pharmacy X2 and the 2024 visit V5 are out.
    assert res("op-01", "2025", "county") == {c: (D(5), D(3), D("1666.666667"))}
    assert res("op-01", "2025", "township") == {
        hk: (D(2), D(2), D("1000.000000")),
        cg: (D(3), D(1), D("3000.000000")),
    }
    assert res("op-01", "2025", "institution") == {}  # no population of an institution
    # op-02: stays discharged (or settled) in 2025: S1 (admitted in December 2024), S2, S3
    # (uninsured, still a stay), X1 and X4 outside the county; S0 and S4 were in 2024.
    assert res("op-02", "2025", "county") == {c: (D(5), D(3), D("1666.666667"))}
    assert res("op-02", "2025", "township") == {
        hk: (D(4), D(2), D("2000.000000")),  # S1, S2, X1, X4
        cg: (D(1), D(1), D("1000.000000")),  # S3
    }
    # December 2024 has no discharge; S1 counts in January 2025.
    do_compute("2024-12", root=ops)
    do_compute("2025-01", root=ops)
    assert res("op-02", "2024-12", "county") == {c: (D(0), D(3), D("0.000000"))}
    assert res("op-02", "2025-01", "county") == {c: (D(1), D(3), D("333.333333"))}


def test_population_leaves_out_deceased_and_merged_records(
    ops: Path, codes: dict[str, str], tmp_path: Path
) -> None:
    Resident.objects.filter(id_number=LI).update(is_deceased=True)
    zhang = Resident.objects.get(id_number=ZHANG)
    Resident.objects.filter(id_number=CHEN).update(merged_into=zhang)
    root = tmp_path / "again"
    do_snapshot(root)
    do_compute("2025", root=root)
    # Only 张德福 is left in the population; the visits still count for their homes, and
    # 城关镇 has visits but no resident: a zero denominator, no value.
    assert res("op-01", "2025", "county") == {codes["c"]: (D(5), D(1), D("5000.000000"))}
    assert res("op-01", "2025", "township") == {
        codes["hk"]: (D(2), D(1), D("2000.000000")),
        codes["cg"]: (D(3), D(0), None),
    }


def test_cost_per_visit_and_per_stay_by_tier(ops: Path, codes: dict[str, str]) -> None:
    do_compute("2025", root=ops)
    c, hk, cg = codes["c"], codes["hk"], codes["cg"]
    # op-03: V1 60 (村) + V2 100 (乡镇) + V3 400 (县级) + V4 0 (乡镇) over 4 visits
    assert res("op-03", "2025", "county") == {c: (D(560), D(4), D("140.000000"))}
    assert cats("op-03", "2025") == {
        "county": (D(400), D(1), D("400.000000")),
        "township": (D(100), D(2), D("50.000000")),
        "village": (D(60), D(1), D("60.000000")),
    }
    assert res("op-03", "2025", "township") == {
        hk: (D(160), D(2), D("80.000000")),
        cg: (D(0), D(1), D("0.000000")),
    }
    assert res("op-03", "2025", "institution") == {
        "QH0001": (D(400), D(1), D("400.000000")),
        "QH1001": (D(0), D(1), D("0.000000")),
        "QH1002": (D(100), D(1), D("100.000000")),
        "QH2003": (D(60), D(1), D("60.000000")),
    }
    # op-04: every stay discharged in 2025, insured or not: S1 8000 + S3 3000 (县级), S2 2000
    assert res("op-04", "2025", "county") == {c: (D(13000), D(3), D("4333.333333"))}
    assert cats("op-04", "2025") == {
        "county": (D(11000), D(2), D("5500.000000")),
        "township": (D(2000), D(1), D("2000.000000")),
    }
    assert res("op-04", "2025", "township") == {hk: (D(2000), D(1), D("2000.000000"))}
    assert res("op-04", "2025", "institution", "county") == {
        "QH0001": (D(11000), D(2), D("5500.000000"))
    }
    # S1: admitted in December, counted when discharged in January
    do_compute("2024-12", root=ops)
    do_compute("2025-01", root=ops)
    assert res("op-04", "2024-12", "county") == {}
    assert res("op-04", "2025-01", "county") == {c: (D(8000), D(1), D("8000.000000"))}


def test_drug_share_with_a_zero_denominator(ops: Path, codes: dict[str, str]) -> None:
    do_compute("2025", root=ops)
    c, hk, cg = codes["c"], codes["hk"], codes["cg"]
    # drugs 30 + 50 + 100 + 0 + 3000 (S1) + 800 + 900 of 60 + 100 + 400 + 0 + 8000 + 2000 + 3000
    assert res("op-05", "2025", "county") == {c: (D(4880), D(13560), D("35.988201"))}
    assert res("op-05", "2025", "township") == {
        hk: (D(880), D(2160), D("40.740741")),  # V1, V2, S2
        cg: (D(0), D(0), None),  # only the free visit V4: no value, never an error
    }
    assert res("op-05", "2025", "institution") == {
        "QH0001": (D(4000), D(11400), D("35.087719")),
        "QH1001": (D(0), D(0), None),
        "QH1002": (D(850), D(2100), D("40.476190")),
        "QH2003": (D(30), D(60), D("50.000000")),
    }


def test_in_county_stay_share_by_icd10_chapter(ops: Path, codes: dict[str, str]) -> None:
    do_compute("2025", root=ops)
    # insured stays: S1 (I63.9, IX) and S2 (J18.9, X) in the county; X1 (I63.9, IX) and X4
    # (no diagnosis) outside; S3 is uninsured.
    assert res("op-06", "2025", "county") == {codes["c"]: (D(2), D(4), D("50.000000"))}
    assert cats("op-06", "2025") == {
        "IX": (D(1), D(2), D("50.000000")),
        "X": (D(1), D(1), D("100.000000")),
        "未知": (D(0), D(1), D("0.000000")),
    }
    assert res("op-06", "2025", "township") == {}  # county only, like nhc-11


def test_growth_rate_of_cost_per_stay(ops: Path, codes: dict[str, str]) -> None:
    do_compute("2025", root=ops, breakdown=True)
    do_compute("2024", root=ops)
    c, hk = codes["c"], codes["hk"]
    # nhc-10 2025: insured stays S1 8000 + S2 2000 over 2 = 5000.00; 2024: S0 6000 + S4
    # 1600.01 over 2 = 3800.005, rounded to 3800.01 before the growth is taken.
    assert res("nhc-10", "2024", "county") == {c: (D("7600.01"), D(2), D("3800.005000"))}
    assert res("nhc-10g", "2025", "county") == {c: (D("1199.99"), D("3800.01"), D("31.578601"))}
    assert res("nhc-10g", "2025", "township") == {hk: (D("399.99"), D("1600.01"), D("24.999219"))}
    assert res("nhc-10g", "2025", "institution") == {
        "QH0001": (D(2000), D(6000), D("33.333333")),  # S1 8000 against S0 6000
        "QH1002": (D("399.99"), D("1600.01"), D("24.999219")),  # S2 2000 against S4
    }
    # Q1: S1 (discharged 2025-01-05) against S0 (2024-03-08)
    assert res("nhc-10g", "2025-Q1", "county") == {c: (D(2000), D(6000), D("33.333333"))}
    # No stay a year earlier (2023), none this month (2025-03 has only last year's S0), none
    # last January: a zero denominator, no value, never an error.
    assert res("nhc-10g", "2024", "county") == {c: (D(0), D(0), None)}
    assert res("nhc-10g", "2024", "institution") == {
        "QH0001": (D(0), D(0), None),
        "QH1002": (D(0), D(0), None),
    }
    assert res("nhc-10g", "2025-03", "county") == {c: (D(0), D(0), None)}
    assert res("nhc-10g", "2025-01", "county") == {c: (D(0), D(0), None)}
    assert res("nhc-10g", "2025-02", "county") == {}  # neither year has a stay


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def test_dashboard_shows_operational_rows_and_categories(
    world: Any, ops: Path, settings: Any
) -> None:
    settings.SNAPSHOT_ROOT = ops
    do_compute("2025", root=ops)
    client = client_for(world, "county_admin")
    page = client.get("/indicators/?period=2025").content.decode()
    overview = page.split('id="overview"')[1].split("</table>")[0]
    # the operational rows come under their own heading, after the national ones
    assert overview.index('data-code="nhc-14"') < overview.index('id="operational"')
    assert overview.index('id="operational"') < overview.index('data-code="op-01"')
    row = overview.split('data-code="op-01"')[1].split("</tr>")[0]
    assert "1,666.67 人次/千人" in row and "5 / 3" in row and "无目标" in row
    row = overview.split('data-code="nhc-10g"')[1].split("</tr>")[0]
    assert "31.58%" in row and "?period=2025&indicator=nhc-10g#detail" in row
    assert 'id="category-table"' not in page  # nhc-07, the default, has no categories

    page = client.get("/indicators/?period=2025&indicator=op-06").content.decode()
    table = page.split('id="category-table"')[1].split("</table>")[0]
    ix = table.split('data-category="IX"')[1].split("</tr>")[0]
    assert "循环系统疾病" in ix and "50.00%" in ix and "1 / 2" in ix
    xv = table.split('data-category="XV"')[1].split("</tr>")[0]
    assert "妊娠、分娩和产褥期" in xv and "—" in xv  # no stays: no value
    assert table.index('data-category="IX"') < table.index('data-category="X"')
    assert table.index('data-category="XXII"') < table.index('data-category="未知"')
    assert '"labels": ["IX", "X", "\\u672a\\u77e5"]' in page  # the chart: values only

    page = client.get("/indicators/?period=2025&indicator=op-04").content.decode()
    table = page.split('id="category-table"')[1].split("</table>")[0]
    county = table.split('data-category="county"')[1].split("</tr>")[0]
    assert "县级" in county and "5,500.00 元" in county and "11,000.00 / 2" in county
    village = table.split('data-category="village"')[1].split("</tr>")[0]
    assert "村卫生室" in village and "—" in village  # village clinics have no stays


# --- the doctor level (op-03, op-04, op-05, nhc-10) -------------------------------------


def test_doctor_level_sums_each_doctors_encounters_at_every_member_institution(
    ops: Path,
) -> None:
    do_compute("2025", root=ops)
    # op-03: the cardiologist's V3 at 县人民医院 (400) and V2 at 河口乡卫生院 (100, 多点执业)
    assert res("op-03", "2025", "doctor") == {
        CARDIO: (D(500), D(2), D("250.000000")),
        "QH1001-0001": (D(0), D(1), D("0.000000")),  # V4, the free visit
        "QH2003-0001": (D(60), D(1), D("60.000000")),  # V1
    }
    # ... by tier: his work at the county hospital and at the township centre apart
    assert res("op-03", "2025", "doctor", "county") == {CARDIO: (D(400), D(1), D("400.000000"))}
    assert res("op-03", "2025", "doctor", "township") == {
        CARDIO: (D(100), D(1), D("100.000000")),
        "QH1001-0001": (D(0), D(1), D("0.000000")),
    }
    # op-04: S1 (admitted in December 2024) and S2; S3 records no doctor, so it counts for
    # 县人民医院 (11000 over 2 above) but for no doctor
    assert res("op-04", "2025", "doctor") == {
        CARDIO: (D(8000), D(1), D("8000.000000")),
        "QH1002-0001": (D(2000), D(1), D("2000.000000")),
    }
    # op-05: drugs 100 + 50 + 3000 of 400 + 100 + 8000; the free visit has nothing to divide
    assert res("op-05", "2025", "doctor") == {
        CARDIO: (D(3150), D(8500), D("37.058824")),
        "QH1001-0001": (D(0), D(0), None),
        "QH1002-0001": (D(800), D(2000), D("40.000000")),
        "QH2003-0001": (D(30), D(60), D("50.000000")),
    }
    # nhc-10: insured stays only (S3 is uninsured and has no doctor anyway)
    assert res("nhc-10", "2025", "doctor") == {
        CARDIO: (D(8000), D(1), D("8000.000000")),
        "QH1002-0001": (D(2000), D(1), D("2000.000000")),
    }
    # no doctor level: shares of visits or funds, populations, the growth rate
    for code in ("nhc-07", "nhc-09", "nhc-12", "op-01", "nhc-10g", "ref-01"):
        assert res(code, "2025", "doctor") == {}, code
    # the institutions are as before: the doctor key splits nothing it sums
    assert res("op-05", "2025", "institution")["QH1002"] == (D(850), D(2100), D("40.476190"))


def test_doctor_level_by_month_counts_a_stay_when_discharged(ops: Path) -> None:
    do_compute("2024-12", root=ops)
    do_compute("2025-01", root=ops)
    assert res("op-04", "2024-12", "doctor") == {}
    assert res("op-04", "2025-01", "doctor") == {CARDIO: (D(8000), D(1), D("8000.000000"))}
    do_compute("2024", root=ops)
    assert res("op-04", "2024", "doctor") == {CARDIO: (D(6000), D(1), D("6000.000000"))}


def test_institution_drill_lists_its_doctors_and_a_doctor_opens_records(
    world: Any, ops: Path, settings: Any
) -> None:
    settings.SNAPSHOT_ROOT = ops
    do_compute("2025", root=ops)
    client = client_for(world, "county_admin")
    # the dashboard's institution ranking opens the institution's drill-down, not its records
    page = client.get("/indicators/?period=2025&indicator=op-05&level=institution")
    ranking = page.content.decode().split('id="ranking"')[1].split("</table>")[0]
    assert "/indicators/drill/op-05/2025/institution/QH0001/" in ranking
    assert "/indicators/drill/op-05/2025/institution/QH0001/records/" not in ranking
    body = client.get("/indicators/drill/op-05/2025/institution/QH0001/").content.decode()
    children = body.split('id="drill-children"')[1].split("</table>")[0]
    # 李心远 is listed (孙药华, the pharmacist, has no result); his value covers both sites
    assert children.count("<tr data-org=") == 1
    row = children.split(f'data-org="{CARDIO}"')[1].split("</tr>")[0]
    assert "医生" in row and "李心远" in row and "37.06%" in row and "3,150.00 / 8,500.00" in row
    assert f'href="/indicators/drill/op-05/2025/doctor/{CARDIO}/records/"' in row
    assert "多点执业" in body.split('id="children-note"')[1].split("</p>")[0]
    # 河口乡卫生院 lists its own doctor only, not the visiting cardiologist
    body = client.get("/indicators/drill/op-05/2025/institution/QH1002/").content.decode()
    children = body.split('id="drill-children"')[1].split("</table>")[0]
    assert 'data-org="QH1002-0001"' in children and CARDIO not in children
    # the doctor's records: V2, V3 and S1, with the chain 县 › 机构 › 医生
    before = AuditEvent.objects.count()
    body = client.get(f"/indicators/drill/op-05/2025/doctor/{CARDIO}/records/").content.decode()
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("seq")
    assert event.resource_id == f"op-05/2025/doctor/{CARDIO}"
    ids = {Encounter.objects.get(external_id=x).pk for x in ("V2", "V3", "S1")}
    assert set(event.detail["records"]["encounter"]) == ids
    crumbs = body.split('<ol class="breadcrumb">')[1].split("</ol>")[0]
    assert "机构：县人民医院" in crumbs and "医生：李心远" in crumbs
    # a doctor's drill-down page has nothing below it: it goes to the records
    response = client.get(f"/indicators/drill/op-05/2025/doctor/{CARDIO}/")
    assert response.status_code == 302
    assert response["Location"] == f"/indicators/drill/op-05/2025/doctor/{CARDIO}/records/"
    # an indicator without the doctor level has no doctor page
    assert client.get(f"/indicators/drill/nhc-12/2025/doctor/{CARDIO}/records/").status_code == 404


def test_institution_admin_opens_only_their_own_doctors(
    world: Any, ops: Path, settings: Any
) -> None:
    settings.SNAPSHOT_ROOT = ops
    do_compute("2025", root=ops)
    client = client_for(world, "institution_admin")  # 河口乡卫生院
    own = client.get("/indicators/drill/op-05/2025/doctor/QH1002-0001/records/")
    assert own.status_code == 200
    ids = [Encounter.objects.get(external_id="S2").pk]
    assert AuditEvent.objects.latest("seq").detail["records"] == {"encounter": ids}
    # the cardiologist worked at 河口乡卫生院 too, but his employer is 县人民医院
    refused = client.get(f"/indicators/drill/op-05/2025/doctor/{CARDIO}/records/")
    assert refused.status_code == 403
    assert "该机构不在您的数据范围内" in refused.content.decode()
    denied = AuditEvent.objects.latest("seq")
    assert (denied.action, denied.resource_id) == ("denied", f"op-05/2025/doctor/{CARDIO}")
