"""URLs of the scheduling pages (see ``views.py``)."""

from django.urls import path

from yigongti.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.slots, name="slots"),
    path("schedules/<int:pk>/book/", views.book, name="book"),
    path("bookings/", views.my_bookings, name="my_bookings"),
    path("bookings/<int:pk>/cancel/", views.cancel_booking, name="cancel_booking"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:pk>/cancel/", views.cancel_schedule, name="cancel_schedule"),
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/<int:pk>/<str:action>/", views.mark_booking, name="mark_booking"),
    path("beds/", views.beds, name="beds"),
    path("beds/ward/<int:pk>/hold/", views.hold_bed, name="hold_bed"),
    path("beds/<int:pk>/<str:action>/", views.move_bed, name="move_bed"),
]
