from django.urls import path

from yigongti.indicators import evidence_views, views

app_name = "indicators"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("report/", views.report, name="report"),
    # The evidence register of nhc-01 … nhc-03 (files only through the scoped download view).
    path("evidence/", evidence_views.evidence_register, name="evidence"),
    path("evidence/<int:pk>/withdraw/", evidence_views.evidence_withdraw, name="evidence_withdraw"),
    path("evidence/<int:pk>/file/", evidence_views.evidence_file, name="evidence_file"),
    path(
        "drill/<str:code>/<str:period>/<str:level>/<str:org_code>/",
        views.drilldown,
        name="drilldown",
    ),
    path(
        "drill/<str:code>/<str:period>/<str:level>/<str:org_code>/records/",
        views.records,
        name="records",
    ),
]
