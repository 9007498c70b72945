"""Administrative divisions."""

from __future__ import annotations

from django.db import models

from yigongti.geo.choices import DivisionKind, DivisionLevel


class Division(models.Model):
    """An administrative division with its 12-digit statistical code (GB/T 2260 + 3 + 3).

    ``prefix`` is the significant part of the code, so ``prefix__startswith`` selects a subtree.
    """

    code = models.CharField("区划代码", max_length=12, unique=True)
    prefix = models.CharField("代码前缀", max_length=12, db_index=True)
    name = models.CharField("名称", max_length=64)
    full_name = models.CharField("全称", max_length=200, blank=True)
    level = models.CharField("层级", max_length=16, choices=DivisionLevel.choices, db_index=True)
    kind = models.CharField(
        "类别", max_length=16, choices=DivisionKind.choices, default=DivisionKind.OTHER
    )
    is_urban = models.BooleanField("城镇", default=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级区划",
    )
    population = models.PositiveIntegerField("常住人口", null=True, blank=True)
    is_fictional = models.BooleanField("虚构（合成数据）", default=False)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.full_name or self.name
