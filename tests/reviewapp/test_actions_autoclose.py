"""A fixed finding closes its action: after the design's inputs are saved and the item passes."""

import datetime as dt

from reviewapp.actions import services
from reviewapp.actions.models import Action
from tests.reviewapp.action_fixtures import FAILING, action, filled_design, fix_p99, published  # noqa: F401


def test_saving_a_fix_closes_the_action_automatically(action, filled_design, owner):
    fix_p99(filled_design, owner)
    action.refresh_from_db()
    assert action.status == "done" and action.closed_at is not None
    event = action.events.last()
    assert event.summary == "Done: closed automatically: the finding passes."
    assert event.data["automatic"] is True and event.data["design_revision"] == filled_design.revision == 2


def test_a_save_that_does_not_fix_it_leaves_the_action_open(action, filled_design, owner):
    from reviewapp.designs import services as designs

    designs.design_update(design=filled_design, revision=filled_design.revision, user=owner, description="v2")
    action.refresh_from_db()
    assert action.status == "open" and action.events.count() == 1


def test_a_closed_action_stays_closed_and_another_design_is_untouched(action, filled_design, owner, reviewer, team):
    from engine.design import example_design

    from reviewapp.designs.models import Design

    other = Design.objects.create(team=team, name="Other", inputs=example_design(), created_by=owner)
    kept = services.action_create(design=other, item_key=FAILING, user=reviewer, owner=owner, due_on=dt.date(2027, 1, 1))
    services.action_update(action=action, user=reviewer, status="wont_do", reason="Later.")
    fix_p99(filled_design, owner)
    assert Action.objects.get(pk=action.pk).status == "wont_do"
    assert Action.objects.get(pk=kept.pk).status == "open"


def test_a_save_without_open_actions_costs_one_query(published, filled_design, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert services.actions_close_fixed(design=filled_design, user=owner) == []
    reads = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(reads) == 1 and "actions_action" in reads[0]


def test_a_manual_finding_answered_pass_closes_its_action(published, filled_design, reviewer, member):
    from reviewapp.checklists import services as checklists

    review = checklists.review_for_design(design=filled_design, user=reviewer)
    checklists.answer_set(review=review, item_key="req_reviewed", user=member, status="fail")
    tracked = services.action_create(design=filled_design, item_key="req_reviewed", user=reviewer, owner=member,
                                     due_on=dt.date(2027, 1, 1))
    checklists.answer_set(review=review, item_key="req_reviewed", user=member, status="pass")
    tracked.refresh_from_db()
    assert tracked.status == "done"
    assert tracked.events.last().summary == "Done: closed automatically: the finding passes."
