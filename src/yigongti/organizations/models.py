"""Medcoms and medical groups, their member institutions, departments and affiliations."""

from __future__ import annotations

from django.db import models

from yigongti.geo.models import Division
from yigongti.organizations.choices import (
    AffiliationKind,
    InstitutionLevel,
    InstitutionType,
    ManagementUnitKind,
    MedcomKind,
    PatientGroup,
    TreeLink,
)


class Medcom(models.Model):
    """A tight county medical community (医共体) or an urban medical group (医疗集团)."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=MedcomKind.choices)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="medcoms", verbose_name="所在区划"
    )
    established_on = models.DateField("成立日期", null=True, blank=True)
    is_fictional = models.BooleanField("虚构（合成数据）", default=False)

    class Meta:
        verbose_name = "医共体/医疗集团"
        verbose_name_plural = "医共体/医疗集团"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ManagementUnit(models.Model):
    """A department of the medcom management centre (医共体管理中心九部)."""

    medcom = models.ForeignKey(
        Medcom, on_delete=models.CASCADE, related_name="units", verbose_name="医共体"
    )
    kind = models.CharField("部门", max_length=20, choices=ManagementUnitKind.choices)
    name = models.CharField("名称", max_length=64)

    class Meta:
        verbose_name = "管理中心部门"
        verbose_name_plural = "管理中心部门"
        constraints = [
            models.UniqueConstraint(fields=["medcom", "kind"], name="mgmt_unit_one_per_kind")
        ]

    def __str__(self) -> str:
        return self.name


class Institution(models.Model):
    """A medical or public-health institution, with its place in the medcom tree.

    ``path`` is the chain of codes from the tree root ("A/B/C/"), so a subtree is
    ``path__startswith``. ``service_division`` is the area whose residents it serves.
    """

    code = models.CharField("机构代码", max_length=32, unique=True)
    name = models.CharField("机构名称", max_length=100, db_index=True)
    short_name = models.CharField("简称", max_length=40, blank=True)
    inst_type = models.CharField("机构类别", max_length=32, choices=InstitutionType.choices)
    level = models.CharField(
        "级别", max_length=1, choices=InstitutionLevel.choices, default=InstitutionLevel.UNRATED
    )
    is_legal_entity = models.BooleanField("独立法人", default=True)
    is_public = models.BooleanField("公立", default=True)
    is_sub_centre = models.BooleanField("县域医疗卫生次中心", default=False)
    beds = models.PositiveIntegerField("编制床位", default=0)
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="institutions", verbose_name="所在区划"
    )
    service_division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        related_name="served_by",
        verbose_name="服务区域",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=20, blank=True)
    medcom = models.ForeignKey(
        Medcom,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="所属医共体",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级（医共体内）",
    )
    tree_link = models.CharField(
        "成员关系", max_length=20, choices=TreeLink.choices, default=TreeLink.OTHER
    )
    path = models.CharField("树路径", max_length=400, db_index=True)
    depth = models.PositiveSmallIntegerField("层级深度", default=0)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "医疗卫生机构"
        verbose_name_plural = "医疗卫生机构"
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["medcom"],
                condition=models.Q(tree_link="root"),
                name="one_lead_hospital_per_medcom",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_lead(self) -> bool:
        return self.tree_link == TreeLink.ROOT

    @property
    def label(self) -> str:
        """The name lists and forms show: the short name, or the full name if it has none."""
        return self.short_name or self.name


class Department(models.Model):
    """A clinical or technical department (科室) of an institution."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="departments", verbose_name="机构"
    )
    code = models.CharField("科室代码", max_length=16)
    name = models.CharField("科室名称", max_length=64)
    beds = models.PositiveIntegerField("床位", default=0)
    patients = models.CharField(
        "接诊对象", max_length=10, choices=PatientGroup.choices, default=PatientGroup.ALL
    )

    class Meta:
        verbose_name = "科室"
        verbose_name_plural = "科室"
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="department_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.institution.label} {self.name}"


class Affiliation(models.Model):
    """A hierarchy other than the medcom tree: administrative township, supervision, support."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="affiliations", verbose_name="机构"
    )
    kind = models.CharField("关系类型", max_length=20, choices=AffiliationKind.choices)
    parent_institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="affiliated",
        verbose_name="上级机构",
    )
    parent_division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="affiliated_institutions",
        verbose_name="上级区划（政府）",
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "机构隶属关系"
        verbose_name_plural = "机构隶属关系"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent_institution__isnull=False)
                | models.Q(parent_division__isnull=False),
                name="affiliation_has_parent",
            ),
            models.UniqueConstraint(
                fields=["institution", "kind"], name="affiliation_one_per_kind"
            ),
        ]

    def __str__(self) -> str:
        parent = self.parent_institution or self.parent_division
        return f"{self.institution} → {parent}（{self.get_kind_display()}）"
