"""Encounter pages: the list per institution (filters, scope, masking, roles) and the resident
timeline (audited read, denied attempt audited, break-glass purpose)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from yigongti.core import clock
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.models import AuditEvent
from yigongti.encounters import services as enc

pytestmark = pytest.mark.django_db

LIST = "encounter_pages:list"


def client_for(world: Any, key: str) -> Client:
    client = Client()
    client.force_login(world.users[key])
    return client


def html(response: Any) -> str:
    return str(response.content.decode("utf-8"))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, resource_type="resident").order_by("seq"))


@pytest.fixture
def visits(world: Any) -> dict[str, Any]:
    """张德福: a visit at 河口乡卫生院, a stay at the county hospital and an out-of-county stay;
    the town resident: a visit at 城关镇卫生院. Dates are recent so treating access is live."""
    today = clock.today()
    zhang = world.residents["elderly_patient"]
    town = world.residents["town_resident"]
    ctx = enc.ValidationContext.load(today=today)

    def visit(ext: str, resident: Any, inst: str, doctor: str, **kw: Any) -> enc.CleanEncounter:
        data = enc.EncounterInput(
            source_system="HIS",
            external_id=ext,
            id_number=resident.id_number,
            institution_code=inst,
            doctor_code=doctor,
            **kw,
        )
        return enc.clean_encounter(data, ctx)

    rows = [
        visit(
            "E1",
            zhang,
            "QH1002",
            "QH1002-0001",
            setting="outpatient",
            visit_date=today - dt.timedelta(days=30),
            principal_diagnosis="I10",
            total_cost=Decimal("1234.56"),
            drug_cost=Decimal("600.00"),
            service_cost=Decimal("634.56"),
            fund_paid=Decimal("617.28"),
            personal_paid=Decimal("617.28"),
        ),
        visit(
            "E2",
            zhang,
            "QH0001",
            "QH0001-0001",
            setting="inpatient",
            visit_date=today - dt.timedelta(days=20),
            discharge_date=today - dt.timedelta(days=12),
            principal_diagnosis="I25.1",
            total_cost=Decimal("7000.00"),
            drug_cost=Decimal("2000.00"),
            service_cost=Decimal("5000.00"),
            fund_paid=Decimal("4500.00"),
            personal_paid=Decimal("2500.00"),
            deductible=Decimal("450.00"),
        ),
        visit(
            "E3",
            town,
            "QH1001",
            "",
            setting="outpatient",
            visit_date=today - dt.timedelta(days=5),
            principal_diagnosis="J06.9",
            total_cost=Decimal("88.00"),
            service_cost=Decimal("88.00"),
            fund_paid=Decimal("44.00"),
            personal_paid=Decimal("44.00"),
        ),
    ]
    enc.upsert_encounters(rows)
    settlement = enc.clean_external_settlement(
        enc.ExternalSettlementInput(
            source_system="YB",
            external_id="S1",
            kind="out_of_county",
            id_number=zhang.id_number,
            settlement_date=today - dt.timedelta(days=2),
            institution_name="青禾市第一人民医院",
            total_cost=Decimal("16000.00"),
            fund_paid=Decimal("8000.00"),
            personal_paid=Decimal("8000.00"),
            setting="inpatient",
            admission_date=today - dt.timedelta(days=10),
            discharge_date=today - dt.timedelta(days=2),
            level="3",
            principal_diagnosis="C34.9",
        ),
        ctx,
    )
    enc.upsert_external_settlements([settlement])
    return {"zhang": zhang, "town": town}


def codes(response: Any) -> list[str]:
    return [r["code"] for r in response.context["rows"]]


def test_county_admin_sees_every_member_newest_first_with_masked_names(
    world: Any, visits: dict[str, Any]
) -> None:
    response = client_for(world, "county_admin").get(reverse(LIST))
    assert response.status_code == 200
    assert codes(response) == ["J06.9", "I25.1", "I10"]
    body = html(response)
    assert "张*福" in body and "张德福" not in body
    assert "¥1,234.56" in body and "¥617.28" in body
    assert "原发性高血压" in body or "高血压" in body
    assert "诊疗记录" in body  # the navigation entry


def test_filters(world: Any, visits: dict[str, Any]) -> None:
    client = client_for(world, "county_admin")
    get = lambda **q: codes(client.get(reverse(LIST), q))  # noqa: E731
    assert get(institution="QH0001") == ["I25.1"]
    assert get(setting="inpatient") == ["I25.1"]
    assert get(diagnosis="i2") == ["I25.1"]
    assert get(diagnosis="J") == ["J06.9"]
    assert get(doctor="QH1002-0001") == ["I10"]
    today = clock.today()
    assert get(date_from=(today - dt.timedelta(days=25)).isoformat()) == ["J06.9", "I25.1"]
    assert get(date_to=(today - dt.timedelta(days=25)).isoformat()) == ["I10"]
    bad = client.get(reverse(LIST), {"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert "结束日期不能早于开始日期" in html(bad) and codes(bad) == []


def test_list_is_bounded_by_scope(world: Any, visits: dict[str, Any]) -> None:
    # 河口乡卫生院 (subtree): its own encounters only; another institution is refused.
    hekou = client_for(world, "hekou_doctor")
    assert codes(hekou.get(reverse(LIST))) == ["I10"]
    refused = hekou.get(reverse(LIST), {"institution": "QH0001"})
    assert "该机构不在您的数据范围内" in html(refused)
    assert codes(refused) == []
    # The lead hospital's cardiologist has an exact (institution-only) scope: not the subtree.
    assert codes(client_for(world, "cardiologist").get(reverse(LIST))) == ["I25.1"]


@pytest.mark.parametrize("persona", ["pharmacist", "auditor", "centre_staff", "insurance_reviewer"])
def test_aggregate_roles_get_403(world: Any, visits: dict[str, Any], persona: str) -> None:
    response = client_for(world, persona).get(reverse(LIST))
    assert response.status_code == 403
    assert "去标识化" in html(response)


def timeline(world: Any) -> str:
    return reverse(
        "encounter_pages:resident_timeline", args=[world.residents["elderly_patient"].mpi_id]
    )


def test_treating_doctor_reads_the_timeline_and_the_read_is_audited(
    world: Any, visits: dict[str, Any]
) -> None:
    response = client_for(world, "hekou_doctor").get(timeline(world))
    assert response.status_code == 200
    rows = response.context["rows"]
    # Newest first, member encounters and the out-of-county settlement together.
    assert [r["code"] for r in rows] == ["C34.9", "I25.1", "I10"]
    assert rows[0]["external"] and rows[0]["institution"] == "青禾市第一人民医院"
    body = html(response)
    assert "¥16,000.00" in body and "¥4,500.00" in body and "诊疗关系" in body
    (event,) = events(AuditAction.READ)
    assert event.actor_username == "chenli"
    assert event.basis == AccessBasis.TREATING
    assert event.resource_id == visits["zhang"].mpi_id


def test_timeline_names_the_kind_of_external_settlement(world: Any, visits: dict[str, Any]) -> None:
    zhang = visits["zhang"]
    ctx = enc.ValidationContext.load(today=clock.today())
    bought = enc.clean_external_settlement(
        enc.ExternalSettlementInput(
            source_system="YB",
            external_id="P1",
            kind="pharmacy",
            id_number=zhang.id_number,
            settlement_date=clock.today() - dt.timedelta(days=1),
            institution_name="青禾大药房",
            total_cost=Decimal("36.80"),
            fund_paid=Decimal("0.00"),
            personal_paid=Decimal("36.80"),
            setting="outpatient",
        ),
        ctx,
    )
    enc.upsert_external_settlements([bought])
    rows = client_for(world, "hekou_doctor").get(timeline(world)).context["rows"]
    assert [(r["source"], r["setting"], r["institution"]) for r in rows] == [
        ("定点零售药店", "购药", "青禾大药房"),
        ("县域外就医", "住院", "青禾市第一人民医院"),
        ("医共体成员机构", "住院", "青禾县人民医院"),
        ("医共体成员机构", "门诊", "青禾县河口乡卫生院"),
    ]


def test_out_of_scope_doctor_is_denied_and_audited(world: Any, visits: dict[str, Any]) -> None:
    response = client_for(world, "township_doctor").get(timeline(world))
    assert response.status_code == 403
    body = html(response)
    assert "该居民不在您的数据范围内" in body and "张德福" not in body
    assert 'id="break-glass"' not in body
    (event,) = events(AuditAction.DENIED)
    assert event.actor_username == "zhaom"
    assert not events(AuditAction.READ)


def test_county_admin_breaks_glass_with_a_purpose(world: Any, visits: dict[str, Any]) -> None:
    # The county admin's institution (the lead hospital) never treated the town resident.
    client = client_for(world, "county_admin")
    url = reverse("encounter_pages:resident_timeline", args=[visits["town"].mpi_id])
    first = client.get(url)
    assert first.status_code == 403 and 'id="break-glass"' in html(first)
    assert len(events(AuditAction.DENIED)) == 1
    empty = client.post(url, {"reason": "", "detail": ""})
    assert empty.status_code == 403 and "请选择查阅事由" in html(empty)
    assert not events(AuditAction.READ)
    posted = client.post(url, {"reason": "急诊抢救", "detail": "患者昏迷"})
    assert posted.status_code == 302 and posted["Location"] == url
    page = client.get(url)
    assert page.status_code == 200 and "急诊抢救：患者昏迷" in html(page)
    assert [r["code"] for r in page.context["rows"]] == ["J06.9"]
    (event,) = events(AuditAction.READ)
    assert event.basis == AccessBasis.BREAK_GLASS


def test_aggregate_role_cannot_open_a_timeline(world: Any, visits: dict[str, Any]) -> None:
    response = client_for(world, "pharmacist").get(timeline(world))
    assert response.status_code == 403
    assert "去标识化" in html(response)
    assert not events(AuditAction.READ)


def test_resident_detail_links_to_the_timeline(world: Any, visits: dict[str, Any]) -> None:
    mpi = world.residents["elderly_patient"].mpi_id
    body = html(client_for(world, "family_doctor").get(reverse("web:resident_detail", args=[mpi])))
    assert timeline(world) in body and "诊疗时间线" in body
