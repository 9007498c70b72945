"""The interactive API docs load their JavaScript from our static files, never a CDN."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_swagger_ui_is_served_locally(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users["county_admin"])
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "cdn.jsdelivr" not in body and "unpkg" not in body
    assert "/static/ninja/swagger-ui-bundle.js" in body
