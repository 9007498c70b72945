"""URL map: pages under /, the JSON API under /api/v1, the admin under /admin."""

from django.contrib import admin
from django.urls import include, path

from yigongti.config.api import api

admin.site.site_header = "医共体一体化管理平台 · 基础数据管理"
admin.site.site_title = "医共体平台管理"
admin.site.index_title = "基础数据"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("residents/", include("yigongti.residents.urls")),
    path("encounters/", include("yigongti.encounters.urls")),
    path("encounters/", include("yigongti.encounters.page_urls")),
    path("indicators/", include("yigongti.indicators.urls")),
    path("scheduling/", include("yigongti.scheduling.urls")),
    path("referrals/", include("yigongti.referrals.urls")),
    path("", include("yigongti.web.urls")),
]
