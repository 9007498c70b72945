from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "yigongti.indicators"
    label = "indicators"
    verbose_name = "监测指标"
