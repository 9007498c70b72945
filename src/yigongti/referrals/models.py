"""Referrals (one table for all three directions), their transitions, and follow-up tasks.

A status change is a conditional UPDATE on the expected current status (services.py), so two
users acting at once cannot both move a referral; every change is a ``ReferralEvent`` row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yigongti.organizations.models import Department, Institution
from yigongti.referrals.choices import Direction, Status, TaskKind, TaskStatus, Urgency
from yigongti.residents.models import Resident
from yigongti.scheduling.models import BedBooking, Booking
from yigongti.staff.models import Practitioner


class Referral(models.Model):
    """转诊单 with the fields of domain-rules.md §3.2 (存根, 转出单, 回转单)."""

    number = models.CharField("转诊单号", max_length=20, unique=True)
    direction = models.CharField("方向", max_length=8, choices=Direction.choices)
    urgency = models.CharField(
        "紧急程度", max_length=12, choices=Urgency.choices, default=Urgency.ROUTINE
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="referrals", verbose_name="居民"
    )
    from_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="referrals_out", verbose_name="转出机构"
    )
    from_practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="转诊医生",
    )
    to_institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_in",
        verbose_name="接收机构",
    )
    to_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="接收科室",
    )
    out_of_county_name = models.CharField("县外接收医院", max_length=100, blank=True)
    out_of_county_region = models.CharField("县外医院所在地区", max_length=60, blank=True)
    filing_number = models.CharField("转诊备案号", max_length=40, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name="原上转单",
    )
    # 转出单
    diagnosis_code = models.CharField("初步诊断（ICD-10）", max_length=16)
    impression = models.CharField("初步印象", max_length=200, blank=True)
    reason = models.TextField("主要现病史（转出原因）")
    history = models.TextField("主要既往史", blank=True)
    treatment = models.TextField("治疗经过", blank=True)
    contact_phone = models.CharField("转诊医生联系电话", max_length=20, blank=True)
    consent = models.BooleanField("患者知情同意", default=False)
    # 回转单 / 下转
    result_diagnosis = models.CharField("诊断结果", max_length=200, blank=True)
    inpatient_number = models.CharField("住院病案号", max_length=32, blank=True)
    findings = models.TextField("主要检查结果", blank=True)
    rehab_plan = models.TextField("下一步治疗方案及康复建议", blank=True)
    # links and flags
    booking = models.ForeignKey(
        Booking, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bed = models.ForeignKey(
        BedBooking, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    green_channel = models.JSONField("绿色通道权益", default=list, blank=True)
    deductible_paid = models.DecimalField(
        "本次病程已付起付线（元）", max_digits=10, decimal_places=2, default=0
    )
    summary = models.JSONField("近期诊疗摘要", default=dict, blank=True)
    # times
    created_at = models.DateTimeField("创建时间")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    deadline_at = models.DateTimeField("接收时限", null=True, blank=True)
    accepted_at = models.DateTimeField("同意时间", null=True, blank=True)
    appointment_at = models.DateTimeField("预约就诊/入院时间", null=True, blank=True)
    arrived_at = models.DateTimeField("到诊时间", null=True, blank=True)
    completed_at = models.DateTimeField("诊疗结束时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    end_reason = models.CharField("拒绝/取消原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "转诊单"
        verbose_name_plural = "转诊单"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["to_institution", "status"], name="referral_to_status"),
            models.Index(fields=["from_institution", "status"], name="referral_from_status"),
            models.Index(fields=["status", "deadline_at"], name="referral_deadline"),
            models.Index(fields=["resident", "created_at"], name="referral_resident"),
        ]

    def __str__(self) -> str:
        return self.number


class ReferralEvent(models.Model):
    """One transition: who moved the referral from what to what, when, and why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("原状态", max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField("新状态", max_length=16, choices=Status.choices)
    at = models.DateTimeField("时间")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    by_name = models.CharField("操作人", max_length=64)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "转诊记录"
        verbose_name_plural = "转诊记录"
        ordering = ["referral_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.from_status}→{self.to_status}"


class FollowUpTask(models.Model):
    """随访任务: the originating grassroots institution after an up-referral (within two
    weeks), the receiving township after a down-referral."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="tasks")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="follow_up_tasks",
        verbose_name="随访机构",
    )
    kind = models.CharField("类型", max_length=12, choices=TaskKind.choices)
    due_on = models.DateField("应随访日期")
    status = models.CharField(
        "状态", max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField("随访时间", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField("随访记录", max_length=500, blank=True)

    class Meta:
        verbose_name = "随访任务"
        verbose_name_plural = "随访任务"
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "kind"], name="task_once_per_referral")
        ]
        indexes = [models.Index(fields=["institution", "status", "due_on"], name="task_worklist")]

    def __str__(self) -> str:
        return f"{self.kind} {self.resident_id} {self.due_on}"
