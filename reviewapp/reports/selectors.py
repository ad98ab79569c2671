"""What a report renders: a milestone's snapshot, or the working draft's taken now; the previous
milestone it is compared with; and the cache key of the result."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.shortcuts import get_object_or_404

from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment
from reviewapp.designs.snapshot import content_hash, design_snapshot
from reviewapp.reviews.models import Milestone

# Part of every cache key: raise it when the report's layout changes, so that a new request
# renders anew (reports already made stay as they were).
LAYOUT_VERSION = 3  # 2: the Kubernetes manifests appendix (issue 15); 3: the trend chart (issue 28)


@dataclass(frozen=True)
class ReportSource:
    design: Design
    snapshot: dict[str, Any]
    milestone: Milestone | None
    previous: Milestone | None
    content_hash: str

    @property
    def cache_key(self) -> str:
        return cache_key(self.content_hash, self.milestone, self.previous)


def cache_key(content: str, milestone: Milestone | None, previous: Milestone | None) -> str:
    text = json.dumps([LAYOUT_VERSION, content, milestone.pk if milestone else None,
                       previous.content_hash if previous else None])
    return hashlib.sha256(text.encode()).hexdigest()


def draft_hash(snapshot: dict[str, Any]) -> str:
    """A draft's content without the time it was taken: an unchanged draft hits the cache."""
    return content_hash({**snapshot, "taken_at": None})


def previous_milestone(design: Design, before: int | None = None) -> Milestone | None:
    """The design's newest milestone (numbered below `before` when given)."""
    milestones = Milestone.objects.filter(design=design).select_related("created_by")
    if before is not None:
        milestones = milestones.filter(number__lt=before)
    return milestones.order_by("-number").first()


def draft_source(design: Design, *, now: dt.datetime) -> ReportSource:
    snapshot = design_snapshot(design_assessment(design), taken_at=now)
    return ReportSource(design=design, snapshot=snapshot, milestone=None, previous=previous_milestone(design),
                        content_hash=draft_hash(snapshot))


def milestone_for(design: Design, number: int) -> Milestone:
    return get_object_or_404(Milestone.objects.select_related("created_by"), design=design, number=number)


def milestone_source(design: Design, milestone: Milestone) -> ReportSource:
    return ReportSource(design=design, snapshot=milestone.snapshot, milestone=milestone,
                        previous=previous_milestone(design, before=milestone.number),
                        content_hash=milestone.content_hash)


def stored_source(report) -> ReportSource:
    """What a report row renders: its milestone's snapshot, or the draft frozen at request time."""
    if report.milestone_id:
        snapshot = report.milestone.snapshot
    else:
        snapshot = report.snapshot
    return ReportSource(design=report.design, snapshot=snapshot, milestone=report.milestone,
                        previous=report.previous, content_hash=report.content_hash)
