"""Readers of medcoms and institutions."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from yigongti.core.queries import prefix_q
from yigongti.organizations.models import Institution, Medcom


def list_medcoms() -> QuerySet[Medcom]:
    return Medcom.objects.select_related("division").order_by("code")


def get_institution(code: str) -> Institution:
    return Institution.objects.select_related("division", "medcom", "parent").get(code=code)


def list_institutions(
    *, within_paths: list[str] | None = None, q: str = "", inst_type: str = ""
) -> QuerySet[Institution]:
    """Institutions, optionally limited to the subtrees rooted at ``within_paths``."""
    qs = Institution.objects.select_related("division", "medcom", "parent").order_by("path")
    if within_paths is not None:
        qs = qs.filter(prefix_q("path", within_paths))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(short_name__icontains=q))
    if inst_type:
        qs = qs.filter(inst_type=inst_type)
    return qs


def list_tree(medcom: Medcom) -> QuerySet[Institution]:
    return (
        Institution.objects.filter(medcom=medcom)
        .select_related("division", "parent")
        .order_by("path")
    )
