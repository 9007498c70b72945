"""Check-then-act races, proved on PostgreSQL with real concurrent transactions.

SQLite serialises writers (IMMEDIATE transactions), so these run on PostgreSQL only; the test
command fails if this group ran zero tests in its PostgreSQL pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from yigongti.core.choices import AuditAction
from yigongti.core.errors import DomainError
from yigongti.core.models import AuditEvent
from yigongti.core.queries import verify_audit_chain
from yigongti.core.services import AuditContext, do_record_audit
from yigongti.residents.choices import DuplicateStatus, IdType
from yigongti.residents.models import DuplicateCandidate, Resident
from yigongti.residents.rules import check_digit
from yigongti.residents.services import ResidentInput, do_merge_duplicate, do_register_resident

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def pg_world(transactional_db):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("并发测试只在 PostgreSQL 上运行 (PostgreSQL only)")
    from yigongti.synth.personas import build_personas

    return build_personas()


def test_concurrency_same_identity_number_registers_once(pg_world) -> None:
    first17 = "43990119800808001"
    before = Resident.objects.count()

    def register(i: int) -> Resident:
        return do_register_resident(
            None,
            ResidentInput(
                name=f"并发{'甲乙丙丁戊己'[i]}",
                id_number=first17 + check_digit(first17),
                division_code="439901002001",
                insurance_number=f"C{i}",
            ),
        )

    results = run_concurrently(6, register)
    created = [r for r in results if isinstance(r, Resident)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(created) == 1, results
    assert len(refused) == 5, results
    assert all(
        e.field_errors == {"id_number": ["该证件号码已建档，一个证件只能对应一名居民"]}
        for e in refused
    )
    assert Resident.objects.count() == before + 1


def test_concurrency_distinct_registrations_get_distinct_mpi_ids(pg_world) -> None:
    def register(i: int) -> Resident:
        first17 = f"439901198001010{i:02d}"
        return do_register_resident(
            None,
            ResidentInput(
                name=f"并发{'甲乙丙丁戊己'[i]}",
                id_number=first17 + check_digit(first17),
                division_code="439901002001",
                insurance_number=f"D{i}",
            ),
        )

    results = run_concurrently(6, register)
    assert all(isinstance(r, Resident) for r in results), results
    assert len({r.mpi_id for r in results}) == 6


def test_concurrency_audit_chain_stays_contiguous(pg_world) -> None:
    before = AuditEvent.objects.count()

    def append(i: int) -> list[int]:
        ctx = AuditContext(user_id=None, username=f"t{i}")
        return [
            do_record_audit(
                ctx, action=AuditAction.READ, resource_type="resident", resource_id=str(j)
            ).seq
            for j in range(10)
        ]

    results = run_concurrently(8, append)
    assert all(isinstance(r, list) for r in results), results
    seqs = sorted(s for r in results for s in r)
    assert seqs == list(range(before + 1, before + 81))
    verdict = verify_audit_chain()
    assert verdict.ok, verdict.reason
    assert verdict.checked == before + 80


def test_concurrency_duplicate_decided_once(pg_world) -> None:
    from yigongti.accounts.queries import get_actor

    twin = do_register_resident(
        None,
        ResidentInput(
            name="张德福",
            id_type=IdType.OTHER,
            id_number="TEMP-0002",
            sex="M",
            birth_date=pg_world.residents["elderly_patient"].birth_date,
            division_code="439901002002",
            insurance_number="T2",
        ),
    )
    candidate = DuplicateCandidate.objects.get()
    actor = get_actor(pg_world.users["county_admin"])

    def merge(i: int) -> int:
        fresh = DuplicateCandidate.objects.get(pk=candidate.pk)
        survivor = candidate.resident_a_id if i % 2 == 0 else candidate.resident_b_id
        return do_merge_duplicate(actor, fresh, survivor).pk

    results = run_concurrently(4, merge)
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, DomainError) for r in results if not isinstance(r, int))
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.MERGED
    retired = Resident.objects.filter(merged_into__isnull=False)
    assert retired.count() == 1
    assert {retired.get().pk, winners[0]} == {twin.pk, pg_world.residents["elderly_patient"].pk}
