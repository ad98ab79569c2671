"""Checklists, their versions, sections and items; per design: the pinned version, answers and
accepted risks.

A published version never changes: a review pins it so that an old score can be reproduced. The
rule is enforced here (save/delete of versions, sections and items, and queryset update/delete),
in the admin (read-only once published) and in the services. Editing means a new draft version.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from engine import vocabulary

from reviewapp.core.choices import text_choices


class ImmutableVersionError(Exception):
    """A change to a version that is no longer a draft."""


class Checklist(models.Model):
    Scoring = text_choices("Scoring", vocabulary.SCORING_STRATEGIES)

    key = models.SlugField(max_length=128, unique=True, help_text="Stable id, as in the JSON file.")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    # The strategy new drafts start with; each version keeps its own copy, frozen at publish.
    scoring = models.CharField(max_length=16, choices=Scoring.choices, default=Scoring.WEIGHTED)
    is_default = models.BooleanField(
        default=False, help_text="Designs are assessed against the newest published version of the default checklist."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_checklist")
        ]

    def __str__(self) -> str:
        return self.name


class ChecklistVersionQuerySet(models.QuerySet):
    def published(self) -> "ChecklistVersionQuerySet":
        return self.filter(status=ChecklistVersion.Status.PUBLISHED)


class ChecklistVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    # What may still change on a published version: retiring it.
    MUTABLE_WHEN_PUBLISHED = frozenset({"status", "retired_at"})

    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    scoring = models.CharField(max_length=16, choices=Checklist.Scoring.choices, default=Checklist.Scoring.WEIGHTED)
    # [{"key": "bronze", "title": "Bronze"}, ...]; empty means the engine's default levels.
    levels = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, help_text="What changed in this version.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = ChecklistVersionQuerySet.as_manager()

    class Meta:
        ordering = ["checklist__name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "number"], name="one_number_per_checklist_version")
        ]

    def __str__(self) -> str:
        return f"{self.checklist} v{self.number} ({self.get_status_display().lower()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            stored = ChecklistVersion.objects.filter(pk=self.pk).values().first()
            if stored and stored["status"] != self.Status.DRAFT:
                changed = {
                    f.attname for f in self._meta.concrete_fields
                    if stored[f.attname] != getattr(self, f.attname)
                }
                allowed = changed <= self.MUTABLE_WHEN_PUBLISHED and self.status != self.Status.DRAFT
                if not allowed:
                    raise ImmutableVersionError(
                        f"{self} is {stored['status']}: it cannot change (make a new draft from it)."
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if ChecklistVersion.objects.filter(pk=self.pk).exclude(status=self.Status.DRAFT).exists():
            raise ImmutableVersionError(f"{self} is not a draft: it cannot be deleted.")
        return super().delete(*args, **kwargs)


def _refuse_unless_draft(version_ids) -> None:
    frozen = ChecklistVersion.objects.filter(pk__in=version_ids).exclude(status=ChecklistVersion.Status.DRAFT)
    if frozen.exists():
        raise ImmutableVersionError(f"{frozen.first()} is not a draft: its sections and items cannot change.")


class SectionQuerySet(models.QuerySet):
    # Bulk writes skip save(); they obey the same rule.
    def update(self, **kwargs):
        _refuse_unless_draft(self.values_list("version_id", flat=True))
        return super().update(**kwargs)

    def delete(self):
        _refuse_unless_draft(self.values_list("version_id", flat=True))
        return super().delete()


class Section(models.Model):
    version = models.ForeignKey(ChecklistVersion, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=128)
    title = models.CharField(max_length=128)
    order = models.IntegerField(default=0)
    description = models.TextField(blank=True)

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["version", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="one_section_key_per_version")]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def save(self, *args, **kwargs) -> None:
        _refuse_unless_draft([self.version_id])
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_draft([self.version_id])
        return super().delete(*args, **kwargs)


class ItemQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse_unless_draft(self.values_list("section__version_id", flat=True))
        return super().update(**kwargs)

    def delete(self):
        _refuse_unless_draft(self.values_list("section__version_id", flat=True))
        return super().delete()


class Item(models.Model):
    Severity = text_choices("Severity", vocabulary.SEVERITIES)
    Mode = text_choices("Mode", vocabulary.MODES)

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items")
    order = models.IntegerField(default=0)
    key = models.CharField(max_length=128, help_text="Stable across versions: answers follow the key.")
    title = models.CharField(max_length=128)
    question = models.TextField(blank=True)
    why = models.TextField(blank=True, help_text="Why it matters.")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    weight = models.FloatField(default=1.0)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.MANUAL)
    applies_when = models.TextField(blank=True, help_text="CEL over the facts; the item is not applicable when false.")
    passes_when = models.TextField(blank=True, help_text="CEL over the facts; required for automatic items.")
    level = models.CharField(max_length=128, blank=True)
    improvement_plan = models.TextField(blank=True)
    # Lists of plain JSON objects, in our checklist format (see docs/checklist-format.md).
    resources = models.JSONField(default=list, blank=True, help_text='[{"title": "...", "url": "https://..."}]')
    choices = models.JSONField(default=list, blank=True, help_text="Multiple-choice answers (AWS lens style).")
    risk_rules = models.JSONField(
        default=list, blank=True, help_text='Ordered: [{"condition": "a && b", "risk": "NO_RISK"}, ..., {"condition": "default", "risk": "HIGH_RISK"}]'
    )

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["section__order", "section_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["section", "key"], name="one_item_key_per_section")]

    def __str__(self) -> str:
        return f"{self.key}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        _refuse_unless_draft(Section.objects.filter(pk=self.section_id).values("version_id"))
        if self.pk:  # moving an item out of a frozen version changes that version too
            _refuse_unless_draft(Item.objects.filter(pk=self.pk).values("section__version_id"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse_unless_draft(Section.objects.filter(pk=self.section_id).values("version_id"))
        return super().delete(*args, **kwargs)


class DesignReview(models.Model):
    """A design's assessment: the checklist version it is scored with (pinned), its answers and
    accepted risks. Keeps its pin when a newer version is published; a reviewer re-pins."""

    design = models.OneToOneField("designs.Design", on_delete=models.CASCADE, related_name="review")
    version = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="reviews")
    pinned_at = models.DateTimeField(auto_now_add=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.design} against {self.version}"


class Answer(models.Model):
    Status = text_choices("Status", vocabulary.ANSWER_STATUSES)

    review = models.ForeignKey(DesignReview, on_delete=models.CASCADE, related_name="answers")
    # By key, not by Item row: an answer carries over to the next version of the checklist.
    item_key = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    choices = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "item_key"], name="one_answer_per_item")]

    def __str__(self) -> str:
        return f"{self.item_key}: {self.status or ', '.join(self.choices)}"

    def as_engine_answer(self) -> dict:
        if self.status == self.Status.NOT_APPLICABLE or not self.choices:
            return {"status": self.status, "reason": self.reason}
        return {"choices": list(self.choices), "reason": self.reason}


class RiskAcceptance(models.Model):
    review = models.ForeignKey(DesignReview, on_delete=models.CASCADE, related_name="acceptances")
    item_key = models.CharField(max_length=128)
    rationale = models.TextField()
    expires_on = models.DateField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "item_key"], name="one_acceptance_per_item")]

    def __str__(self) -> str:
        return f"{self.item_key} accepted by {self.accepted_by}"

    def as_engine_acceptance(self) -> dict:
        return {"rationale": self.rationale, "expires": self.expires_on.isoformat() if self.expires_on else None}
