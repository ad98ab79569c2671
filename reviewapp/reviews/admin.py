"""The review record in the admin: staff read it (the history is the audit log); nobody edits it
here. Decisions, milestones and history events are append-only in the models too."""

from django.contrib import admin

from reviewapp.reviews.models import Decision, HistoryEvent, Milestone, ReviewRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HistoryEvent)
class HistoryEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "design", "actor_name", "kind", "summary", "design_revision", "status"]
    list_filter = ["kind", "design__team"]
    search_fields = ["summary", "actor_name", "design__name"]
    list_select_related = ["design"]
    date_hierarchy = "created_at"


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ["design", "number", "name", "kind", "design_revision", "created_by", "created_at"]
    list_filter = ["kind", "design__team"]
    search_fields = ["name", "design__name"]
    list_select_related = ["design", "created_by"]


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyAdmin):
    list_display = ["design", "requested_by", "state", "design_revision", "created_at", "closed_by", "closed_at"]
    list_filter = ["state", "design__team"]
    search_fields = ["design__name", "message"]
    list_select_related = ["design", "requested_by", "closed_by"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["design", "outcome", "decided_by", "design_revision", "overrode", "created_at"]
    list_filter = ["outcome", "design__team"]
    search_fields = ["design__name", "comment", "override_reason"]
    list_select_related = ["design", "decided_by"]

    @admin.display(boolean=True, description="Override")
    def overrode(self, obj: Decision) -> bool:
        return bool(obj.override_reason)
