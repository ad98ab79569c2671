"""Two reviewers deciding on the same revision at the same moment, in two threads with their own
database connections: exactly one decision is recorded, the other is told who won."""

import threading

import pytest
from django.db import connection

from reviewapp.designs.models import Design
from reviewapp.reviews import services
from reviewapp.reviews.models import Decision, HistoryEvent, Milestone, ReviewRequest
from tests.conftest import _user_in
from tests.reviewapp.review_fixtures import filled_design, in_review, published  # noqa: F401


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcomes", [("approved", "changes_requested"), ("approved", "approved")])
def test_two_decisions_on_the_same_revision_record_exactly_one(in_review, reviewer, team, outcomes):
    ruth = _user_in(team, "ruth", "reviewer")
    revision = in_review.revision
    start = threading.Barrier(2, timeout=30)
    results = {}

    def decide(user, outcome):
        try:
            start.wait()
            services.review_decide(design=Design.objects.get(pk=in_review.pk), user=user, outcome=outcome,
                                   comment=f"{user.username} decides", revision=revision, override_reason="known")
            results[user.username] = "recorded"
        except services.ReviewRefused as exc:
            results[user.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(u, o)) for u, o in zip((reviewer, ruth), outcomes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(type(r).__name__ if r != "recorded" else r for r in results.values()) == ["Conflict", "recorded"]
    winner = next(name for name, r in results.items() if r == "recorded")
    loser = next(r for r in results.values() if r != "recorded")
    assert winner in str(loser)  # the other is told who decided
    decision = Decision.objects.get(design=in_review)
    assert decision.decided_by.username == winner
    design = Design.objects.get(pk=in_review.pk)
    assert design.status == decision.outcome
    assert Milestone.objects.filter(design=in_review, kind="decision").count() == 1
    assert HistoryEvent.objects.filter(design=in_review, kind__in=["approved", "changes_requested"]).count() == 1
    assert ReviewRequest.objects.get(design=in_review).state == decision.outcome
