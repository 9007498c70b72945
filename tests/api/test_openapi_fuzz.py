"""Fuzz the API from its own OpenAPI document (schemathesis): no 5xx, answers as documented.

Requests go to the Django WSGI application in-process. The application runs outside
the test's transaction (Django closes the connection at the end of each request), so these
tests use ``transactional_db``; the persona county is rebuilt for each operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from yigongti.config.api import api

# The document the app serves at /api/v1/openapi.json (the endpoint itself is tested in
# test_api.py; loading it over WSGI here would need the database at collection time).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_headers(transactional_db, token_for):  # type: ignore[no-untyped-def]
    """A bearer token for the county administrator (whole medcom, may register residents)."""
    return {"Authorization": f"Bearer {token_for('county_admin')}"}


def test_schema_lists_every_operation() -> None:
    operations = {
        (op.method.upper(), op.path)
        for result in schema.get_all_operations()
        for op in [result.ok()]
    }
    assert operations == {
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/institutions"),
        ("GET", "/api/v1/institutions/{code}"),
        ("GET", "/api/v1/staff"),
        ("GET", "/api/v1/residents"),
        ("POST", "/api/v1/residents"),
        ("GET", "/api/v1/residents/{mpi_id}"),
        ("POST", "/api/v1/residents/{mpi_id}/reveal"),
        ("GET", "/api/v1/scheduling/schedules"),
        ("POST", "/api/v1/scheduling/schedules"),
        ("POST", "/api/v1/scheduling/schedules/{schedule_id}/cancel"),
        ("POST", "/api/v1/scheduling/schedules/{schedule_id}/bookings"),
        ("GET", "/api/v1/scheduling/bookings"),
        ("POST", "/api/v1/scheduling/bookings/{booking_id}/cancel"),
        ("POST", "/api/v1/scheduling/bookings/{booking_id}/attend"),
        ("POST", "/api/v1/scheduling/bookings/{booking_id}/no-show"),
        ("GET", "/api/v1/referrals"),
        ("POST", "/api/v1/referrals"),
        ("GET", "/api/v1/referrals/{referral_id}"),
        ("POST", "/api/v1/referrals/{referral_id}/{action}"),
    }


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_fuzz(case, admin_headers):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=admin_headers, checks=CHECKS)
