from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class BenchmarkRun(models.Model):
    """One measurement of a design's model: a job run here, an uploaded result, or entered figures.

    A job moves queued -> running -> one of the ended statuses, and every move is a
    compare-and-set in `services` (an ended run never changes again). `measurements` is what
    `engine.assess(..., measurements=...)` takes; `selectors.measurements_in_force` picks the one
    run whose measurements a design's assessment uses.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        TIMED_OUT = "timed_out", "Timed out"

    class Source(models.TextChoices):
        RUN = "run", "Measured here"
        UPLOADED = "uploaded", "Uploaded result"
        ENTERED = "entered", "Entered figures"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    ENDED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT)

    design = models.ForeignKey("designs.Design", on_delete=models.CASCADE, related_name="benchmark_runs")
    design_revision = models.PositiveIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.RUN)
    source_note = models.TextField(blank=True, help_text="Where uploaded or entered figures come from.")
    spec = models.JSONField(default=dict, blank=True)
    # engine.bench.design_spec.model_shape_key: a run whose shape differs from the design's is stale.
    shape_key = models.CharField(max_length=200)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    reason = models.TextField(blank=True)
    progress = models.FloatField(default=0.0)
    phase = models.CharField(max_length=200, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The job stops itself at this limit (the setting when it was requested).
    soft_time_limit_s = models.FloatField(default=1500.0)

    task_id = models.CharField(max_length=255, blank=True)
    # Which execution holds a running run: a superseded or duplicate delivery cannot write.
    lease = models.CharField(max_length=64, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    device = models.CharField(max_length=200, blank=True)

    result = models.JSONField(null=True, blank=True)  # engine.bench.run's dict, as returned
    measurements = models.JSONField(null=True, blank=True)
    notes = models.JSONField(default=list, blank=True)

    pinned_at = models.DateTimeField(null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["design", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["design"], condition=Q(pinned_at__isnull=False),
                                    name="one_pinned_benchmark_per_design"),
        ]

    def __str__(self) -> str:
        return f"Benchmark #{self.pk} of {self.design_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("benchmarks:run", args=[self.design_id, self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def pinned(self) -> bool:
        return self.pinned_at is not None

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
