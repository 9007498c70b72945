"""End to end in real Chromium: the operational indicators under their own heading and the
category breakdown of 次均门急诊费用 by institution tier (bar chart and table). Screenshots are
kept in ``test-artifacts/screenshots/``."""

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

# (institution, total cost): 县级 QH0001 300; 乡镇 QH1002 80; 村 QH2003 40 and 60
VISITS = (("QH0001", "300.00"), ("QH1002", "80.00"), ("QH2003", "40.00"), ("QH2003", "60.00"))


def visits() -> None:
    from yigongti.encounters import services as enc

    ctx = enc.ValidationContext.load(today=dt.date(2025, 12, 31))
    rows = [
        enc.EncounterInput(
            source_system="HIS",
            external_id=f"OP{i}",
            id_number="439901195103150033",
            institution_code=where,
            setting="outpatient",
            visit_date=dt.date(2025, 4, 10 + i),
            principal_diagnosis="I10",
            total_cost=Decimal(total),
            drug_cost=Decimal(total) / 2,
            fund_paid=Decimal(0),
            personal_paid=Decimal(total),
        )
        for i, (where, total) in enumerate(VISITS)
    ]
    enc.upsert_encounters([enc.clean_encounter(r, ctx) for r in rows])


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_operational_rows_and_tier_breakdown(live_server, page, tmp_path, settings: Any) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
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
    do_compute("2025", root=settings.SNAPSHOT_ROOT)

    base = live_server.url
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.goto(f"{base}/indicators/?period=2025")
    assert "运行指标" in page.locator("#operational").inner_text()
    # 4 visits of 3 residents (the personas): 1333.33 per 1,000; 480 yuan over 4 visits
    assert "1,333.33 人次/千人" in page.locator("tr[data-code='op-01']").inner_text()
    row = page.locator("tr[data-code='op-03']")
    assert "120.00 元" in row.inner_text() and "480.00 / 4" in row.inner_text()
    assert "50.00%" in page.locator("tr[data-code='op-05']").inner_text()
    row.locator("a").first.click()
    page.wait_for_selector("#category-chart canvas")
    table = page.locator("#category-table tbody")
    assert "县级" in table.locator("tr[data-category='county']").inner_text()
    assert "300.00" in table.locator("tr[data-category='county']").inner_text()
    assert "50.00" in table.locator("tr[data-category='village']").inner_text()  # (40 + 60) / 2
    assert "—" in table.locator("tr[data-category='other']").inner_text()  # no private visits
    page.locator("#category-chart").scroll_into_view_if_needed()
    shot(page, "35-indicator-categories")
