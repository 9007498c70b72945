"""The JSON API: authentication, error shapes, lists, the audited resident gate, registration."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.conftest import API, ApiClient

pytestmark = pytest.mark.django_db

FULL_ID = re.compile(r"\d{17}[\dX]")


def audit_actions(username: str) -> list[tuple[str, str]]:
    from yigongti.core.models import AuditEvent

    return list(
        AuditEvent.objects.filter(actor_username=username)
        .order_by("seq")
        .values_list("action", "resource_id")
    )


# ---------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------


def test_me_with_token_exact(world, api_as):  # type: ignore[no-untyped-def]
    response = api_as("township_doctor").get("/me")
    assert response.status_code == 200
    assert response.json() == {
        "username": "zhaom",
        "display_name": "赵敏",
        "institution": {"code": "QH1001", "name": "青禾县城关镇卫生院"},
        "roles": [{"code": "doctor", "label": "医生"}],
        "active_role": {"code": "doctor", "label": "医生"},
        "scope": {
            "kind": "subtree",
            "kind_label": "本机构及下属机构",
            "description": "本机构及下属机构：青禾县城关镇卫生院",
        },
    }


def test_me_token_acts_in_the_token_role(world, api_as):  # type: ignore[no-untyped-def]
    body = api_as("family_doctor", "village_doctor").get("/me").json()
    assert body["roles"] == [
        {"code": "family_doctor", "label": "家庭医生"},
        {"code": "village_doctor", "label": "乡村医生"},
    ]
    assert body["active_role"] == {"code": "village_doctor", "label": "乡村医生"}
    assert body["scope"] == {
        "kind": "institution",
        "kind_label": "仅本机构",
        "description": "仅本机构：青禾县桃源村卫生室",
    }


def test_me_county_admin_scope(world, api_as):  # type: ignore[no-untyped-def]
    body = api_as("county_admin").get("/me").json()
    assert body["scope"] == {
        "kind": "medcom",
        "kind_label": "整个医共体",
        "description": "整个医共体：青禾县紧密型县域医共体",
    }


def test_me_with_session_uses_active_role(world):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users["family_doctor"])
    session = client.session
    session["active_role"] = "village_doctor"
    session.save()
    response = client.get(f"{API}/me")
    assert response.status_code == 200
    assert response.json()["active_role"] == {"code": "village_doctor", "label": "乡村医生"}


@pytest.mark.parametrize(
    "path", ["/me", "/institutions", "/institutions/QH0001", "/staff", "/residents"]
)
def test_unauthenticated_is_401_in_chinese(world, path):  # type: ignore[no-untyped-def]
    response = ApiClient().get(path)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "未登录或令牌无效：请先登录，或在 Authorization 头中提供有效的 Bearer 令牌"
    }


def test_unauthenticated_post_is_401_not_csrf(world):  # type: ignore[no-untyped-def]
    from yigongti.residents.models import Resident

    before = Resident.objects.count()
    response = ApiClient().post("/residents", {"name": "张三"})
    assert response.status_code == 401
    assert Resident.objects.count() == before


def test_unknown_and_malformed_tokens_are_401(world):  # type: ignore[no-untyped-def]
    assert ApiClient("ygt_not-a-real-token").get("/me").status_code == 401
    client = Client()
    assert client.get(f"{API}/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_revoked_token_is_401(world, token_for):  # type: ignore[no-untyped-def]
    from yigongti.accounts.models import ApiToken

    raw = token_for("county_admin")
    client = ApiClient(raw)
    assert client.get("/me").status_code == 200
    token = ApiToken.objects.get(prefix=raw[:8])
    assert token.last_used_at is not None
    token.revoked = True
    token.save()
    response = client.get("/me")
    assert response.status_code == 401
    assert "令牌无效" in response.json()["detail"]


def test_inactive_user_token_is_401(world, token_for):  # type: ignore[no-untyped-def]
    raw = token_for("county_admin")
    user = world.users["county_admin"]
    user.is_active = False
    user.save()
    assert ApiClient(raw).get("/me").status_code == 401


def test_session_post_needs_csrf(world):  # type: ignore[no-untyped-def]
    from yigongti.residents.models import Resident

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["county_admin"])
    before = Resident.objects.count()
    response = client.post(f"{API}/residents", {"name": "张三"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "CSRF 校验失败：请刷新页面后重试",
        "can_break_glass": False,
    }
    assert Resident.objects.count() == before


def test_session_post_with_csrf_token_reaches_validation(world):  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["county_admin"])
    csrf = "a" * 32  # the secret a page would have set in the csrftoken cookie
    client.cookies["csrftoken"] = csrf
    response = client.post(
        f"{API}/residents",
        {"name": "张三"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 422


def test_bearer_post_needs_no_csrf(world, token_for):  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{API}/residents",
        {"name": "张三"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('county_admin')}"},
    )
    assert response.status_code == 422


# ---------------------------------------------------------------------------
# Request validation: the same 422 shape, in Chinese
# ---------------------------------------------------------------------------


def test_query_validation_errors_are_chinese(world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("county_admin")
    response = api.get("/institutions", limit=500, offset=-1)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "提交的数据有误",
        "errors": [
            {"field": "limit", "message": "不能大于 100"},
            {"field": "offset", "message": "不能小于 0"},
        ],
    }
    response = api.get("/staff", limit="abc")
    assert response.json()["errors"] == [{"field": "limit", "message": "类型错误：应为整数"}]


def test_body_validation_errors_are_chinese(world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("county_admin")
    response = api.post(
        "/residents", {"id_number": 5, "has_diabetes": "maybe", "birth_date": "1951-13-45"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "提交的数据有误",
        "errors": [
            {"field": "name", "message": "必填"},
            {"field": "id_number", "message": "类型错误：应为字符串"},
            {"field": "division_code", "message": "必填"},
            {"field": "birth_date", "message": "日期格式应为 YYYY-MM-DD"},
            {"field": "has_diabetes", "message": "类型错误：应为布尔值（true 或 false）"},
        ],
    }


def test_control_characters_and_long_text_are_refused(world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("county_admin")
    response = api.get("/institutions", q="县\x00医院")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "q", "message": "不能包含控制字符"}]
    response = api.get("/staff", q="王" * 33)
    assert response.json()["errors"] == [{"field": "q", "message": "长度不能超过 32 个字符"}]


def test_malformed_json_body_is_422(world, token_for):  # type: ignore[no-untyped-def]
    response = Client().post(
        f"{API}/residents",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('county_admin')}"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "提交的数据有误",
        "errors": [{"field": "body", "message": "请求体不是有效的 JSON"}],
    }


def test_reveal_field_must_be_id_number_or_phone(world, api_as):  # type: ignore[no-untyped-def]
    mpi = world.residents["elderly_patient"].mpi_id
    response = api_as("family_doctor").post(f"/residents/{mpi}/reveal", {"field": "name"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "field", "message": "取值无效，可选值：'id_number' or 'phone'"}
    ]


def test_malformed_path_id_is_422(world, api_as):  # type: ignore[no-untyped-def]
    response = api_as("county_admin").get("/institutions/QH%2A0001")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "code", "message": "格式不正确"}]


# ---------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------


def test_institutions_scoped_and_filtered(world, api_as):  # type: ignore[no-untyped-def]
    body = api_as("township_doctor").get("/institutions").json()
    assert body["count"] == 2
    assert [i["code"] for i in body["items"]] == ["QH1001", "QH2001"]
    assert body["items"][0] == {
        "code": "QH1001",
        "name": "青禾县城关镇卫生院",
        "short_name": "城关镇卫生院",
        "inst_type": "township_health_centre",
        "inst_type_label": "乡镇卫生院",
        "level": "1",
        "level_label": "一级",
        "medcom_code": "QH-MEDCOM",
        "parent_code": "QH0001",
        "division_code": "439901001000",
        "division_name": "城关镇",
        "is_active": True,
    }
    admin = api_as("county_admin")
    assert admin.get("/institutions").json()["count"] == 8
    clinics = admin.get("/institutions", type="village_clinic").json()
    assert [i["code"] for i in clinics["items"]] == ["QH2001", "QH2002", "QH2003"]
    assert admin.get("/institutions", q="桃源").json()["count"] == 1


def test_institutions_exact_scope_sees_only_its_own(world, api_as):  # type: ignore[no-untyped-def]
    body = api_as("family_doctor").get("/institutions").json()
    assert [i["code"] for i in body["items"]] == ["QH2003"]
    body = api_as("cardiologist").get("/institutions").json()
    assert [i["code"] for i in body["items"]] == ["QH0001"]


def test_institutions_pagination(world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("county_admin")
    first = api.get("/institutions", limit=3).json()
    second = api.get("/institutions", limit=3, offset=3).json()
    assert first["count"] == second["count"] == 8
    assert len(first["items"]) == len(second["items"]) == 3
    assert not {i["code"] for i in first["items"]} & {i["code"] for i in second["items"]}


def test_staff_scoped_filtered_and_phone_masked(world, api_as):  # type: ignore[no-untyped-def]
    from yigongti.staff.models import Practitioner

    Practitioner.objects.filter(code="QH1001-0001").update(phone="13812345678")
    body = api_as("township_doctor").get("/staff").json()
    assert [p["code"] for p in body["items"]] == ["QH1001-0001"]
    assert body["items"][0]["phone"] == "138****5678"
    assert body["items"][0]["name"] == "赵敏"
    assert body["items"][0]["institution_code"] == "QH1001"
    hekou = api_as("hekou_doctor").get("/staff").json()
    assert sorted(p["code"] for p in hekou["items"]) == [
        "QH1002-0001",
        "QH1002-0002",
        "QH2003-0001",
    ]
    admin = api_as("county_admin")
    assert admin.get("/staff").json()["count"] == 6
    grades = admin.get("/staff", title_grade="associate_senior").json()
    assert [p["code"] for p in grades["items"]] == ["QH0001-0001"]
    pharm = admin.get("/staff", profession="pharmacist").json()
    assert [p["code"] for p in pharm["items"]] == ["QH0001-0002"]
    inst = admin.get("/staff", institution="QH1002").json()
    assert inst["count"] == 2
    # The family doctor's exact scope: the village clinic only, not the township centre.
    own = api_as("family_doctor").get("/staff").json()
    assert [p["code"] for p in own["items"]] == ["QH2003-0001"]


def test_resident_search_masked_and_scoped(world, api_as):  # type: ignore[no-untyped-def]
    body = api_as("family_doctor").get("/residents", q="zdf").json()
    assert body == {
        "count": 1,
        "items": [
            {
                "mpi_id": world.residents["elderly_patient"].mpi_id,
                "name": "张*福",
                "sex": "男",
                "birth_year": "1951",
                "id_number": "439901********0033",
                "phone": "138****0001",
                "address": "河口乡***",
            }
        ],
    }
    # 张德福 lives in 河口乡; the 城关镇 doctor's scope does not reach him.
    assert api_as("township_doctor").get("/residents", q="张德福").json()["count"] == 0


def test_resident_lists_never_contain_a_full_id_number(world, api_as):  # type: ignore[no-untyped-def]
    api = api_as("county_admin")
    for q in ("439901195103150033", "zdf", "李", "陈晓东", "c"):
        response = api.get("/residents", q=q)
        assert response.status_code == 200
        assert response.json()["count"] >= 1
        assert not FULL_ID.search(response.content.decode())
        assert "13807310001" not in response.content.decode()


@pytest.mark.parametrize("persona", ["centre_staff", "auditor", "pharmacist", "insurance_reviewer"])
def test_resident_search_refused_for_aggregate_roles(world, api_as, persona):  # type: ignore[no-untyped-def]
    response = api_as(persona).get("/residents", q="zdf")
    assert response.status_code == 403
    assert response.json() == {"detail": "您的角色不能查询居民个人档案", "can_break_glass": False}


# ---------------------------------------------------------------------------
# The audited resident gate
# ---------------------------------------------------------------------------


def test_township_doctor_reading_zhang_defu_is_denied_and_audited(world, api_as):  # type: ignore[no-untyped-def]
    mpi = world.residents["elderly_patient"].mpi_id
    response = api_as("township_doctor").get(f"/residents/{mpi}")
    assert response.status_code == 403
    assert response.json() == {"detail": "该居民不在您的数据范围内", "can_break_glass": False}
    assert audit_actions("zhaom") == [("denied", mpi)]
    from yigongti.core.models import AuditEvent

    event = AuditEvent.objects.get(actor_username="zhaom")
    assert event.channel == "api"
    assert event.client_ip == "127.0.0.1"
    assert event.subject_resident_id == world.residents["elderly_patient"].pk


def test_family_doctor_reads_zhang_defu_by_contract(world, api_as):  # type: ignore[no-untyped-def]
    patient = world.residents["elderly_patient"]
    response = api_as("family_doctor").get(f"/residents/{patient.mpi_id}")
    assert response.status_code == 200
    assert response.json() == {
        "mpi_id": patient.mpi_id,
        "name": "张德福",
        "sex": "M",
        "sex_label": "男",
        "birth_date": "1951-03-15",
        "ethnicity": "汉族",
        "id_type": "01",
        "id_type_label": "居民身份证",
        "id_number": "439901********0033",
        "phone": "138****0001",
        "division_code": "439901002002",
        "village": "桃源村",
        "township": "河口乡",
        "address_detail": "桃源村3组12号",
        "household_code": "H439901002002-0001",
        "relation_to_head": "head",
        "insurance_type": "resident",
        "insurance_number": "439901*******5003",
        "has_hypertension": True,
        "has_diabetes": True,
        "has_severe_mental_illness": False,
        "is_sensitive": False,
        "is_deceased": False,
        "access_basis": "family_doctor_contract",
        "access_basis_label": "家庭医生签约",
    }
    from yigongti.core.models import AuditEvent

    event = AuditEvent.objects.get(actor_username="wangys")
    assert (event.action, event.basis, event.channel) == ("read", "family_doctor_contract", "api")


def test_break_glass_with_purpose(world, api_as):  # type: ignore[no-untyped-def]
    mpi = world.residents["town_resident"].mpi_id
    api = api_as("township_doctor")
    refused = api.get(f"/residents/{mpi}")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "您与该居民没有诊疗、签约、转诊或公共卫生服务关系；如确需查阅，请填写查阅事由（将被审计复核）",
        "can_break_glass": True,
    }
    allowed = api.get(f"/residents/{mpi}", purpose="急诊接诊，患者昏迷")
    assert allowed.status_code == 200
    assert allowed.json()["access_basis"] == "break_glass"
    assert audit_actions("zhaom") == [("denied", mpi), ("read", mpi)]


def test_unknown_resident_is_refused_like_out_of_scope(world, api_as):  # type: ignore[no-untyped-def]
    response = api_as("county_admin").get("/residents/R99999999999")
    assert response.status_code == 403
    assert response.json() == {"detail": "该居民不在您的数据范围内", "can_break_glass": False}
    assert audit_actions("admin") == [("denied", "R99999999999")]


def test_reveal_returns_full_value_and_is_audited(world, api_as):  # type: ignore[no-untyped-def]
    mpi = world.residents["elderly_patient"].mpi_id
    api = api_as("family_doctor")
    response = api.post(f"/residents/{mpi}/reveal", {"field": "id_number", "purpose": "核对医保"})
    assert response.status_code == 200
    assert response.json() == {"mpi_id": mpi, "field": "id_number", "value": "439901195103150033"}
    phone = api.post(f"/residents/{mpi}/reveal", {"field": "phone"}).json()
    assert phone["value"] == "13807310001"
    assert audit_actions("wangys") == [
        ("read", mpi),
        ("reveal", mpi),
        ("read", mpi),
        ("reveal", mpi),
    ]


def test_reveal_refused_is_audited_and_shows_nothing(world, api_as):  # type: ignore[no-untyped-def]
    mpi = world.residents["elderly_patient"].mpi_id
    response = api_as("hekou_doctor").post(f"/residents/{mpi}/reveal", {"field": "id_number"})
    assert response.status_code == 403
    assert response.json()["can_break_glass"] is True
    assert "439901195103150033" not in response.content.decode()
    assert audit_actions("chenli") == [("denied", mpi)]


# ---------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------

VALID = {
    "name": "王小红",
    "id_number": "43990120000101048X",
    "division_code": "439901002001",
    "phone": "13907310099",
    "insurance_number": "43990120000101048",
}


def _count() -> int:
    from yigongti.residents.models import Resident

    return Resident.objects.count()


def test_register_invalid_fields_422_nothing_written(world, api_as):  # type: ignore[no-untyped-def]
    from yigongti.core.models import AuditEvent

    before, audits = _count(), AuditEvent.objects.count()
    response = api_as("county_admin").post(
        "/residents",
        {
            **VALID,
            "id_number": "439901195103150034",
            "sex": "M",
            "birth_date": "1951-03-15",
            "phone": "12345",
            "division_code": "439901002099",
        },
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "提交的数据有误",
        "errors": [
            {"field": "id_number", "message": "身份证号校验位错误：最后一位应为“3”"},
            {
                "field": "phone",
                "message": "电话号码“12345”格式错误：手机号应为1开头的11位数字，座机如0731-1234567",
            },
            {
                "field": "division_code",
                "message": "区划代码“439901002099”不存在或不是村（社区）级",
            },
        ],
    }
    assert (_count(), AuditEvent.objects.count()) == (before, audits)


def test_register_duplicate_id_422(world, api_as):  # type: ignore[no-untyped-def]
    before = _count()
    response = api_as("county_admin").post(
        "/residents", {**VALID, "id_number": "439901195103150033"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "提交的数据有误",
        "errors": [{"field": "id_number", "message": "该证件号码已建档，一个证件只能对应一名居民"}],
    }
    assert _count() == before


def test_register_outside_scope_422(world, api_as):  # type: ignore[no-untyped-def]
    before = _count()
    response = api_as("hekou_doctor").post("/residents", {**VALID, "division_code": "439901001001"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "division_code", "message": "该村（社区）不在您的数据范围内"}
    ]
    assert _count() == before


@pytest.mark.parametrize("persona", ["centre_staff", "auditor", "pharmacist"])
def test_register_refused_for_roles_that_cannot_edit(world, api_as, persona):  # type: ignore[no-untyped-def]
    before = _count()
    response = api_as(persona).post("/residents", VALID)
    assert response.status_code == 403
    assert response.json() == {"detail": "您的角色不能登记居民档案", "can_break_glass": False}
    assert _count() == before


def test_register_valid_201_masked_and_audited(world, api_as):  # type: ignore[no-untyped-def]
    from yigongti.core.models import AuditEvent
    from yigongti.residents.models import Resident

    before = _count()
    response = api_as("county_admin").post("/residents", VALID)
    assert response.status_code == 201
    body = response.json()
    created = Resident.objects.get(id_number="43990120000101048X")
    assert _count() == before + 1
    assert body["mpi_id"] == created.mpi_id
    assert body["name"] == "王小红"
    assert (body["sex"], body["birth_date"]) == ("F", "2000-01-01")
    assert body["id_number"] == "439901********048X"
    assert body["phone"] == "139****0099"
    assert (body["village"], body["township"]) == ("河口村", "河口乡")
    assert body["access_basis"] == "data_entry"
    event = AuditEvent.objects.get(actor_username="admin")
    assert (event.action, event.resource_id, event.channel) == ("create", created.mpi_id, "api")


def test_openapi_documents_error_shapes(world, client):  # type: ignore[no-untyped-def]
    schema = client.get(f"{API}/openapi.json").json()
    detail = schema["paths"]["/api/v1/residents/{mpi_id}"]["get"]["responses"]
    assert set(detail) == {"200", "401", "403", "422"}
    assert detail["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DeniedOut"
    }
    inst = schema["paths"]["/api/v1/institutions/{code}"]["get"]["responses"]
    assert set(inst) == {"200", "401", "403", "404", "422"}
    create = schema["paths"]["/api/v1/residents"]["post"]["responses"]
    assert set(create) == {"201", "401", "403", "422"}
    assert set(schema["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}
