from django.contrib import admin

from yigongti.organizations.models import (
    Affiliation,
    Department,
    Institution,
    ManagementUnit,
    Medcom,
)


class ManagementUnitInline(admin.TabularInline):
    model = ManagementUnit
    extra = 0


@admin.register(Medcom)
class MedcomAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "division", "established_on")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    inlines = [ManagementUnitInline]


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "inst_type", "level", "beds", "tree_link", "medcom")
    list_filter = ("inst_type", "level", "tree_link", "medcom", "is_public")
    search_fields = ("code", "name", "short_name")
    raw_id_fields = ("division", "service_division", "parent")
    readonly_fields = ("path", "depth")
    inlines = [DepartmentInline]


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin):
    list_display = ("institution", "kind", "parent_institution", "parent_division")
    list_filter = ("kind",)
    raw_id_fields = ("institution", "parent_institution", "parent_division")
