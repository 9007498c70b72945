from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "yigongti.scheduling"
    label = "scheduling"
    verbose_name = "号源与床位"
