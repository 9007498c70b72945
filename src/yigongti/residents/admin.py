from django.contrib import admin

from yigongti.residents.models import CareRelationship, DuplicateCandidate, Household

# Residents are person-level records: they are read through the audited pages and API only,
# never through the admin. Households and care relationships are reference data here.


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("code", "division")
    search_fields = ("code",)
    raw_id_fields = ("division",)


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    list_display = ("id", "reason", "status", "found_at", "decided_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in DuplicateCandidate._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CareRelationship)
class CareRelationshipAdmin(admin.ModelAdmin):
    list_display = ("id", "institution", "kind", "source", "valid_from", "valid_to")
    list_filter = ("kind", "source")
    raw_id_fields = ("resident", "institution", "practitioner")
