from django.urls import path

from yigongti.encounters import views

app_name = "encounters"

urlpatterns = [
    path("import/", views.import_upload, name="import"),
    path("import/batches/", views.batch_list, name="batch_list"),
    path("import/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("import/batches/<int:pk>/errors.xlsx", views.batch_errors, name="batch_errors"),
    path("import/template/<str:kind>.<str:fmt>", views.template_download, name="template"),
]
