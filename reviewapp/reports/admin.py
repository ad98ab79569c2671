from django.contrib import admin

from reviewapp.reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("pk", "design", "milestone", "status", "page_count", "render_seconds", "created_at")
    list_filter = ("status",)
    search_fields = ("design__name",)
    readonly_fields = [f.name for f in Report._meta.fields if f.name != "pdf"]
    exclude = ("pdf",)

    def has_add_permission(self, request) -> bool:
        return False
