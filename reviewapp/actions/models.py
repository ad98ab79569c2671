"""Improvement actions: a failing finding of a design, tracked until it is done.

An action copies the finding's item key, title and improvement plan when it is made, so it reads
the same after the checklist moves on. Its history (`ActionEvent`) is append-only. Webhook
endpoints are staff-managed per team; each event sent to one is a `WebhookDelivery` row, the unit
of idempotence (its id travels in the payload and a header; a delivered row is never sent again).
"""

import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q

from reviewapp.accounts.models import Team
from reviewapp.designs.models import Design


class ActionQuerySet(models.QuerySet):
    def for_user(self, user) -> "ActionQuerySet":
        """Only the actions of teams the user belongs to: the same rule as designs."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__memberships__user=user)

    def still_open(self) -> "ActionQuerySet":
        return self.filter(status__in=Action.OPEN_STATUSES)

    def overdue(self, today) -> "ActionQuerySet":
        return self.still_open().filter(due_on__lt=today)


class Action(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="actions")
    design = models.ForeignKey(Design, on_delete=models.CASCADE, related_name="actions")
    item_key = models.CharField(max_length=120)
    title = models.CharField(max_length=300)
    severity = models.CharField(max_length=16, blank=True)
    improvement_plan = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_actions")
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    wont_do_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The day the overdue email went out, so the daily check sends it once per due date.
    overdue_notified_on = models.DateField(null=True, blank=True)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # One live action per finding: tracking it again opens the existing one.
            models.UniqueConstraint(fields=["design", "item_key"], condition=Q(status__in=["open", "in_progress"]),
                                    name="one_open_action_per_finding"),
            models.CheckConstraint(condition=~Q(status="wont_do") | ~Q(wont_do_reason=""),
                                   name="wont_do_needs_a_reason"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title} ({self.design})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, today) -> bool:
        return self.is_open and self.due_on < today


class ActionEvent(models.Model):
    """One change of an action, in words and as data (append-only)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.summary


# Its own code: under "invalid" the field would replace the message with a generic one.
http_url = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.", code="scheme")


class WebhookEndpoint(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500, validators=[http_url], help_text="http:// or https:// only.")
    secret = models.CharField(max_length=200, help_text="Shared with the receiver; signs every body (HMAC-SHA256).")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "url"]

    def __str__(self) -> str:
        return f"{self.team}: {self.url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint.url} ({self.status})"
