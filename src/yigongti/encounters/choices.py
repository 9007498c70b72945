from django.db import models


class Setting(models.TextChoices):
    OUTPATIENT = "outpatient", "门诊"
    EMERGENCY = "emergency", "急诊"
    INPATIENT = "inpatient", "住院"


class ExternalKind(models.TextChoices):
    OUT_OF_COUNTY = "out_of_county", "县域外就医"
    PHARMACY = "pharmacy", "定点零售药店"


class ImportKind(models.TextChoices):
    ENCOUNTERS = "encounters", "诊疗记录"
    SETTLEMENTS = "settlements", "县域外及药店结算"
    FHIR = "fhir", "FHIR 数据包"


class BatchStatus(models.TextChoices):
    RUNNING = "running", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
