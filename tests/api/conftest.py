"""Helpers for API tests: bearer tokens for personas and a JSON client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

API = "/api/v1"


class ApiClient:
    """Calls the API as one persona with a bearer token (or anonymously)."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            API + path, body, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def token_for(world):  # type: ignore[no-untyped-def]
    """``token_for("township_doctor")`` → a raw bearer token in that persona's first role."""
    from yigongti.accounts.queries import list_roles
    from yigongti.accounts.services import do_issue_token

    def make(key: str, role: str | None = None) -> str:
        user = world.users[key]
        return do_issue_token(user, "测试", role or list_roles(user)[0])

    return make


@pytest.fixture
def api_as(token_for):  # type: ignore[no-untyped-def]
    """``api_as("family_doctor")`` → an ApiClient acting as that persona."""

    def make(key: str, role: str | None = None) -> ApiClient:
        return ApiClient(token_for(key, role))

    return make
