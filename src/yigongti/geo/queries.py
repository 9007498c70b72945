"""Readers of divisions."""

from __future__ import annotations

from django.db.models import QuerySet

from yigongti.geo.models import Division


def get_division(code: str) -> Division:
    return Division.objects.get(code=code.ljust(12, "0"))


def list_children(division: Division) -> QuerySet[Division]:
    return Division.objects.filter(parent=division).order_by("code")


def list_subtree(division: Division) -> QuerySet[Division]:
    return Division.objects.filter(prefix__startswith=division.prefix).order_by("code")
