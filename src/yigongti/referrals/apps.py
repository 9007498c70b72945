from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "yigongti.referrals"
    label = "referrals"
    verbose_name = "双向转诊"
