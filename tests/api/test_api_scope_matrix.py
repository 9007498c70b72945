"""Access by guessing ids (DESIGN.md "Failure modes"): every id-taking endpoint checks the
caller's scope for that row. One matrix: persona × endpoint × target → exact answer.

``"403+"`` is a refusal that offers break-glass (``can_break_glass: true``); person-level
refusals must leave an ``AuditEvent(action="denied")``; institution refusals write nothing.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PERSONAS = {
    # persona key → username, for the audit assertions
    "township_doctor": "zhaom",  # 城关镇卫生院, subtree
    "family_doctor": "wangys",  # 桃源村卫生室, that clinic only
    "hekou_doctor": "chenli",  # 河口乡卫生院, subtree
    "cardiologist": "lixy",  # 县人民医院, that hospital only
    "centre_staff": "yibao",  # 管理中心, whole medcom, aggregate role
    "auditor": "auditor",  # whole medcom, audit role
    "public_health": "zhouwm",  # 河口乡卫生院, public-health programme role
    "county_admin": "admin",  # whole medcom
}

INSTITUTIONS = ("QH0001", "QH1001", "QH1002", "QH2001", "QH2003", "QH9999")
INSTITUTION_MATRIX = {
    #                 QH0001 QH1001 QH1002 QH2001 QH2003 QH9999
    "township_doctor": (403, 200, 403, 200, 403, 404),
    "family_doctor": (403, 403, 403, 403, 200, 404),
    "hekou_doctor": (403, 403, 200, 403, 200, 404),
    "cardiologist": (200, 403, 403, 403, 403, 404),
    "centre_staff": (200, 200, 200, 200, 200, 404),
    "auditor": (200, 200, 200, 200, 200, 404),
    "public_health": (403, 403, 200, 403, 200, 404),
    "county_admin": (200, 200, 200, 200, 200, 404),
}

RESIDENTS = ("elderly_patient", "elderly_spouse", "town_resident", "unknown")
RESIDENT_MATRIX = {
    #                 张德福(桃源村)  李秀英(桃源村)  陈晓东(东门社区) unknown
    "township_doctor": ("403", "403", "403+", "403"),
    "family_doctor": ("200", "403+", "403", "403"),
    "hekou_doctor": ("403+", "403+", "403", "403"),
    "cardiologist": ("403+", "403+", "403+", "403"),  # the lead hospital serves the county
    "centre_staff": ("403", "403", "403", "403"),
    "auditor": ("403", "403", "403", "403"),
    "public_health": ("200", "200", "403", "403"),
    "county_admin": ("403+", "403+", "403+", "403"),
}
EXPECTED_BASIS = {
    ("family_doctor", "elderly_patient"): "family_doctor_contract",
    ("public_health", "elderly_patient"): "public_health_programme",
    ("public_health", "elderly_spouse"): "public_health_programme",
}


def _institution_cases() -> list[tuple[str, str, int]]:
    return [
        (persona, code, status)
        for persona, row in INSTITUTION_MATRIX.items()
        for code, status in zip(INSTITUTIONS, row, strict=True)
    ]


def _resident_cases() -> list[tuple[str, str, str, str]]:
    return [
        (endpoint, persona, target, expected)
        for endpoint in ("detail", "reveal")
        for persona, row in RESIDENT_MATRIX.items()
        for target, expected in zip(RESIDENTS, row, strict=True)
    ]


def test_matrix_covers_every_persona() -> None:
    assert set(INSTITUTION_MATRIX) == set(RESIDENT_MATRIX) == set(PERSONAS)


@pytest.mark.parametrize(("persona", "code", "status"), _institution_cases())
def test_institution_detail_scope(world, api_as, persona, code, status):  # type: ignore[no-untyped-def]
    from yigongti.core.models import AuditEvent

    audits = AuditEvent.objects.count()
    response = api_as(persona).get(f"/institutions/{code}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["code"] == code
    elif status == 403:
        assert response.json() == {"detail": "该机构不在您的数据范围内", "can_break_glass": False}
    else:
        assert response.json() == {"detail": f"机构 {code} 不存在"}
    assert AuditEvent.objects.count() == audits


@pytest.mark.parametrize(("endpoint", "persona", "target", "expected"), _resident_cases())
def test_resident_scope(world, api_as, endpoint, persona, target, expected):  # type: ignore[no-untyped-def]
    from yigongti.core.models import AuditEvent

    resident = world.residents.get(target)
    mpi = resident.mpi_id if resident else "R99999999999"
    api: ApiClient = api_as(persona)
    if endpoint == "detail":
        response = api.get(f"/residents/{mpi}")
    else:
        response = api.post(f"/residents/{mpi}/reveal", {"field": "id_number"})
    events = list(
        AuditEvent.objects.filter(actor_username=PERSONAS[persona])
        .order_by("seq")
        .values_list("action", "resource_id", "subject_resident_id", "channel")
    )
    subject = resident.pk if resident else None
    if expected == "200":
        assert response.status_code == 200
        body = response.json()
        if endpoint == "detail":
            assert body["access_basis"] == EXPECTED_BASIS[(persona, target)]
            assert body["id_number"] != resident.id_number
            assert events == [("read", mpi, subject, "api")]
        else:
            assert body == {"mpi_id": mpi, "field": "id_number", "value": resident.id_number}
            assert events == [("read", mpi, subject, "api"), ("reveal", mpi, subject, "api")]
    else:
        assert response.status_code == 403
        body = response.json()
        assert body["can_break_glass"] is (expected == "403+")
        assert set(body) == {"detail", "can_break_glass"}
        assert events == [("denied", mpi, subject, "api")]
        if resident is not None:
            assert resident.id_number not in response.content.decode()


def test_break_glass_purpose_opens_only_where_offered(world, api_as):  # type: ignore[no-untyped-def]
    """A purpose turns "403+" into a break-glass read, never a plain "403"."""
    mpi = world.residents["elderly_patient"].mpi_id
    assert api_as("hekou_doctor").get(f"/residents/{mpi}", purpose="夜间急诊").status_code == 200
    assert api_as("township_doctor").get(f"/residents/{mpi}", purpose="夜间急诊").status_code == 403
    assert api_as("centre_staff").get(f"/residents/{mpi}", purpose="夜间急诊").status_code == 403
