"""The review's rules, written once: who may move a design from which status to which, what blocks
an approval, and who may not approve (separation of duties).

`reviewapp.reviews.services` applies them; pages only ask them what to offer.

Transitions (the design's `status`; an action needs the role, from one of the sources):

    action            from                                            to                    role
    request           draft, changes requested, changed since approval  in review           member
    withdraw          in review                                       (status before it)    member
    approve           in review                                       approved              reviewer
    request_changes   in review                                       changes requested     reviewer
    edit (automatic)  approved                                        changed since approval  member

An edit (inputs, name, answers, accepted risks, a re-pin) in any other status leaves it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from engine import vocabulary

from reviewapp.accounts.models import Membership, Role
from reviewapp.designs.models import Design

Status = Design.Status


class Action(models.TextChoices):
    REQUEST = "request", "Request review"
    WITHDRAW = "withdraw", "Withdraw the request"
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    EDIT = "edit", "Change what was reviewed"


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: back to the status the open request started from
    role: str


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(Action.REQUEST, frozenset({Status.DRAFT, Status.CHANGES_REQUESTED, Status.CHANGED_SINCE_APPROVAL}),
                   Status.IN_REVIEW, Role.MEMBER),
        Transition(Action.WITHDRAW, frozenset({Status.IN_REVIEW}), None, Role.MEMBER),
        Transition(Action.APPROVE, frozenset({Status.IN_REVIEW}), Status.APPROVED, Role.REVIEWER),
        Transition(Action.REQUEST_CHANGES, frozenset({Status.IN_REVIEW}), Status.CHANGES_REQUESTED, Role.REVIEWER),
        Transition(Action.EDIT, frozenset({Status.APPROVED}), Status.CHANGED_SINCE_APPROVAL, Role.MEMBER),
    )
}  # fmt: skip

# What a person does by hand (the edit transition follows saves).
USER_ACTIONS = (Action.REQUEST, Action.WITHDRAW, Action.APPROVE, Action.REQUEST_CHANGES)


def refusal(action: str, status: str, membership: Membership | None) -> str:
    """Why `action` is not allowed from `status` for this membership; "" when it is (the table only:
    separation of duties and gating come on top for an approval)."""
    transition = TRANSITIONS[action]
    if membership is None or not membership.has_role(transition.role):
        return f"{Action(action).label} needs the {Role(transition.role).label.lower()} role."
    if status not in transition.sources:
        return f"{Action(action).label} is not possible while the design is “{Status(status).label}”."
    return ""


def allowed_actions(status: str, membership: Membership) -> list[str]:
    return [a for a in USER_ACTIONS if not refusal(a, status, membership)]


# --- gating: what an approval signs ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gate:
    """What blocks an approval (open high risks, rule errors) and what it signs knowingly."""

    blockers: tuple[dict, ...]
    medium_risks: tuple[dict, ...]
    unanswered: tuple[dict, ...]

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)


def _brief(finding) -> dict:
    return {"item_key": finding.item_key, "title": finding.title, "severity": finding.severity,
            "outcome": finding.outcome, "outcome_label": vocabulary.OUTCOMES[finding.outcome], "risk": finding.risk,
            "message": finding.message}


def approval_gate(evaluation) -> Gate:
    """Blockers: failing items of high risk not accepted (an expired acceptance no longer counts),
    and rules that could not be evaluated. Accepted risks are not blockers: the acceptance carries
    its rationale and expiry."""
    if evaluation is None:
        return Gate((), (), ())
    findings = evaluation.findings
    blockers = [f for f in findings if (f.outcome == "fail" and f.risk == "high") or f.outcome == "rule_error"]
    medium = [f for f in findings if f.outcome == "fail" and f.risk == "medium"]
    unanswered = [f for f in findings if f.outcome == "unanswered"]
    return Gate(tuple(map(_brief, blockers)), tuple(map(_brief, medium)), tuple(map(_brief, unanswered)))


# --- separation of duties -------------------------------------------------------------------------


def self_approval_refusals(*, user, team, requester_id: int | None, editor_ids: set[int]) -> list[str]:
    """Why `user` may not approve: they requested the review, or they changed the design since the
    last decision. The role does not exempt anyone (owners manage; they do not approve their own
    work). A team may opt out (`Team.allow_self_approval`) when it is too small for this."""
    if team.allow_self_approval:
        return []
    reasons = []
    if requester_id is not None and requester_id == user.pk:
        reasons.append("You requested this review: someone else must approve it.")
    if user.pk in editor_ids:
        reasons.append("You changed this design since the last decision: a reviewer who did not must approve it.")
    return reasons
