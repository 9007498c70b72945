"""Readers of referrals: worklists for both sides, follow-up tasks, the management view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor
from yigongti.organizations.choices import GRASSROOTS_TYPES
from yigongti.organizations.models import Department, Institution
from yigongti.referrals.choices import TaskStatus
from yigongti.referrals.models import FollowUpTask, Referral
from yigongti.scheduling.models import Schedule

MANAGER_ROLES = frozenset({Role.COUNTY_ADMIN, Role.CENTRE_STAFF, Role.INSTITUTION_ADMIN})


def _scoped(actor: Actor, field: str) -> Q:
    paths = actor.scope.institution_paths
    if paths is None:
        return Q()
    q = Q()
    for path in paths:
        q |= (
            Q(**{f"{field}__path": path})
            if actor.scope.exact
            else Q(**{f"{field}__path__startswith": path})
        )
    return q if paths else Q(pk__in=[])


def list_referrals(
    actor: Actor, box: str, *, status: str = "", direction: str = "", q: str = ""
) -> QuerySet[Referral]:
    """``box`` "out": sent by my institution (managers: by institutions in scope); "in":
    addressed to it. Newest first."""
    qs = Referral.objects.select_related(
        "resident", "from_institution", "to_institution", "to_department"
    )
    field = "from_institution" if box == "out" else "to_institution"
    if actor.role in MANAGER_ROLES:
        qs = qs.filter(_scoped(actor, field))
    else:
        qs = qs.filter(**{f"{field}_id": actor.user.institution_id or 0})
    if status:
        qs = qs.filter(status=status)
    if direction:
        qs = qs.filter(direction=direction)
    if q.strip():
        qs = qs.filter(Q(number__icontains=q.strip()) | Q(diagnosis_code__istartswith=q.strip()))
    return qs.order_by("-created_at", "-pk")


def list_tasks(
    actor: Actor, *, overdue_on: dt.date | None = None, open_only: bool = True
) -> QuerySet[FollowUpTask]:
    """Follow-up tasks of my institution (managers: of every institution in scope);
    ``overdue_on``: only open tasks due before that day."""
    qs = FollowUpTask.objects.select_related("resident", "institution", "referral")
    if actor.role in MANAGER_ROLES:
        qs = qs.filter(_scoped(actor, "institution"))
    else:
        qs = qs.filter(institution_id=actor.user.institution_id or 0)
    if open_only or overdue_on:
        qs = qs.filter(status=TaskStatus.OPEN)
    if overdue_on:
        qs = qs.filter(due_on__lt=overdue_on)
    return qs.order_by("due_on", "pk")


def list_targets(direction: str, medcom_id: int | None) -> list[Institution]:
    """Institutions a referral in this direction may go to, within the medcom."""
    if medcom_id is None:
        return []
    qs = Institution.objects.filter(medcom_id=medcom_id, is_active=True).order_by("path")
    if direction == "up":
        return [i for i in qs if i.inst_type not in GRASSROOTS_TYPES]
    if direction == "down":
        return [i for i in qs if i.inst_type in GRASSROOTS_TYPES]
    return []


def list_departments(institution_ids: list[int]) -> list[Department]:
    return list(
        Department.objects.filter(institution_id__in=institution_ids)
        .select_related("institution")
        .order_by("institution__path", "code")
    )


def list_open_schedules(
    institution_ids: list[int], day_from: dt.date, day_to: dt.date
) -> list[Schedule]:
    return list(
        Schedule.objects.filter(
            institution_id__in=institution_ids, day__range=(day_from, day_to), status="open"
        )
        .select_related("department", "doctor", "institution")
        .order_by("day", "starts_at", "department__code")
    )


def event_rows(referral: Referral) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at,
            "from": e.get_from_status_display() if e.from_status else "",
            "to": e.get_to_status_display(),
            "by": e.by_name,
            "note": e.note,
        }
        for e in referral.events.order_by("at", "pk")
    ]
