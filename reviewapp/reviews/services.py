"""Writes of the review: milestones, review requests, decisions (history in `history`).

Every change of a design's review status goes through `status_change`: the role and the transition
table (`workflow.TRANSITIONS`), then a compare-and-set on the status (and, where the person saw a
revision, on that revision) in one UPDATE, so two people acting at once cannot both win. Each
service runs in one transaction and checks everything before it writes: a refused action raises
`ReviewRefused` and leaves the database as it was.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from reviewapp.accounts.models import Membership, Role
from reviewapp.checklists.services import review_for_design
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment
from reviewapp.designs.snapshot import content_hash, design_snapshot
from reviewapp.reviews import notifications
from reviewapp.reviews.history import editors_since_last_decision, history_record
from reviewapp.reviews.models import Decision, HistoryEvent, Milestone, ReviewRequest
from reviewapp.reviews.workflow import TRANSITIONS, Action, Gate, approval_gate, refusal, self_approval_refusals

Kind = HistoryEvent.Kind


class ReviewRefused(Exception):
    """A review action that was refused; nothing was written. `status` is the HTTP status a view
    answers with; `gate` says what blocks an approval when that was the reason."""

    status = 409

    def __init__(self, message: str, *, status: int | None = None, gate: Gate | None = None):
        super().__init__(message)
        self.status = status or self.status
        self.gate = gate


class NotAllowed(ReviewRefused):
    """The role, or separation of duties, does not allow it."""

    status = 403


class Conflict(ReviewRefused):
    """The design is not where the person saw it: another decision, a save, a withdrawal."""

    status = 409


class Invalid(ReviewRefused):
    """Missing or wrong input (a comment, a reviewer, an override reason)."""

    status = 400


def _locked(design: Design) -> Design:
    """The design as stored now, locked for this transaction (PostgreSQL; SQLite's IMMEDIATE
    transactions already serialise writers)."""
    return Design.objects.select_for_update().select_related("team").get(pk=design.pk)


def _membership(user, design: Design) -> Membership | None:
    return Membership.objects.filter(user=user, team_id=design.team_id).first()


def open_request(design: Design) -> ReviewRequest | None:
    return (ReviewRequest.objects.select_related("requested_by")
            .filter(design=design, state=ReviewRequest.State.OPEN).first())  # fmt: skip


def _last_event(design: Design) -> HistoryEvent | None:
    return HistoryEvent.objects.filter(design=design).order_by("-id").first()


def _check(design: Design, user, action: str, *, revision: int | None) -> None:
    """Refuse (before anything is written) unless the table allows `action` now, for this user, on
    the revision the user saw."""
    membership = _membership(user, design)
    why = refusal(action, design.status, membership)
    if why:
        if membership is None or not membership.has_role(TRANSITIONS[action].role):
            raise NotAllowed(why)
        last = _last_event(design)
        told = f" Last: {last.actor_name or 'someone'} — {last.summary}" if last else ""
        raise Conflict(why + told)
    if revision is not None and revision != design.revision:
        who = design.updated_by.get_username() if design.updated_by else "Someone"
        raise Conflict(f"{who} saved this design (revision {design.revision}) after you read revision {revision}: "
                       "reload and look at what changed before you act on it.")


def status_change(*, design: Design, user, action: str, revision: int | None = None,
                  request: ReviewRequest | None = None) -> str:
    """Move `design` (read by `_locked`) along the transition `action`: role and table checked, then
    one compare-and-set UPDATE on the status it was read at (and `revision`, when given). Returns
    the new status; raises ReviewRefused (nothing written) when refused or overtaken."""
    _check(design, user, action, revision=revision)
    transition = TRANSITIONS[action]
    target = transition.target or (request.status_before if request else Design.Status.DRAFT)
    match = {"pk": design.pk, "status": design.status}
    if revision is not None:
        match["revision"] = revision
    if not Design.objects.filter(**match).update(status=target):
        raise Conflict("Someone changed this design's review while you were deciding: reload to see what they did.")
    design.status = target
    return target


# --- milestones -----------------------------------------------------------------------------------


@transaction.atomic
def milestone_create(*, design: Design, user, name: str, kind: str = Milestone.Kind.MANUAL,
                     review: dict | None = None) -> Milestone:
    """Freeze the saved design's current assessment as the design's next milestone. `review` (a
    decision: outcome, comment, override) is stored in the snapshot as `snapshot["review"]`, so the
    milestone and every report of it show it."""
    design = Design.objects.select_for_update().select_related("team").get(pk=design.pk)
    snapshot = design_snapshot(design_assessment(design), taken_at=timezone.now())
    snapshot["review"] = review
    number = (Milestone.objects.filter(design=design).aggregate(n=Max("number"))["n"] or 0) + 1
    milestone = Milestone.objects.create(
        design=design, number=number, name=name.strip() or f"Milestone {number}", kind=kind,
        design_revision=design.revision, snapshot=snapshot, content_hash=content_hash(snapshot), created_by=user,
    )  # fmt: skip
    if kind == Milestone.Kind.MANUAL:
        history_record(design=design, user=user, kind=Kind.MILESTONE_SAVED, milestone=milestone,
                       summary=f"Saved milestone M{number} “{milestone.name}” of revision {design.revision}.",
                       revision=design.revision, status=design.status)  # fmt: skip
    return milestone


# --- requests and decisions -----------------------------------------------------------------------


def eligible_reviewers(design: Design, *, exclude=None):
    """The team's reviewers and owners (who may be named on a request), by name."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(
        memberships__team_id=design.team_id, memberships__role__in=[Role.REVIEWER, Role.OWNER]
    ).order_by("username")
    return users.exclude(pk=exclude.pk) if exclude is not None else users


@transaction.atomic
def review_request(*, design: Design, user, revision: int, message: str = "", reviewers=()) -> ReviewRequest:
    """Ask for a review of the design as it is at `revision` (frozen in a milestone), optionally
    naming reviewers (reviewers or owners of the team, not the requester). Emails them (or, with
    none named, the team's reviewers) once the transaction commits."""
    design = _locked(design)
    reviewers = list(reviewers)
    allowed = set(eligible_reviewers(design, exclude=user).values_list("pk", flat=True))
    wrong = [r.get_username() for r in reviewers if r.pk not in allowed]
    if wrong:
        raise Invalid(f"{', '.join(wrong)} cannot be asked: name reviewers or owners of {design.team} other than yourself.")
    status_before = design.status
    status_change(design=design, user=user, action=Action.REQUEST, revision=revision)
    # A review is of one checklist version: pin it now if nothing has (a later version changes nothing).
    review_for_design(design=design, user=user)
    milestone = milestone_create(design=design, user=user, name=f"Review requested by {user.get_username()}",
                                 kind=Milestone.Kind.REQUEST)
    request = ReviewRequest.objects.create(
        design=design, milestone=milestone, design_revision=design.revision, status_before=status_before,
        requested_by=user, message=message.strip(),
    )  # fmt: skip
    request.reviewers.set(reviewers)
    names = ", ".join(r.get_username() for r in reviewers)
    history_record(design=design, user=user, kind=Kind.REVIEW_REQUESTED, milestone=milestone,
                   summary=f"Requested a review of revision {design.revision}" + (f" from {names}." if names else "."),
                   data={"request": request.pk, "message": request.message, "reviewers": [r.get_username() for r in reviewers]},
                   revision=design.revision, status=design.status)  # fmt: skip
    transaction.on_commit(partial(notifications.review_requested, request.pk))
    return request


@transaction.atomic
def review_withdraw(*, design: Design, user) -> ReviewRequest | None:
    """Withdraw the open request: the design goes back to the status it had before."""
    design = _locked(design)
    request = open_request(design)
    status_change(design=design, user=user, action=Action.WITHDRAW, request=request)
    if request is not None:
        _close(request, ReviewRequest.State.WITHDRAWN, user)
    history_record(design=design, user=user, kind=Kind.REVIEW_WITHDRAWN,
                   summary="Withdrew the review request.", data={"request": request.pk if request else None},
                   revision=design.revision, status=design.status)  # fmt: skip
    return request


def _close(request: ReviewRequest, state: str, user) -> None:
    closed = ReviewRequest.objects.filter(pk=request.pk, state=ReviewRequest.State.OPEN).update(
        state=state, closed_at=timezone.now(), closed_by=user
    )
    if not closed:
        raise Conflict("This review request was closed meanwhile: reload to see by whom.")


def approval_blockers(design: Design, user, request: ReviewRequest | None) -> list[str]:
    """Why `user` may not approve `design` (separation of duties); empty when they may."""
    return self_approval_refusals(user=user, team=design.team, requester_id=request.requested_by_id if request else None,
                                  editor_ids=editors_since_last_decision(design))


@transaction.atomic
def review_decide(*, design: Design, user, outcome: str, comment: str, revision: int,
                  override_reason: str = "") -> Decision:
    """Approve or request changes on the design as it is at `revision`, with a comment.

    An approval is refused when the user requested the review or edited the design since the
    last decision (unless the team allows it), and while high risks are open or rules error,
    unless `override_reason` says why it is approved anyway (stored on the decision and in the
    milestone's snapshot). The decision freezes a milestone and closes the open request."""
    design = _locked(design)
    if outcome not in Decision.Outcome.values:
        raise Invalid("Choose approve or request changes.")
    approve = outcome == Decision.Outcome.APPROVED
    action = Action.APPROVE if approve else Action.REQUEST_CHANGES
    comment, override_reason = comment.strip(), override_reason.strip()
    request = open_request(design)
    _check(design, user, action, revision=revision)
    if not comment:
        raise Invalid("Say why in a comment: it is what the team reads first.")
    override, signed = None, None
    if approve:
        reasons = approval_blockers(design, user, request)
        if reasons:
            raise NotAllowed(" ".join(reasons))
        gate = approval_gate(design_assessment(design).evaluation)
        if gate.blocked and not override_reason:
            raise Invalid(f"{len(gate.blockers)} open high risk(s) or rule error(s) block approval: accept each risk "
                          "with a rationale, or give a reason to approve over them.", gate=gate)
        if gate.blocked:
            override = {"reason": override_reason, "findings": list(gate.blockers)}
        signed = {"medium_risks": list(gate.medium_risks), "unanswered": list(gate.unanswered)}
    status_change(design=design, user=user, action=action, revision=revision, request=request)
    now = timezone.now()
    label = Decision.Outcome(outcome).label
    review = {
        "decision": outcome, "label": label, "comment": comment, "decided_by": user.get_username(),
        "decided_at": now.isoformat(timespec="seconds"), "override": override, "signed": signed,
        "request": None if request is None else {
            "requested_by": request.requested_by.get_username() if request.requested_by else None,
            "requested_at": request.created_at.isoformat(timespec="seconds"), "message": request.message,
            "milestone": request.milestone.number, "revision": request.design_revision,
        },
    }  # fmt: skip
    milestone = milestone_create(design=design, user=user, name=f"{label} by {user.get_username()}",
                                 kind=Milestone.Kind.DECISION, review=review)
    decision = Decision.objects.create(
        design=design, request=request, milestone=milestone, design_revision=design.revision, outcome=outcome,
        comment=comment, override_reason=override["reason"] if override else "",
        overridden=override["findings"] if override else [], decided_by=user,
    )  # fmt: skip
    if request is not None:
        _close(request, ReviewRequest.State(outcome), user)
    summary = f"{label} revision {design.revision} (milestone M{milestone.number})."
    if override:
        summary += f" Approved over {len(override['findings'])} open high risk(s) or rule error(s): {override_reason}"
    history_record(design=design, user=user, kind=Kind.APPROVED if approve else Kind.CHANGES_REQUESTED,
                   milestone=milestone, summary=summary,
                   data={"decision": decision.pk, "comment": comment, "override_reason": override_reason if override else "",
                         "overridden": [f["item_key"] for f in override["findings"]] if override else []},
                   revision=design.revision, status=design.status)  # fmt: skip
    transaction.on_commit(partial(notifications.decision_made, decision.pk))
    return decision
