"""The web pages: login throttling, role-gated pages, masking, the audited read gate, MPI queue."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from yigongti.accounts.models import LoginFailure
from yigongti.core import clock
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.models import AuditEvent
from yigongti.residents.choices import DuplicateStatus, Relation
from yigongti.residents.models import DuplicateCandidate, Resident
from yigongti.residents.rules import check_digit
from yigongti.residents.services import ResidentInput, do_register_resident
from yigongti.synth.personas import AS_OF, DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZHANG_ID = "439901195103150033"
ZHANG_PHONE = "13807310001"


def client_for(world, key: str) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users[key])
    return client


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode("utf-8")


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def zhang(world) -> Resident:  # type: ignore[no-untyped-def]
    return world.residents["elderly_patient"]


def detail_url(world) -> str:  # type: ignore[no-untyped-def]
    return reverse("web:resident_detail", args=[zhang(world).mpi_id])


# ---------------------------------------------------------------------------
# Login, logout, password, role switch
# ---------------------------------------------------------------------------


def login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("web:login"), {"username": username, "password": password})


def test_login_success_redirects_home_and_is_audited(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    LoginFailure.objects.create(username="admin", occurred_at=clock.now())
    response = login(client, "admin", DEMO_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.session["active_role"] == "county_admin"
    assert not LoginFailure.objects.filter(username="admin").exists()
    (event,) = events(AuditAction.LOGIN)
    assert (event.actor_username, event.actor_role, event.resource_type) == (
        "admin",
        "county_admin",
        "session",
    )
    assert event.actor_institution_code == "QH0001"
    assert event.channel == "web"
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    assert "刘管理" in html(home)
    assert "青禾县人民医院" in html(home)


def test_login_failure_shows_chinese_message_and_is_recorded(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    response = login(client, "admin", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in html(response)
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="admin").count() == 1
    (event,) = events(AuditAction.LOGIN_FAILED)
    assert event.actor_username == "admin"
    assert event.actor_id is None
    assert event.resource_type == "session"


def test_lockout_after_limit_refuses_even_the_right_password(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    limit = settings.LOGIN_FAILURE_LIMIT
    for _ in range(limit):
        login(client, "zhaom", "wrong-password")
    assert LoginFailure.objects.filter(username="zhaom").count() == limit
    response = login(client, "zhaom", DEMO_PASSWORD)
    assert response.status_code == 200
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    assert f"登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试" in html(response)
    assert "_auth_user_id" not in client.session
    # The locked attempt neither logged in nor cleared the failures; it is audited as failed.
    assert not events(AuditAction.LOGIN)
    assert events(AuditAction.LOGIN_FAILED)[-1].detail == {"reason": "locked"}
    assert len(events(AuditAction.LOGIN_FAILED)) == limit + 1
    assert LoginFailure.objects.filter(username="zhaom").count() == limit
    # Other accounts are unaffected.
    assert login(Client(), "admin", DEMO_PASSWORD).status_code == 302


def test_anonymous_pages_redirect_to_login(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse("web:org_tree"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_login_page_is_chinese(db) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(reverse("web:login"))
    assert response.status_code == 200
    body = html(response)
    assert "用户名" in body and "密码" in body and "医共体一体化管理平台" in body


def test_logout(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_errors_are_chinese_and_success_works(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "auditor")
    url = reverse("web:password_change")
    bad = client.post(
        url, {"old_password": "nope", "new_password1": "Qh!x7pz92k", "new_password2": "other"}
    )
    assert bad.status_code == 200
    assert "原密码不正确" in html(bad)
    ok = client.post(
        url,
        {
            "old_password": DEMO_PASSWORD,
            "new_password1": "Qh!x7pz92k",
            "new_password2": "Qh!x7pz92k",
        },
    )
    assert ok.status_code == 302
    world.users["auditor"].refresh_from_db()
    assert world.users["auditor"].check_password("Qh!x7pz92k")


def test_role_switch(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "family_doctor")
    home = html(client.get(reverse("web:home")))
    assert 'id="role-switch"' in home and "家庭医生工作台" in home
    response = client.post(reverse("web:switch_role"), {"role": "village_doctor"})
    assert response.status_code == 302
    assert client.session["active_role"] == "village_doctor"
    assert "乡村医生工作台" in html(client.get(reverse("web:home")))
    # A role the user does not hold is refused and the active role stays.
    client.post(reverse("web:switch_role"), {"role": "county_admin"})
    assert client.session["active_role"] == "village_doctor"
    # Single-role users see no switch.
    assert 'id="role-switch"' not in html(client_for(world, "auditor").get(reverse("web:home")))


# ---------------------------------------------------------------------------
# Pages per role
# ---------------------------------------------------------------------------

PAGE_ACCESS = [
    ("web:home", "pharmacist", 200),
    ("web:org_tree", "insurance_reviewer", 200),
    ("web:staff_list", "family_doctor", 200),
    ("web:resident_search", "township_doctor", 200),
    ("web:resident_search", "pharmacist", 403),
    ("web:resident_search", "auditor", 403),
    ("web:resident_search", "centre_staff", 403),
    ("web:duplicates", "county_admin", 200),
    ("web:duplicates", "institution_admin", 200),
    ("web:duplicates", "township_doctor", 403),
    ("web:audit_log", "auditor", 200),
    ("web:audit_log", "county_admin", 403),
    ("web:audit_log", "family_doctor", 403),
]


@pytest.mark.parametrize(("name", "persona", "status"), PAGE_ACCESS)
def test_page_access_by_role(world, name: str, persona: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, persona).get(reverse(name))
    assert response.status_code == status
    if status == 403:
        assert "无权访问" in html(response)


def test_navigation_shows_only_what_the_role_may_use(world) -> None:  # type: ignore[no-untyped-def]
    admin = html(client_for(world, "county_admin").get(reverse("web:home")))
    assert "基础数据管理" in admin and "疑似重复记录" in admin and "审计日志" not in admin
    auditor = html(client_for(world, "auditor").get(reverse("web:home")))
    assert "审计日志" in auditor and "居民查询" not in auditor and "基础数据管理" not in auditor


def test_county_admin_home_counts(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "county_admin").get(reverse("web:home"))
    counts = response.context["counts"]
    assert counts["institution_total"] == 8
    assert counts["bed_total"] == 600 + 300 + 120 + 60 + 40
    assert counts["staff_total"] == 6
    assert counts["resident_total"] == 3
    assert ("村卫生室", 3) in counts["institutions_by_type"]
    assert ("乡镇卫生院", 2) in counts["institutions_by_type"]


def test_aggregate_home_has_counts_and_no_search(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "insurance_reviewer").get(reverse("web:home"))
    assert response.context["counts"]["resident_total"] == 3
    assert "search_form" not in response.context
    assert "去标识化" in html(response)


def test_institution_admin_home_lists_subtree_and_duplicate_count(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "institution_admin").get(reverse("web:home"))
    assert [i.code for i in response.context["subtree"]] == ["QH1002", "QH2002", "QH2003"]
    assert response.context["duplicate_count"] == 0


def test_auditor_home_shows_recent_events(world) -> None:  # type: ignore[no-untyped-def]
    client_for(world, "township_doctor").get(detail_url(world))
    response = client_for(world, "auditor").get(reverse("web:home"))
    assert response.context["recent_events"][0].action == AuditAction.DENIED


# ---------------------------------------------------------------------------
# Institutions and staff
# ---------------------------------------------------------------------------


def tree_codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["inst"].code for row in response.context["rows"]]


def test_tree_for_county_admin_has_whole_medcom_with_figures(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "county_admin").get(reverse("web:org_tree"))
    # Depth-first by tree path: each village clinic right under its township centre.
    assert tree_codes(response) == [
        "QH0001",
        "QH0002",
        "QH0003",
        "QH1001",
        "QH2001",
        "QH1002",
        "QH2002",
        "QH2003",
    ]
    rows = {row["inst"].code: row for row in response.context["rows"]}
    assert rows["QH0001"]["indent"] == 0
    assert rows["QH1002"]["indent"] == 1
    assert rows["QH2003"]["indent"] == 2
    assert rows["QH0001"]["staff"] == 2
    assert rows["QH2003"]["staff"] == 1
    assert rows["QH0001"]["residents"] == 3  # serves the whole county
    assert rows["QH1002"]["residents"] == 2  # 河口乡: 张德福 and 李秀英
    assert rows["QH2001"]["residents"] == 1  # 东门社区: 陈晓东
    assert rows["QH2002"]["residents"] == 0


def test_tree_search_keeps_ancestors(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "county_admin").get(reverse("web:org_tree"), {"q": "桃源"})
    assert tree_codes(response) == ["QH0001", "QH1002", "QH2003"]
    matched = [row["inst"].code for row in response.context["rows"] if row["matched"]]
    assert matched == ["QH2003"]
    by_code = client_for(world, "county_admin").get(reverse("web:org_tree"), {"q": "qh1001"})
    assert tree_codes(by_code) == ["QH0001", "QH1001"]


def test_tree_is_limited_to_scope(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "township_doctor").get(reverse("web:org_tree"))
    assert tree_codes(response) == ["QH1001", "QH2001"]
    exact = client_for(world, "family_doctor").get(reverse("web:org_tree"))
    assert tree_codes(exact) == ["QH2003"]


def test_institution_detail(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "county_admin").get(reverse("web:org_detail", args=["QH1002"]))
    assert response.status_code == 200
    body = html(response)
    assert "青禾县河口乡卫生院" in body
    assert "行政隶属" in body and "河口乡人民政府" in body
    assert [c.code for c in response.context["children"]] == ["QH2002", "QH2003"]
    assert [d.code for d in response.context["departments"]] == ["GW", "QKY"]
    grades = dict(response.context["grades"])
    assert grades == {"无职称": 0, "初级": 0, "中级": 2, "副高": 0, "正高": 0}
    assert response.context["residents"] == 2


def test_institution_detail_unknown_is_404_out_of_scope_is_403(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "township_doctor")
    missing = client.get(reverse("web:org_detail", args=["NOPE999"]))
    assert missing.status_code == 404
    assert "页面不存在" in html(missing)
    hidden = client.get(reverse("web:org_detail", args=["QH1002"]))
    assert hidden.status_code == 403
    assert "河口乡卫生院" not in html(hidden)
    assert client.get(reverse("web:org_detail", args=["QH2001"])).status_code == 200


def staff_codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.code for p in response.context["page"]]


def test_staff_list_filters_and_scope(world) -> None:  # type: ignore[no-untyped-def]
    admin = client_for(world, "county_admin")
    everyone = admin.get(reverse("web:staff_list"))
    assert len(staff_codes(everyone)) == 6
    assert staff_codes(admin.get(reverse("web:staff_list"), {"q": "赵"})) == ["QH1001-0001"]
    assert staff_codes(admin.get(reverse("web:staff_list"), {"profession": "pharmacist"})) == [
        "QH0001-0002"
    ]
    assert staff_codes(
        admin.get(reverse("web:staff_list"), {"title_grade": "associate_senior"})
    ) == ["QH0001-0001"]
    assert sorted(staff_codes(admin.get(reverse("web:staff_list"), {"institution": "QH1002"}))) == [
        "QH1002-0001",
        "QH1002-0002",
    ]
    # An institution-only scope sees its own staff, not the descendants' or anyone else's.
    assert staff_codes(client_for(world, "family_doctor").get(reverse("web:staff_list"))) == [
        "QH2003-0001"
    ]
    # A subtree scope: 河口乡卫生院 and its village clinics.
    hekou = client_for(world, "institution_admin").get(reverse("web:staff_list"))
    assert sorted(staff_codes(hekou)) == ["QH1002-0001", "QH1002-0002", "QH2003-0001"]


# ---------------------------------------------------------------------------
# Residents
# ---------------------------------------------------------------------------


def test_resident_search_masks_every_field(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    for q in ("zdf", "zhangdefu", "张德", ZHANG_ID):
        response = client.get(reverse("web:resident_search"), {"q": q})
        assert response.status_code == 200
        body = html(response)
        assert [r["mpi_id"] for r in response.context["rows"]] == [zhang(world).mpi_id], q
        assert "439901********0033" in body
        assert "138****0001" in body
        assert "张*福" in body
        assert ZHANG_ID not in body
        assert ZHANG_PHONE not in body
        assert "张德福" not in body
        assert "桃源村" not in body  # address stops at the township


def test_resident_search_is_scoped(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "township_doctor").get(
        reverse("web:resident_search"), {"q": "zdf"}
    )
    assert response.context["rows"] == []
    partial = client_for(world, "county_admin").get(
        reverse("web:resident_search"), {"q": ZHANG_ID[:10]}
    )
    assert partial.context["rows"] == []


def test_township_doctor_is_denied_and_the_denial_is_audited(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "township_doctor").get(detail_url(world))
    assert response.status_code == 403
    body = html(response)
    assert "该居民不在您的数据范围内" in body
    assert "张德福" not in body and ZHANG_ID not in body
    assert 'id="break-glass"' not in body
    (event,) = events(AuditAction.DENIED)
    assert event.actor_username == "zhaom"
    assert event.subject_resident_id == zhang(world).pk
    assert event.detail == {"reason": "该居民不在您的数据范围内"}
    assert not events(AuditAction.READ)


def test_family_doctor_reads_with_contract_basis(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "family_doctor").get(detail_url(world))
    assert response.status_code == 200
    body = html(response)
    assert "张德福" in body
    assert "家庭医生签约" in body
    assert "439901********0033" in body and ZHANG_ID not in body
    assert "138****0001" in body and ZHANG_PHONE not in body
    assert response.context["chronic"] == ["高血压", "2型糖尿病"]
    assert response.context["members"] == [
        {"name": "李*英", "relation": "配偶", "sex": "女", "birth_year": 1953}
    ]
    (event,) = events(AuditAction.READ)
    assert event.actor_username == "wangys"
    assert event.basis == AccessBasis.FAMILY_DOCTOR
    assert event.resource_id == zhang(world).mpi_id
    assert event.subject_resident_id == zhang(world).pk


def test_county_admin_needs_a_purpose_to_break_glass(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "county_admin")
    url = detail_url(world)
    first = client.get(url)
    assert first.status_code == 403
    body = html(first)
    assert 'id="break-glass"' in body and "查阅事由" in body
    assert "张德福" not in body
    assert len(events(AuditAction.DENIED)) == 1
    # A missing purpose is refused with a message next to the field and nothing is read.
    empty = client.post(url, {"reason": "", "detail": ""})
    assert empty.status_code == 403
    assert "请选择查阅事由" in html(empty)
    other = client.post(url, {"reason": "其他", "detail": ""})
    assert "选择“其他”时必须填写说明" in html(other)
    assert not events(AuditAction.READ)
    posted = client.post(url, {"reason": "急诊抢救", "detail": "患者昏迷送急诊"})
    assert posted.status_code == 302
    assert posted["Location"] == url
    page = client.get(url)
    assert page.status_code == 200
    body = html(page)
    assert "张德福" in body and "紧急/事由查阅" in body and "急诊抢救：患者昏迷送急诊" in body
    (event,) = events(AuditAction.READ)
    assert event.actor_username == "admin"
    assert event.basis == AccessBasis.BREAK_GLASS
    assert event.purpose == "急诊抢救：患者昏迷送急诊"


def test_township_doctor_cannot_break_glass_out_of_scope(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "township_doctor")
    client.post(detail_url(world), {"reason": "急诊抢救", "detail": ""})
    response = client.get(detail_url(world))
    assert response.status_code == 403
    assert not events(AuditAction.READ)


def test_aggregate_role_cannot_open_a_record(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "pharmacist").get(detail_url(world))
    assert response.status_code == 403
    assert "去标识化" in html(response)
    assert not events(AuditAction.READ)


def test_unknown_resident_is_refused_like_out_of_scope(world) -> None:  # type: ignore[no-untyped-def]
    response = client_for(world, "county_admin").get(
        reverse("web:resident_detail", args=["R99999999999"])
    )
    assert response.status_code == 403
    assert "该居民不在您的数据范围内" in html(response)


def test_reveal_shows_full_value_and_is_audited(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "family_doctor")
    url = reverse("web:resident_reveal", args=[zhang(world).mpi_id])
    response = client.post(url, {"field": "id_number"})
    assert response.status_code == 200
    body = html(response)
    assert ZHANG_ID in body
    assert ZHANG_PHONE not in body
    (event,) = events(AuditAction.REVEAL)
    assert event.detail == {"field": "id_number"}
    assert event.basis == AccessBasis.FAMILY_DOCTOR
    assert event.actor_username == "wangys"
    bad = client.post(url, {"field": "name"})
    assert bad.status_code == 200
    assert len(events(AuditAction.REVEAL)) == 1
    assert client.get(url).status_code == 405


def test_reveal_refused_without_access(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "township_doctor")
    url = reverse("web:resident_reveal", args=[zhang(world).mpi_id])
    response = client.post(url, {"field": "id_number"})
    assert response.status_code == 403
    assert ZHANG_ID not in html(response)
    assert not events(AuditAction.REVEAL)


def make_duplicate(world) -> DuplicateCandidate:  # type: ignore[no-untyped-def]
    first17 = "43990119510315005"
    twin = do_register_resident(
        None,
        ResidentInput(
            name="张德福",
            id_number=first17 + check_digit(first17),
            division_code=world.villages["桃源村"].code,
            relation_to_head=Relation.HEAD,
            insurance_number="43990119510315005",
        ),
        today=AS_OF,
    )
    return DuplicateCandidate.objects.get(resident_b=twin)


def test_duplicate_queue_shows_masked_pairs(world) -> None:  # type: ignore[no-untyped-def]
    candidate = make_duplicate(world)
    response = client_for(world, "county_admin").get(reverse("web:duplicates"))
    body = html(response)
    assert f'id="pair-{candidate.pk}"' in body
    assert "张*福" in body and "张德福" not in body
    assert ZHANG_ID not in body
    assert (
        client_for(world, "county_admin").get(reverse("web:home")).context["duplicate_count"] == 1
    )


def test_duplicate_merge_keep_b(world) -> None:  # type: ignore[no-untyped-def]
    candidate = make_duplicate(world)
    client = client_for(world, "county_admin")
    response = client.post(
        reverse("web:duplicate_decide", args=[candidate.pk]),
        {"decision": "keep_b", "note": "经电话核实为同一人"},
        follow=True,
    )
    assert response.status_code == 200
    assert f"已合并，保留主索引号 {candidate.resident_b.mpi_id}" in html(response)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.MERGED
    assert candidate.note == "经电话核实为同一人"
    retired = Resident.objects.get(pk=candidate.resident_a_id)
    assert retired.merged_into_id == candidate.resident_b_id
    (event,) = events(AuditAction.MERGE)
    assert event.purpose == "经电话核实为同一人"
    # Deciding again is refused with a Chinese message and changes nothing.
    again = client.post(
        reverse("web:duplicate_decide", args=[candidate.pk]), {"decision": "apart"}, follow=True
    )
    assert again.status_code == 404
    assert len(events(AuditAction.MERGE)) == 1


def test_duplicate_keep_apart(world) -> None:  # type: ignore[no-untyped-def]
    candidate = make_duplicate(world)
    response = client_for(world, "institution_admin").post(
        reverse("web:duplicate_decide", args=[candidate.pk]),
        {"decision": "apart", "note": "不同人"},
        follow=True,
    )
    assert "不是同一人" in html(response)
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.KEPT_APART
    assert Resident.objects.filter(merged_into__isnull=False).count() == 0


def test_duplicate_decision_refused_for_doctor_changes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    candidate = make_duplicate(world)
    response = client_for(world, "hekou_doctor").post(
        reverse("web:duplicate_decide", args=[candidate.pk]), {"decision": "keep_a"}
    )
    assert response.status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.OPEN
    assert Resident.objects.filter(merged_into__isnull=False).count() == 0
    assert not events(AuditAction.MERGE)


def test_duplicate_out_of_scope_is_404(world) -> None:  # type: ignore[no-untyped-def]
    candidate = make_duplicate(world)
    # 河口乡卫生院's admin sees 桃源村; a 城关镇 admin does not: the pair is not found for them.
    from yigongti.accounts.services import do_create_user

    cg_admin = do_create_user(
        username="cg_admin",
        password=DEMO_PASSWORD,
        display_name="城关镇卫生院管理员",
        institution=world.institutions["thc_chengguan"],
        roles=["institution_admin"],
        scope_kind="subtree",
        validate=False,
    )
    client = Client()
    client.force_login(cg_admin)
    response = client.post(
        reverse("web:duplicate_decide", args=[candidate.pk]), {"decision": "keep_a"}
    )
    assert response.status_code == 404
    candidate.refresh_from_db()
    assert candidate.status == DuplicateStatus.OPEN


# ---------------------------------------------------------------------------
# Audit log
# ---------------------------------------------------------------------------


def test_audit_log_filters_and_chain_check(world) -> None:  # type: ignore[no-untyped-def]
    client_for(world, "family_doctor").get(detail_url(world))
    client_for(world, "township_doctor").get(detail_url(world))
    auditor = client_for(world, "auditor")
    url = reverse("web:audit_log")
    by_mpi = auditor.get(url, {"mpi_id": zhang(world).mpi_id, "action": "read"})
    assert [(e.actor_username, e.basis) for e in by_mpi.context["page"]] == [
        ("wangys", AccessBasis.FAMILY_DOCTOR)
    ]
    assert "家庭医生签约" in html(by_mpi)
    by_user = auditor.get(url, {"username": "zhaom"})
    assert [e.action for e in by_user.context["page"]] == [AuditAction.DENIED]
    unknown = auditor.get(url, {"mpi_id": "R00000000000"})
    assert list(unknown.context["page"]) == []
    bad_dates = auditor.get(url, {"date_from": "2025-12-31", "date_to": "2025-01-01"})
    assert "结束日期不能早于开始日期" in html(bad_dates)
    today = clock.today().isoformat()  # the page filters by the local (Asia/Shanghai) date
    dated = auditor.get(url, {"date_from": today, "date_to": today})
    assert dated.context["page"].paginator.count == AuditEvent.objects.count()
    checked = auditor.get(url, {"verify": "1"})
    body = html(checked)
    assert f"哈希链校验通过：共校验 {AuditEvent.objects.count()} 条" in body


def test_audit_log_is_paginated_with_filters_kept(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world, "township_doctor")
    for _ in range(25):
        client.get(detail_url(world))
    response = client_for(world, "auditor").get(reverse("web:audit_log"), {"action": "denied"})
    page = response.context["page"]
    assert page.paginator.count == 25
    assert len(page.object_list) == 20
    assert "?action=denied&amp;page=2" in html(response)
    second = client_for(world, "auditor").get(
        reverse("web:audit_log"), {"action": "denied", "page": "2"}
    )
    assert len(second.context["page"].object_list) == 5


def test_audit_log_refused_for_county_admin_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    before = AuditEvent.objects.count()
    response = client_for(world, "county_admin").get(reverse("web:audit_log"), {"verify": "1"})
    assert response.status_code == 403
    assert "只有审计员可以查看审计日志" in html(response)
    assert AuditEvent.objects.count() == before


def test_favicon(client: Client) -> None:
    """Every page names the icon; /favicon.ico (asked for by printouts) redirects to it."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url.endswith("web/favicon.svg")
    login = client.get("/login/").content.decode()
    assert 'rel="icon" href="/static/web/favicon.svg"' in login
