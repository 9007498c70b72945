"""End to end in real Chromium (issue #6 item 9): the village doctor up-refers 张德福 into a
reserved cardiology slot, the specialist accepts, the patient arrives and is admitted, is
discharged with a downward referral, and the township centre sees the follow-up task.

The live server runs on the wall clock, so the session is published a couple of hours ahead
of now (or tomorrow morning late in the evening): arrival is allowed from 12 hours before it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from tests.e2e.test_e2e_admin_flow import log_in, page, shot  # noqa: F401  (the page fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def session_window(now: dt.datetime) -> tuple[dt.date, dt.time, dt.time]:
    start = (now + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    start -= dt.timedelta(minutes=start.minute % 10)
    if start.date() != now.date() or start.hour >= 23:
        return now.date() + dt.timedelta(days=1), dt.time(8, 0), dt.time(9, 0)
    return start.date(), start.time(), (start + dt.timedelta(minutes=50)).time()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_up_referral_admission_and_downward_return(live_server, page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from yigongti.accounts.queries import get_actor
    from yigongti.scheduling.services import ScheduleInput, do_publish_schedule
    from yigongti.synth.personas import DEMO_PASSWORD, build_personas

    world = build_personas()
    importlib.import_module("yigongti.encounters.migrations.0002_load_catalogues").load_catalogues(
        django_apps, None
    )
    lead = world.lead_hospital
    xnk = lead.departments.get(code="XNK")
    day, start, end = session_window(timezone.localtime())
    schedule = do_publish_schedule(
        get_actor(world.users["county_admin"], None),
        ScheduleInput(
            department_id=xnk.pk,
            day=day,
            session="pm" if start.hour >= 12 else "am",
            start=start,
            end=end,
            slot_count=5,
            doctor_id=world.practitioners["cardiologist"].pk,
        ),
    )
    base = live_server.url
    tab = page

    # 1. The village doctor (family doctor of 张德福) fills the up-referral and books the slot.
    log_in(tab, base, "wangys", DEMO_PASSWORD)
    tab.goto(f"{base}/referrals/new/?mpi=R00000000001")
    tab.select_option("#id_to_institution", str(lead.pk))
    tab.select_option("#id_to_department", str(xnk.pk))
    tab.select_option("#id_schedule", str(schedule.pk))
    tab.fill("#id_diagnosis_code", "I10")
    tab.fill("#id_impression", "高血压3级（很高危）")
    tab.fill("#id_reason", "两次随访血压控制不满意，伴胸闷气促")
    tab.check("#id_consent")
    shot(tab, "60-referral-form")
    tab.click("#submit-referral")
    tab.wait_for_selector("#referral-status")
    assert tab.locator("#referral-status").inner_text() == "已提交"
    appointment = tab.locator("#referral-appointment").inner_text()
    assert "基层预留号源" in appointment and "免挂号费" in appointment
    assert "一免三优先" not in appointment and "优先住院" in tab.content()
    number = tab.locator("h1 .mono").inner_text()
    shot(tab, "61-referral-submitted")

    # 2. The cardiologist accepts, records arrival, admits, discharges and refers back down.
    tab.context.clear_cookies()
    log_in(tab, base, "lixy", DEMO_PASSWORD)
    tab.goto(f"{base}/referrals/?box=in")
    row = tab.locator("#referrals tbody tr", has_text=number)
    assert "一免三优先" in row.inner_text()
    row.locator("a.mono").click()
    tab.click("#act-accept")
    tab.wait_for_selector("#referral-status:has-text('已预约')")
    tab.click("#act-arrive")
    tab.wait_for_selector("#referral-status:has-text('已到诊')")
    tab.click("#act-admit")
    tab.wait_for_selector("#referral-status:has-text('治疗中')")
    assert (
        "床位 心血管内科（基层预留床位，已入院）"
        in tab.locator("#referral-appointment").inner_text()
    )
    tab.fill("input[name=result_diagnosis]", "高血压3级，冠心病")
    tab.fill("input[name=inpatient_number]", "ZY-E2E-001")
    tab.click("#act-complete")
    tab.wait_for_selector("#referral-status:has-text('诊疗结束')")
    tab.fill(
        "#return-form textarea[name=rehab_plan]",
        "氨氯地平 5mg 每日一次；每周测血压两次；两周后乡镇卫生院复诊",
    )
    shot(tab, "62-referral-discharge")
    tab.click("#act-return")
    tab.wait_for_selector("#rehab-plan")
    assert tab.locator("#referral-status").inner_text() == "已提交"
    assert (
        "下转" in tab.content()
        and "两周后乡镇卫生院复诊" in tab.locator("#rehab-plan").inner_text()
    )
    down_number = tab.locator("h1 .mono").inner_text()
    shot(tab, "63-down-referral")

    # 3. The township centre (河口乡卫生院) sees the downward referral and its follow-up task.
    tab.context.clear_cookies()
    log_in(tab, base, "chenli", DEMO_PASSWORD)
    tab.goto(f"{base}/referrals/?box=in")
    assert down_number in tab.locator("#referrals").inner_text()
    tab.click("#tab-tasks")
    tab.wait_for_url(f"{base}/referrals/?box=tasks")
    tasks = tab.locator("#tasks tbody tr")
    assert tasks.count() == 1
    text = tasks.first.inner_text()
    assert "下转接收随访" in text and "张*福" in text and down_number in text
    shot(tab, "64-township-follow-up")
