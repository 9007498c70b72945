"""Master patient index: residents, households, duplicate candidates, care relationships."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yigongti.core.choices import AccessBasis
from yigongti.geo.models import Division
from yigongti.organizations.models import Institution
from yigongti.residents.choices import (
    DuplicateStatus,
    IdType,
    InsuranceType,
    Relation,
    Sex,
)
from yigongti.staff.models import Practitioner


class Household(models.Model):
    """A registered household (户) at an address in a village or community."""

    code = models.CharField("户编号", max_length=24, unique=True)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="households", verbose_name="所在村（社区）"
    )
    address = models.CharField("地址", max_length=200)

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"

    def __str__(self) -> str:
        return self.code


class Resident(models.Model):
    """One person in the master patient index; one record per identity document."""

    mpi_id = models.CharField("主索引号", max_length=16, unique=True)
    id_type = models.CharField(
        "证件类型", max_length=2, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField("证件号码", max_length=32)
    name = models.CharField("姓名", max_length=32, db_index=True)
    name_pinyin = models.CharField("姓名拼音", max_length=120, db_index=True)
    name_initials = models.CharField("拼音首字母", max_length=32, db_index=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=16, default="汉族")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="residents",
        verbose_name="现住址（村/社区）",
    )
    division_code = models.CharField("区划代码", max_length=12, db_index=True)
    address_detail = models.CharField("详细地址", max_length=200, blank=True)
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="户",
    )
    relation_to_head = models.CharField(
        "与户主关系", max_length=16, choices=Relation.choices, default=Relation.HEAD
    )
    insurance_type = models.CharField(
        "参保类型", max_length=16, choices=InsuranceType.choices, default=InsuranceType.RESIDENT
    )
    insurance_number = models.CharField("医保号", max_length=32, blank=True)
    has_hypertension = models.BooleanField("高血压", default=False)
    has_diabetes = models.BooleanField("2型糖尿病", default=False)
    has_severe_mental_illness = models.BooleanField("严重精神障碍", default=False)
    is_sensitive = models.BooleanField("敏感类别", default=False)
    is_deceased = models.BooleanField("已故", default=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_records",
        verbose_name="已合并至",
    )
    created_at = models.DateTimeField("建档时间")
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "居民"
        verbose_name_plural = "居民"
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number"], name="one_resident_per_document"
            )
        ]
        indexes = [models.Index(fields=["name", "birth_date"], name="resident_dup_idx")]

    def __str__(self) -> str:
        return f"{self.mpi_id}"


class DuplicateCandidate(models.Model):
    """A pair of records that look like one person, waiting for a merge or keep-apart decision."""

    resident_a = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="+", verbose_name="记录A"
    )
    resident_b = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="+", verbose_name="记录B"
    )
    reason = models.CharField("疑似原因", max_length=200)
    status = models.CharField(
        "状态", max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    found_at = models.DateTimeField("发现时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="处理人",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    note = models.CharField("处理说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "疑似重复记录"
        verbose_name_plural = "疑似重复记录"
        constraints = [
            models.UniqueConstraint(
                fields=["resident_a", "resident_b"], name="duplicate_pair_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(resident_a__lt=models.F("resident_b")),
                name="duplicate_pair_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"疑似重复 {self.resident_a_id}/{self.resident_b_id}"


class CareRelationship(models.Model):
    """Why an institution (or one practitioner) may read a resident's record, and until when.

    One table for every kind: treating encounters, family-doctor contracts, referrals and
    public-health programmes all grant access through rows here, written by their domains
    through ``residents.services.do_grant_care_relationship``.
    """

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="care_relationships", verbose_name="居民"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="+", verbose_name="机构"
    )
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="人员（为空表示全机构）",
    )
    kind = models.CharField("关系类型", max_length=32, choices=AccessBasis.choices)
    source = models.CharField("来源", max_length=32)
    source_ref = models.CharField("来源编号", max_length=64, blank=True)
    valid_from = models.DateField("开始日期")
    valid_to = models.DateField("结束日期", null=True, blank=True)

    class Meta:
        verbose_name = "诊疗/服务关系"
        verbose_name_plural = "诊疗/服务关系"
        indexes = [models.Index(fields=["resident", "institution"], name="care_rel_lookup")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.resident_id}@{self.institution_id}"


class MpiCounter(models.Model):
    """The last master-patient-index number handed out; locked while reserving a block."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "主索引号计数器"
        verbose_name_plural = "主索引号计数器"

    def __str__(self) -> str:
        return f"主索引号已分配至 {self.last}"
