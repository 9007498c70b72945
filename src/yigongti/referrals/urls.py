from django.urls import path

from yigongti.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/print/", views.print_form, name="print"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
]
