"""Drill-down county → township → institution → records, on the hand-built county (conftest.py).

Expected records and contributions are written out from the fixture's rows (by their source
ids E1…S3, X1…X3); database ids are looked up, never assumed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from yigongti.core.errors import AccessDenied
from yigongti.core.models import AuditEvent
from yigongti.encounters.models import DiagnosisCode, Encounter, ExternalSettlement
from yigongti.geo.models import Division
from yigongti.indicators import definitions, drilldown, queries, rules, services
from yigongti.indicators.models import IndicatorResult
from yigongti.indicators.services import do_compute

pytestmark = pytest.mark.django_db
D = Decimal
ZHANG_ID = "439901195103150033"
CHEN_ID = "439901199006120033"


def e(ext: str) -> int:
    return Encounter.objects.get(external_id=ext).pk


def x(ext: str) -> int:
    return ExternalSettlement.objects.get(external_id=ext).pk


def county_code() -> str:
    return Division.objects.get(level="county").code


def hekou_code() -> str:
    return Division.objects.get(level="township", name="河口乡").code


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def url(code: str, level: str, org: str, *, records: bool = False, period: str = "2025") -> str:
    return f"/indicators/drill/{code}/{period}/{level}/{org}/" + ("records/" if records else "")


def listed(page: str) -> list[tuple[str, str, str, str]]:
    """(kind, id, numerator, denominator) of each row of the records table."""
    body = page.split('id="records"')[1].split("</table>")[0]
    out = []
    for row in body.split("<tr data-kind=")[1:]:
        kind = row.split('"')[1]
        rid = row.split('data-id="')[1].split('"')[0]
        cells = [
            c.split("</td>")[0].split(">")[-1]
            for c in row.split('<td class="text-end mono text-nowrap">')
        ]
        out.append((kind, rid, cells[-2], cells[-1]))
    return out


@pytest.fixture
def computed(county: Path, settings: Any) -> Path:
    settings.SNAPSHOT_ROOT = county
    do_compute("2025", root=county)
    return county


def read(code: str, level: str, org_code: str, **kwargs: Any) -> drilldown.RecordsPage:
    org = queries.get_drill_org(level, org_code)
    assert org is not None
    return services.read_records(
        definitions.get(code), rules.parse_period("2025"), level=level, org_id=org.pk, **kwargs
    )


def contributions(page: drilldown.RecordsPage) -> list[tuple[str, int, Decimal, Decimal]]:
    return [(c.record_kind, c.record_id, c.numerator, c.denominator) for c in page.rows]


# --- the measure, filtered (engine side) ------------------------------------------------


def test_records_of_an_institution_township_and_county(computed: Path) -> None:
    # nhc-12 at 桃源村卫生室 (QH2003): E1 (2025, not 中医类); E5 is 2024
    page = read("nhc-12", "institution", "QH2003")
    assert contributions(page) == [("encounter", e("E1"), D(0), D(1))]
    # 河口乡: E1 at its village clinic, E2 (中医类) at its health centre
    page = read("nhc-12", "township", hekou_code())
    assert contributions(page) == sorted(
        [("encounter", e("E1"), D(0), D(1)), ("encounter", e("E2"), D(1), D(1))]
    )
    # the county: E1–E4; the county hospitals' visits count in the denominator only
    page = read("nhc-07", "county", county_code())
    assert contributions(page) == sorted(
        [
            ("encounter", e("E1"), D(1), D(1)),
            ("encounter", e("E2"), D(1), D(1)),
            ("encounter", e("E3"), D(0), D(1)),
            ("encounter", e("E4"), D(0), D(1)),
        ]
    )
    assert (page.total, page.numerator, page.denominator, page.pages) == (4, D(2), D(4), 1)


def test_nhc08_county_includes_out_of_county_settlements_with_numerator_zero(
    computed: Path,
) -> None:
    page = read("nhc-08", "county", county_code())
    encounters = [
        ("encounter", e(ref), D(fund), D(fund))
        for ref, fund in (
            ("E1", "30"),
            ("E2", "50"),
            ("E3", "200"),
            ("E4", "0"),
            ("S1", "6000"),
            ("S2", "1500"),
            ("S3", "0"),
        )
    ]
    settlements = [
        ("settlement", x("X1"), D(0), D(14000)),
        ("settlement", x("X3"), D(0), D(300)),
    ]  # X2, the pharmacy, is excluded
    assert contributions(page) == sorted(encounters) + sorted(settlements)
    # the records add up to the stored result: 7780 / 22080
    assert (page.total, page.numerator, page.denominator) == (9, D(7780), D(22080))


def test_pages_of_records_and_a_page_past_the_end(computed: Path) -> None:
    first = read("nhc-08", "county", county_code(), size=4)
    last = read("nhc-08", "county", county_code(), size=4, page=3)
    assert (first.pages, first.number, len(first.rows)) == (3, 1, 4)
    assert (last.number, contributions(last)) == (3, [("settlement", x("X3"), D(0), D(300))])
    assert read("nhc-08", "county", county_code(), size=4, page=99).number == 3
    assert read("nhc-08", "county", county_code(), size=4, page=0).number == 1
    every = contributions(first) + contributions(
        read("nhc-08", "county", county_code(), size=4, page=2)
    )
    assert every + contributions(last) == contributions(read("nhc-08", "county", county_code()))


def test_no_records_and_category_filter(computed: Path) -> None:
    # 县妇幼保健院 has no encounters: no rows, one (empty) page
    page = read("nhc-12", "institution", "QH0003")
    assert (page.rows, page.total, page.pages, page.denominator) == ([], 0, 1, D(0))
    # a category that no row has filters everything out
    assert read("nhc-07", "county", county_code(), category="Ⅸ").total == 0


def test_refused_levels_the_indicator_does_not_roll_up_to(computed: Path) -> None:
    with pytest.raises(Exception, match="不统计到该层级"):
        read("nhc-08", "institution", "QH0001")
    # the 基层 shares are county figures (a township's members are all 基层)
    for code in ("nhc-07", "nhc-09"):
        with pytest.raises(Exception, match="不统计到该层级"):
            read(code, "township", hekou_code())
        with pytest.raises(Exception, match="不统计到该层级"):
            read(code, "institution", "QH1002")


# --- the database side: masked rows ---------------------------------------------------------


def test_record_rows_are_masked_and_unknown_kinds_are_kept(world: Any, computed: Path) -> None:
    zhang = world.residents["elderly_patient"]
    rows = queries.list_record_rows(
        [
            drilldown.Contribution("encounter", e("S1"), "", D(6000), D(6000)),
            drilldown.Contribution("settlement", x("X1"), "", D(0), D(14000)),
            drilldown.Contribution("resident", zhang.pk, "", D(1), D(1)),
            drilldown.Contribution("bed_day", 7, "", D(1), D(1)),
            drilldown.Contribution("encounter", 10**9, "", D(1), D(1)),
        ]
    )
    stay, outside, resident, unknown, gone = rows
    assert (stay.found, stay.institution, stay.setting, stay.code) == (
        True,
        "县人民医院",
        "住院",
        "I10",
    )
    assert stay.diagnosis == DiagnosisCode.objects.get(code="I10").name
    assert (stay.total, stay.fund, str(stay.end_date)) == (D(8000), D(6000), "2025-01-05")
    assert stay.resident is not None
    assert (stay.resident["name"], stay.resident["id_number"]) == ("张*福", "439901********0033")
    assert outside.institution == "省人民医院（县域外就医）" and outside.fund == D(14000)
    # an out-of-county stay from admission to discharge (settled on the discharge day, 20
    # August); before, "2025-08-20 至 2025-08-20"
    assert (str(outside.date), str(outside.end_date)) == ("2025-08-10", "2025-08-20")
    (visit,) = queries.list_record_rows(
        [drilldown.Contribution("settlement", x("X3"), "", D(0), D(300))]
    )
    assert (str(visit.date), visit.end_date) == ("2025-09-01", None)  # a visit: the day settled
    assert resident.found and resident.resident is not None and resident.resident["name"] == "张*福"
    assert (unknown.found, unknown.kind_label, gone.found) == (False, "bed_day", False)


def test_record_rows_for_an_aggregate_role_are_deidentified(world: Any, computed: Path) -> None:
    zhang = world.residents["elderly_patient"]
    rows = queries.list_record_rows(
        [
            drilldown.Contribution("encounter", e("S1"), "", D(6000), D(6000)),  # 2024-12-28
            drilldown.Contribution("settlement", x("X3"), "", D(0), D(300)),  # 陈, 2025-09-01
            drilldown.Contribution("resident", zhang.pk, "", D(0), D(1)),
        ],
        deidentify_on=dt.date(2025, 3, 14),  # the day before 张德福 turns 74
    )
    assert [r.resident for r in rows] == [
        {"mpi_id": "", "name": "男·70–79岁", "sex": "男", "age_band": "70–79岁"},
        {"mpi_id": "", "name": "男·30–39岁", "sex": "男", "age_band": "30–39岁"},
        {"mpi_id": "", "name": "男·70–79岁", "sex": "男", "age_band": "70–79岁"},
    ]
    assert (rows[0].institution, rows[0].code, rows[0].fund) == ("县人民医院", "I10", D(6000))


# --- pages -------------------------------------------------------------------------------


def test_drilldown_county_township_institution_records(world: Any, computed: Path) -> None:
    client = client_for(world, "county_admin")
    dashboard = client.get("/indicators/?period=2025&indicator=nhc-07").content.decode()
    county_url = url("nhc-07", "county", county_code())
    row = dashboard.split('data-code="nhc-07"')[1].split("</tr>")[0]
    assert f'<a class="drill" href="{county_url}"' in row  # the county value
    assert f'id="drill-county" href="{county_url}"' in dashboard
    for indicator in definitions.INDICATORS:
        row = dashboard.split(f'data-code="{indicator.code}"')[1].split("</tr>")[0]
        if indicator.code in ("nhc-07", "nhc-08", "nhc-09", "nhc-10", "nhc-11", "nhc-12"):
            assert 'class="drill"' in row
        if indicator.measure is None:  # pending, evidence, a growth rate: no records behind
            assert 'class="drill"' not in row
    # nhc-07 is a county figure: its county page lists the records, no townships
    page = client.get(county_url).content.decode()
    assert 'id="drill-children"' not in page and "只统计到县级" in page
    assert client.get(url("nhc-07", "township", hekou_code())).status_code == 404
    tcm_url = url("nhc-12", "county", county_code())
    dashboard = client.get("/indicators/?period=2025&indicator=nhc-12").content.decode()
    assert f'id="drill-county" href="{tcm_url}"' in dashboard
    assert "逐级下钻：县 › 乡镇 › 机构 › 明细" in dashboard
    page = client.get(tcm_url).content.decode()
    children = page.split('id="drill-children"')[1].split("</table>")[0]
    # 河口乡 (1 / 2) and the two county hospitals that serve the whole county
    assert children.count("<tr data-org=") == 3
    assert f'href="{url("nhc-12", "township", hekou_code())}"' in children
    assert f'href="{url("nhc-12", "institution", "QH0001", records=True)}"' in children
    assert "50.00%" in children and "1 / 2" in children
    page = client.get(url("nhc-12", "township", hekou_code())).content.decode()
    children = page.split('id="drill-children"')[1].split("</table>")[0]
    assert children.count("<tr data-org=") == 2
    assert (
        "河口乡卫生院" in children and "桃源村卫生室" in children and "县人民医院" not in children
    )
    records = client.get(url("nhc-12", "institution", "QH1002", records=True))
    body = records.content.decode()
    assert records.status_code == 200
    assert listed(body) == [("encounter", str(e("E2")), "1", "1")]
    crumbs = body.split('class="breadcrumb"')[1].split("</ol>")[0]
    assert "县：青禾县" in crumbs and "乡镇：河口乡" in crumbs and "机构：河口乡卫生院" in crumbs
    assert "明细" in crumbs


def test_county_only_indicator_has_no_deeper_links_but_county_records(
    world: Any, computed: Path
) -> None:
    client = client_for(world, "insurance_reviewer")
    page = client.get(url("nhc-08", "county", county_code())).content.decode()
    assert 'id="drill-children"' not in page and "只统计到县级" in page
    assert client.get(url("nhc-08", "township", hekou_code())).status_code == 404
    body = client.get(url("nhc-08", "county", county_code(), records=True)).content.decode()
    shown = listed(body)
    assert ("settlement", str(x("X1")), "0.00", "14,000.00") in shown  # thousands grouped
    assert ("settlement", str(x("X3")), "0.00", "300.00") in shown
    assert ("encounter", str(e("S1")), "6,000.00", "6,000.00") in shown
    assert len(shown) == 9
    assert "共 9 条记录" in body and "7,780.00 / 分母 22,080.00" in body
    x1 = body.split(f'data-kind="settlement" data-id="{x("X1")}"')[1].split("</tr>")[0]
    assert "¥20,000.00" in x1 and "¥14,000.00" in x1 and "省人民医院（县域外就医）" in x1
    assert "时间线" not in body.split('id="records"')[1]  # aggregate role: no timeline links
    # de-identified (DESIGN.md): no masked name, no MPI; sex and age band on the record's date
    assert "张*福" not in body and "陈*东" not in body and "去标识化" in body
    assert world.residents["elderly_patient"].mpi_id not in body
    assert "男·70–79岁" in x1 and "¥14,000.00" in x1
    # dates to the month only (a day, an institution and a diagnosis can name a villager)
    assert "2025-08</td>" not in x1 and ">2025-08<" in x1 and "至 2025-08<" in x1
    assert "2025-08-10" not in body and "2025-08-20" not in body and "日期只到月份" in body


def test_county_records_narrowed_to_one_institution(world: Any, computed: Path) -> None:
    """A county's records page takes 机构: only that institution's records (the settlements
    outside the county, with no member institution, drop out), the filter in the audit; an
    institution outside the area is said so and the page lists them all."""
    client = client_for(world, "county_admin")
    target = url("nhc-08", "county", county_code(), records=True)
    page = client.get(target)
    options = re.findall(r'<option value="(QH\d+)"', page.content.decode())
    assert options == [i.code for i in page.context["institutions"]] and "QH1002" in options
    body = client.get(target + "?institution=QH0001").content.decode()
    # E3, S1 and S3 of 县人民医院 (QH0001) only: 6,200 of fund over 6,200
    assert listed(body) == [
        ("encounter", str(e("E3")), "200.00", "200.00"),
        ("encounter", str(e("S1")), "6,000.00", "6,000.00"),
        ("encounter", str(e("S3")), "0.00", "0.00"),
    ]
    assert "共 3 条记录" in body and "6,200.00 / 分母 6,200.00" in body
    assert 'id="records-within"' in body
    assert 'id="records-stale"' not in body  # a part: not compared with the stored total
    event = AuditEvent.objects.filter(resource_type="indicator_records").latest("seq")
    assert event.detail["institution"] == "QH0001"
    assert event.detail["records"] == {"encounter": [e("E3"), e("S1"), e("S3")]}
    body = client.get(target + "?institution=NOPE").content.decode()
    assert "机构“NOPE”不在青禾县范围内，下面列出全部记录。" in body and "共 9 条记录" in body
    # an institution's own records page has no such filter
    page = client.get(url("nhc-12", "institution", "QH1002", records=True)).content.decode()
    assert 'id="records-filter"' not in page


def test_records_page_masks_names_and_identity_numbers(world: Any, computed: Path) -> None:
    body = (
        client_for(world, "county_admin")
        .get(url("nhc-08", "county", county_code(), records=True))
        .content.decode()
    )
    assert "张*福" in body and "陈*东" in body
    for secret in ("张德福", "陈晓东", ZHANG_ID, CHEN_ID, "13807310001"):
        assert secret not in body
    mpi = world.residents["elderly_patient"].mpi_id
    assert f'href="/encounters/resident/{mpi}/"' in body  # the timeline has its own gate


def test_records_view_is_audited_with_the_ids_shown(world: Any, computed: Path) -> None:
    before = AuditEvent.objects.count()
    client_for(world, "county_admin").get(url("nhc-12", "township", hekou_code(), records=True))
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("seq")
    assert (event.action, event.resource_type, event.actor_username) == (
        "read",
        "indicator_records",
        "admin",
    )
    assert event.resource_id == f"nhc-12/2025/township/{hekou_code()}"
    assert event.detail["records"] == {"encounter": sorted([e("E1"), e("E2")])}
    assert (event.detail["indicator"], event.detail["period"], event.detail["org_code"]) == (
        "nhc-12",
        "2025",
        hekou_code(),
    )
    assert (event.detail["page"], event.detail["pages"]) == (1, 1)


def test_a_refused_records_page_reads_nothing_of_the_area(
    world: Any, computed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(world, "institution_admin")

    def unread(*args: Any) -> Any:
        raise AssertionError("the institutions of the area were read for a refused page")

    monkeypatch.setattr(queries, "list_area_institutions", unread)
    before = AuditEvent.objects.count()
    refused = client.get(url("nhc-12", "township", hekou_code(), records=True))
    assert refused.status_code == 403
    assert AuditEvent.objects.count() == before + 1
    denied = AuditEvent.objects.latest("seq")
    assert (denied.action, denied.resource_id) == ("denied", f"nhc-12/2025/township/{hekou_code()}")


def test_institution_admin_sees_only_their_own_institutions(world: Any, computed: Path) -> None:
    client = client_for(world, "institution_admin")  # 河口乡卫生院, subtree scope
    body = client.get(url("nhc-12", "institution", "QH1002", records=True)).content.decode()
    assert listed(body) == [("encounter", str(e("E2")), "1", "1")]
    before = AuditEvent.objects.count()
    refused = client.get(url("nhc-12", "institution", "QH0001", records=True))
    assert refused.status_code == 403
    assert "该机构不在您的数据范围内" in refused.content.decode()
    assert 'id="records"' not in refused.content.decode()
    denied = AuditEvent.objects.latest("seq")
    assert AuditEvent.objects.count() == before + 1
    assert (denied.action, denied.resource_id) == ("denied", "nhc-12/2025/institution/QH0001")
    assert "records" not in denied.detail
    for level, org in (("county", county_code()), ("township", hekou_code())):
        for records in (False, True):
            response = client.get(url("nhc-12", level, org, records=records))
            assert response.status_code == 403
            assert "机构管理员只能查看本机构及下属机构的指标明细" in response.content.decode()
    # the dashboard links only their own institutions
    dashboard = client.get("/indicators/?period=2025&indicator=nhc-12&level=institution")
    ranking = dashboard.content.decode().split('id="ranking"')[1].split("</table>")[0]
    assert url("nhc-12", "institution", "QH1002", records=True) in ranking
    assert url("nhc-12", "institution", "QH2003", records=True) in ranking
    assert "QH0001" not in ranking
    assert 'id="drill-county"' not in dashboard.content.decode()
    # with no level asked for, the ranking starts at the institutions (theirs are links),
    # the heading links their own institution, and a change of period keeps the level
    page = client.get("/indicators/?period=2025&indicator=nhc-12")
    assert page.context["level"] == "institution"
    shown = page.content.decode()
    own = shown.split('id="drill-own" href="')[1].split("</a>")[0]
    assert (
        own
        == url("nhc-12", "institution", "QH1002", records=True) + '">本机构明细：青禾县河口乡卫生院'
    )
    period_form = shown.split('id="period-form"')[1].split("</form>")[0]
    assert '<input type="hidden" name="level" value="institution">' in period_form
    county_admin = client_for(world, "county_admin").get(
        "/indicators/?period=2025&indicator=nhc-12"
    )
    assert county_admin.context["level"] == "township"
    assert 'id="drill-own"' not in county_admin.content.decode()


def test_other_roles_and_unknown_targets(world: Any, computed: Path) -> None:
    doctor = client_for(world, "family_doctor")
    response = doctor.get(url("nhc-12", "institution", "QH2003", records=True))
    assert response.status_code == 403
    assert "指标下钻和明细供县级管理员" in response.content.decode()
    admin = client_for(world, "county_admin")
    assert admin.get(url("nhc-99", "county", county_code())).status_code == 404
    assert admin.get(url("nhc-13", "county", county_code())).status_code == 404  # pending
    assert admin.get(url("nhc-12", "county", county_code(), period="2025-13")).status_code == 404
    assert admin.get(url("nhc-12", "institution", "NOPE", records=True)).status_code == 404


def test_check_drill_scope(world: Any, actor_for: Any, computed: Path) -> None:
    county = queries.get_drill_org("county", county_code())
    lead = queries.get_drill_org("institution", "QH0001")
    clinic = queries.get_drill_org("institution", "QH2003")
    assert county is not None and lead is not None and clinic is not None
    assert (lead.county, lead.township) == (county.county, None)
    assert clinic.township is not None and clinic.township.name == "河口乡"
    for key in ("county_admin", "centre_staff", "insurance_reviewer"):
        services.check_drill(actor_for(key), county)
        services.check_drill(actor_for(key), lead)
    services.check_drill(actor_for("institution_admin"), clinic)  # in the subtree
    with pytest.raises(AccessDenied):
        services.check_drill(actor_for("institution_admin"), lead)


def test_pagination_on_the_page(world: Any, computed: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(drilldown, "PAGE_SIZE", 4)
    client = client_for(world, "centre_staff")
    target = url("nhc-08", "county", county_code(), records=True)
    body = client.get(target + "?page=3").content.decode()
    assert listed(body) == [("settlement", str(x("X3")), "0.00", "300.00")]
    assert "第 3 / 3 页" in body and "共 9 条记录" in body
    # a jump to any page, keeping the other parameters of the page (here: none but page)
    jump = body.split('class="d-flex align-items-center gap-1 small no-print page-jump">')[1]
    jump = jump.split("</form>")[0]
    assert 'name="page" id="page-jump-3" min="1" max="3" value="3"' in jump
    assert 'type="hidden"' not in jump
    for asked, shown in (("0", "第 1 / 3 页"), ("-2", "第 1 / 3 页"), ("x", "第 1 / 3 页")):
        assert shown in client.get(target + f"?page={asked}").content.decode(), asked
    event = AuditEvent.objects.filter(resource_type="indicator_records").latest("seq")
    assert event.detail["page"] == 1
    body = client.get(target + "?page=3").content.decode()
    event = AuditEvent.objects.latest("seq")
    assert event.detail["records"] == {"settlement": [x("X3")]} and event.detail["page"] == 3
    second = listed(client.get(target + "?page=2").content.decode())
    assert [r[0] for r in second] == ["encounter"] * 3 + ["settlement"]


def test_drill_rules() -> None:
    assert rules.drill_refusal("county_admin", "county", True) == ""
    assert (
        rules.drill_refusal("centre_staff", "township", False) == "该区划或机构不在您的数据范围内"
    )
    assert rules.drill_refusal("institution_admin", "institution", True) == ""
    assert rules.drill_refusal("institution_admin", "township", True).startswith("机构管理员")
    assert rules.drill_refusal("institution_admin", "institution", False).startswith("机构管理员")
    assert rules.drill_refusal("doctor", "institution", True).startswith("指标下钻和明细")


def test_contributing_filters_by_org_and_category_including_the_unknown_one() -> None:
    """The pure Ibis part on a hand-written measure: an org at each level, a category, and the
    label the engine stores a missing category under (services.UNKNOWN_CATEGORY)."""
    import ibis
    import pyarrow as pa

    measure = ibis.memtable(
        pa.table(
            {
                "county_id": pa.array([1, 1, 1, 1, 1], pa.int64()),
                "township_id": pa.array([10, 10, 11, None, 10], pa.int64()),
                "institution_id": pa.array([100, 101, 110, None, 100], pa.int64()),
                "category": pa.array(["Ⅸ", "Ⅸ", None, "Ⅹ", ""], pa.string()),
                "record_kind": ["encounter", "encounter", "encounter", "settlement", "encounter"],
                "record_id": pa.array([5, 3, 4, 1, 2], pa.int64()),
                "numerator": pa.array([D(1), D(0), D(1), D(0), D(1)], pa.decimal128(38, 2)),
                "denominator": pa.array([D(1)] * 5, pa.decimal128(38, 2)),
            }
        )
    )
    con = ibis.duckdb.connect()

    def ids(key: str, org: int, category: str = "", size: int = 50, number: int = 1) -> list:
        rows = drilldown.contributing(
            measure, key=key, org_id=org, category=category, unknown=services.UNKNOWN_CATEGORY
        )
        page = drilldown.page_of(rows, number, size)
        return [(r["record_kind"], r["record_id"]) for r in con.to_pyarrow(page).to_pylist()]

    assert ids("county_id", 1) == [
        ("encounter", 2),
        ("encounter", 3),
        ("encounter", 4),
        ("encounter", 5),
        ("settlement", 1),
    ]
    assert ids("township_id", 10) == [("encounter", 2), ("encounter", 3), ("encounter", 5)]
    assert ids("institution_id", 100) == [("encounter", 2), ("encounter", 5)]
    assert ids("county_id", 1, "Ⅸ") == [("encounter", 3), ("encounter", 5)]
    assert ids("county_id", 1, services.UNKNOWN_CATEGORY) == [("encounter", 2), ("encounter", 4)]
    assert ids("county_id", 1, size=2, number=3) == [("settlement", 1)]
    sums = con.to_pyarrow(
        drilldown.summary(drilldown.contributing(measure, key="township_id", org_id=10))
    ).to_pylist()[0]
    assert (sums["records"], sums["numerator"], sums["denominator"]) == (3, D(2), D(3))
    assert (drilldown.pages_for(0), drilldown.pages_for(50), drilldown.pages_for(51)) == (1, 1, 2)


def test_tier_categories_read_in_chinese(world: Any, computed: Path) -> None:
    """op-03's categories are institution tiers: the drill-down, its head and the records
    name them 县级 / 乡镇 / 村, never the stored codes."""
    client = client_for(world, "county_admin")
    page = client.get(url("op-03", "county", county_code())).content.decode()
    choices = page.split('id="categories"')[1].split("</p>")[0]
    assert "县级" in choices and "乡镇" in choices and "村" in choices
    assert "township" not in choices.split("?category=")[0] and ">township<" not in choices
    records = client.get(url("op-03", "county", county_code(), records=True) + "?category=township")
    body = records.content.decode()
    assert "机构级别：乡镇" in body and ">township<" not in body
    assert listed(body) == [("encounter", str(e("E2")), "80.00", "1")]


def test_ref06_children_note_names_the_county_hospitals() -> None:
    assert definitions.get("ref-06").children_note == (
        "该指标只统计县级医院的预留床位，各医院直接列在县下。"
    )


@pytest.mark.parametrize(
    ("kinds", "diagnosis", "money", "span"),
    [
        ((), True, True, 7),  # an empty page: the full head
        (("encounter", "resident"), True, True, 7),
        (("settlement",), True, True, 7),
        (("referral",), True, False, 5),
        (("booking", "schedule"), False, False, 4),
        (("bed_booking", "ward"), False, False, 4),
        (("resident",), False, False, 4),
    ],
)
def test_records_page_leaves_out_columns_its_records_cannot_fill(
    kinds: tuple[str, ...], diagnosis: bool, money: bool, span: int
) -> None:
    rows = [
        queries.RecordRow(kind=k, kind_label=k, record_id=n, found=True)
        for n, k in enumerate(kinds)
    ]
    columns = queries.record_columns(rows)
    assert (columns.diagnosis, columns.money, columns.span) == (diagnosis, money, span)


def test_chapter_categories_in_chapter_order_with_names(world: Any, computed: Path) -> None:
    """op-06's categories are ICD-10 chapters: listed I … XXII in the catalogue's order with
    their names (before: by text, "I · II · IV · IX · VII", codes only), 未知 last."""
    client = client_for(world, "county_admin")
    page = client.get(url("op-06", "county", county_code())).content.decode()
    choices = page.split('id="categories"')[1].split("</p>")[0]
    shown = re.findall(r"<a href=\"\?category=[^\"]*\">([^<]*)</a>", choices)
    assert shown == ["IX 循环系统疾病", "未知"]
    # more chapters than the fixture has, stored as by text: read back in chapter order
    first = IndicatorResult.objects.filter(indicator_code="op-06", level="county").first()
    assert first is not None
    for chapter in ("XI", "II", "X", "XIX"):
        IndicatorResult.objects.create(
            indicator_code="op-06", period=first.period, level="county", org_code=first.org_code,
            category=chapter, numerator=D(1), denominator=D(2), value=D(50),
            snapshot_id=first.snapshot_id, engine="duckdb", computed_at=first.computed_at,
        )  # fmt: skip
    listed = queries.list_result_categories(
        definitions.get("op-06"), first.period, "county", first.org_code
    )
    names = queries.list_icd10_chapters()
    assert [c for c, _ in listed] == ["II", "IX", "X", "XI", "XIX", "未知"]
    assert listed[0] == ("II", f"II {names['II']}") and listed[-1] == ("未知", "未知")
