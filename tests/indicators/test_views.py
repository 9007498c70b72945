"""The indicator dashboard: stored results against targets, trends, ranking, refusals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.utils import timezone

from yigongti.accounts.choices import ScopeKind
from yigongti.geo.models import Division
from yigongti.geo.services import do_create_division
from yigongti.indicators import definitions
from yigongti.indicators.models import IndicatorResult
from yigongti.indicators.services import do_compute

pytestmark = pytest.mark.django_db


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def test_dashboard_shows_values_targets_status_and_stamp(
    world: Any,
    county: Path,
    settings: Any,
) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    page = client_for(world, "county_admin").get("/indicators/?period=2025").content.decode()
    assert "数据截至 2025-07" in page  # the last month with encounters (S3)
    row = page.split('data-code="nhc-07"')[1].split("</tr>")[0]
    assert "50.00%" in row and "65%" in row and "未达标" in row and "2 / 4" in row
    row11 = page.split('data-code="nhc-11"')[1].split("</tr>")[0]
    assert "66.67%" in row11 and "未达标" in row11
    row13 = page.split('data-code="nhc-13"')[1].split("</tr>")[0]
    assert "—" in row13 and "待接入数据" in row13
    assert '"months": ["2025-01"' in page and '"target": 65.0' in page
    assert '"selected": []' in page  # a year marks no months on its own line
    quarter = client_for(world, "county_admin").get("/indicators/?period=2025-Q3")
    assert quarter.context["trend"]["selected"] == ["2025-07", "2025-08", "2025-09"]
    assert "该年度暂无数据" in quarter.content.decode()  # the chart's message when all are null
    # nhc-07, shown first, is a county figure: every member of a township is 基层
    assert 'id="ranking"' not in page and "该指标只统计到县级，没有乡镇、机构排名。" in page
    page = client_for(world, "county_admin").get("/indicators/?period=2025&indicator=nhc-12")
    ranking = page.content.decode().split('id="ranking"')[1].split("</table>")[0]
    assert "河口乡" in ranking and page.context["level"] == "township"  # townships first
    assert "echarts.min.js" in page.content.decode()


def test_ranking_by_township_and_lower_is_better(world: Any, county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    client = client_for(world, "county_admin")
    page = client.get("/indicators/?period=2025&indicator=nhc-12&level=township").content.decode()
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    assert "河口乡" in ranking and "50.00%" in ranking and "1 / 2" in ranking
    page = client.get(
        "/indicators/?period=2025&indicator=nhc-10&level=institution"
    ).content.decode()
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    # lower is better: 河口乡卫生院 (2,000) before 县人民医院 (8,000)
    assert ranking.index("河口乡卫生院") < ranking.index("县人民医院")
    # by the short name the drill-down pages use, not the full 青禾县人民医院
    assert "青禾县" not in ranking
    assert "2,000.00 元</td>" in ranking  # the value with its unit and separators, as the overview


def test_a_period_without_results_says_so(world: Any, county: Path, settings: Any) -> None:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    client = client_for(world, "county_admin")
    for asked in ("2026", "bogus"):
        page = client.get("/indicators/", {"period": asked})
        assert page.context["period"] == "2025"
        shown = page.content.decode()
        assert f"统计期“{asked}”没有计算结果，下面显示 2025。" in shown, asked
        assert "请联系信息中心计算" in shown and "yigongti" not in shown.split("<footer")[0]
    page = client.get("/indicators/", {"period": "2025"})
    assert 'id="missing-period"' not in page.content.decode()


def test_an_indicator_without_detail_says_so(world: Any, county: Path, settings: Any) -> None:
    """An indicator the dashboard has no trend for (qualitative, awaiting data, or no such
    code) says why above the first computed one; before, nhc-07 came up without a word."""
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    client = client_for(world, "county_admin")

    def notice(code: str) -> str:
        page = client.get("/indicators/", {"period": "2025", "indicator": code})
        assert page.context["chosen"].code == "nhc-07"
        shown = page.content.decode()
        return shown.split('id="unshown-indicator">')[1].split("</div>")[0]

    nhc07 = "；下面显示 nhc-07 县域内基层医疗卫生机构诊疗人次数占比。"
    assert (
        notice("nhc-13")
        == f"nhc-13 {definitions.get('nhc-13').name}待接入数据，尚无计算结果{nhc07}"
    )
    assert notice("nhc-02") == (
        'nhc-02 医共体内部民主决策是定性指标，按佐证材料评估（<a href="/indicators/evidence/'
        '?year=2025#nhc-02">查看佐证材料与评估</a>）' + nhc07
    )
    assert notice("xyz") == "没有编码为“xyz”的指标" + nhc07
    page = client.get("/indicators/", {"period": "2025", "indicator": "nhc-12"})
    assert 'id="unshown-indicator"' not in page.content.decode()
    # the overview explains its colours, with the amber band of the policy parameter
    legend = page.content.decode().split('id="status-legend">')[1].split("</p>")[0]
    assert "达到目标的 90% 为" in legend and "越低越好的指标反之" in legend


def test_refused_for_clinical_roles_and_empty_without_results(world: Any) -> None:
    response = client_for(world, "family_doctor").get("/indicators/")
    assert response.status_code == 403
    assert "监测指标看板供县级管理员" in response.content.decode()
    page = client_for(world, "county_admin").get("/indicators/").content.decode()
    assert "还没有计算结果" in page


# --- several counties in one deployment ---------------------------------------------------

SONGLING = "439902000000"  # a second fictional county of 青禾市, results stored directly


@pytest.fixture
def two_counties(world: Any, county: Path, settings: Any) -> Path:
    """青禾县 computed from the hand-built snapshot, and 松岭县 with stored results only (the
    dashboard reads stored results): nhc-07 30 / 40 for the year and 80% in March, nhc-12
    30 / 40 at 松岭镇."""
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county, breakdown=True)
    city = Division.objects.get(code="439900000000")
    songling = do_create_division(SONGLING, "松岭县", city, is_fictional=True)
    town = do_create_division("439902101000", "松岭镇", songling, is_fictional=True)
    snapshot = IndicatorResult.objects.values_list("snapshot_id", flat=True).first()
    rows = [
        ("nhc-07", "2025", "county", SONGLING, 30, 40, "75"),
        ("nhc-12", "2025", "township", town.code, 30, 40, "75"),
        ("nhc-07", "2025-03", "county", SONGLING, 8, 10, "80"),
    ]
    IndicatorResult.objects.bulk_create(
        IndicatorResult(
            indicator_code=code,
            period=period,
            level=level,
            org_code=org,
            numerator=Decimal(num),
            denominator=Decimal(den),
            value=Decimal(value),
            snapshot_id=snapshot,
            engine="duckdb",
            computed_at=timezone.now(),
        )
        for code, period, level, org, num, den, value in rows
    )
    return county


def test_a_county_user_sees_only_their_county(world: Any, two_counties: Path) -> None:
    client = client_for(world, "county_admin")
    page = client.get(f"/indicators/?period=2025&county={SONGLING}").content.decode()
    assert 'id="id_county"' not in page and "松岭" not in page  # asking for it changes nothing
    row = page.split('data-code="nhc-07"')[1].split("</tr>")[0]
    assert "50.00%" in row and "2 / 4" in row
    assert '<span class="fs-6 text-muted" id="county-name">青禾县</span>' in page
    refused = client.get(
        f"/indicators/report/?year=2025&format=xlsx&county={SONGLING}", follow=True
    ).content.decode()
    assert (
        f"2025 年没有县“{SONGLING}”的指标结果或您无权查看，可选：439901000000（青禾县）" in refused
    )


def test_a_region_user_chooses_the_county(world: Any, two_counties: Path) -> None:
    user = world.users["insurance_reviewer"]
    user.scope_kind = ScopeKind.REGION
    user.scope_division = Division.objects.get(code="439900000000")  # 青禾市
    user.save()
    client = client_for(world, "insurance_reviewer")
    page = client.get("/indicators/?period=2025&indicator=nhc-07").content.decode()
    choice = page.split('id="id_county"')[1].split("</select>")[0]
    assert '<option value="439901000000" selected>青禾县</option>' in choice
    assert f'<option value="{SONGLING}">松岭县</option>' in choice
    row = page.split('data-code="nhc-07"')[1].split("</tr>")[0]
    assert "50.00%" in row  # the first county by code until another is chosen
    page = client.get(f"/indicators/?period=2025&indicator=nhc-07&county={SONGLING}")
    body = page.content.decode()
    row = body.split('data-code="nhc-07"')[1].split("</tr>")[0]
    assert "75.00%" in row and "30 / 40" in row and f"&amp;county={SONGLING}" in row
    assert '"values": [null, null, 80.0, null' in body  # the trend is 松岭县's
    page = client.get(f"/indicators/?period=2025&indicator=nhc-12&county={SONGLING}")
    ranking = page.content.decode().split('id="ranking"')[1].split("</table>")[0]
    assert "松岭镇" in ranking and "河口乡" not in ranking
    # the ranking form keeps the choice
    assert f'name="county" value="{SONGLING}"' in page.content.decode()
    assert f"format=xlsx&amp;county={SONGLING}" in body
    report = client.get(f"/indicators/report/?year=2025&format=xlsx&county={SONGLING}")
    assert report.status_code == 200
    assert "松岭县-2025-医共体监测报告.xlsx" in unquote(report["Content-Disposition"])


def test_qualitative_verdicts_follow_the_chosen_county(
    world: Any, two_counties: Path, actor_for: Any
) -> None:
    """A region user sees each county's own nhc-01 verdict: 青禾县's register says 达标,
    松岭县's medcom says 未达标; a county without a register of its own shows 待评估, never
    another county's verdict (before, the first medcom in scope spoke for every county)."""
    from yigongti.indicators.choices import Verdict
    from yigongti.indicators.models import EvidenceAssessment
    from yigongti.indicators.services import do_assess
    from yigongti.organizations.choices import InstitutionType
    from yigongti.organizations.services import do_add_institution, do_create_medcom

    do_assess(actor_for("county_admin"), world.medcom, "nhc-01", 2025, Verdict.MET, "")
    user = world.users["insurance_reviewer"]
    user.scope_kind = ScopeKind.REGION
    user.scope_division = Division.objects.get(code="439900000000")  # 青禾市
    user.save()
    client = client_for(world, "insurance_reviewer")

    def nhc01(county: str) -> str:
        page = client.get(f"/indicators/?period=2025&county={county}").content.decode()
        return page.split('data-code="nhc-01"')[1].split("</tr>")[0]

    assert "达标" in nhc01("439901000000") and "待评估" not in nhc01("439901000000")
    assert "待评估" in nhc01(SONGLING) and "达标" not in nhc01(SONGLING)

    songling = Division.objects.get(code=SONGLING)
    medcom = do_create_medcom("SL-YGT", "松岭县医共体", songling, is_fictional=True)
    do_add_institution(
        code="SL1001",
        name="松岭县人民医院",
        inst_type=InstitutionType.GENERAL_HOSPITAL,
        division=songling,
        medcom=medcom,
    )
    EvidenceAssessment.objects.create(
        medcom=medcom,
        indicator_code="nhc-01",
        year=2025,
        verdict=Verdict.NOT_MET,
        comment="尚未统一法人",
        assessed_by=world.users["county_admin"],
        assessed_at=timezone.now(),
    )
    assert "未达标" in nhc01(SONGLING)
    row = nhc01("439901000000")
    assert "达标" in row and "未达标" not in row


def test_snapshot_moment_is_shown_in_local_time() -> None:
    """The manifest's moment is UTC; the county reads Beijing time (the reports' 生成时间 are
    local too)."""
    from yigongti.indicators.queries import local_moment

    assert local_moment("2026-12-02T04:38:21.123456+00:00") == "2026-12-02 12:38"
    assert local_moment("2025-12-31T16:00:00+00:00") == "2026-01-01 00:00"
    assert local_moment("2026-12-02T12:38:21") == "2026-12-02 12:38"  # no offset: local
    assert local_moment("") == ""
    assert local_moment("not a time") == "not a time"


def test_no_value_shows_a_dash_and_the_township_ranking_says_what_it_leaves_out(
    world: Any, county: Path, settings: Any
) -> None:
    """nhc-10g has no stays a year earlier (0 ÷ 0): its row and ranking say "—", not "0 / 0";
    the township ranking says the county hospitals count in no township."""
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    client = client_for(world, "county_admin")
    page = client.get("/indicators/?period=2025&indicator=nhc-10g").content.decode()
    row = page.split('data-code="nhc-10g"')[1].split("</tr>")[0]
    assert "0 / 0" not in row and row.count("—") >= 2 and "无数据" in row
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    assert "河口乡" in ranking and "0 / 0" not in ranking
    note = page.split('id="ranking-note">')[1].split("</p>")[0]
    assert note == (  # a growth rate's ranking says what its numerator and denominator are
        "各乡镇的增长率按其乡镇卫生院、村卫生室本期与上年同期的住院人均费用计算，县级医院不计入"
        "任何乡镇；分子为两期人均费用之差（元），分母为上年同期人均费用（元）。"
    )

    def note_of(code: str) -> str:
        shown = client.get(f"/indicators/?period=2025&indicator={code}&level=township")
        return shown.content.decode().split('id="ranking-note">')[1].split("</p>")[0]

    # by institution, the county hospitals in no township; by home (op-01); grassroots only
    assert "县级医院服务全县，不计入任何乡镇" in note_of("nhc-12")
    assert note_of("op-01").startswith("乡镇按居民户籍所在地统计")
    assert note_of("ref-01") == "只统计乡镇卫生院、社区卫生服务中心的上转和出院，各乡镇之和即全县。"
    page = client.get("/indicators/?period=2025&indicator=nhc-10g&level=institution")
    assert 'id="ranking-note"' not in page.content.decode()
