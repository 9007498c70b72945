"""Referrals over the JSON API: create with a booking, worklists masked, transitions, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import api_as, token_for  # noqa: F401  (fixtures)
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db


def test_create_list_and_accept(session: Any, world: Any, api_as: Any, frozen: Any) -> None:  # noqa: F811
    frozen(at(2, 24, 9))
    village = api_as("family_doctor")
    body = {
        "direction": "up",
        "mpi_id": "R00000000001",
        "diagnosis_code": "I10",
        "reason": "血压控制不佳",
        "consent": True,
        "to_institution_code": world.lead_hospital.code,
        "to_department_code": "XNK",
        "schedule_id": session.pk,
    }
    created = village.post("/referrals", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["status"], data["resident"], data["to_department"]) == (
        "submitted",
        "张*福",
        "心血管内科",
    )
    assert data["green_channel"] == ["免挂号费", "优先接诊", "优先检查", "优先住院"]
    specialist = api_as("cardiologist")
    inbox = specialist.get("/referrals", box="in").json()
    assert inbox["count"] == 1 and inbox["items"][0]["number"] == data["number"]
    assert "张德福" not in str(inbox)
    refused = specialist.post(f"/referrals/{data['id']}/reject", {"reason": ""})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "status", "message": "拒绝或取消转诊须填写原因"}]
    accepted = specialist.post(f"/referrals/{data['id']}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["status"] == "scheduled"
    outsider = api_as("township_doctor").get(f"/referrals/{data['id']}")
    assert outsider.status_code == 403
    assert outsider.json()["detail"] == "该转诊单不存在或不在您的数据范围内"


def test_create_refusals(world: Any, api_as: Any, frozen: Any) -> None:  # noqa: F811
    frozen(at(2, 24, 9))
    village = api_as("family_doctor")
    base = {"direction": "up", "diagnosis_code": "I10", "reason": "x", "consent": True}
    assert village.post("/referrals", base | {"mpi_id": "R99999999999"}).json()["errors"] == [
        {"field": "mpi_id", "message": "没有该主索引号的居民"}
    ]
    wrong = village.post(
        "/referrals",
        base
        | {"mpi_id": "R00000000001", "to_institution_code": "QH0001", "to_department_code": "ZZZ"},
    )
    assert wrong.json()["errors"] == [{"field": "department", "message": "接收机构没有科室“ZZZ”"}]
    assert village.post("/referrals/1/explode", {}).status_code == 422
