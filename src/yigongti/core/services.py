"""Writers of the kernel tables: audit events and policy parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from yigongti.core import clock, rules
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.models import AuditChainHead, AuditEvent, PolicyParameter


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, in which role and institution, and from where."""

    user_id: int | None
    username: str
    role: str = ""
    institution_code: str = ""
    client_ip: str = ""
    channel: str = "web"

    @classmethod
    def system(cls, name: str = "system") -> AuditContext:
        return cls(user_id=None, username=name, role="system", channel="cli")


def do_record_audit(
    ctx: AuditContext,
    *,
    action: AuditAction | str,
    resource_type: str,
    resource_id: str | int = "",
    subject_resident_id: int | None = None,
    basis: AccessBasis | str = AccessBasis.NONE,
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event to the hash chain. The caller's transaction owns the commit.

    The chain head row is locked (``select_for_update``) so that concurrent writers extend the
    chain one after another; on SQLite the IMMEDIATE transaction serialises writers already.
    """
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        fields: dict[str, Any] = {
            "seq": head.last_seq + 1,
            "occurred_at": at or clock.now(),
            "actor_username": ctx.username,
            "actor_role": ctx.role,
            "actor_institution_code": ctx.institution_code,
            "action": str(action),
            "resource_type": resource_type,
            "resource_id": str(resource_id),
            "subject_resident_id": subject_resident_id,
            "basis": str(basis),
            "purpose": purpose[:200],
            "detail": detail or {},
            "client_ip": ctx.client_ip,
            "channel": ctx.channel,
        }
        digest = rules.audit_hash(head.last_hash, fields)
        event = AuditEvent.objects.create(
            actor_id=ctx.user_id, prev_hash=head.last_hash, hash=digest, **fields
        )
        AuditChainHead.objects.filter(id=1).update(last_seq=fields["seq"], last_hash=digest)
    return event


def do_load_default_parameters() -> int:
    """Insert the shipped default policy parameters that are not there yet; returns how many."""
    created = 0
    for version in rules.DEFAULT_PARAMETERS:
        _, was_created = PolicyParameter.objects.get_or_create(
            key=version.key,
            region_code=version.region_code,
            effective_from=version.effective_from,
            defaults={
                "effective_to": version.effective_to,
                "value": version.value,
                "source": version.source,
            },
        )
        created += int(was_created)
    return created


def do_refresh_planner_statistics() -> None:
    """After a bulk load inside one transaction (the generator writes a whole county in one):
    PostgreSQL's autovacuum cannot see uncommitted rows, so until the commit the planner takes
    the new tables for empty and may pick a nested loop over millions of rows (seen in CI: one
    semi-join of encounters ran for minutes). ``ANALYZE`` run in the transaction samples its
    own rows. SQLite plans without table statistics by default: nothing to do there."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
