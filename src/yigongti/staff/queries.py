"""Readers of practitioners."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from yigongti.core.queries import prefix_q
from yigongti.staff.models import Practitioner


def list_practitioners(
    *,
    within_paths: list[str] | None = None,
    q: str = "",
    profession: str = "",
    title_grade: str = "",
    institution_code: str = "",
) -> QuerySet[Practitioner]:
    qs = Practitioner.objects.select_related("employer", "department").order_by(
        "employer__path", "code"
    )
    if within_paths is not None:
        qs = qs.filter(prefix_q("employer__path", within_paths))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(specialty__icontains=q))
    if profession:
        qs = qs.filter(profession=profession)
    if title_grade:
        qs = qs.filter(title_grade=title_grade)
    if institution_code:
        qs = qs.filter(employer__code=institution_code)
    return qs


def count_by_institution(institution_ids: list[int] | None = None) -> dict[int, int]:
    qs = Practitioner.objects.filter(is_active=True)
    if institution_ids is not None:
        qs = qs.filter(employer_id__in=institution_ids)
    return dict(
        qs.values_list("employer_id").annotate(n=Count("id")).values_list("employer_id", "n")
    )
