from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "yigongti.staff"
    label = "staff"
    verbose_name = "人员"
