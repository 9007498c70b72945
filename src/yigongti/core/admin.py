from django.contrib import admin

from yigongti.core.models import AuditEvent, PolicyParameter


@admin.register(PolicyParameter)
class PolicyParameterAdmin(admin.ModelAdmin):
    list_display = ("key", "region_code", "effective_from", "effective_to", "value", "source")
    list_filter = ("key",)
    search_fields = ("key", "source")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: audit rows are never changed or deleted by the application."""

    list_display = ("seq", "occurred_at", "actor_username", "action", "resource_type", "basis")
    list_filter = ("action", "basis", "channel")
    search_fields = ("actor_username", "resource_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
