"""Authentication for the JSON API and ``GET /me``.

Two ways in, tried in order: a bearer token (machine clients; acts in the token's role) and
the browser's Django session (acts in the role chosen on the pages, with CSRF on unsafe
methods). Either way the request carries an ``Actor`` on the ``api`` channel.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from yigongti.accounts.choices import Role, ScopeKind
from yigongti.accounts.queries import Actor, get_actor, list_roles
from yigongti.accounts.schemas import MeOut
from yigongti.accounts.services import authenticate_token
from yigongti.core.api import COMMON_ERRORS, client_ip
from yigongti.core.errors import AccessDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ACTIVE_ROLE_SESSION_KEY = "active_role"


class TokenAuth(HttpBearer):
    """``Authorization: Bearer ygt_…``: an unrevoked token of an active user, in its role."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        if not token or len(token) > 200:
            return None
        api_token = authenticate_token(token)
        if api_token is None:
            return None
        return get_actor(
            api_token.user, api_token.role, client_ip=client_ip(request), channel="api"
        )


class SessionAuth(APIKeyCookie):
    """The browser's logged-in session; unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, only once a session user is found

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise AccessDenied("CSRF 校验失败：请刷新页面后重试")
        role = request.session.get(ACTIVE_ROLE_SESSION_KEY)
        return get_actor(user, role, client_ip=client_ip(request), channel="api")


AUTH = [TokenAuth(), SessionAuth()]

router = Router(tags=["账号"])


def current_actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


def _label(role: str) -> dict[str, str]:
    return {"code": role, "label": Role(role).label if role in Role.values else role}


def _scope(actor: Actor) -> dict[str, str]:
    user = actor.user
    kind = user.scope_kind
    inst = user.institution
    if kind == ScopeKind.MEDCOM:
        medcom = user.scope_medcom or (inst.medcom if inst else None)
        anchor = medcom.name if medcom else "未指定"
    elif kind == ScopeKind.REGION:
        anchor = user.scope_division.name if user.scope_division else "未指定"
    else:
        anchor = inst.name if inst else "未指定"
    label = ScopeKind(kind).label if kind in ScopeKind.values else kind
    return {"kind": kind, "kind_label": label, "description": f"{label}：{anchor}"}


@router.get("/me", response={200: MeOut, **COMMON_ERRORS}, summary="当前用户")
def me(request: HttpRequest) -> dict[str, Any]:
    """The acting user: institution, roles, the role in force and the data scope."""
    actor = current_actor(request)
    user = actor.user
    inst = user.institution
    return {
        "username": user.username,
        "display_name": user.display_name,
        "institution": {"code": inst.code, "name": inst.name} if inst else None,
        "roles": [_label(r) for r in list_roles(user)],
        "active_role": _label(actor.role),
        "scope": _scope(actor),
    }
