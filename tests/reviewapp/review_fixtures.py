"""Shared fixtures of the review tests (no tests here).

The fixture design (`filled_design`, the engine's example) is created by the owner, so the owner
counts as its author until a decision; the member requests reviews; the reviewer decides.
With the test checklist (`published`) the example fails one high-risk item, `req_p99_budget`.
"""

import pytest

from reviewapp.reviews import services
from reviewapp.reviews.models import Decision, HistoryEvent, Milestone, ReviewRequest
from tests.reviewapp.checklist_fixtures import filled_design, published, sample, staff  # noqa: F401


def counts() -> dict:
    """Rows of the review record and the designs' review state: a refused action changes none."""
    from reviewapp.designs.models import Design

    return {
        "milestones": Milestone.objects.count(),
        "requests": list(ReviewRequest.objects.values_list("pk", "state")),
        "decisions": Decision.objects.count(),
        "history": HistoryEvent.objects.count(),
        "designs": list(Design.objects.values_list("pk", "status", "revision", "updated_by")),
    }


@pytest.fixture
def in_review(published, filled_design, member):
    """The example design, with a review requested by the member."""
    services.review_request(design=filled_design, user=member, revision=filled_design.revision, message="Please look")
    filled_design.refresh_from_db()
    return filled_design


@pytest.fixture
def second_reviewer(team):
    from tests.conftest import _user_in

    return _user_in(team, "ruth", "reviewer")


def accept_high_risks(design, user):
    """Accept every open high risk of the design with a rationale (what a reviewer does instead of
    overriding)."""
    from reviewapp.checklists import services as checklists
    from reviewapp.designs.selectors import design_assessment

    review = checklists.review_for_design(design=design, user=user)
    for f in design_assessment(design).evaluation.findings:
        if f.outcome == "fail" and f.risk == "high":
            checklists.risk_accept(review=review, item_key=f.item_key, user=user, rationale="Known; fixed next quarter.")
