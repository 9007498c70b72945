from django.urls import path

from yigongti.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    # browsers ask for /favicon.ico on pages that name no icon (printouts): the platform's one
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.WebLogoutView.as_view(), name="logout"),
    path("password/", views.WebPasswordChangeView.as_view(), name="password_change"),
    path("role/", views.switch_role, name="switch_role"),
    path("org/tree/", views.org_tree, name="org_tree"),
    path("org/<str:code>/", views.org_detail, name="org_detail"),
    path("staff/", views.staff_list, name="staff_list"),
    path("residents/", views.resident_search, name="resident_search"),
    path("residents/duplicates/", views.duplicates, name="duplicates"),
    path("residents/duplicates/<int:pk>/", views.duplicate_decide, name="duplicate_decide"),
    path("residents/<str:mpi_id>/", views.resident_detail, name="resident_detail"),
    path("residents/<str:mpi_id>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("audit/", views.audit_log, name="audit_log"),
]
