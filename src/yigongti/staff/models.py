"""Practitioners and the sites where they practise."""

from __future__ import annotations

from django.db import models

from yigongti.organizations.models import Department, Institution
from yigongti.staff.choices import PracticeCategory, Profession, Sex, TitleGrade


class Practitioner(models.Model):
    """A health worker: licence category, title grade, specialty and employer."""

    code = models.CharField("工号", max_length=32, unique=True)
    name = models.CharField("姓名", max_length=32, db_index=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    profession = models.CharField("专业类别", max_length=20, choices=Profession.choices)
    practice_category = models.CharField(
        "执业类别", max_length=20, choices=PracticeCategory.choices, default=PracticeCategory.NONE
    )
    title_grade = models.CharField(
        "职称等级", max_length=20, choices=TitleGrade.choices, default=TitleGrade.NONE
    )
    title_name = models.CharField("职称名称", max_length=32, blank=True)
    specialty = models.CharField("专业/专长", max_length=32, blank=True)
    licence_number = models.CharField("执业证书编码", max_length=32, blank=True)
    is_general_practitioner = models.BooleanField("全科医生", default=False)
    employer = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="employees", verbose_name="人事所在机构"
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioners",
        verbose_name="科室",
    )
    phone = models.CharField("手机号", max_length=20, blank=True)
    is_active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = "卫生人员"
        verbose_name_plural = "卫生人员"
        ordering = ["employer", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_profession_display()}）"


class PracticeSite(models.Model):
    """A site where a practitioner is registered to practise (多点执业); one is primary."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="sites", verbose_name="人员"
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="practice_sites",
        verbose_name="执业机构",
    )
    is_primary = models.BooleanField("主要执业机构", default=False)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True)

    class Meta:
        verbose_name = "执业地点"
        verbose_name_plural = "执业地点"
        constraints = [
            models.UniqueConstraint(
                fields=["practitioner"],
                condition=models.Q(is_primary=True),
                name="one_primary_site_per_practitioner",
            ),
            models.UniqueConstraint(
                fields=["practitioner", "institution"], name="practice_site_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner.name} @ {self.institution.name}"
