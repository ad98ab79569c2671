"""Action emails, through the review emails' sender (after commit; a failing mail server is
logged and never undoes the action)."""

from __future__ import annotations

from django.urls import reverse

from reviewapp.actions.models import Action
from reviewapp.reviews.notifications import _link, _send


def _action(action_id: int) -> Action:
    return Action.objects.select_related("design__team", "owner").get(pk=action_id)


def _body(action: Action, opening: str) -> str:
    return (
        f"{opening}\n\n“{action.title}” in “{action.design.name}” ({action.design.team}), "
        f"due {action.due_on.isoformat()}.\n\n"
        + (f"Improvement plan:\n{action.improvement_plan}\n\n" if action.improvement_plan else "")
        + f"See it: {_link(reverse('actions:detail', args=[action.pk]))}\n"
    )


def action_assigned(action_id: int) -> int:
    """Tell the owner that an action is theirs."""
    action = _action(action_id)
    if action.owner is None:
        return 0
    return _send(f"Action assigned to you: {action.title} ({action.design.name})",
                 _body(action, "An improvement action is assigned to you."), [action.owner])


def action_overdue(action_id: int) -> int:
    """Remind the owner that an action is past its due date."""
    action = _action(action_id)
    if action.owner is None or not action.is_open:
        return 0
    return _send(f"Action overdue: {action.title} ({action.design.name})",
                 _body(action, "An improvement action you own is past its due date."), [action.owner])
