"""Writes of the review: milestones (more to come: requests, decisions, history)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment
from reviewapp.designs.snapshot import content_hash, design_snapshot
from reviewapp.reviews.models import Milestone


@transaction.atomic
def milestone_create(*, design: Design, user, name: str, kind: str = Milestone.Kind.MANUAL) -> Milestone:
    """Freeze the saved design's current assessment as the design's next milestone."""
    design = Design.objects.select_for_update().select_related("team").get(pk=design.pk)
    snapshot = design_snapshot(design_assessment(design), taken_at=timezone.now())
    number = (Milestone.objects.filter(design=design).aggregate(n=Max("number"))["n"] or 0) + 1
    return Milestone.objects.create(
        design=design, number=number, name=name.strip() or f"Milestone {number}", kind=kind,
        design_revision=design.revision, snapshot=snapshot, content_hash=content_hash(snapshot), created_by=user,
    )  # fmt: skip
