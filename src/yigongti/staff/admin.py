from django.contrib import admin

from yigongti.staff.models import PracticeSite, Practitioner


class PracticeSiteInline(admin.TabularInline):
    model = PracticeSite
    extra = 0
    raw_id_fields = ("institution",)


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "profession", "title_grade", "specialty", "employer")
    list_filter = ("profession", "title_grade", "practice_category")
    search_fields = ("code", "name")
    raw_id_fields = ("employer", "department")
    inlines = [PracticeSiteInline]
