"""End to end in real Chromium: the county administrator opens the indicator dashboard, sees
the national indicators against their targets, the monthly trend chart and the township
ranking. Screenshots are kept in ``test-artifacts/screenshots/``."""

from __future__ import annotations

import datetime as dt
import importlib
import os
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps

from tests.e2e.test_e2e_admin_flow import log_in, page, shot  # noqa: F401  (the page fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def visits() -> None:
    from yigongti.encounters import services as enc

    ctx = enc.ValidationContext.load(today=dt.date(2025, 12, 31))
    rows = []
    for i, (where, month) in enumerate(
        [("QH2003", 1), ("QH1002", 1), ("QH0001", 1), ("QH2003", 2), ("QH0001", 2), ("QH0002", 3)]
    ):
        rows.append(
            enc.EncounterInput(
                source_system="HIS",
                external_id=f"V{i}",
                id_number="439901195103150033",
                institution_code=where,
                setting="outpatient",
                visit_date=dt.date(2025, month, 10),
                principal_diagnosis="I10",
                total_cost=Decimal("50.00"),
                fund_paid=Decimal("30.00"),
                personal_paid=Decimal("20.00"),
                # 王建国 sees 桃源村卫生室's patients: the doctor level of op-03
                doctor_code="QH2003-0001" if where == "QH2003" else "",
            )
        )
    enc.upsert_encounters([enc.clean_encounter(r, ctx) for r in rows])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_dashboard_targets_trend_and_ranking(live_server, page, tmp_path, settings: Any) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from yigongti.analytics.services import do_snapshot
    from yigongti.indicators.services import do_compute
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    build_personas()
    importlib.import_module("yigongti.encounters.migrations.0002_load_catalogues").load_catalogues(
        django_apps, None
    )
    visits()
    settings.SNAPSHOT_ROOT = tmp_path / "snapshot"
    do_snapshot(settings.SNAPSHOT_ROOT)
    do_compute("2025", root=settings.SNAPSHOT_ROOT, breakdown=True)

    base = live_server.url
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.click("nav.ygt-nav >> text=监测指标")
    page.wait_for_url(f"{base}/indicators/")
    assert page.locator("h1").inner_text() == "紧密型县域医共体监测指标 青禾县"
    assert page.locator("#id_county").count() == 0  # one county: no choice to offer
    assert page.locator("#data-stamp").inner_text().startswith("数据截至 2025-03")
    row = page.locator("tr[data-code='nhc-07']")
    # 基层 visits: QH2003 twice and QH1002 once, of six: 50%, below the 65% target
    assert "50.00%" in row.inner_text() and "未达标" in row.inner_text()
    assert "3 / 6" in row.inner_text()
    # no stays in this county yet: no value, shown as such rather than as an error
    assert "无数据" in page.locator("tr[data-code='nhc-11']").inner_text()
    page.wait_for_selector("#trend-chart canvas")
    shot(page, "30-indicator-dashboard")
    # nhc-07, shown first, is a county figure (every member of a township is 基层)
    assert page.locator("#county-only").inner_text() == "该指标只统计到县级，没有乡镇、机构排名。"
    page.click("tr[data-code='op-03'] td a")  # 次均门急诊费用: by township and institution
    page.wait_for_selector("#ranking")
    ranking = page.locator("#ranking tbody").inner_text()
    assert "河口乡" in ranking and "50.00 元" in ranking
    page.select_option("#id_level", "institution")
    page.wait_for_selector("#ranking")
    ranking = page.locator("#ranking tbody").inner_text()
    assert "县人民医院" in ranking and "青禾县人民医院" not in ranking  # as in the drill pages
    shot(page, "31-indicator-ranking")

    # The annual report: both buttons download a file that opens, with the county's 50%.
    from openpyxl import load_workbook
    from pypdf import PdfReader

    # Generous limits: the report is built on request, and this machine may be busy.
    with page.expect_download(timeout=120_000) as xlsx_download:
        page.click("#report-xlsx", timeout=120_000)
    assert xlsx_download.value.suggested_filename == "青禾县-2025-医共体监测报告.xlsx"
    saved = tmp_path / xlsx_download.value.suggested_filename  # openpyxl wants the .xlsx
    xlsx_download.value.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames[:6] == ["封面", "紧密型", "同质化", "促分工", "提效能", "保健康"]
    sheet = book["促分工"]
    row = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "nhc-07")
    assert (row[3].value, row[3].number_format, row[4].value, row[5].value) == (0.5, "0.00%", 3, 6)
    assert row[7].value == "未达标"
    with page.expect_download(timeout=120_000) as pdf_download:
        page.click("#report-pdf", timeout=120_000)
        # built on request: the button says so while the browser waits
        assert page.inner_text("#report-pdf") == "正在生成报告，请稍候…"
    assert pdf_download.value.suggested_filename == "青禾县-2025-医共体监测报告.pdf"
    reader = PdfReader(pdf_download.value.path())
    text = "".join(p.extract_text() for p in reader.pages).replace(" ", "").replace("\n", "")
    assert "青禾县2025年度紧密型县域医共体监测报告" in text
    assert "县域内基层医疗卫生机构诊疗人次数占比" in text and "50.00%" in text


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_drill_down_county_township_institution_records(  # type: ignore[no-untyped-def]
    live_server,
    page,  # noqa: F811
    tmp_path,
    settings: Any,
) -> None:
    from yigongti.analytics.services import do_snapshot
    from yigongti.core.models import AuditEvent
    from yigongti.encounters.models import Encounter
    from yigongti.indicators.services import do_compute
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    build_personas()
    importlib.import_module("yigongti.encounters.migrations.0002_load_catalogues").load_catalogues(
        django_apps, None
    )
    visits()
    settings.SNAPSHOT_ROOT = tmp_path / "snapshot"
    do_snapshot(settings.SNAPSHOT_ROOT)
    do_compute("2025", root=settings.SNAPSHOT_ROOT)

    base = live_server.url
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.goto(f"{base}/indicators/?period=2025")
    page.click("tr[data-code='nhc-07'] a.drill")  # the county value of a county-only share
    page.wait_for_url("**/nhc-07/2025/county/**")
    # 基层 visits 3 of 6 in the county; its records are one step away, no townships
    assert "50.00%" in page.locator("#org-value").inner_text()
    assert "3 / 6" in page.locator("#org-value").inner_text()
    assert page.locator("#drill-children").count() == 0
    assert "该指标只统计到县级" in page.content()
    page.goto(f"{base}/indicators/?period=2025")
    page.click("tr[data-code='op-03'] a.drill")  # 次均门急诊费用, county → township → …
    page.wait_for_selector("#drill-children")
    assert "县：青禾县" in page.locator(".breadcrumb").inner_text()
    # six visits of ¥50.00
    assert "50.00 元" in page.locator("#org-value").inner_text()
    assert "300.00 / 6" in page.locator("#org-value").inner_text()
    shot(page, "32-indicator-drilldown-county")
    page.click("#drill-children >> text=河口乡")  # township
    page.wait_for_url("**/township/**")
    assert "乡镇：河口乡" in page.locator(".breadcrumb").inner_text()
    assert "150.00 / 3" in page.locator("#org-value").inner_text()
    page.click("#drill-children >> text=桃源村卫生室")  # institution → its doctors
    page.wait_for_url("**/institution/QH2003/")
    assert "100.00 / 2" in page.locator("#org-value").inner_text()
    assert "医生按人事所在机构列出" in page.locator("#children-note").inner_text()
    page.click("#drill-children >> text=王建国")  # the doctor → their records
    page.wait_for_selector("#records")
    crumbs = page.locator(".breadcrumb").inner_text()
    assert "县：青禾县" in crumbs and "乡镇：河口乡" in crumbs and "机构：桃源村卫生室" in crumbs
    assert "医生：王建国" in crumbs
    assert "明细" in crumbs
    rows = page.locator("#records tbody tr")
    assert rows.count() == 2  # V0 (January) and V3 (February) at 桃源村卫生室
    first = rows.nth(0).inner_text()
    assert "张*福" in first and "桃源村卫生室" in first and "I10" in first and "¥30.00" in first
    assert "张德福" not in page.content() and "439901195103150033" not in page.content()
    ids = sorted(
        Encounter.objects.filter(external_id__in=["V0", "V3"]).values_list("pk", flat=True)
    )
    assert [
        int(x)
        for x in page.locator("#records tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.id)"
        )
    ] == ids
    event = AuditEvent.objects.filter(resource_type="indicator_records").latest("seq")
    assert event.detail["records"] == {"encounter": ids}
    assert event.resource_id == "op-03/2025/doctor/QH2003-0001"
    shot(page, "33-indicator-records")
