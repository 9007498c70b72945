from django.db import models


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县（区）"
    TOWNSHIP = "township", "乡镇（街道）"
    VILLAGE = "village", "村（社区）"


class DivisionKind(models.TextChoices):
    """Urban or rural character of a township or village (统计用城乡划分, simplified)."""

    TOWN = "town", "镇"
    TOWNSHIP = "township", "乡"
    STREET = "street", "街道"
    VILLAGE = "village", "行政村"
    COMMUNITY = "community", "社区"
    OTHER = "other", "其他"
