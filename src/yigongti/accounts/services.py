"""Writers of users, roles, tokens and login failures."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from yigongti.accounts import rules
from yigongti.accounts.choices import Role, ScopeKind
from yigongti.accounts.models import ApiToken, LoginFailure, RoleAssignment, User
from yigongti.core import clock
from yigongti.core.errors import DomainError
from yigongti.geo.models import Division
from yigongti.organizations.models import Institution, Medcom
from yigongti.staff.models import Practitioner


def do_create_user(
    *,
    username: str,
    password: str,
    display_name: str,
    institution: Institution | None,
    roles: list[str],
    scope_kind: str = ScopeKind.INSTITUTION,
    scope_medcom: Medcom | None = None,
    scope_division: Division | None = None,
    practitioner: Practitioner | None = None,
    management_unit: str = "",
    validate: bool = True,
    salt: str | None = None,
) -> User:
    """Create a user with roles and a scope.

    ``salt`` is only for the generator's demo accounts (deterministic output); real users get
    a random salt from the hasher.
    """
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username=username).exists():
        errors["username"] = [f"用户名 {username} 已存在"]
    unknown = [r for r in roles if r not in Role.values]
    if unknown or not roles:
        errors["roles"] = [f"未知角色：{'、'.join(unknown)}" if unknown else "至少需要一个角色"]
    if Role.CENTRE_STAFF in roles and not management_unit:
        errors.setdefault("management_unit", []).append("管理中心工作人员必须指定所在部门")
    if scope_kind == ScopeKind.REGION and scope_division is None:
        errors["scope_division"] = ["区域范围必须指定区划"]
    if scope_kind in (ScopeKind.INSTITUTION, ScopeKind.SUBTREE) and institution is None:
        errors["institution"] = ["机构范围的用户必须指定所在机构"]
    if validate and not errors:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        user = User(
            username=username,
            display_name=display_name,
            institution=institution,
            practitioner=practitioner,
            scope_kind=scope_kind,
            scope_medcom=scope_medcom,
            scope_division=scope_division,
            date_joined=clock.now(),
        )
        user.password = make_password(password, salt=salt)
        user.save()
        RoleAssignment.objects.bulk_create(
            RoleAssignment(
                user=user,
                role=role,
                management_unit=management_unit if role == Role.CENTRE_STAFF else "",
            )
            for role in roles
        )
    return user


def check_login_allowed(username: str, now: dt.datetime | None = None) -> None:
    """Refuse (DomainError) while the account is locked after repeated failures."""
    now = now or clock.now()
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    times = list(
        LoginFailure.objects.filter(
            username=username, occurred_at__gt=now - dt.timedelta(minutes=minutes)
        ).values_list("occurred_at", flat=True)
    )
    if rules.is_locked_out(times, now, settings.LOGIN_FAILURE_LIMIT, minutes):
        raise DomainError(
            f"登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试", field="username"
        )


def do_record_login_failure(username: str, client_ip: str, now: dt.datetime | None = None) -> None:
    LoginFailure.objects.create(
        username=username[:150], client_ip=client_ip, occurred_at=now or clock.now()
    )


def do_clear_login_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username).delete()


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def do_issue_token(user: User, name: str, role: str) -> str:
    """Create a bearer token for a machine client; the raw key is shown once."""
    if not user.role_assignments.filter(role=role).exists():
        raise DomainError(f"用户没有角色“{role}”，不能以该角色签发令牌", field="role")
    raw = "ygt_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, name=name, prefix=raw[:8], key_hash=_hash_token(raw), role=role
    )
    return raw


def authenticate_token(raw: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user", "user__institution")
        .filter(key_hash=_hash_token(raw), revoked=False, user__is_active=True)
        .first()
    )
    if token is not None:
        token.last_used_at = clock.now()
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at)
    return token
