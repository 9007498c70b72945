"""URLs of the encounter pages (list per institution, resident timeline); see ``pages.py``."""

from django.urls import path

from yigongti.encounters import pages

app_name = "encounter_pages"

urlpatterns = [
    path("", pages.encounter_list, name="list"),
    path("resident/<str:mpi_id>/", pages.resident_timeline, name="resident_timeline"),
]
