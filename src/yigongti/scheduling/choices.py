from django.db import models


class Session(models.TextChoices):
    MORNING = "am", "上午"
    AFTERNOON = "pm", "下午"
    EVENING = "eve", "晚间"


class Pool(models.TextChoices):
    """号源池 / 床位池: the share reserved for family-doctor teams and grassroots institutions,
    and the public rest."""

    RESERVED = "reserved", "基层预留"
    PUBLIC = "public", "公众"


class Channel(models.TextChoices):
    """Who books: a grassroots institution or family-doctor team, or anyone else."""

    GRASSROOTS = "grassroots", "基层/家庭医生团队"
    PUBLIC = "public", "公众/本院"


class ScheduleStatus(models.TextChoices):
    OPEN = "open", "已发布"
    CANCELLED = "cancelled", "已停诊"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    CANCELLED = "cancelled", "已取消"
    ATTENDED = "attended", "已到诊"
    NO_SHOW = "no_show", "爽约"


class BedStatus(models.TextChoices):
    HELD = "held", "已预留"
    ADMITTED = "admitted", "已入院"
    RELEASED = "released", "已出院/释放"
    CANCELLED = "cancelled", "已取消"
