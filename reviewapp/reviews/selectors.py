"""What the review control, the decision dialog and the review pages show, read once per request
from the design's assessment (computed by the view) and a fixed number of queries (none grows with
the history's length or the checklist's size). Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from reviewapp.designs.models import Design
from reviewapp.designs.selectors import DesignAssessment
from reviewapp.designs.snapshot import design_snapshot
from reviewapp.reviews.diff import snapshot_diff
from reviewapp.reviews.forms import DecisionForm
from reviewapp.reviews.models import Decision, HistoryEvent, Milestone
from reviewapp.reviews.services import approval_blockers, open_request
from reviewapp.reviews.workflow import Action, Gate, allowed_actions, approval_gate

RECENT_HISTORY = 8


@dataclass
class ReviewPanel:
    design: Design
    actions: list[str]
    request: Any = None  # the open ReviewRequest
    request_reviewers: list = field(default_factory=list)
    approval: Decision | None = None  # the decision the status rests on (approved / changed since approval)
    last_decision: Decision | None = None
    can_decide: bool = False  # the role to decide, and the design in review
    self_approval: list[str] = field(default_factory=list)  # why this user may not approve
    gate: Gate | None = None
    milestone_count: int = 0
    changes: dict | None = None  # snapshot_diff(approved milestone, now) when changed since approval

    @property
    def can_request(self) -> bool:
        return Action.REQUEST in self.actions

    @property
    def can_withdraw(self) -> bool:
        return Action.WITHDRAW in self.actions

    @property
    def decision_form(self) -> DecisionForm:
        return DecisionForm(initial={"revision": self.design.revision})


def current_snapshot(assessment: DesignAssessment) -> dict:
    return design_snapshot(assessment, taken_at=timezone.now())


def review_panel(request, assessment: DesignAssessment, *, saved: bool = True) -> ReviewPanel:
    """The review control at the top of the design page. `saved`: the assessment is of the saved
    inputs (not of posted values being re-shown), so "what changed since approval" can be said."""
    design = assessment.design
    membership = design.membership
    panel = ReviewPanel(design=design, actions=allowed_actions(design.status, membership))
    panel.request = open_request(design) if design.status == Design.Status.IN_REVIEW else None
    if panel.request is not None:
        panel.request_reviewers = [u.get_username() for u in panel.request.reviewers.all()]
    # A design without decisions (most drafts) is known to have none from the design's own query.
    if getattr(design, "decision_count", None) != 0:
        panel.last_decision = (Decision.objects.select_related("decided_by", "milestone").filter(design=design)
                               .defer("milestone__snapshot").first())  # fmt: skip
    if panel.last_decision and panel.last_decision.outcome == Decision.Outcome.APPROVED and design.status in (
        Design.Status.APPROVED, Design.Status.CHANGED_SINCE_APPROVAL
    ):
        panel.approval = panel.last_decision
    if Action.APPROVE in panel.actions or Action.REQUEST_CHANGES in panel.actions:
        panel.can_decide = True
        panel.self_approval = approval_blockers(design, request.user, panel.request)
        panel.gate = approval_gate(assessment.evaluation)
    # The request form (its reviewers) and the history load when opened (reviews:request, reviews:history).
    panel.milestone_count = milestone_count(design)
    if saved and panel.approval is not None and design.status == Design.Status.CHANGED_SINCE_APPROVAL:
        approved = Milestone.objects.only("snapshot").get(pk=panel.approval.milestone_id)
        panel.changes = snapshot_diff(approved.snapshot, current_snapshot(assessment))
    return panel


def with_review_counts(designs: QuerySet) -> QuerySet:
    """For `get_design_for_user(..., extend=...)`: the review control's milestone and decision
    counts read with the design itself instead of by queries of their own (as SQL written here:
    the ORM's subqueries cost about 1 ms to compile, these 0.1 ms)."""
    design = f'"{Design._meta.db_table}"."id"'

    def count(model):
        table = model._meta.db_table
        return RawSQL(f'SELECT COUNT(*) FROM "{table}" WHERE "{table}"."design_id" = {design}', (),
                      output_field=IntegerField())

    return designs.annotate(milestone_count=count(Milestone), decision_count=count(Decision))


def milestone_count(design: Design) -> int:
    """Read from the design's own row when the view annotated it (`with_review_counts`)."""
    count = getattr(design, "milestone_count", None)
    return Milestone.objects.filter(design=design).count() if count is None else count


def history_events(design: Design):
    """The design's history, newest first, with each event's milestone (without its snapshot)."""
    return HistoryEvent.objects.filter(design=design).select_related("milestone").defer("milestone__snapshot")


def recent_history(design: Design) -> list[HistoryEvent]:
    return list(history_events(design)[:RECENT_HISTORY])
