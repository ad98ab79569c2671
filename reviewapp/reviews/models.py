"""Milestones: immutable snapshots of a design's assessment (reviewapp.designs.snapshot).

A milestone is written once and never changed: `save` refuses an update and `delete` refuses,
the queryset's `update` and `delete` refuse too. Its `snapshot` holds every value a page or a
report shows, so it reads the same forever.
"""

from django.conf import settings
from django.db import models


class ImmutableMilestoneError(Exception):
    """A milestone is written once."""


class MilestoneQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableMilestoneError("Milestones never change.")

    def delete(self):
        raise ImmutableMilestoneError("Milestones are kept (they are the review record).")


class Milestone(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", "Saved by hand"
        DECISION = "decision", "Review decision"
        REQUEST = "request", "Review requested"

    design = models.ForeignKey("designs.Design", on_delete=models.CASCADE, related_name="milestones")
    number = models.PositiveIntegerField(help_text="1, 2, ... per design.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    design_revision = models.PositiveIntegerField()
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["design", "-number"]
        constraints = [models.UniqueConstraint(fields=["design", "number"], name="one_milestone_number_per_design")]

    def __str__(self) -> str:
        return f"M{self.number} {self.name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableMilestoneError("Milestones never change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableMilestoneError("Milestones are kept (they are the review record).")
