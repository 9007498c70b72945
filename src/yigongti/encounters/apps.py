from django.apps import AppConfig


class EncountersConfig(AppConfig):
    name = "yigongti.encounters"
    label = "encounters"
    verbose_name = "诊疗与结算"
