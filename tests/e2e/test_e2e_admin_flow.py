"""End to end in real Chromium: the county administrator breaks glass, the auditor sees it.

Screenshots of each key page are kept in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in this thread; the ORM calls below are safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():  # a missing browser is a failure, never a silent skip
        pytest.fail(f"找不到 Chromium：{CHROMIUM}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        context.close()
        browser.close()


def shot(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(tab, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(f"{base}/login/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_break_glass_then_auditor_sees_it(live_server, page) -> None:  # type: ignore[no-untyped-def]
    from yigongti.core.choices import AccessBasis, AuditAction
    from yigongti.core.models import AuditEvent
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    world = build_personas()
    mpi_id = world.residents["elderly_patient"].mpi_id
    base = live_server.url
    tab = page

    tab.goto(f"{base}/login/")
    assert tab.locator("h1").inner_text() == "登录医共体一体化管理平台"
    shot(tab, "01-login")

    # The county administrator logs in and sees the medcom at a glance.
    log_in(tab, base, "admin", DEMO_PASSWORD)
    assert "县级管理员" in tab.locator("h1").inner_text()
    assert "青禾县人民医院" in tab.locator("header").inner_text()
    shot(tab, "02-admin-home")

    # The medcom tree: 总院 → 分院 → 村卫生室.
    tab.click("nav.ygt-nav >> text=医共体机构树")
    tab.wait_for_url(f"{base}/org/tree/")
    rows = tab.locator("#org-tree tbody tr")
    assert rows.count() == 8
    assert "青禾县人民医院" in rows.nth(0).inner_text()
    assert "青禾县桃源村卫生室" in rows.nth(7).inner_text()
    shot(tab, "03-org-tree")

    # An institution's detail, and the staff list filtered to it.
    tab.click("#org-tree >> text=青禾县河口乡卫生院")
    tab.wait_for_url(f"{base}/org/QH1002/")
    assert "行政隶属" in tab.content()
    shot(tab, "03b-org-detail")
    tab.click("text=查看本机构人员")
    tab.wait_for_url(f"{base}/staff/?institution=QH1002")
    assert tab.locator("#staff tbody tr").count() == 2
    shot(tab, "03c-staff-list")

    # Search 张德福 by pinyin initials: the list is masked.
    tab.click("nav.ygt-nav >> text=居民查询")
    tab.fill("input[name=q]", "zdf")
    tab.click("button:has-text('查询')")
    tab.wait_for_url(f"{base}/residents/?q=zdf")
    result = tab.locator("#residents tbody tr")
    assert result.count() == 1
    assert "张*福" in result.inner_text()
    assert "439901********0033" in result.inner_text()
    assert "439901195103150033" not in tab.content()
    shot(tab, "04-resident-search")

    # Opening the record without a care relationship asks for a purpose.
    result.locator("text=查看档案").click()
    tab.wait_for_url(f"{base}/residents/{mpi_id}/")
    assert tab.locator("#break-glass").is_visible()
    shot(tab, "05-break-glass-form")
    tab.select_option("#id_reason", "急诊抢救")
    tab.fill("#id_detail", "患者昏迷送急诊，需了解既往病史")
    tab.click("button:has-text('提交事由并查阅')")
    # The form posts to the page's own URL, so wait for the record itself, not for the URL.
    tab.wait_for_selector("#access-basis")
    assert tab.locator("h1").inner_text().startswith("张德福")
    basis = tab.locator("#access-basis").inner_text()
    assert "紧急/事由查阅" in basis and "急诊抢救：患者昏迷送急诊" in basis
    assert tab.locator("#field-id_number").inner_text() == "439901********0033"
    shot(tab, "06-resident-detail")

    read = AuditEvent.objects.get(action=AuditAction.READ, actor_username="admin")
    assert read.basis == AccessBasis.BREAK_GLASS
    assert read.resource_id == mpi_id

    tab.click("button:has-text('退出登录')")
    tab.wait_for_url(f"{base}/login/")

    # The auditor finds that read in the audit log.
    log_in(tab, base, "auditor", DEMO_PASSWORD)
    shot(tab, "07-auditor-home")
    tab.click("nav.ygt-nav >> text=审计日志")
    tab.wait_for_url(f"{base}/audit/")
    tab.fill("#id_mpi_id", mpi_id)
    tab.select_option("#id_action", "read")
    tab.click("button:has-text('筛选')")
    # The click only starts the navigation: wait for the filtered page before counting its rows.
    tab.wait_for_url(lambda url: f"mpi_id={mpi_id}" in url)
    events = tab.locator("#audit-events tbody tr")
    assert events.count() == 1
    text = events.inner_text()
    assert "admin" in text and mpi_id in text and "紧急/事由查阅" in text and "查看" in text
    assert "急诊抢救：患者昏迷送急诊，需了解既往病史" in text
    shot(tab, "08-audit-log")
    tab.click("#verify-chain")
    assert "哈希链校验通过" in tab.locator("#chain-verdict").inner_text()
    shot(tab, "09-audit-chain-verified")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_duplicate_queue_and_refusals(live_server, page) -> None:  # type: ignore[no-untyped-def]
    from yigongti.residents.choices import DuplicateStatus
    from yigongti.residents.models import DuplicateCandidate
    from yigongti.residents.rules import check_digit
    from yigongti.residents.services import ResidentInput, do_register_resident
    from yigongti.synth.personas import AS_OF, DEMO_PASSWORD, build_personas

    world = build_personas()
    first17 = "43990119510315005"
    do_register_resident(
        None,
        ResidentInput(
            name="张德福",
            id_number=first17 + check_digit(first17),
            division_code=world.villages["桃源村"].code,
            insurance_number="43990119510315005",
        ),
        today=AS_OF,
    )
    candidate = DuplicateCandidate.objects.get()
    base = live_server.url
    tab = page

    # The township doctor cannot open a resident outside 城关镇, nor the duplicate queue.
    log_in(tab, base, "zhaom", DEMO_PASSWORD)
    tab.goto(f"{base}/residents/{world.residents['elderly_patient'].mpi_id}/")
    assert "该居民不在您的数据范围内" in tab.locator("#denied-reason").inner_text()
    assert tab.locator("#break-glass").count() == 0
    shot(tab, "10-denied-out-of-scope")
    tab.click("button:has-text('退出登录')")
    tab.wait_for_url(f"{base}/login/")

    # The Hekou institution admin settles the pair.
    log_in(tab, base, "hekou_admin", DEMO_PASSWORD)
    assert tab.locator("#duplicate-count").inner_text() == "1"
    shot(tab, "11-institution-admin-home")
    tab.click("nav.ygt-nav >> text=疑似重复记录")
    tab.wait_for_url(f"{base}/residents/duplicates/")
    pair = tab.locator(f"#pair-{candidate.pk}")
    assert "张*福" in pair.inner_text()
    shot(tab, "12-duplicate-queue")
    pair.locator("input[name=note]").fill("经村医上门核实为同一人")
    pair.locator("button:has-text('合并（保留A）')").click()
    tab.wait_for_url(f"{base}/residents/duplicates/?page=1")
    assert f"已合并，保留主索引号 {candidate.resident_a.mpi_id}" in tab.content()
    shot(tab, "13-duplicate-merged")
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.MERGED


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_family_doctor_reads_reveals_and_switches_role(live_server, page) -> None:  # type: ignore[no-untyped-def]
    from yigongti.core.choices import AuditAction
    from yigongti.core.models import AuditEvent
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    world = build_personas()
    mpi_id = world.residents["elderly_patient"].mpi_id
    base = live_server.url
    tab = page

    log_in(tab, base, "wangys", DEMO_PASSWORD)
    assert tab.locator("h1").inner_text() == "家庭医生工作台"
    shot(tab, "14-family-doctor-home")
    tab.fill("main input[name=q]", "张德福")
    tab.click("main button:has-text('查询')")
    tab.locator("#residents >> text=查看档案").click()
    tab.wait_for_url(f"{base}/residents/{mpi_id}/")
    assert "家庭医生签约" in tab.locator("#access-basis").inner_text()
    tab.locator("#resident-fields form:has(input[value=id_number]) button").click()
    # The masked value is on the page before the reveal: retry until the full number replaces it.
    expect(tab.locator("#field-id_number")).to_have_text("439901195103150033")
    shot(tab, "15-family-doctor-reveal")
    assert (
        AuditEvent.objects.filter(action=AuditAction.REVEAL, actor_username="wangys").count() == 1
    )

    tab.select_option("#role-select", "village_doctor")
    tab.wait_for_url(f"{base}/")
    assert tab.locator("h1").inner_text() == "乡村医生工作台"
    assert "已切换为“乡村医生”角色" in tab.content()
    shot(tab, "16-role-switched")
