from django.db import models


class AuditAction(models.TextChoices):
    READ = "read", "查看"
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    MERGE = "merge", "合并"
    REVEAL = "reveal", "显示完整信息"
    EXPORT = "export", "导出"
    DENIED = "denied", "拒绝访问"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"


class AccessBasis(models.TextChoices):
    """Why a person-level read or write was allowed (the care relationship used)."""

    TREATING = "treating_encounter", "诊疗关系"
    FAMILY_DOCTOR = "family_doctor_contract", "家庭医生签约"
    REFERRAL = "referral", "转诊接收"
    PUBLIC_HEALTH = "public_health_programme", "公共卫生管理"
    BREAK_GLASS = "break_glass", "紧急/事由查阅"
    DATA_ENTRY = "data_entry", "建档与信息维护"
    SYSTEM = "system", "系统"
    NONE = "none", "无"
