"""Stored indicator results: what dashboards and exports read (never raw rows)."""

from __future__ import annotations

from django.db import models


class IndicatorResult(models.Model):
    """One indicator for one period at one organisation, from one snapshot."""

    indicator_code = models.CharField("指标编码", max_length=16)
    period = models.CharField("统计期", max_length=8)  # 2025 | 2025-Q3 | 2025-07
    level = models.CharField("层级", max_length=16)  # county | township | institution
    org_code = models.CharField("机构/区划编码", max_length=32)
    # "" for the total; a category (e.g. an ICD-10 chapter) for a broken-down indicator.
    category = models.CharField("分类", max_length=32, blank=True, default="")
    numerator = models.DecimalField("分子", max_digits=20, decimal_places=2)
    denominator = models.DecimalField("分母", max_digits=20, decimal_places=2)
    value = models.DecimalField("值", max_digits=20, decimal_places=6, null=True, blank=True)
    snapshot_id = models.CharField("快照", max_length=40)
    engine = models.CharField("计算引擎", max_length=16)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "指标结果"
        verbose_name_plural = "指标结果"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_code", "period", "level", "org_code", "category"],
                name="indicator_result_once",
            )
        ]
        indexes = [models.Index(fields=["period", "indicator_code"], name="indicator_period")]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.period} {self.org_code}"
