"""Readers of the kernel tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q, QuerySet

from yigongti.core import rules
from yigongti.core.models import AuditEvent, PolicyParameter


def list_audit_events(
    *,
    username: str = "",
    action: str = "",
    resident_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all().order_by("-seq")
    if username:
        qs = qs.filter(actor_username__icontains=username)
    if action:
        qs = qs.filter(action=action)
    if resident_id is not None:
        qs = qs.filter(subject_resident_id=resident_id)
    if date_from:
        qs = qs.filter(occurred_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(occurred_at__date__lte=date_to)
    return qs


def verify_audit_chain(batch_size: int = 5000) -> rules.ChainVerdict:
    """Re-hash the whole chain from the database in ascending order, streaming in batches."""
    fields = ["seq", "prev_hash", "hash", *rules.AUDIT_HASH_FIELDS]

    def stream() -> Any:
        yield from (
            AuditEvent.objects.order_by("seq").values(*fields).iterator(chunk_size=batch_size)
        )

    return rules.verify_chain(stream())


def get_parameter(key: str, on: dt.date, region_code: str = "") -> Any:
    """The value of policy parameter ``key`` in force on ``on`` for ``region_code``.

    Rows in the database win; the shipped defaults (each with its source) are the fallback.
    """
    return parameter_resolver(key, region_code)(on)


def parameter_resolver(key: str, region_code: str = "") -> Callable[[dt.date], Any]:
    """``on → value`` of policy parameter ``key``: the versions are read once (one query) and
    each date is resolved in memory and remembered, for loops over many dated records."""
    rows = [
        rules.ParameterVersion(
            p.key, p.region_code, p.effective_from, p.effective_to, p.value, p.source
        )
        for p in PolicyParameter.objects.filter(key=key)
    ]
    memo: dict[dt.date, Any] = {}

    def value_on(on: dt.date) -> Any:
        if on in memo:
            return memo[on]
        found = rules.resolve_parameter(rows, key, on, region_code) or rules.resolve_parameter(
            rules.DEFAULT_PARAMETERS, key, on, region_code
        )
        if found is None:
            raise KeyError(f"政策参数 {key} 在 {on} 没有生效的取值")
        memo[on] = found.value
        return found.value

    return value_on


def prefix_q(field: str, prefixes: Iterable[str]) -> Q:
    """``field`` starts with any of ``prefixes``; no prefixes → matches nothing (never all)."""
    cond = Q(pk__in=[])
    for prefix in prefixes:
        cond |= Q(**{f"{field}__startswith": prefix})
    return cond
