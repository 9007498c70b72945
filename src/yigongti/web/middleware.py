"""Attach the acting user (``request.actor``) to every authenticated web request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from yigongti.accounts.queries import get_actor

ACTIVE_ROLE_KEY = "active_role"


class ActorMiddleware:
    """``request.actor``: the user in the role stored in the session (their first role if none)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        actor = None
        if user is not None and user.is_authenticated:
            role = request.session.get(ACTIVE_ROLE_KEY)
            actor = get_actor(
                user,
                role,
                client_ip=request.META.get("REMOTE_ADDR", "") or "",
                channel="web",
            )
        request.actor = actor  # type: ignore[attr-defined]
        return self.get_response(request)
