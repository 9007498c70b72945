from django.contrib import admin

from yigongti.geo.models import Division


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "kind", "is_urban", "population")
    list_filter = ("level", "kind", "is_urban")
    search_fields = ("code", "name", "full_name")
    raw_id_fields = ("parent",)
