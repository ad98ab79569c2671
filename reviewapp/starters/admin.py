from django.contrib import admin

from reviewapp.starters.models import Starter


@admin.register(Starter)
class StarterAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "is_active", "position", "updated_at"]
    list_editable = ["is_active", "position"]
    search_fields = ["key", "name", "description"]
    readonly_fields = ["name", "description", "updated_at"]
    fields = ["key", "text", "is_active", "position", "name", "description", "updated_at"]
