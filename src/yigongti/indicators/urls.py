from django.urls import path

from yigongti.indicators import views

app_name = "indicators"

urlpatterns = [path("", views.dashboard, name="dashboard")]
