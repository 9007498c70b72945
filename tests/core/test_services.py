"""The audit log: append-only guards, chain verification against the database, parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.models import AppendOnlyError, AuditEvent, PolicyParameter
from yigongti.core.queries import (
    get_parameter,
    list_audit_events,
    parameter_resolver,
    verify_audit_chain,
)
from yigongti.core.services import (
    AuditContext,
    do_load_default_parameters,
    do_record_audit,
    do_refresh_planner_statistics,
)

CTX = AuditContext(user_id=None, username="tester", role="auditor", institution_code="QH0001")


def record(n: int) -> list[AuditEvent]:
    return [
        do_record_audit(
            CTX,
            action=AuditAction.READ,
            resource_type="resident",
            resource_id=f"R{i}",
            subject_resident_id=i,
            basis=AccessBasis.BREAK_GLASS,
            purpose="测试",
            detail={"i": i},
            at=dt.datetime(2025, 1, 1, 0, 0, i, tzinfo=dt.UTC),
        )
        for i in range(1, n + 1)
    ]


@pytest.mark.django_db
class TestAuditLog:
    def test_events_are_chained(self) -> None:
        events = record(3)
        assert [e.seq for e in events] == [1, 2, 3]
        assert events[0].prev_hash == "0" * 64
        assert events[1].prev_hash == events[0].hash
        assert verify_audit_chain().ok and verify_audit_chain().checked == 3

    def test_model_refuses_update_and_delete(self) -> None:
        event = record(1)[0]
        event.purpose = "改"
        with pytest.raises(AppendOnlyError, match="只能追加"):
            event.save()
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(purpose="改")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()
        assert AuditEvent.objects.get().purpose == "测试"

    def test_tampering_in_the_database_is_detected(self) -> None:
        record(4)
        if connection.vendor == "postgresql":
            # The trigger refuses the update outright.
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
                cur.execute("UPDATE core_auditevent SET purpose = 'x' WHERE seq = 2")
            assert verify_audit_chain().ok
            return
        with connection.cursor() as cur:
            cur.execute("UPDATE core_auditevent SET purpose = '改过的事由' WHERE seq = 2")
        verdict = verify_audit_chain()
        assert (verdict.ok, verdict.first_bad_seq, verdict.checked) == (False, 2, 1)

    def test_filters(self) -> None:
        record(3)
        do_record_audit(
            AuditContext(user_id=None, username="other"),
            action=AuditAction.DENIED,
            resource_type="resident",
            subject_resident_id=2,
        )
        assert list_audit_events(username="other").count() == 1
        assert list_audit_events(action=AuditAction.READ).count() == 3
        assert list_audit_events(resident_id=2).count() == 2
        assert list_audit_events(date_from=dt.date(2025, 1, 2)).count() == 1


@pytest.mark.django_db
class TestParameters:
    def test_defaults_load_once(self) -> None:
        first = do_load_default_parameters()
        assert first == PolicyParameter.objects.count() > 0
        assert do_load_default_parameters() == 0

    def test_database_version_overrides_default_for_its_region_and_date(self) -> None:
        assert get_parameter("audit.retention_days", dt.date(2025, 1, 1), "439901") == 184
        PolicyParameter.objects.create(
            key="audit.retention_days",
            region_code="4399",
            effective_from=dt.date(2025, 6, 1),
            value=365,
            source="青禾市卫健委规定（测试）",
        )
        assert get_parameter("audit.retention_days", dt.date(2025, 5, 31), "439901") == 184
        assert get_parameter("audit.retention_days", dt.date(2025, 6, 1), "439901") == 365
        assert get_parameter("audit.retention_days", dt.date(2025, 6, 1), "110105") == 184

    def test_resolver_reads_the_versions_once_and_resolves_each_date(
        self, django_assert_num_queries: Any
    ) -> None:
        PolicyParameter.objects.create(
            key="access.treating_days_after_encounter",
            effective_from=dt.date(2025, 7, 1),
            value=180,
            source="测试：县级调整为180天",
        )
        with django_assert_num_queries(1):
            days = parameter_resolver("access.treating_days_after_encounter")
            assert [
                days(dt.date(2025, 6, 30)),
                days(dt.date(2025, 7, 1)),
                days(dt.date(2026, 1, 1)),
            ] == [
                365,
                180,
                180,
            ]
            assert days(dt.date(2025, 6, 30)) == 365  # remembered: no second query
        with pytest.raises(KeyError, match="没有生效的取值"):
            parameter_resolver("no.such")(dt.date(2025, 1, 1))

    def test_unknown_parameter(self) -> None:
        with pytest.raises(KeyError, match="没有生效的取值"):
            get_parameter("no.such", dt.date(2025, 1, 1))


def test_frozen_clock() -> None:
    from yigongti.core import clock

    at = dt.datetime(2025, 12, 31, 8, 0, tzinfo=dt.UTC)
    with clock.frozen(at):
        assert clock.now() == at
        assert clock.today() == dt.date(2025, 12, 31)
    assert clock.now() != at
    with pytest.raises(ValueError, match="aware"):
        with clock.frozen(dt.datetime(2025, 1, 1)):
            pass


@pytest.mark.django_db
def test_planner_statistics_see_the_transactions_own_rows() -> None:
    """Rows bulk-written inside the (test) transaction are invisible to autovacuum; after
    ``do_refresh_planner_statistics`` PostgreSQL's estimate counts them (before, the planner
    could take a 1,000-row table for empty). On SQLite it does nothing and raises nothing."""
    PolicyParameter.objects.bulk_create(
        PolicyParameter(
            key=f"bench.k{i}", effective_from=dt.date(2025, 1, 1), value=i, source="test"
        )
        for i in range(1000)
    )
    do_refresh_planner_statistics()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = %s", [PolicyParameter._meta.db_table]
        )
        assert cursor.fetchone()[0] == PolicyParameter.objects.count() == 1000
