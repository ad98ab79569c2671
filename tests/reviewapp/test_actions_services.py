"""Action services: create, update (won't do needs a reason), history, notifications, overdue."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from reviewapp.actions import services
from reviewapp.actions.models import Action, ActionEvent
from reviewapp.actions.selectors import overdue_actions_for_user, team_actions
from tests.reviewapp.action_fixtures import FAILING, TODAY, action, filled_design, published  # noqa: F401


def test_it_tracks_a_failing_finding_with_its_plan_and_tells_the_owner(
        published, filled_design, reviewer, member, django_capture_on_commit_callbacks):
    member.email = "mei@example.com"
    member.save()
    with django_capture_on_commit_callbacks(execute=True):
        created = services.action_create(design=filled_design, item_key=FAILING, user=reviewer, owner=member,
                                         due_on=dt.date(2027, 1, 15))
    row = Action.objects.get(pk=created.pk)
    assert (row.team_id, row.item_key, row.title, row.severity, row.status, row.owner, row.due_on) == (
        filled_design.team_id, FAILING, "P99 within five seconds", "high", "open", member, dt.date(2027, 1, 15))
    assert row.improvement_plan == "Set a p99 budget of at most five seconds."
    assert [e.summary for e in row.events.all()] == ["Tracked as an action, owner mei, due 2027-01-15."]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mei@example.com"]
    assert mail.outbox[0].subject == "Action assigned to you: P99 within five seconds (Ranking service)"


def test_it_refuses_a_finding_that_does_not_fail(published, filled_design, reviewer, member):
    with pytest.raises(ValidationError, match="Only a failing finding"):
        services.action_create(design=filled_design, item_key="no_such_item", user=reviewer, owner=member,
                               due_on=TODAY)
    with pytest.raises(ValidationError, match="Only a failing finding"):  # manual, unanswered
        services.action_create(design=filled_design, item_key="req_reviewed", user=reviewer, owner=member, due_on=TODAY)
    assert not Action.objects.exists()


def test_it_refuses_an_owner_outside_the_team_and_a_second_open_action(action, filled_design, reviewer, outsider):
    with pytest.raises(ValidationError) as error:
        services.action_create(design=filled_design, item_key=FAILING, user=reviewer, owner=outsider, due_on=TODAY)
    assert "owner" in error.value.message_dict
    with pytest.raises(ValidationError, match=f"Action #{action.pk} tracks this finding already"):
        services.action_create(design=filled_design, item_key=FAILING, user=reviewer, owner=reviewer, due_on=TODAY)
    assert Action.objects.count() == 1


def test_wont_do_needs_a_reason_and_a_refusal_changes_nothing(action, reviewer):
    with pytest.raises(ValidationError) as error:
        services.action_update(action=action, user=reviewer, status="wont_do", reason="  ")
    assert "reason" in error.value.message_dict
    action.refresh_from_db()
    assert action.status == "open" and action.events.count() == 1

    services.action_update(action=action, user=reviewer, status="wont_do", reason="The pilot accepts 8 s.")
    action.refresh_from_db()
    assert (action.status, action.wont_do_reason, action.closed_at is not None) == ("wont_do", "The pilot accepts 8 s.", True)
    assert action.events.last().summary == "Changed status Open → Won't do (The pilot accepts 8 s.)."


def test_an_update_records_each_change_and_a_new_owner_is_told(action, reviewer, owner, django_capture_on_commit_callbacks):
    owner.email = "olivia@example.com"
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.action_update(action=action, user=reviewer, status="in_progress", owner=owner, due_on=dt.date(2027, 2, 1))
    action.refresh_from_db()
    assert (action.status, action.owner, action.due_on) == ("in_progress", owner, dt.date(2027, 2, 1))
    event = action.events.last()
    assert event.summary == "Changed status Open → In progress; owner mei → olivia; due 2026-12-01 → 2027-02-01."
    assert event.data["owner"] == ["mei", "olivia"] and event.user == reviewer
    assert [m.to for m in mail.outbox] == [["olivia@example.com"]]
    # Saving the same values again is no change and no event.
    services.action_update(action=action, user=reviewer, status="in_progress", owner=owner, due_on=dt.date(2027, 2, 1))
    assert ActionEvent.objects.filter(action=action).count() == 2


def test_overdue_owners_are_reminded_once_per_due_date(action, member, reviewer, outsider, django_capture_on_commit_callbacks):
    member.email = "mei@example.com"
    member.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.actions_notify_overdue(today=TODAY) == 1
        assert services.actions_notify_overdue(today=TODAY) == 0  # already reminded
    assert [m.subject for m in mail.outbox] == ["Action overdue: P99 within five seconds (Ranking service)"]
    action.refresh_from_db()
    assert action.overdue_notified_on == TODAY
    services.action_update(action=action, user=reviewer, due_on=dt.date(2026, 12, 5))  # a new due date, overdue too
    with django_capture_on_commit_callbacks(execute=True):
        assert services.actions_notify_overdue(today=TODAY) == 1
    assert len(mail.outbox) == 2


def test_overdue_selector_keeps_to_the_users_teams_and_open_actions(action, member, reviewer, outsider):
    assert list(overdue_actions_for_user(member, today=TODAY)) == [action]
    assert list(overdue_actions_for_user(member, today=dt.date(2026, 12, 1))) == []  # due today is not overdue
    assert list(overdue_actions_for_user(outsider, today=TODAY)) == []
    services.action_update(action=action, user=reviewer, status="done")
    assert list(overdue_actions_for_user(member, today=TODAY)) == []


def test_team_actions_filters(action, filled_design, reviewer, member, owner):
    services.action_update(action=action, user=reviewer, status="done")
    second = services.action_create(design=filled_design, item_key=FAILING, user=reviewer, owner=owner,
                                    due_on=dt.date(2027, 1, 1))
    team = filled_design.team
    assert list(team_actions(team, today=TODAY)) == [second]
    assert list(team_actions(team, status="all", today=TODAY)) == [action, second]
    assert list(team_actions(team, status="done", today=TODAY)) == [action]
    assert list(team_actions(team, status="all", owner_id=member.pk, today=TODAY)) == [action]
    assert list(team_actions(team, overdue=True, today=dt.date(2027, 1, 2))) == [second]
