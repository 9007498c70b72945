from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yigongti.web"
    label = "web"
    verbose_name = "网页"
