"""The design's append-only history, and the one automatic status change: a change to what was
approved makes the design "changed since approval".

Light on imports on purpose: the checklist and design services call `design_changed` (one line
each), and this module must not import them back.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from reviewapp.designs.models import Design
from reviewapp.reviews.models import HistoryEvent
from reviewapp.reviews.workflow import TRANSITIONS, Action

Kind = HistoryEvent.Kind
# What counts as authoring the design for separation of duties (answers and acceptances are the
# review's own work, not the design's).
AUTHORING = (Kind.CREATED, Kind.EDITED)
DECISIONS = (Kind.APPROVED, Kind.CHANGES_REQUESTED)


def history_record(*, design: Design | int, user, kind: str, summary: str, data: dict | None = None,
                   milestone=None, revision: int | None = None, status: str | None = None) -> HistoryEvent:
    """Append one event. `design` may be an id; revision and status are read when not given."""
    design_id = design if isinstance(design, int) else design.pk
    if revision is None or status is None:
        revision, status = Design.objects.filter(pk=design_id).values_list("revision", "status").get()
    return HistoryEvent.objects.create(
        design_id=design_id, kind=kind, actor=user if user is not None and user.is_authenticated else None,
        actor_name=user.get_username() if user is not None and user.is_authenticated else "",
        summary=summary[:500], data=data or {}, design_revision=revision, status=status, milestone=milestone,
    )  # fmt: skip


@transaction.atomic
def design_changed(*, design: Design | int, user, kind: str, summary: str, data: dict | None = None) -> HistoryEvent:
    """Something the review covers changed (inputs, name, an answer, an accepted risk, the pinned
    checklist version): record it, and move an approved design to "changed since approval"
    (compare-and-set on the status, so it cannot undo a concurrent decision)."""
    design_id = design if isinstance(design, int) else design.pk
    edit = TRANSITIONS[Action.EDIT]
    moved = Design.objects.filter(pk=design_id, status__in=edit.sources).update(status=edit.target)
    if moved:
        data = {**(data or {}), "approval_superseded": True}
        summary += " The approval no longer matches the design."
    return history_record(design=design_id, user=user, kind=kind, summary=summary, data=data)


def editors_since_last_decision(design: Design) -> set[int]:
    """Ids of the people who created or edited the design since its last decision (ever, when there
    was none). A design made before history was kept counts its creator."""
    events = HistoryEvent.objects.filter(design=design)
    last = events.filter(kind__in=DECISIONS).aggregate(last=Max("id"))["last"]
    authoring = events.filter(kind__in=AUTHORING)
    if last is not None:
        authoring = authoring.filter(id__gt=last)
    editors = set(authoring.exclude(actor=None).values_list("actor_id", flat=True).distinct())
    if last is None and design.created_by_id is not None and not events.filter(kind=Kind.CREATED).exists():
        editors.add(design.created_by_id)
    return editors
