"""Staff manage webhook endpoints per team here and read every delivery (read-only); actions
and their history are shown for support, changed through the app."""

from django.contrib import admin
from django.db import models

from reviewapp.actions.models import Action, ActionEvent, WebhookDelivery, WebhookEndpoint


class ActionEventInline(admin.TabularInline):
    model = ActionEvent
    fields = ["created_at", "user", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["pk", "title", "design", "team", "owner", "due_on", "status"]
    list_filter = ["status", "team"]
    search_fields = ["title", "item_key", "design__name"]
    list_select_related = ["design", "team", "owner"]
    readonly_fields = ["team", "design", "item_key", "title", "severity", "improvement_plan", "created_by",
                       "created_at", "updated_at", "closed_at", "overdue_notified_on"]
    inlines = [ActionEventInline]


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["created_at", "event", "status", "attempts", "status_code", "delivered_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "team", "is_active", "created_at"]
    list_filter = ["is_active", "team"]
    inlines = [DeliveryInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a bare host means https


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["delivery_id", "event", "endpoint", "status", "attempts", "status_code", "created_at",
                    "delivered_at"]
    list_filter = ["status", "event", "endpoint__team"]
    search_fields = ["delivery_id", "endpoint__url", "last_error"]
    list_select_related = ["endpoint__team"]
    readonly_fields = ["delivery_id", "endpoint", "action", "event", "payload", "status", "attempts", "status_code",
                       "last_error", "created_at", "delivered_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
