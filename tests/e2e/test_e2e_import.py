"""End to end in real Chromium: the county administrator uploads a file with good and bad rows,
sees the counts, opens the batch and downloads the error report with the Chinese reasons.

Screenshots of each key page are kept in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from openpyxl import load_workbook

from tests.e2e.test_e2e_admin_flow import log_in, page, shot  # noqa: F401  (the page fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CSV = (
    "来源编号,证件号码,姓名,机构编码,就诊类型,就诊/入院日期,出院日期,主要诊断编码,总费用,统筹基金支付,个人支付\n"
    "E2E-1,439901195103150033,张德福,QH2003,门诊,2025-01-02,,I10,56.00,40,16\n"
    'E2E-2,439901199006120033,陈晓东,QH1002,住院,2025/1/5,20250109,J18.9,"3,200.00",2400,800\n'
    "\n"
    "E2E-3,439901195103150034,张德福,QH2003,门诊,2025-01-02,,I10,56.00,40,16\n"
    "E2E-4,439901199006120033,陈晓东,QH0001,门诊,2025-01-03,,I10,100.00,10,10\n"
)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_upload_see_counts_download_errors(live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    build_personas()
    # A transactional test before this one may have flushed the catalogues the migration loaded.
    importlib.import_module("yigongti.encounters.migrations.0002_load_catalogues").load_catalogues(
        django_apps, None
    )
    base = live_server.url
    tab = page
    upload = tmp_path / "门诊记录.csv"
    upload.write_bytes(CSV.encode("gbk"))

    log_in(tab, base, "admin", DEMO_PASSWORD)
    tab.click("nav.ygt-nav >> text=数据导入")
    tab.wait_for_url(f"{base}/encounters/import/")
    assert tab.locator("h1").inner_text() == "数据导入"
    shot(tab, "20-import-page")

    tab.select_option("#id_kind", "encounters")
    tab.fill("#id_source_system", "HIS-桃源")
    tab.set_input_files("#id_file", str(upload))
    tab.click("button:has-text('上传并导入')")
    tab.wait_for_selector("#import-result")
    counts = tab.locator("#import-counts tbody tr td").all_inner_texts()
    assert counts == ["4", "2", "0", "0", "2"]
    shot(tab, "21-import-result")

    tab.click("text=查看批次详情")
    tab.wait_for_selector("#row-errors")
    errors = tab.locator("#row-errors tbody tr")
    assert errors.count() == 2
    assert "身份证号校验位错误" in errors.nth(0).inner_text()
    assert (
        "统筹支付与个人支付之和 20.00 元与总费用 100.00 元相差超过1元" in errors.nth(1).inner_text()
    )
    shot(tab, "22-import-batch")

    with tab.expect_download() as info:
        tab.click("#download-errors")
    saved = tmp_path / "errors.xlsx"
    info.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "行号" and rows[0][-1] == "错误原因"
    assert [r[0] for r in rows[1:]] == [5, 6]
    assert str(rows[1][-1]).startswith("证件号码：身份证号校验位错误")
    assert "统筹基金支付：统筹支付与个人支付之和 20.00 元" in str(rows[2][-1])

    tab.click("nav.ygt-nav >> text=数据导入")
    tab.click("text=全部批次")
    tab.wait_for_url(f"{base}/encounters/import/batches/")
    assert tab.locator("#batches tbody tr").count() == 1
    shot(tab, "23-import-batches")
    assert Path(saved).stat().st_size > 0
