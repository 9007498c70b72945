"""ref-01 … ref-06 (issue #6 item 7) on the hand-built county of conftest.py plus referrals,
a session and a bed written here through the services, each number counted by hand below.

Inpatient discharges in 2025 (conftest.py): 基层 S2 (河口乡卫生院 QH1002); 县级 S1, S3
(县人民医院 QH0001).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from yigongti.analytics.services import do_snapshot
from yigongti.core import clock
from yigongti.indicators import definitions, rules
from yigongti.indicators.services import do_compute

from .test_services import county_code, hekou_code, results

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal
ON_OFFER_2025 = 296 * 86400  # ref-06: the reserved beds from the first admission (11 March)
# the reserved beds (⌈beds/4⌉) of 县人民医院's seven wards, in the order of their ward ids
WARD_RESERVED = (30, 15, 30, 15, 13, 5, 8)


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=TZ)


@pytest.fixture
def referred(county: Path, world: Any, actor_for: Any) -> Path:
    from yigongti.referrals import services as ref
    from yigongti.residents.services import do_grant_care_relationship
    from yigongti.scheduling import services as sch
    from yigongti.scheduling.choices import BedStatus

    lead = world.lead_hospital
    xnk = lead.departments.get(code="XNK")
    zhang = world.residents["elderly_patient"]
    village, specialist = actor_for("family_doctor"), actor_for("cardiologist")
    hekou = actor_for("hekou_doctor")
    spouse = world.residents["elderly_spouse"]
    for person in (zhang, spouse):
        do_grant_care_relationship(
            person, world.institutions["thc_hekou"], "treating_encounter", source="test",
            valid_from=dt.date(2025, 1, 1),
        )  # fmt: skip
    with clock.frozen(at(3, 1)):
        session = sch.do_publish_schedule(
            actor_for("county_admin"),
            sch.ScheduleInput(xnk.pk, dt.date(2025, 3, 15), "am", dt.time(8), dt.time(9), 6),
        )  # 6 slots, 2 reserved (#3, #6)

    def up(**extra: Any) -> ref.ReferralInput:
        return ref.ReferralInput(
            direction="up", resident_id=zhang.pk, diagnosis_code="I10", reason="血压控制不佳",
            consent=True, to_institution_id=lead.pk, to_department_id=xnk.pk, **extra,
        )  # fmt: skip

    with clock.frozen(at(3, 10)):
        r1 = ref.do_create_referral(village, up(schedule_id=session.pk))  # reserved slot #3
        ref.do_create_referral(village, up(), submit=False)  # a draft: never counted
        bed = sch.do_hold_bed(specialist, xnk.pk, zhang, expected_on=dt.date(2025, 3, 11),
                              up_referral=True)  # fmt: skip
    with clock.frozen(at(3, 10, 15)):
        ref.do_accept(specialist, r1.pk)  # 6 hours after submission
    with clock.frozen(at(3, 11, 0)):
        sch.do_move_bed(specialist, bed.pk, BedStatus.ADMITTED)
        spare = sch.do_book_slot(hekou, session.pk, spouse)  # reserved slot #6 …
        sch.do_cancel_booking(hekou, spare.pk, "患者改约")  # … cancelled: not counted
    with clock.frozen(at(3, 15, 8)):
        ref.do_arrive(specialist, r1.pk)
        ref.do_complete(specialist, r1.pk)
    with clock.frozen(at(3, 16, 0)):
        sch.do_move_bed(specialist, bed.pk, BedStatus.RELEASED)  # 5 days = 432,000 s
    with clock.frozen(at(3, 20, 10)):
        r3 = ref.do_return_down(specialist, r1.pk, rehab_plan="每周测血压")
    with clock.frozen(at(3, 21, 10)):
        ref.do_accept(hekou, r3.pk)  # 24 hours after submission
    with clock.frozen(at(5, 1, 10)):
        ref.do_create_referral(hekou, up())  # R2: up from 河口乡卫生院, still waiting
    do_snapshot(county)
    do_compute("2025", root=county)
    return county


def test_referral_indicators_2025(referred: Path) -> None:
    c, hk = county_code(), hekou_code()
    # ref-01: the up-referral R2 (河口乡卫生院) ÷ the township tier's discharges S2; R1, sent
    # by 桃源村卫生室 (a village clinic, no stays), is not counted on either side
    assert results("ref-01", "2025", "county")[c] == (D(1), D(1), D(100))
    assert results("ref-01", "2025", "township")[hk] == (D(1), D(1), D(100))
    by_inst = results("ref-01", "2025", "institution")
    assert by_inst["QH1002"] == (D(1), D(1), D(100))
    assert "QH2003" not in by_inst  # before: (1, 0, "—"), a numerator no ranking could show
    # ref-02: the down-referral R3 (县人民医院) ÷ 县级 discharges S1, S3
    assert results("ref-02", "2025", "county")[c] == (D(1), D(2), D(50))
    assert results("ref-02", "2025", "institution")["QH0001"] == (D(1), D(2), D(50))
    # ref-03: 1 down ÷ (2 up + 1 down); the draft is not a referral
    assert results("ref-03", "2025", "county")[c] == (D(1), D(3), D("33.333333"))
    # ref-04: R1 accepted after 6 h at QH0001, R3 after 24 h at QH1002: (21,600 + 86,400) s
    assert results("ref-04", "2025", "county")[c] == (D(108000), D(7200), D(15))
    assert results("ref-04", "2025", "institution")["QH0001"] == (D(21600), D(3600), D(6))
    assert results("ref-04", "2025", "institution")["QH1002"] == (D(86400), D(3600), D(24))
    # ref-05: R1's reserved slot (the cancelled one not) ÷ 2 reserved slots
    assert results("ref-05", "2025", "county")[c] == (D(1), D(2), D(50))
    # ref-06: 5 days in a reserved bed ÷ reserved beds × the days they were on offer, at the
    # county-level hospitals. Reserved = ⌈beds/4⌉: 县人民医院 30+15+30+15+13+5+8 = 116; the
    # wards of 城关镇 (15) and 河口乡 (10) take no part. On offer from the county's first
    # admission (11 March, local day) to the year's end: 21 + 30 + 31 + 30 + 31 + 31 + 30 + 31
    # + 30 + 31 = 296 days, not 365 (0.011809 %)
    assert results("ref-06", "2025", "institution")["QH0001"] == (
        D(432000),
        D(116 * ON_OFFER_2025),
        D("0.014562"),
    )
    assert results("ref-06", "2025", "county")[c][:2] == (D(432000), D(116 * ON_OFFER_2025))
    assert {*results("ref-06", "2025", "institution")} == {"QH0001"}


def test_referral_indicators_in_a_month_and_zero(referred: Path) -> None:
    do_compute("2025-05", root=referred)
    c = county_code()
    assert results("ref-01", "2025-05", "county")[c] == (D(1), D(0), None)  # R2, no discharges
    assert results("ref-03", "2025-05", "county")[c] == (D(0), D(1), D(0))
    assert results("ref-05", "2025-05", "county") == {}  # no session in May: no row
    # the wards are there every period after the first admission; no reserved bed was
    # occupied in May
    assert results("ref-06", "2025-05", "county")[c] == (D(0), D(116 * 31 * 86400), D(0))


def test_ref06_counts_the_beds_from_the_first_admission(referred: Path) -> None:
    """The reserved beds are on offer from the county's first admission (11 March, 00:00
    local): February is wholly before it (no row: "—", not 0 %, and nothing to drill into),
    March counts its last 21 days."""
    do_compute("2025-02", root=referred)
    do_compute("2025-03", root=referred)
    c = county_code()
    assert results("ref-06", "2025-02", "county") == {}
    assert results("ref-06", "2025-03", "county")[c] == (
        D(432000),
        D(116 * 21 * 86400),
        D("0.205255"),
    )


def test_referrals_count_by_local_day(referred: Path, world: Any, actor_for: Any) -> None:
    """A referral submitted at 00:30 on 1 June (Beijing time; 16:30 UTC on 31 May) counts in
    June, one at 23:59 on 31 May in May: timestamps are filtered by their local day
    (definitions._local_day), the planned months equal the per-month computation."""
    from yigongti.referrals import services as ref

    lead = world.lead_hospital
    hekou = actor_for("hekou_doctor")
    zhang = world.residents["elderly_patient"]

    def up() -> ref.ReferralInput:
        return ref.ReferralInput(
            direction="up", resident_id=zhang.pk, diagnosis_code="I10", reason="复诊评估",
            consent=True, to_institution_id=lead.pk,
            to_department_id=lead.departments.get(code="XNK").pk,
        )  # fmt: skip

    with clock.frozen(dt.datetime(2025, 5, 31, 23, 59, tzinfo=TZ)):
        ref.do_create_referral(hekou, up())
    with clock.frozen(dt.datetime(2025, 6, 1, 0, 30, tzinfo=TZ)):
        ref.do_create_referral(hekou, up())
    do_snapshot(referred)
    do_compute("2025", root=referred, breakdown=True)
    c = county_code()
    # ref-03's denominator: every up or down referral sent in the period
    assert results("ref-03", "2025-05", "county")[c] == (D(0), D(2), D(0))  # R2 + 23:59
    assert results("ref-03", "2025-06", "county")[c] == (D(0), D(1), D(0))  # 00:30
    assert results("ref-03", "2025-Q2", "county")[c] == (D(0), D(3), D(0))
    assert results("ref-03", "2025", "county")[c] == (D(1), D(5), D(20))
    # the same months computed one at a time (the planner's buckets against plain filters)
    do_compute("2025-06", root=referred)
    assert results("ref-03", "2025-06", "county")[c] == (D(0), D(1), D(0))


def test_records_behind_the_referral_indicators(referred: Path, world: Any, settings: Any) -> None:
    """The records page of ref-04 … ref-06 shows each referral, booking, bed, session and ward
    (before, a row said only that such records were not shown)."""
    from django.test import Client

    from yigongti.core.models import AuditEvent
    from yigongti.referrals.models import Referral

    settings.SNAPSHOT_ROOT = referred
    client = Client()
    client.force_login(world.users["county_admin"])

    def rows(code: str, level: str, org: str) -> dict[str, list[str]]:
        page = client.get(f"/indicators/drill/{code}/2025/{level}/{org}/records/").content
        body = page.decode().split('id="records"')[1].split("</tbody>")[0]
        out: dict[str, list[str]] = {}
        for tr in body.split("<tr data-kind=")[1:]:
            kind = tr.split('"')[1]
            cells = [
                " ".join(c.split(">", 1)[1].split("</td>")[0].replace("<", " <").split())
                for c in tr.split("<td")[1:]
            ]
            out.setdefault(kind, []).append(" | ".join(cells))
        return out

    # ref-04 has no township level: the dashboard's link and the county page say so
    assert definitions.get("ref-04").drill_path == "县 › 机构 › 明细"
    assert definitions.get("nhc-12").drill_path == "县 › 乡镇 › 机构 › 明细"
    assert definitions.get("nhc-07").drill_path == "县 › 明细"
    county_page = client.get(f"/indicators/drill/ref-04/2025/county/{county_code()}/").content
    assert "该指标不统计到乡镇，各机构（含乡镇卫生院）直接列在县下。" in county_page.decode()
    dashboard = client.get("/indicators/?period=2025&indicator=ref-04").content.decode()
    assert "逐级下钻：县 › 机构 › 明细</a>" in dashboard
    # R1's number carries its database id, which PostgreSQL does not reset between tests
    r1 = Referral.objects.get(direction="up", status="returned")
    zhang = '张*福 <a class="small" href="/encounters/resident/R00000000001/">时间线 </a>'
    assert rows("ref-04", "institution", "QH0001") == {
        "referral": [
            f'1 | 转诊单 <span class="d-block mono text-muted">{r1.number} </span> | '
            "2025-03-10 | 桃源村卫生室 → 县人民医院 | 上转·已回转 | "
            f'<span class="mono">I10 </span> 特发性（原发性）高血压 | {zhang} | 6.00 小时 | 1 件'
        ]
    }
    assert rows("ref-05", "county", county_code()) == {
        "booking": [
            '1 | 预约 <span class="d-block mono text-muted">第 3 号 </span> | 2025-03-15 | '
            f"县人民医院 · 心血管内科 | 基层预留号源·已到诊 | {zhang} | 1 | 0"
        ],
        "schedule": [
            "2 | 出诊排班 | 2025-03-15 | 县人民医院 · 心血管内科 | "
            "上午出诊·号源 6 个，基层预留 2 个 | — | 0 | 2"
        ],
    }
    beds = rows("ref-06", "institution", "QH0001")
    assert beds["bed_booking"] == [
        '1 | 床位占用 | 2025-03-11 <span class="text-muted small d-block">至 2025-03-16 </span> | '
        f"县人民医院 · 心血管内科 | 基层预留床位·已出院/释放 | {zhang} | 5.00 床日 | 0.00 床日"
    ]
    # the seven wards of 县人民医院, each with its reserved beds (⌈beds/4⌉) × the 296 days
    # from the first admission, shown in 床日 (stored in bed-seconds: 15 × 296 × 86,400)
    assert len(beds["ward"]) == 7
    assert beds["ward"][1] == (
        "3 | 病区 | — | 县人民医院 · 心血管内科 | 床位 60 张，基层预留 15 张，计 296 天 | — | "
        "0.00 床日 | 4,440.00 床日"
    )

    # the columns a page's records cannot fill are left out: a referral has a diagnosis and
    # no bill; bookings, sessions, beds and wards have neither
    def head(code: str, level: str, org: str) -> list[str]:
        page = client.get(f"/indicators/drill/{code}/2025/{level}/{org}/records/").content
        thead = page.decode().split('id="records"')[1].split("</thead>")[0]
        return re.findall(r"<th[^>]*>([^<]*)</th>", thead)

    named = [
        head(code, level, org)
        for code, level, org in (
            ("ref-04", "institution", "QH0001"),
            ("ref-05", "county", county_code()),
        )
    ]
    assert named == [
        ["#", "来源", "日期", "机构", "类型", "主要诊断", "居民", "计入分子", "计入分母"],
        ["#", "来源", "日期", "机构", "类型", "居民", "计入分子", "计入分母"],
    ]
    read = AuditEvent.objects.filter(resource_type="indicator_records").order_by("-seq")[4]
    assert read.detail["records"] == {"referral": [r1.pk]}


@pytest.mark.parametrize(("channel", "used"), [("public", 1), ("grassroots", 2)])
def test_ref05_counts_only_grassroots_bookings_of_the_reserved_pool(
    referred: Path, tmp_path: Path, channel: str, used: int
) -> None:
    """A reserved slot booked through the public channel (a leftover after the cut-off) is
    not the grassroots' use of its pool: the snapshot with one more such booking keeps ref-05
    at R1's 1 of 2; the same booking through the grassroots channel counts."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from yigongti.indicators.services import evaluate, parse_periods

    root = tmp_path / "variant"
    shutil.copytree(referred, root)
    (path,) = sorted((root / "bookings").rglob("*.parquet"))
    bookings = pq.read_table(path)
    row = bookings.slice(0, 1).to_pylist()[0]
    extra = {**row, "booking_id": row["booking_id"] + 1000, "channel": channel}
    extra.update(pool="reserved", status="attended")
    pq.write_table(
        pa.concat_tables([bookings, pa.Table.from_pylist([extra], schema=bookings.schema)]), path
    )
    rows = evaluate(parse_periods("2025"), root=root, only=["ref-05"]).rows
    county = [(r.numerator, r.denominator) for r in rows if r.level == "county"]
    assert county == [(D(used), D(2))]


def test_ref06_records_are_the_period_s_beds_and_wards(referred: Path, world: Any) -> None:
    """The records behind ref-06 are the beds occupied in the period and the wards on offer
    in it: May lists the seven wards and not March's bed (before, it listed every bed ever
    admitted, at 0 床日); February, before the go-live, lists nothing."""
    from yigongti.indicators.services import read_records

    lead = world.lead_hospital
    ref06 = definitions.get("ref-06")

    def kinds(period: str) -> list[tuple[str, Decimal, Decimal]]:
        page = read_records(
            ref06, rules.parse_period(period), level="institution",
            org_id=lead.pk, root=referred,
        )  # fmt: skip
        return [(r.record_kind, r.numerator, r.denominator) for r in page.rows]

    assert kinds("2025-03") == [("bed_booking", D(432000), D(0))] + [
        ("ward", D(0), D(reserved * 21 * 86400)) for reserved in WARD_RESERVED
    ]
    assert kinds("2025-05") == [("ward", D(0), D(n * 31 * 86400)) for n in WARD_RESERVED]
    assert kinds("2025-02") == []
