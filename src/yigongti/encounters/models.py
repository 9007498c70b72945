"""Encounters with their settlement, external settlements, code catalogues, import batches."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from yigongti.encounters.choices import (
    BatchStatus,
    ExternalKind,
    ImportKind,
    Setting,
)
from yigongti.organizations.choices import InstitutionLevel
from yigongti.organizations.models import Department, Institution
from yigongti.residents.choices import InsuranceType
from yigongti.residents.models import Resident
from yigongti.staff.models import Practitioner

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class DiagnosisCode(models.Model):
    """An ICD-10 code of the shipped subset (国家临床版 style), with its Chinese name."""

    code = models.CharField("编码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=100)
    chapter = models.CharField("章", max_length=8, db_index=True)
    chapter_name = models.CharField("章名称", max_length=60)
    notifiable_disease = models.CharField("法定传染病病种", max_length=40, blank=True)
    notifiable_class = models.CharField("传染病类别", max_length=4, blank=True)  # 甲/乙/丙
    is_chronic = models.BooleanField("慢性病", default=False)

    class Meta:
        verbose_name = "疾病诊断编码"
        verbose_name_plural = "疾病诊断编码"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProcedureCode(models.Model):
    """An ICD-9-CM3 procedure code of the shipped subset, with its surgery grade (1–4)."""

    code = models.CharField("编码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=100)
    grade = models.PositiveSmallIntegerField("手术级别", null=True, blank=True)

    class Meta:
        verbose_name = "手术操作编码"
        verbose_name_plural = "手术操作编码"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ImportBatch(models.Model):
    """One import run of one file: counts, status and how far it got (for resume)."""

    kind = models.CharField("类型", max_length=16, choices=ImportKind.choices)
    source_system = models.CharField("来源系统", max_length=64)
    file_name = models.CharField("文件名", max_length=255)
    file_sha256 = models.CharField("文件校验值", max_length=64, db_index=True)
    status = models.CharField(
        "状态", max_length=16, choices=BatchStatus.choices, default=BatchStatus.RUNNING
    )
    rows_read = models.PositiveIntegerField("读取", default=0)
    rows_inserted = models.PositiveIntegerField("新增", default=0)
    rows_updated = models.PositiveIntegerField("更新", default=0)
    rows_unchanged = models.PositiveIntegerField("未变", default=0)
    rows_rejected = models.PositiveIntegerField("拒绝", default=0)
    last_committed_row = models.PositiveIntegerField("已提交至行", default=0)
    message = models.CharField("说明", max_length=300, blank=True)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传机构",
    )

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"


class ImportRowError(models.Model):
    """A rejected row: the original values and a Chinese reason per field; nothing is lost."""

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="row_errors", verbose_name="批次"
    )
    row_number = models.PositiveIntegerField("行号")
    raw = models.JSONField("原始内容")
    errors = models.JSONField("错误原因")

    class Meta:
        verbose_name = "导入错误行"
        verbose_name_plural = "导入错误行"
        ordering = ["batch", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "row_number"], name="import_error_row_unique")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row_number}"


class Encounter(models.Model):
    """A visit or stay at a member institution, with its costs and insurance settlement.

    Idempotent by ``(source_system, external_id)``; ``content_hash`` tells an unchanged
    re-import from a corrected one.
    """

    source_system = models.CharField("来源系统", max_length=64)
    external_id = models.CharField("来源编号", max_length=64)
    # No single-column indexes: the (resident, date) and (institution, date) indexes below
    # serve those lookups, and two fewer indexes to maintain speed up bulk imports.
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="encounters",
        verbose_name="居民",
        db_index=False,
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="encounters",
        verbose_name="机构",
        db_index=False,
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="科室",
        db_index=False,  # read through the encounter, never looked up by department
    )
    department_name = models.CharField("科室名称", max_length=64, blank=True)
    doctor = models.ForeignKey(
        Practitioner,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="encounters",
        verbose_name="医生",
    )
    # Indexed only where pages filter first (dates); setting, discharge date and diagnosis are
    # filtered within an institution's date range (encounter_inst_date) or read by the
    # analytic snapshot, and each extra index slows every imported row.
    setting = models.CharField("类型", max_length=16, choices=Setting.choices)
    visit_date = models.DateField("就诊/入院日期", db_index=True)
    discharge_date = models.DateField("出院日期", null=True, blank=True)
    principal_diagnosis = models.CharField("主要诊断", max_length=16)
    other_diagnoses = models.JSONField("其他诊断", default=list, blank=True)
    is_tcm = models.BooleanField("中医类", default=False)
    total_cost = models.DecimalField("总费用", **MONEY)
    drug_cost = models.DecimalField("药品费", default=0, **MONEY)
    material_cost = models.DecimalField("耗材费", default=0, **MONEY)
    exam_cost = models.DecimalField("检查检验费", default=0, **MONEY)
    service_cost = models.DecimalField("医疗服务费", default=0, **MONEY)
    insurance_type = models.CharField(
        "参保类型", max_length=16, choices=InsuranceType.choices, default=InsuranceType.RESIDENT
    )
    fund_paid = models.DecimalField("统筹基金支付", default=0, **MONEY)
    personal_paid = models.DecimalField("个人支付", default=0, **MONEY)
    deductible = models.DecimalField("起付线", default=0, **MONEY)
    content_hash = models.CharField("内容校验值", max_length=64)
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="最近导入批次",
    )
    created_at = models.DateTimeField("创建时间")
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "诊疗记录"
        verbose_name_plural = "诊疗记录"
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="encounter_source_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(discharge_date__isnull=True)
                | models.Q(discharge_date__gte=models.F("visit_date")),
                name="encounter_discharge_after_admission",
            ),
        ]
        indexes = [
            models.Index(fields=["institution", "visit_date"], name="encounter_inst_date"),
            models.Index(fields=["resident", "visit_date"], name="encounter_resident_date"),
        ]

    def __str__(self) -> str:
        return f"{self.get_setting_display()} {self.visit_date} {self.external_id}"


class EncounterProcedure(models.Model):
    """A procedure (ICD-9-CM3) done in an encounter, with its surgery grade."""

    encounter = models.ForeignKey(
        Encounter, on_delete=models.CASCADE, related_name="procedures", verbose_name="诊疗记录"
    )
    seq = models.PositiveSmallIntegerField("序号")
    code = models.CharField("手术操作编码", max_length=16)
    grade = models.PositiveSmallIntegerField("手术级别", null=True, blank=True)

    class Meta:
        verbose_name = "手术操作"
        verbose_name_plural = "手术操作"
        ordering = ["encounter", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["encounter", "seq"], name="encounter_procedure_seq")
        ]

    def __str__(self) -> str:
        return f"{self.code}（{self.grade or '-'}级）"


class ExternalSettlement(models.Model):
    """A settlement of a county-insured resident outside the member institutions.

    Treated outside the county (institution, region, level) or bought at a retail pharmacy;
    kept apart from member encounters because several national indicators need them apart.
    """

    source_system = models.CharField("来源系统", max_length=64)
    external_id = models.CharField("来源编号", max_length=64)
    kind = models.CharField("类别", max_length=16, choices=ExternalKind.choices, db_index=True)
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="external_settlements",
        verbose_name="居民",
    )
    settlement_date = models.DateField("结算日期", db_index=True)
    setting = models.CharField("类型", max_length=16, choices=Setting.choices)
    admission_date = models.DateField("入院日期", null=True, blank=True)
    discharge_date = models.DateField("出院日期", null=True, blank=True)
    institution_name = models.CharField("机构/药店名称", max_length=100)
    region_code = models.CharField("所在地区代码", max_length=12, blank=True)
    region_name = models.CharField("所在地区", max_length=64, blank=True)
    level = models.CharField(
        "机构级别", max_length=1, choices=InstitutionLevel.choices, default=InstitutionLevel.UNRATED
    )
    principal_diagnosis = models.CharField("主要诊断", max_length=16, blank=True)
    is_referred = models.BooleanField("转诊备案", default=False)
    insurance_type = models.CharField(
        "参保类型", max_length=16, choices=InsuranceType.choices, default=InsuranceType.RESIDENT
    )
    total_cost = models.DecimalField("总费用", **MONEY)
    fund_paid = models.DecimalField("统筹基金支付", default=0, **MONEY)
    personal_paid = models.DecimalField("个人支付", default=0, **MONEY)
    content_hash = models.CharField("内容校验值", max_length=64)
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="最近导入批次",
    )
    created_at = models.DateTimeField("创建时间")
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "县域外/药店结算"
        verbose_name_plural = "县域外/药店结算"
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="external_settlement_source_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.settlement_date} {self.external_id}"
