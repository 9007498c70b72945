from django.db import models


class PatientGroup(models.TextChoices):
    """Whom a department sees (接诊对象): 儿科 children only, 妇产科 women only; booking and
    bed holds check it (scheduling.rules.patient_refusal)."""

    ALL = "all", "不限"
    CHILDREN = "children", "儿童"
    WOMEN = "women", "女性"


class MedcomKind(models.TextChoices):
    COUNTY = "county_medcom", "紧密型县域医共体"
    URBAN = "urban_group", "紧密型城市医疗集团"


class InstitutionType(models.TextChoices):
    GENERAL_HOSPITAL = "general_hospital", "综合医院"
    TCM_HOSPITAL = "tcm_hospital", "中医医院"
    MCH_HOSPITAL = "mch_hospital", "妇幼保健院"
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre", "乡镇卫生院"
    COMMUNITY_HEALTH_CENTRE = "community_health_centre", "社区卫生服务中心"
    COMMUNITY_HEALTH_STATION = "community_health_station", "社区卫生服务站"
    VILLAGE_CLINIC = "village_clinic", "村卫生室"
    PRIVATE = "private", "民营医疗机构"
    PUBLIC_HEALTH = "public_health", "专业公共卫生机构"


# 基层医疗卫生机构 (grassroots institutions) as counted by the national indicators.
GRASSROOTS_TYPES = frozenset(
    {
        InstitutionType.TOWNSHIP_HEALTH_CENTRE,
        InstitutionType.COMMUNITY_HEALTH_CENTRE,
        InstitutionType.COMMUNITY_HEALTH_STATION,
        InstitutionType.VILLAGE_CLINIC,
    }
)


class InstitutionLevel(models.TextChoices):
    TERTIARY = "3", "三级"
    SECONDARY = "2", "二级"
    PRIMARY = "1", "一级"
    UNRATED = "0", "未定级"


class TreeLink(models.TextChoices):
    """How an institution hangs under its parent in the medcom tree."""

    ROOT = "root", "总院（牵头医院）"
    COUNTY_MEMBER = "county_member", "县级成员单位"
    COUNTY_TOWNSHIP = "county_township", "县乡一体（分院）"
    TOWNSHIP_VILLAGE = "township_village", "乡村一体（村卫生室）"
    OTHER = "other", "其他成员"


class AffiliationKind(models.TextChoices):
    ADMINISTRATIVE = "administrative", "行政隶属"
    SUPERVISION = "supervision", "业务指导/监管"
    SUPPORT = "support", "对口帮扶"


class ManagementUnitKind(models.TextChoices):
    """The nine departments of the medcom management centre (seed 002 二(一)3)."""

    ADMIN_LOGISTICS = "admin_logistics", "行政后勤管理部"
    HR_PERFORMANCE = "hr_performance", "人力资源绩效管理部"
    FINANCE = "finance", "财务管理部"
    MEDICAL = "medical", "医疗业务管理部"
    PUBLIC_HEALTH = "public_health", "公共卫生管理部"
    DRUGS_DEVICES = "drugs_devices", "药械管理部"
    INSURANCE = "insurance", "医保管理部"
    INFORMATION = "information", "信息管理部"
    INTERNAL_AUDIT = "internal_audit", "内部审计部"
