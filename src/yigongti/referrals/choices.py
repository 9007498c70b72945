from django.db import models


class Direction(models.TextChoices):
    UP = "up", "上转（基层→县级）"
    DOWN = "down", "下转（县级→基层）"
    OUT = "out", "转县外"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "普通"
    URGENT = "urgent", "加急"
    EMERGENCY = "emergency", "急危重症"


class Status(models.TextChoices):
    """domain-rules.md §3.3 [I] (FHIR ServiceRequest + Task)."""

    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    RECEIVED = "received", "已接收"
    ACCEPTED = "accepted", "已同意"
    SCHEDULED = "scheduled", "已预约"
    ARRIVED = "arrived", "已到诊"
    IN_TREATMENT = "in_treatment", "治疗中"
    COMPLETED = "completed", "诊疗结束"
    RETURNED = "returned", "已回转"
    CLOSED = "closed", "已关闭（随访已确认）"
    REJECTED = "rejected", "已拒绝"
    EXPIRED = "expired", "已超时"
    CANCELLED = "cancelled", "已取消"
    NO_SHOW = "no_show", "未到诊"


class TaskKind(models.TextChoices):
    AFTER_UP = "after_up", "上转后随访（两周内）"
    AFTER_DOWN = "after_down", "下转接收随访"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待随访"
    DONE = "done", "已随访"
    CANCELLED = "cancelled", "已取消"


class Level(models.TextChoices):
    """Institution level for reimbursement (domain-rules.md §3.4)."""

    GRASSROOTS = "grassroots", "基层（乡镇/社区）"
    COUNTY = "county", "县级"
    CITY = "city", "市级"
    PROVINCE = "province", "省级及以上"
