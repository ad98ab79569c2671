from django.conf import settings
from django.db import models

from reviewapp.accounts.models import Team


class DesignQuerySet(models.QuerySet):
    def for_user(self, user) -> "DesignQuerySet":
        """Only the designs of teams the user belongs to: the one access rule."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(team__memberships__user=user)


class Design(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="designs")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.DRAFT)
    # The design document: {"requirements": {...}, "architecture": {...}} as
    # defined once in engine.design.
    inputs = models.JSONField(default=dict, blank=True)
    # Bumped on every save; a form carries the revision it was read at, so a
    # save based on a stale read is refused instead of overwriting (no lost updates).
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DesignQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="design_name_unique_per_team")
        ]

    def __str__(self) -> str:
        return self.name
