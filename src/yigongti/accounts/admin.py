from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from yigongti.accounts.models import ApiToken, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "institution", "scope_kind", "is_active")
    list_filter = ("scope_kind", "is_active", "is_staff")
    search_fields = ("username", "display_name")
    raw_id_fields = ("institution", "practitioner", "scope_medcom", "scope_division")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            "机构与数据范围",
            {
                "fields": (
                    "display_name",
                    "institution",
                    "practitioner",
                    "scope_kind",
                    "scope_medcom",
                    "scope_division",
                )
            },
        ),
    )
    inlines = [RoleAssignmentInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "role", "created_at", "last_used_at", "revoked")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
