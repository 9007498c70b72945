"""Referral pages through the Django test client: create, worklists, act, print, calculator,
tasks; refusals show Chinese reasons and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.scheduling.conftest import at
from yigongti.core.models import AuditEvent
from yigongti.referrals.choices import Status
from yigongti.referrals.models import FollowUpTask, Referral

pytestmark = pytest.mark.django_db


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def html(response: Any) -> str:
    return str(response.content.decode("utf-8"))


def form_data(world: Any, session: Any, **extra: Any) -> dict[str, Any]:
    lead = world.lead_hospital
    data = {
        "mpi_id": world.residents["elderly_patient"].mpi_id,
        "direction": "up",
        "urgency": "routine",
        "to_institution": lead.pk,
        "to_department": lead.departments.get(code="XNK").pk,
        "schedule": session.pk,
        "diagnosis_code": "I10",
        "reason": "血压控制不佳",
        "consent": "on",
        "deductible_paid": "200",
    }
    data.update(extra)
    return data


def test_create_and_work_the_referral(session: Any, world: Any, frozen: Any) -> None:
    frozen(at(2, 24, 9))
    village = client_for(world, "family_doctor")
    page = village.get(reverse("referrals:create") + "?mpi=R00000000001")
    assert page.status_code == 200
    body = html(page)
    assert "县人民医院" in body and "心血管内科" in body and "R00000000001" in body
    blank = village.post(reverse("referrals:create"), form_data(world, session, reason=""))
    assert "这个字段是必填项" in html(blank)
    bad = village.post(reverse("referrals:create"), form_data(world, session, consent=""))
    assert bad.status_code == 200 and "须经患者（或家属）知情同意" in html(bad)
    assert Referral.objects.count() == 0
    made = village.post(reverse("referrals:create"), form_data(world, session))
    referral = Referral.objects.get()
    assert made.status_code == 302 and made["Location"] == reverse(
        "referrals:detail", args=[referral.pk]
    )
    out = html(village.get(reverse("referrals:worklist") + "?box=out"))
    assert referral.number in out and "张*福" in out and "一免三优先" in out
    specialist = client_for(world, "cardiologist")
    inbox = html(specialist.get(reverse("referrals:worklist") + "?box=in"))
    assert referral.number in inbox
    detail = html(specialist.get(reverse("referrals:detail", args=[referral.pk])))
    assert "张德福" in detail and "同意接收" in detail and "免挂号费" in detail
    assert AuditEvent.objects.filter(resource_type="referral", action="read").count() == 1
    done = specialist.post(reverse("referrals:act", args=[referral.pk, "accept"]))
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.SCHEDULED
    refused = specialist.post(
        reverse("referrals:act", args=[referral.pk, "reject"]), {"reason": "x"}
    )
    assert refused.status_code == 302
    followed = html(specialist.get(refused["Location"]))
    assert "转诊单当前为“已预约”，不能改为“已拒绝”" in followed
    referral.refresh_from_db()
    assert referral.status == Status.SCHEDULED


def test_calculator_print_and_pdf(session: Any, world: Any, frozen: Any) -> None:
    frozen(at(2, 24, 9))
    village = client_for(world, "family_doctor")
    village.post(reverse("referrals:create"), form_data(world, session))
    referral = Referral.objects.get()
    url = reverse("referrals:detail", args=[referral.pk])
    calc = html(village.get(url + "?total=10000"))
    assert "¥2240.00" in calc and "¥2400.00" in calc
    assert "费用不能为负数" in html(village.get(url + "?total=-5"))
    printed = html(village.get(reverse("referrals:print", args=[referral.pk])))
    assert "双向转诊单（存根）" in printed and "现有患者 张德福 因病情需要" in printed
    pdf = village.get(reverse("referrals:print", args=[referral.pk]) + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    from io import BytesIO

    from pypdf import PdfReader

    text = PdfReader(BytesIO(pdf.content)).pages[0].extract_text()
    assert referral.number in text and "张德福" in text


def test_out_of_scope_users_get_403(session: Any, world: Any, frozen: Any) -> None:
    frozen(at(2, 24, 9))
    client_for(world, "family_doctor").post(reverse("referrals:create"), form_data(world, session))
    referral = Referral.objects.get()
    other = client_for(world, "township_doctor")  # 城关镇: neither side, no manager
    for url in (
        reverse("referrals:detail", args=[referral.pk]),
        reverse("referrals:print", args=[referral.pk]),
    ):
        response = other.get(url)
        assert response.status_code == 403
        assert "该转诊单不存在或不在您的数据范围内" in html(response)
    response = other.post(reverse("referrals:act", args=[referral.pk, "cancel"]), {"reason": "x"})
    assert response.status_code == 403
    assert client_for(world, "auditor").get(reverse("referrals:worklist")).status_code == 403
    assert client_for(world, "county_admin").get(reverse("referrals:create")).status_code == 403
    referral.refresh_from_db()
    assert referral.status == Status.SUBMITTED


def test_follow_up_task_page(session: Any, world: Any, frozen: Any) -> None:
    frozen(at(2, 24, 9))
    village = client_for(world, "family_doctor")
    village.post(reverse("referrals:create"), form_data(world, session))
    task = FollowUpTask.objects.get()
    frozen(at(3, 11))  # due 3-10: overdue now
    listing = html(
        client_for(world, "county_admin").get(
            reverse("referrals:worklist") + "?box=tasks&overdue=1"
        )
    )
    assert "逾期" in listing and "张*福" in listing
    empty = village.post(reverse("referrals:task_done", args=[task.pk]), {"note": " "})
    assert empty.status_code == 302
    task.refresh_from_db()
    assert task.status == "open"
    village.post(reverse("referrals:task_done", args=[task.pk]), {"note": "电话随访，已住院"})
    task.refresh_from_db()
    assert (task.status, task.note) == ("done", "电话随访，已住院")


def test_impression_equal_to_the_diagnosis_name_is_shown_once(
    session: Any, world: Any, frozen: Any
) -> None:
    """Generated referrals write the catalogue name as the impression: the detail and the
    printed form show 初步诊断 once, and a different impression after the name."""
    frozen(at(2, 24, 9))
    village = client_for(world, "family_doctor")
    name = "特发性（原发性）高血压"
    village.post(reverse("referrals:create"), form_data(world, session, impression=name))
    same = Referral.objects.get()
    for url in (
        reverse("referrals:detail", args=[same.pk]),
        reverse("referrals:print", args=[same.pk]),
    ):
        assert html(village.get(url)).count(name) == 1
    same.impression = "高血压3级（很高危）"
    same.save(update_fields=["impression"])
    detail = html(village.get(reverse("referrals:detail", args=[same.pk])))
    assert f"I10</span> {name} 高血压3级（很高危）</dd>" in detail
