"""Review reports: the PDF of a milestone (or of a working draft), made by a Celery job.

A report row is the cache entry: one live or ready row per design and cache key (the content
hash of what it renders, the milestone, the previous milestone and the layout version), so a
second request for an unchanged milestone finds the ready row and renders nothing.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Report(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Rendering"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    LIVE = (Status.QUEUED, Status.RUNNING, Status.READY)

    design = models.ForeignKey("designs.Design", on_delete=models.CASCADE, related_name="reports")
    milestone = models.ForeignKey(
        "reviews.Milestone", null=True, blank=True, on_delete=models.CASCADE, related_name="reports",
        help_text="Empty for a working draft.",
    )  # fmt: skip
    previous = models.ForeignKey(
        "reviews.Milestone", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The milestone the report compares with.",
    )  # fmt: skip
    # A working draft is frozen here when the PDF is requested; a milestone's is the milestone's.
    snapshot = models.JSONField(null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=64, help_text="Digest of the snapshot rendered.")
    cache_key = models.CharField(max_length=64, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    reason = models.TextField(blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_size_bytes = models.PositiveIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    render_seconds = models.FloatField(null=True, blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The cache: at most one queued, running or ready report per content.
            models.UniqueConstraint(
                fields=["design", "cache_key"], condition=Q(status__in=["queued", "running", "ready"]),
                name="one_live_report_per_content",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"Report #{self.pk} of {self.subject} ({self.status})"

    @property
    def subject(self) -> str:
        return f"milestone {self.milestone.number}" if self.milestone_id else "the working draft"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def get_absolute_url(self) -> str:
        return reverse("reports:status", args=[self.design_id, self.pk])
