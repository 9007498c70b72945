from django.db import models


class Profession(models.TextChoices):
    PHYSICIAN = "physician", "执业（助理）医师"
    NURSE = "nurse", "注册护士"
    PHARMACIST = "pharmacist", "药师"
    TECHNICIAN = "technician", "医技人员"
    VILLAGE_DOCTOR = "village_doctor", "乡村医生"
    PUBLIC_HEALTH = "public_health", "公共卫生人员"
    MANAGER = "manager", "管理人员"


class PracticeCategory(models.TextChoices):
    """执业类别 of a physician licence (医师执业注册)."""

    CLINICAL = "clinical", "临床"
    TCM = "tcm", "中医"
    DENTAL = "dental", "口腔"
    PUBLIC_HEALTH = "public_health", "公共卫生"
    NONE = "none", "无（非医师）"


class TitleGrade(models.TextChoices):
    NONE = "none", "无职称"
    JUNIOR = "junior", "初级"
    INTERMEDIATE = "intermediate", "中级"
    ASSOCIATE_SENIOR = "associate_senior", "副高"
    SENIOR = "senior", "正高"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"
