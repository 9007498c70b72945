from django.db import models


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县级管理员（卫健局/医共体管理中心）"
    CENTRE_STAFF = "centre_staff", "管理中心工作人员"
    INSTITUTION_ADMIN = "institution_admin", "机构管理员"
    DOCTOR = "doctor", "医生"
    VILLAGE_DOCTOR = "village_doctor", "乡村医生"
    FAMILY_DOCTOR = "family_doctor", "家庭医生"
    PHARMACIST = "pharmacist", "药师"
    PUBLIC_HEALTH = "public_health", "公共卫生人员"
    INSURANCE_REVIEWER = "insurance_reviewer", "医保审核员"
    AUDITOR = "auditor", "审计员"


class ScopeKind(models.TextChoices):
    MEDCOM = "medcom", "整个医共体"
    SUBTREE = "subtree", "本机构及下属机构"
    INSTITUTION = "institution", "仅本机构"
    REGION = "region", "区域（可跨多个医共体）"
