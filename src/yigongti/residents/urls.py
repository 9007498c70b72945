from django.urls import path

from yigongti.residents import views

app_name = "residents"

urlpatterns = [
    path("new/", views.register, name="register"),
]
