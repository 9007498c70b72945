"""Template context shared by every page: platform name, the acting user's role and institution."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

PLATFORM_NAME = "医共体一体化管理平台"


def platform(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    return {"platform_name": PLATFORM_NAME, "actor": actor}
