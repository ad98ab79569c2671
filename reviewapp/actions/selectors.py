"""Reads of actions, with team access in the query."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from reviewapp.accounts.models import Role
from reviewapp.actions.models import Action

FILTER_STATUSES = ("open", "in_progress", "done", "wont_do", "all")


def team_members(team_id: int) -> QuerySet:
    """Who may own an action of the team: its members, by username."""
    return get_user_model().objects.filter(memberships__team_id=team_id).order_by("username")


def team_actions(team, *, status: str = "", owner_id: int | None = None, overdue: bool = False,
                 today: dt.date | None = None) -> QuerySet:
    """The team's actions for its page and exports. `status` "" means the open ones (open or in
    progress), "all" every status; `overdue` keeps open ones past their due date."""
    today = today or timezone.localdate()
    actions = Action.objects.filter(team=team).select_related("design", "owner")
    if overdue:
        actions = actions.overdue(today)
    elif status in ("", "open_or_in_progress"):
        actions = actions.still_open()
    elif status != "all" and status in Action.Status.values:
        actions = actions.filter(status=status)
    if owner_id is not None:
        actions = actions.filter(owner_id=owner_id)
    return actions.order_by("due_on", "pk")


def overdue_actions_for_user(user, *, today: dt.date | None = None) -> QuerySet:
    """Open actions past their due date in every team the user belongs to, soonest due first
    (for a dashboard). One query when evaluated."""
    today = today or timezone.localdate()
    return (Action.objects.for_user(user).overdue(today).select_related("design", "owner", "team")
            .order_by("due_on", "pk"))


def overdue_by_design(user, *, today: dt.date | None = None) -> dict[int, list[Action]]:
    """The user's overdue actions grouped by design id (the dashboard's column). One query."""
    grouped: dict[int, list[Action]] = {}
    for action in overdue_actions_for_user(user, today=today):
        grouped.setdefault(action.design_id, []).append(action)
    return grouped


def open_actions_for_design(design) -> list[Action]:
    """The design's open actions, soonest due first (the design report's section)."""
    return list(Action.objects.still_open().filter(design=design).select_related("owner").order_by("due_on", "pk"))


def finding_action_context(design, membership, item_key: str, outcome: str) -> dict:
    """What the finding's page shows about actions: the open one tracking it, or (for a failing
    finding and a reviewer) the form to track it, with the team's members as owners."""
    action = Action.objects.still_open().filter(design=design, item_key=item_key).select_related("owner").first()
    can_track = action is None and outcome == "fail" and membership.has_role(Role.REVIEWER)
    return {
        "tracked_action": action,
        "can_track": can_track,
        "action_owners": list(team_members(design.team_id)) if can_track else [],
        "default_owner_id": membership.user_id,
    }
