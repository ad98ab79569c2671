from django.contrib import admin

from reviewapp.designs.models import Design


@admin.register(Design)
class DesignAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "status", "revision", "updated_at"]
    list_filter = ["status", "team"]
    search_fields = ["name", "description", "team__name"]
    readonly_fields = ["revision", "created_at", "updated_at", "created_by", "updated_by"]
