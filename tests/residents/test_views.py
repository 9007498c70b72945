"""The resident registration page: field errors next to fields, nothing written on refusal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yigongti.core.models import AuditEvent
from yigongti.residents.models import Resident

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "刘桂兰",
    "id_type": "01",
    "id_number": "439901196207040028",
    "sex": "",
    "birth_date": "",
    "phone": "13907311234",
    "division_code": "439901002001",
    "address_detail": "河口村1组",
    "household_code": "",
    "relation_to_head": "head",
    "insurance_type": "resident",
    "insurance_number": "Q0001",
}


def client_for(world, key: str) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users[key])
    return client


def test_register_page_renders_for_clinical_roles(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "hekou_doctor").get(reverse("residents:register"))
    assert response.status_code == 200
    assert "登记居民档案" in response.content.decode()


@pytest.mark.parametrize("persona", ["auditor", "centre_staff", "pharmacist"])
def test_register_page_refused_for_aggregate_roles(world, persona: str) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, persona).get(reverse("residents:register"))
    assert response.status_code == 403


def test_register_shows_each_error_next_to_its_field(world) -> None:  # type: ignore[no-untyped-def]
    count, audits = Resident.objects.count(), AuditEvent.objects.count()
    bad = {**GOOD, "id_number": "439901196207040024", "phone": "12345", "birth_date": "1962-13-01"}
    response = client_for(world, "hekou_doctor").post(reverse("residents:register"), bad)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"birth_date": ["请输入有效日期（YYYY-MM-DD）"]}
    bad["birth_date"] = ""
    response = client_for(world, "hekou_doctor").post(reverse("residents:register"), bad)
    form = response.context["form"]
    assert form.errors["id_number"] == ["身份证号校验位错误：最后一位应为“8”"]
    assert form.errors["phone"] == [
        "电话号码“12345”格式错误：手机号应为1开头的11位数字，座机如0731-1234567"
    ]
    assert (Resident.objects.count(), AuditEvent.objects.count()) == (count, audits)


def test_register_out_of_scope_village_refused(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "township_doctor").post(reverse("residents:register"), GOOD)
    assert response.context["form"].errors == {"division_code": ["该村（社区）不在您的数据范围内"]}
    assert not Resident.objects.filter(name="刘桂兰").exists()


def test_register_success_redirects_with_message(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "hekou_doctor").post(
        reverse("residents:register"), GOOD, follow=True
    )
    assert response.status_code == 200
    resident = Resident.objects.get(name="刘桂兰")
    assert f"已登记居民档案，主索引号 {resident.mpi_id}" in response.content.decode()
    assert AuditEvent.objects.filter(action="create", subject_resident_id=resident.pk).count() == 1


def test_duplicate_id_is_reported_on_the_field(world) -> None:  # type: ignore[no-untyped-def]
    dup = {**GOOD, "id_number": "439901195103150033", "division_code": "439901002002"}
    response = client_for(world, "hekou_doctor").post(reverse("residents:register"), dup)
    assert response.context["form"].errors == {
        "id_number": ["该证件号码已建档，一个证件只能对应一名居民"]
    }
