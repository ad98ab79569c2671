"""The review record: milestones, review requests, decisions and the design's history.

Milestones, decisions and history events are append-only: written once, never changed or deleted
one by one (`save` of a stored row, `delete`, and the queryset's `update` and `delete` refuse). They
go only with their design, when an owner deletes it. A review request is the one row that changes:
it is closed (compare-and-set on its state) by a decision or a withdrawal.

A milestone's `snapshot` holds every value a page or a report shows, so it reads the same forever.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImmutableRecordError(Exception):
    """A row of the review record is written once."""


class ImmutableMilestoneError(ImmutableRecordError):
    """A milestone is written once."""


class AppendOnlyQuerySet(models.QuerySet):
    # Bulk writes skip save(); they obey the same rule.
    def update(self, **kwargs):
        raise self.model.immutable_error(f"{self.model._meta.verbose_name_plural.capitalize()} never change.")

    def delete(self):
        raise self.model.immutable_error(
            f"{self.model._meta.verbose_name_plural.capitalize()} are kept (they are the review record).")


class AppendOnly(models.Model):
    """Refuses to change or delete a stored row (a design's deletion still takes its record along:
    the cascade deletes in bulk, below these methods)."""

    immutable_error = ImmutableRecordError

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise self.immutable_error(f"{self._meta.verbose_name_plural.capitalize()} never change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise self.immutable_error(
            f"{self._meta.verbose_name_plural.capitalize()} are kept (they are the review record).")


class Milestone(AppendOnly):
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

    immutable_error = ImmutableMilestoneError

    class Meta:
        ordering = ["design", "-number"]
        constraints = [models.UniqueConstraint(fields=["design", "number"], name="one_milestone_number_per_design")]

    def __str__(self) -> str:
        return f"M{self.number} {self.name}"


class ReviewRequest(models.Model):
    """A member asks for a review of the design as it is (frozen in `milestone`)."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        WITHDRAWN = "withdrawn", "Withdrawn"

    design = models.ForeignKey("designs.Design", on_delete=models.CASCADE, related_name="review_requests")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="+")
    design_revision = models.PositiveIntegerField()
    # The design's status when it was asked: a withdrawal goes back to it.
    status_before = models.CharField(max_length=32)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                       help_text="Named reviewers; none means any reviewer of the team.")
    message = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["design", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["design"], condition=Q(state="open"), name="one_open_review_request_per_design")
        ]

    def __str__(self) -> str:
        return f"Review of {self.design} requested by {self.requested_by} ({self.get_state_display().lower()})"


class Decision(AppendOnly):
    """A reviewer's decision on the design as it was (frozen in `milestone`). An approval over open
    high risks or rule errors records the reviewer's `override_reason` and the findings it overrode."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    design = models.ForeignKey("designs.Design", on_delete=models.CASCADE, related_name="decisions")
    request = models.ForeignKey(ReviewRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions")
    milestone = models.OneToOneField(Milestone, on_delete=models.CASCADE, related_name="decision")
    design_revision = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    comment = models.TextField()
    override_reason = models.TextField(blank=True)
    # [{"item_key", "title", "severity", "outcome", "message"}]: the blockers approved over.
    overridden = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["design", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} by {self.decided_by} (revision {self.design_revision})"


class HistoryEvent(AppendOnly):
    """One line of a design's append-only history: who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        REVIEW_REQUESTED = "review_requested", "Review requested"
        REVIEW_WITHDRAWN = "review_withdrawn", "Review request withdrawn"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        MILESTONE_SAVED = "milestone_saved", "Milestone saved"
        ANSWERED = "answered", "Answered"
        ANSWER_CLEARED = "answer_cleared", "Answer cleared"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"
        RISK_REVOKED = "risk_revoked", "Accepted risk revoked"
        REPINNED = "repinned", "Checklist re-pinned"

    design = models.ForeignKey("designs.Design", on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The name as it was: the line still reads right after the account is renamed or deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    design_revision = models.PositiveIntegerField()
    # The design's review status after the event.
    status = models.CharField(max_length=32, blank=True)
    milestone = models.ForeignKey(Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["design", "-id"]
        indexes = [models.Index(fields=["design", "kind", "id"], name="history_design_kind_id")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.summary}"
