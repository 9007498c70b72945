"""End to end in real Chromium: the county administrator opens the evidence register of
nhc-01 … nhc-03, uploads a Word document for a criterion of nhc-02, sees the checklist tick,
downloads the file back and records a verdict. Screenshots in ``test-artifacts/screenshots/``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_e2e_admin_flow import log_in, page, shot  # noqa: F401  (the page fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_upload_download_and_assess(live_server, page, tmp_path, settings: Any) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from yigongti.indicators.models import EvidenceAssessment, EvidenceItem
    from yigongti.synth.evidence import docx_bytes
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    build_personas()
    settings.MEDIA_ROOT = tmp_path / "media"
    content = docx_bytes("青禾县紧密型县域医共体章程", ["第一章 总则"])
    base = live_server.url
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.click("nav.ygt-nav >> text=紧密型证据登记")
    page.wait_for_url(f"{base}/indicators/evidence/")
    year = page.locator("#id_year").input_value()
    two = page.locator("section[data-code='nhc-02']")
    assert "待评估" in two.locator("#nhc-02-verdict").inner_text()
    assert "已有佐证的要点 0 / 4" in two.inner_text()

    two.locator("summary", has_text="上传佐证材料").click()
    page.select_option("#id_nhc-02-criterion", "charter")
    page.fill("#id_nhc-02-title", "医共体章程")
    page.fill("#id_nhc-02-document_date", "2023-01-01")
    page.set_input_files(
        "#id_nhc-02-file",
        files=[
            {
                "name": "章程.docx",
                "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "buffer": content,
            }
        ],
    )
    two.locator("#nhc-02-upload button[type=submit]").click()
    page.wait_for_selector("text=已登记证据材料“医共体章程”")
    two = page.locator("section[data-code='nhc-02']")
    assert "已有佐证的要点 1 / 4" in two.inner_text()
    assert two.locator("li[data-criterion='charter']").get_attribute("data-count") == "1"
    item = EvidenceItem.objects.get()
    assert (item.title, item.year, item.kind) == ("医共体章程", int(year), "docx")

    with page.expect_download() as caught:
        two.locator("a", has_text="章程.docx").click()
    saved = Path(caught.value.path())
    assert caught.value.suggested_filename == "章程.docx"
    assert saved.read_bytes() == content

    page.check("input[name='nhc-02-assess-verdict'][value='met']")
    two.locator("#nhc-02-assess button[type=submit]").click()
    page.wait_for_selector("text=已保存 nhc-02")
    assert page.locator("#nhc-02-verdict").inner_text() == "达标"
    assert EvidenceAssessment.objects.get().verdict == "met"
    shot(page, "40-evidence-register")
