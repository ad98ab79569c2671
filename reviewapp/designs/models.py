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
        # Approved, then saved again: the approval covers a milestone the design no longer matches
        # (reviewapp.reviews.workflow holds the transitions).
        CHANGED_SINCE_APPROVAL = "changed_since_approval", "Changed since approval"

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


class GpuPrice(models.Model):
    """One accelerator of the staff-edited price catalog.

    The planning reads the catalog through `reviewapp.designs.catalog.gpu_catalog()`, which turns
    these rows into the engine's plain catalog dict; while the table is empty it falls back to the
    shipped `engine/data/gpu_prices.json` (`manage.py load_gpu_prices` copies that file in).
    """

    class Kind(models.TextChoices):
        GPU = "gpu", "GPU"
        CPU = "cpu", "CPU"

    key = models.SlugField(max_length=64, unique=True, help_text="Stable id that designs store, e.g. h100-80gb.")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.GPU)
    position = models.PositiveIntegerField(default=0, help_text="Order in the accelerator menu.")
    memory_gb = models.FloatField()
    bf16_tflops = models.FloatField(help_text="Dense 16-bit tensor throughput.")
    fp8_tflops = models.FloatField(null=True, blank=True)
    int8_tops = models.FloatField(null=True, blank=True)
    memory_bandwidth_gb_s = models.FloatField()
    on_demand_usd_per_hour = models.FloatField()
    spot_usd_per_hour = models.FloatField()
    reserved_1y_usd_per_hour = models.FloatField()
    reserved_3y_usd_per_hour = models.FloatField()
    source = models.TextField(blank=True, help_text="Where the prices come from.")
    as_of = models.DateField(null=True, blank=True, help_text="When the prices were read.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = "GPU price"

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        # The engine owns what a valid catalog entry is; ask it rather than restate the rules.
        from reviewapp.designs.catalog import validate_gpu_price

        validate_gpu_price(self)
