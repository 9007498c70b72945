"""Scenario-level guarantees: byte-for-byte determinism, the command line."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from yigongti.accounts.models import User
from yigongti.core.models import AuditEvent
from yigongti.residents.models import Resident
from yigongti.synth.scenarios import generate


class Rollback(Exception):
    pass


def dump() -> tuple[list[tuple], ...]:  # type: ignore[type-arg]
    return (
        list(User.objects.order_by("username").values_list("username", "password", "date_joined")),
        list(Resident.objects.order_by("mpi_id").values_list("mpi_id", "id_number", "created_at")),
        list(AuditEvent.objects.order_by("seq").values_list("seq", "occurred_at", "hash")),
    )


def reset_sequences() -> None:
    """A fresh database starts its id sequences at 1; PostgreSQL does not roll them back."""
    if connection.vendor != "postgresql":
        return  # SQLite's sqlite_sequence rolls back with the transaction
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


def generate_and_dump(seed: int) -> tuple[list[tuple], ...]:  # type: ignore[type-arg]
    result: tuple[list[tuple], ...] = ()  # type: ignore[type-arg]
    reset_sequences()
    try:
        with transaction.atomic():
            generate("tiny", seed)
            result = dump()
            raise Rollback
    except Rollback:
        pass
    return result


@pytest.mark.django_db
def test_tiny_is_identical_byte_for_byte_including_hashes_and_times() -> None:
    first = generate_and_dump(7)
    second = generate_and_dump(7)
    assert first == second
    users, residents, audits = first
    assert len(users) == 11 and len(residents) == 3 and len(audits) == 3
    assert all(
        password.startswith("argon2$") or password.startswith("md5$") for _, password, _ in users
    )
    assert {str(created) for _, _, created in residents} == {"2025-12-31 08:00:00+00:00"}


@pytest.mark.django_db
def test_seed_changes_the_password_salts() -> None:
    assert generate_and_dump(7)[0] != generate_and_dump(8)[0]


@pytest.mark.django_db
def test_generate_command_refuses_a_second_run_and_skips_with_if_empty() -> None:
    call_command("generate", "--scenario", "tiny", "--seed", "1", stdout=io.StringIO())
    with pytest.raises(CommandError, match="数据库中已有机构数据"):
        call_command("generate", "--scenario", "tiny", stdout=io.StringIO())
    out = io.StringIO()
    call_command("generate", "--scenario", "tiny", "--if-empty", stdout=out)
    assert "跳过" in out.getvalue()
