"""Readers of the master patient index. Lists are scoped; callers mask what they show."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Q, QuerySet

from yigongti.accounts.queries import Actor
from yigongti.core import rules as kernel
from yigongti.core.queries import prefix_q
from yigongti.residents import rules
from yigongti.residents.choices import DuplicateStatus
from yigongti.residents.models import DuplicateCandidate, Resident

_LETTERS = re.compile(r"^[a-zA-Z]{1,30}$")


def scoped_residents(actor: Actor) -> QuerySet[Resident]:
    qs = Resident.objects.filter(merged_into__isnull=True)
    prefixes = actor.scope.division_prefixes
    if prefixes is None:
        return qs
    return qs.filter(prefix_q("division_code", prefixes))


def search_residents(actor: Actor, q: str) -> QuerySet[Resident]:
    """Search by full identity number, pinyin initials / full pinyin, or part of the name.

    Partial identity numbers are not searchable: only an exact full number finds a person.
    """
    q = (q or "").strip()
    qs = scoped_residents(actor).select_related("division", "division__parent")
    if not q:
        return qs.none()
    if len(q) in (15, 18) and q[:17].isdigit():
        try:
            number = rules.parse_id_number(q).number
        except ValueError:
            return qs.none()
        return qs.filter(id_number=number)
    if _LETTERS.match(q):
        lowered = q.lower()
        return qs.filter(
            Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
        ).order_by("name_pinyin", "mpi_id")
    return qs.filter(name__contains=q).order_by("name", "mpi_id")


def masked_row(resident: Resident) -> dict[str, str]:
    """What a list or export may show of a resident."""
    village = resident.division
    township = village.parent.name if village and village.parent else ""
    return {
        "mpi_id": resident.mpi_id,
        "name": kernel.mask_name(resident.name),
        "sex": resident.get_sex_display(),
        "birth_year": str(resident.birth_date.year),
        "id_number": kernel.mask_id_number(resident.id_number),
        "phone": kernel.mask_phone(resident.phone),
        "address": kernel.mask_address(township),
    }


def deidentified_row(resident: Resident, on: dt.date) -> dict[str, str]:
    """What an aggregate role (管理中心, 医保审核, 药师) may see of a resident behind a record
    (DESIGN.md: de-identified data only): sex and the ten-year age band on ``on``; no name,
    no number, no place finer than the record's own institution, and no MPI (no link)."""
    sex = resident.get_sex_display()
    band = rules.age_band(resident.birth_date, on)
    return {"mpi_id": "", "name": f"{sex}·{band}", "sex": sex, "age_band": band}


def list_duplicate_candidates(
    actor: Actor, status: str = DuplicateStatus.OPEN
) -> QuerySet[DuplicateCandidate]:
    residents = scoped_residents(actor).values("pk")
    return (
        DuplicateCandidate.objects.filter(status=status, resident_a__in=residents)
        .select_related("resident_a", "resident_b", "resident_a__division", "resident_b__division")
        .order_by("-found_at", "pk")
    )


def count_by_village(prefixes: list[str] | None = None) -> dict[str, int]:
    from django.db.models import Count

    qs = Resident.objects.filter(merged_into__isnull=True)
    if prefixes is not None:
        qs = qs.filter(prefix_q("division_code", prefixes))
    return dict(
        qs.values_list("division_code").annotate(n=Count("id")).values_list("division_code", "n")
    )


def get_resident_pk(mpi_id: str) -> int | None:
    """The database id behind an MPI number (for filters such as the audit log's)."""
    return Resident.objects.filter(mpi_id=mpi_id).values_list("pk", flat=True).first()


def list_household_members(resident: Resident) -> QuerySet[Resident]:
    """The other live members of the resident's household, for the (already audited) detail."""
    if resident.household_id is None:
        return Resident.objects.none()
    return (
        Resident.objects.filter(household_id=resident.household_id, merged_into__isnull=True)
        .exclude(pk=resident.pk)
        .order_by("mpi_id")
    )
