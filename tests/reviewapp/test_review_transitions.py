"""The transition table, enforced for every role: each (status, action, role) either moves the
design to the status written here or is refused and writes nothing. The expectations are written
out, not read from reviewapp.reviews.workflow, so a change to the table has to change this too."""

import pytest
from engine.design import example_design

from reviewapp.designs import services as designs
from reviewapp.designs.models import Design
from reviewapp.reviews import services
from reviewapp.reviews.models import HistoryEvent
from tests.conftest import _user_in
from tests.reviewapp.review_fixtures import counts

STATUSES = ["draft", "in_review", "approved", "changes_requested", "changed_since_approval"]
ROLES = ["member", "reviewer", "owner"]

# (action, from status) -> (roles allowed, status after)
ALLOWED = {
    ("request", "draft"): (ROLES, "in_review"),
    ("request", "changes_requested"): (ROLES, "in_review"),
    ("request", "changed_since_approval"): (ROLES, "in_review"),
    ("withdraw", "in_review"): (ROLES, "draft"),  # back to where the request started (draft here)
    ("approve", "in_review"): (["reviewer", "owner"], "approved"),
    ("request_changes", "in_review"): (["reviewer", "owner"], "changes_requested"),
}


@pytest.fixture
def actors(team):
    """One user per role, plus the design's author and the review's requester (so that separation
    of duties never decides a case here: only the table does)."""
    users = {role: _user_in(team, f"{role}-user", role) for role in ROLES}
    users["author"] = _user_in(team, "ada", "member")
    users["requester"] = _user_in(team, "rex", "member")
    return users


def design_in(status: str, team, actors) -> Design:
    design = Design.objects.create(team=team, name=f"At {status}", inputs=example_design(), created_by=actors["author"])
    if status == "in_review":
        services.review_request(design=design, user=actors["requester"], revision=design.revision)
    else:
        Design.objects.filter(pk=design.pk).update(status=status)
    design.refresh_from_db()
    return design


def act(action: str, design: Design, user):
    if action == "request":
        return services.review_request(design=design, user=user, revision=design.revision)
    if action == "withdraw":
        return services.review_withdraw(design=design, user=user)
    outcome = "approved" if action == "approve" else "changes_requested"
    return services.review_decide(design=design, user=user, outcome=outcome, comment="Decided.", revision=design.revision)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ["request", "withdraw", "approve", "request_changes"])
def test_the_transition_table_for_every_role(team, actors, action, status, role):
    design = design_in(status, team, actors)
    roles, after = ALLOWED.get((action, status), ([], None))
    if role in roles:
        act(action, design, actors[role])
        design.refresh_from_db()
        assert design.status == after
        assert HistoryEvent.objects.filter(design=design, actor=actors[role]).exists()
    else:
        before = counts()
        with pytest.raises(services.ReviewRefused) as refused:
            act(action, design, actors[role])
        assert counts() == before
        # A role too low is 403; a status that does not allow it is 409.
        expected = 403 if action in ("approve", "request_changes") and role == "member" else 409
        assert refused.value.status == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", STATUSES)
def test_an_edit_supersedes_only_an_approval(team, actors, status, role):
    design = design_in(status, team, actors)
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 600.0
    designs.design_update_inputs(design=design, data=inputs, revision=design.revision, user=actors[role])
    design.refresh_from_db()
    assert design.status == ("changed_since_approval" if status == "approved" else status)


def test_withdrawing_returns_to_changed_since_approval(team, actors):
    design = design_in("changed_since_approval", team, actors)
    services.review_request(design=design, user=actors["member"], revision=design.revision)
    services.review_withdraw(design=design, user=actors["member"])
    design.refresh_from_db()
    assert design.status == "changed_since_approval"
