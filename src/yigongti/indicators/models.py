"""Stored indicator results: what dashboards and exports read (never raw rows); the evidence
register of the qualitative indicators nhc-01 … nhc-03 (items and the county's assessments)."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from yigongti.indicators.choices import EvidenceKind, Verdict
from yigongti.organizations.models import Institution, Medcom


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


def evidence_upload_to(item: EvidenceItem, filename: str) -> str:
    """``evidence/<year>/<indicator>/<sha256>.<ext>``: the stored name never carries the
    uploader's file name (kept in ``file_name``); equal content is stored once."""
    ext = PurePosixPath(filename).suffix.lower()
    return f"evidence/{item.year}/{item.indicator_code}/{item.sha256}{ext}"


class EvidenceItem(models.Model):
    """One document or record that supports a sub-criterion of nhc-01 … nhc-03 for a year.

    Nothing is deleted: a withdrawn item keeps its file and shows as 已撤回 with the reason.
    The file lives under MEDIA_ROOT and is served only by the scoped, audited download view.
    """

    medcom = models.ForeignKey(
        Medcom, on_delete=models.PROTECT, related_name="+", verbose_name="医共体/医疗集团"
    )
    indicator_code = models.CharField("指标编码", max_length=16)
    criterion = models.CharField("评判要点", max_length=32)  # definitions.EVIDENCE_CRITERIA
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("标题", max_length=200)
    description = models.TextField("说明", blank=True)
    document_date = models.DateField("文件日期")
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="涉及机构",
    )
    file = models.FileField("文件", upload_to=evidence_upload_to, max_length=300)
    file_name = models.CharField("原文件名", max_length=200)
    kind = models.CharField("文件类型", max_length=8, choices=EvidenceKind.choices)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间")
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="撤回人",
    )
    withdraw_reason = models.CharField("撤回原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "证据材料"
        verbose_name_plural = "证据材料"
        ordering = ["indicator_code", "criterion", "document_date", "id"]
        indexes = [
            models.Index(fields=["medcom", "year", "indicator_code"], name="evidence_register")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | ~models.Q(withdraw_reason=""),
                name="evidence_withdrawn_with_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.year} {self.title}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class EvidenceAssessment(models.Model):
    """The county's verdict on one of nhc-01 … nhc-03 for a year. A new assessment supersedes
    the current one, which stays as history; at most one is current (partial unique index)."""

    medcom = models.ForeignKey(
        Medcom, on_delete=models.PROTECT, related_name="+", verbose_name="医共体/医疗集团"
    )
    indicator_code = models.CharField("指标编码", max_length=16)
    year = models.PositiveSmallIntegerField("年度")
    verdict = models.CharField("评估结论", max_length=16, choices=Verdict.choices)
    comment = models.TextField("评估意见", blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="评估人",
    )
    assessed_at = models.DateTimeField("评估时间")
    is_current = models.BooleanField("当前结论", default=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="被后续评估取代",
    )

    class Meta:
        verbose_name = "定性指标评估"
        verbose_name_plural = "定性指标评估"
        ordering = ["indicator_code", "-assessed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["medcom", "indicator_code", "year"],
                condition=models.Q(is_current=True),
                name="evidence_assessment_one_current",
            ),
            # Anything but 达标 needs a written comment.
            models.CheckConstraint(
                condition=models.Q(verdict=Verdict.MET) | ~models.Q(comment=""),
                name="evidence_assessment_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.year} {self.get_verdict_display()}"
