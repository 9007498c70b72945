from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "yigongti.organizations"
    label = "organizations"
    verbose_name = "医共体与机构"
