from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.test import override_settings

from yigongti.accounts.choices import Role, ScopeKind
from yigongti.accounts.models import ApiToken, LoginFailure, User
from yigongti.accounts.queries import get_actor
from yigongti.accounts.services import (
    authenticate_token,
    check_login_allowed,
    do_clear_login_failures,
    do_create_user,
    do_issue_token,
    do_record_login_failure,
)
from yigongti.core.errors import DomainError

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
class TestUsers:
    def test_refusals_are_collected(self, world) -> None:
        count = User.objects.count()
        with pytest.raises(DomainError) as exc:
            do_create_user(
                username="admin",
                password="123",
                display_name="x",
                institution=None,
                roles=["nope"],
                scope_kind=ScopeKind.SUBTREE,
            )
        assert exc.value.field_errors == {
            "username": ["用户名 admin 已存在"],
            "roles": ["未知角色：nope"],
            "institution": ["机构范围的用户必须指定所在机构"],
        }
        assert User.objects.count() == count

    def test_weak_password_refused_in_chinese(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_create_user(
                username="newdoc",
                password="12345678",
                display_name="新医生",
                institution=world.institutions["thc_hekou"],
                roles=[Role.DOCTOR],
            )
        assert "password" in exc.value.field_errors
        assert any("密码" in m for m in exc.value.field_errors["password"])

    def test_centre_staff_needs_unit(self, world) -> None:
        with pytest.raises(DomainError) as exc:
            do_create_user(
                username="c2",
                password="Qh-strong-pass-1",
                display_name="x",
                institution=world.lead_hospital,
                roles=[Role.CENTRE_STAFF],
                scope_kind=ScopeKind.MEDCOM,
            )
        assert exc.value.field_errors == {"management_unit": ["管理中心工作人员必须指定所在部门"]}

    def test_argon2_is_the_production_hasher(self) -> None:
        encoded = make_password("Yigongti@2025", hasher=Argon2PasswordHasher())
        assert encoded.startswith("argon2$argon2id$")
        from django.conf import settings

        assert "Argon2PasswordHasher" in " ".join(settings.PASSWORD_HASHERS)

    def test_actor_role_falls_back_to_first_role(self, world) -> None:
        user = world.users["family_doctor"]
        assert get_actor(user).role == Role.FAMILY_DOCTOR
        assert get_actor(user, Role.VILLAGE_DOCTOR).role == Role.VILLAGE_DOCTOR
        assert get_actor(user, Role.COUNTY_ADMIN).role == Role.FAMILY_DOCTOR

    def test_scopes_of_personas(self, world) -> None:
        admin = get_actor(world.users["county_admin"]).scope
        assert admin.institution_paths == ("QH0001/",) and admin.division_prefixes == ("439901",)
        zhao = get_actor(world.users["township_doctor"]).scope
        assert zhao.institution_paths == ("QH0001/QH1001/",) and zhao.division_prefixes == (
            "439901001",
        )
        wang = get_actor(world.users["family_doctor"]).scope
        assert wang.exact and wang.division_prefixes == ("439901002002",)


@pytest.mark.django_db
class TestThrottling:
    @override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_MINUTES=15)
    def test_lockout_after_limit_and_release(self) -> None:
        for minutes in (3, 2, 1):
            do_record_login_failure("wangys", "127.0.0.1", NOW - dt.timedelta(minutes=minutes))
        with pytest.raises(DomainError) as exc:
            check_login_allowed("wangys", NOW)
        assert exc.value.field_errors == {
            "username": ["登录失败次数过多，账号已临时锁定，请 15 分钟后再试"]
        }
        check_login_allowed("other", NOW)
        check_login_allowed("wangys", NOW + dt.timedelta(minutes=15))
        do_clear_login_failures("wangys")
        assert LoginFailure.objects.count() == 0
        check_login_allowed("wangys", NOW)


@pytest.mark.django_db
class TestTokens:
    def test_issue_and_authenticate(self, world) -> None:
        raw = do_issue_token(world.users["county_admin"], "对接", Role.COUNTY_ADMIN)
        assert raw.startswith("ygt_")
        token = authenticate_token(raw)
        assert token is not None and token.user == world.users["county_admin"]
        assert token.last_used_at is not None
        stored = ApiToken.objects.get()
        assert stored.key_hash != raw and raw not in stored.key_hash
        assert authenticate_token(raw + "x") is None
        ApiToken.objects.update(revoked=True)
        assert authenticate_token(raw) is None

    def test_token_only_for_held_role(self, world) -> None:
        with pytest.raises(DomainError, match="不能以该角色签发令牌"):
            do_issue_token(world.users["family_doctor"], "x", Role.COUNTY_ADMIN)
        assert ApiToken.objects.count() == 0
