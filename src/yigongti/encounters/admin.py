from django.contrib import admin
from django.http import HttpRequest

from yigongti.encounters.models import DiagnosisCode, Encounter, ProcedureCode

# The code catalogues are reference data that a county may correct or extend here.
# Encounters are person-level records written only through the services (imports, pages,
# generator): the admin lists them read-only.


@admin.register(DiagnosisCode)
class DiagnosisCodeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "chapter",
        "notifiable_disease",
        "notifiable_class",
        "is_chronic",
    )
    list_filter = ("chapter", "notifiable_class", "is_chronic")
    search_fields = ("code", "name", "notifiable_disease")


@admin.register(ProcedureCode)
class ProcedureCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "grade")
    list_filter = ("grade",)
    search_fields = ("code", "name")


@admin.register(Encounter)
class EncounterAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "source_system",
        "institution",
        "setting",
        "visit_date",
        "principal_diagnosis",
        "total_cost",
    )
    list_filter = ("setting", "institution")
    date_hierarchy = "visit_date"
    search_fields = ("external_id", "principal_diagnosis")
    list_select_related = ("institution",)
    exclude = ("resident",)
    readonly_fields = [f.name for f in Encounter._meta.fields if f.name != "resident"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
