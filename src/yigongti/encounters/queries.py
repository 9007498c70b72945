"""Readers of encounters, external settlements and the code catalogues.

Lists are scoped by institution paths; person-level views call the audited read gate in
``residents.services`` before showing a timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from yigongti.core.queries import prefix_q
from yigongti.encounters.models import DiagnosisCode, Encounter, ExternalSettlement
from yigongti.residents.models import Resident


def list_encounters(
    within_paths: Iterable[str] | None,
    *,
    institution_code: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    setting: str = "",
    diagnosis_prefix: str = "",
    doctor_code: str = "",
) -> QuerySet[Encounter]:
    """Encounters at institutions under ``within_paths`` (``None``: no bound), newest first."""
    qs = Encounter.objects.select_related("institution", "doctor", "resident").order_by(
        "-visit_date", "-pk"
    )
    if within_paths is not None:
        qs = qs.filter(prefix_q("institution__path", within_paths))
    if institution_code:
        qs = qs.filter(institution__code=institution_code.strip())
    if date_from:
        qs = qs.filter(visit_date__gte=date_from)
    if date_to:
        qs = qs.filter(visit_date__lte=date_to)
    if setting:
        qs = qs.filter(setting=setting)
    if diagnosis_prefix:
        qs = qs.filter(principal_diagnosis__startswith=diagnosis_prefix.strip().upper())
    if doctor_code:
        qs = qs.filter(doctor__code=doctor_code.strip())
    return qs


@dataclass(frozen=True)
class TimelineEntry:
    """One row of a resident's shared health record: a member encounter or an external
    settlement."""

    kind: str  # "encounter" | "external"
    external_kind: str  # ExternalKind of an external settlement; "" for an encounter
    date: dt.date
    end_date: dt.date | None
    setting: str
    institution_name: str
    principal_diagnosis: str
    total_cost: Decimal
    fund_paid: Decimal
    pk: int


def list_resident_timeline(resident: Resident) -> list[TimelineEntry]:
    """Encounters across member institutions and external settlements, newest first.

    The caller has passed ``residents.services.do_read_resident`` for this resident.
    """
    entries = [
        TimelineEntry(
            kind="encounter",
            external_kind="",
            date=e.visit_date,
            end_date=e.discharge_date,
            setting=e.setting,
            institution_name=e.institution.name,
            principal_diagnosis=e.principal_diagnosis,
            total_cost=e.total_cost,
            fund_paid=e.fund_paid,
            pk=e.pk,
        )
        for e in Encounter.objects.filter(resident=resident).select_related("institution")
    ]
    entries += [
        TimelineEntry(
            kind="external",
            external_kind=s.kind,
            date=s.settlement_date,
            end_date=s.discharge_date,
            setting=s.setting,
            institution_name=s.institution_name,
            principal_diagnosis=s.principal_diagnosis,
            total_cost=s.total_cost,
            fund_paid=s.fund_paid,
            pk=s.pk,
        )
        for s in ExternalSettlement.objects.filter(resident=resident)
    ]
    entries.sort(key=lambda e: (e.date, e.kind == "encounter", e.pk), reverse=True)
    return entries


def get_code_names(codes: Iterable[str]) -> dict[str, str]:
    """ICD-10 code → Chinese name for the codes that are in the catalogue."""
    wanted = sorted({c for c in codes if c})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 900):
        names.update(
            DiagnosisCode.objects.filter(code__in=wanted[start : start + 900]).values_list(
                "code", "name"
            )
        )
    return names


def list_icd10_chapters() -> dict[str, str]:
    """ICD-10 chapter (Roman numeral, e.g. ``IX``) → its Chinese name, from the catalogue."""
    return dict(DiagnosisCode.objects.order_by().values_list("chapter", "chapter_name").distinct())
