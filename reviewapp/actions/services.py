"""Writes to improvement actions. Views, the design save and the worker call these; each runs in
one transaction, and emails and webhook deliveries leave only after it commits."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviewapp.accounts.models import Membership
from reviewapp.actions import notifications, webhooks
from reviewapp.actions.models import Action, ActionEvent

log = logging.getLogger(__name__)

# A finding with one of these outcomes no longer fails: its action is done.
FIXED_OUTCOMES = {"pass": "closed automatically: the finding passes",
                  "not_applicable": "closed automatically: the finding no longer applies"}


def _check_owner(team_id: int, owner) -> None:
    if owner is None or not Membership.objects.filter(team_id=team_id, user=owner).exists():
        raise ValidationError({"owner": "Pick a member of the design's team."})


def _record(action: Action, user, summary: str, data: dict | None = None) -> ActionEvent:
    who = user if user is not None and user.is_authenticated else None
    return ActionEvent.objects.create(action=action, user=who, summary=summary[:500], data=data or {})


@transaction.atomic
def action_create(*, design, item_key: str, user, owner, due_on: dt.date, assessment=None) -> Action:
    """Track the failing finding `item_key` of `design` as an action owned by `owner` (a member of
    the design's team), due on `due_on`. The finding's title, severity and improvement plan are
    copied. Raises ValidationError when the finding does not fail now or an open action tracks it
    already (naming that action)."""
    if assessment is None:
        from reviewapp.designs.selectors import design_assessment

        assessment = design_assessment(design)
    finding = assessment.finding(item_key)
    if finding is None or finding.outcome != "fail":
        raise ValidationError({"item_key": "Only a failing finding can be tracked as an action."})
    _check_owner(design.team_id, owner)
    existing = Action.objects.still_open().filter(design=design, item_key=item_key).first()
    if existing is not None:
        raise ValidationError({"item_key": f"Action #{existing.pk} tracks this finding already."})
    try:
        with transaction.atomic():
            action = Action.objects.create(
                team_id=design.team_id, design=design, item_key=item_key, title=finding.title[:300],
                severity=finding.severity, improvement_plan=finding.improvement_plan or "",
                owner=owner, due_on=due_on, created_by=user,
            )  # fmt: skip
    except IntegrityError:  # a concurrent request tracked it first
        raise ValidationError({"item_key": "An open action tracks this finding already."}) from None
    _record(action, user, f"Tracked as an action, owner {owner.get_username()}, due {due_on.isoformat()}.",
            {"owner": owner.get_username(), "due_on": due_on.isoformat(), "status": action.status})
    transaction.on_commit(partial(notifications.action_assigned, action.pk))
    webhooks.deliveries_create(action=action, event="action.created")
    return action


@transaction.atomic
def action_update(*, action: Action, user, status: str | None = None, owner=None, due_on: dt.date | None = None,
                  reason: str = "") -> Action:
    """Change the status, owner or due date (None: unchanged). "won't do" needs `reason`.
    Every change goes into the history; a new owner is told by email; endpoints get
    `action.updated`. Raises ValidationError naming the field; nothing changes then."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    changes: dict[str, list] = {}
    if status is not None and status != action.status:
        if status not in Action.Status.values:
            raise ValidationError({"status": "Pick one of the listed statuses."})
        if status == Action.Status.WONT_DO and not reason.strip():
            raise ValidationError({"reason": "Say why this will not be done."})
        changes["status"] = [action.status, status]
        action.status = status
        action.wont_do_reason = reason.strip() if status == Action.Status.WONT_DO else ""
        action.closed_at = None if status in Action.OPEN_STATUSES else timezone.now()
    if owner is not None and owner.pk != action.owner_id:
        _check_owner(action.team_id, owner)
        changes["owner"] = [action.owner.get_username() if action.owner else None, owner.get_username()]
        action.owner = owner
    if due_on is not None and due_on != action.due_on:
        changes["due_on"] = [action.due_on.isoformat(), due_on.isoformat()]
        action.due_on = due_on
        action.overdue_notified_on = None  # a new due date may become overdue again
    if not changes:
        return action
    action.save(update_fields=["status", "wont_do_reason", "closed_at", "owner", "due_on", "overdue_notified_on",
                               "updated_at"])
    labels = dict(Action.Status.choices)
    words = []
    if "status" in changes:
        words.append(f"status {labels[changes['status'][0]]} → {labels[changes['status'][1]]}"
                     + (f" ({action.wont_do_reason})" if action.status == Action.Status.WONT_DO else ""))
    if "owner" in changes:
        words.append(f"owner {changes['owner'][0] or 'nobody'} → {changes['owner'][1]}")
    if "due_on" in changes:
        words.append(f"due {changes['due_on'][0]} → {changes['due_on'][1]}")
    _record(action, user, "Changed " + "; ".join(words) + ".", changes)
    if "owner" in changes:
        transaction.on_commit(partial(notifications.action_assigned, action.pk))
    webhooks.deliveries_create(action=action, event="action.updated")
    return action


@transaction.atomic
def actions_close_fixed(*, design, user=None, assessment=None) -> list[Action]:
    """Close the open actions of `design` (a Design or its id) whose finding no longer fails (it
    passes, or no longer applies), as the design is assessed now. Called after every save of a
    design and every answer; costs one query when the design has no open action."""
    design_id = getattr(design, "pk", design)
    open_actions = list(Action.objects.still_open().select_for_update().filter(design_id=design_id))
    if not open_actions:
        return []
    if assessment is None:
        from reviewapp.designs.models import Design
        from reviewapp.designs.selectors import design_assessment

        # Read afresh: the caller's instance may carry relations cached before the save.
        assessment = design_assessment(Design.objects.select_related("team").get(pk=design_id))
    design = assessment.design
    closed = []
    for action in open_actions:
        finding = assessment.finding(action.item_key)
        if finding is None or finding.outcome not in FIXED_OUTCOMES:
            continue
        previous = action.status
        action.status, action.closed_at = Action.Status.DONE, timezone.now()
        action.save(update_fields=["status", "closed_at", "updated_at"])
        _record(action, user, f"Done: {FIXED_OUTCOMES[finding.outcome]}.",
                {"status": [previous, Action.Status.DONE], "automatic": True, "outcome": finding.outcome,
                 "design_revision": design.revision})
        webhooks.deliveries_create(action=action, event="action.closed")
        closed.append(action)
    return closed


def actions_notify_overdue(*, today: dt.date) -> int:
    """Tell each overdue action's owner once per due date (email) and the team's endpoints
    (`action.overdue`). Safe to run often and from several workers: each action is claimed by one
    conditional UPDATE. Returns how many were notified."""
    count = 0
    for action_id in Action.objects.overdue(today).filter(overdue_notified_on__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            claimed = Action.objects.filter(pk=action_id, overdue_notified_on__isnull=True).update(
                overdue_notified_on=today)
            if not claimed:
                continue
            action = Action.objects.select_related("design__team", "owner").get(pk=action_id)
            _record(action, None, f"Overdue since {action.due_on.isoformat()}: the owner was reminded.",
                    {"overdue_on": today.isoformat()})
            transaction.on_commit(partial(notifications.action_overdue, action.pk))
            webhooks.deliveries_create(action=action, event="action.overdue", today=today)
        count += 1
    return count
