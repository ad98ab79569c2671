"""Review pages: the authorization matrix of every review URL (anonymous, outsider, member,
reviewer, owner, staff) with nothing leaked or written where refused; wrong methods; what the
pages show; refused posts answer with the reason and write nothing."""

import pytest
from django.urls import reverse
from engine.design import example_design

from reviewapp.designs import services as designs
from reviewapp.reviews import services
from reviewapp.reviews.models import Decision, Milestone
from tests.reviewapp.review_fixtures import counts, filled_design, in_review, published, staff  # noqa: F401

PERSONAS = ["anonymous", "outsider", "staff", "member", "reviewer", "owner"]


def url(name, design, *args):
    return reverse(f"reviews:{name}", args=[design.pk, *args])


# (name, method, design state, data, {persona: status}); personas not named: anonymous 302,
# outsider 404, staff 404 (staff manage checklists in the admin; a design is its team's).
TEAM_200 = {"member": 200, "reviewer": 200, "owner": 200}
TEAM_302 = {"member": 302, "reviewer": 302, "owner": 302}
ENDPOINTS = [
    ("request", "get", "draft", None, TEAM_200),
    ("request", "post", "draft", "revision", TEAM_302),
    ("withdraw", "post", "in_review", None, TEAM_302),
    ("decide", "get", "in_review", None, {"member": 403, "reviewer": 200, "owner": 200}),
    ("decide", "post", "in_review", "changes", {"member": 403, "reviewer": 302, "owner": 302}),
    ("milestones", "get", "in_review", None, TEAM_200),
    ("milestones", "post", "in_review", {"name": "Before the board"}, TEAM_302),
    ("milestone", "get", "in_review", None, TEAM_200),
    ("milestone_json", "get", "in_review", None, TEAM_200),
    ("compare", "get", "in_review", None, TEAM_200),
    ("history", "get", "in_review", None, TEAM_200),
]


@pytest.fixture
def people(member, reviewer, owner, outsider, staff):
    return {"member": member, "reviewer": reviewer, "owner": owner, "outsider": outsider, "staff": staff}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "state", "data", "team_statuses"), ENDPOINTS,
                         ids=[f"{e[1]}-{e[0]}" for e in ENDPOINTS])
def test_the_authorization_matrix(client, people, published, filled_design, persona, name, method, state, data,
                                  team_statuses):
    design = filled_design
    if state == "in_review":
        services.review_request(design=design, user=people["member"], revision=design.revision)
        design.refresh_from_db()
    args = [1] if name in ("milestone", "milestone_json") else []
    if data == "revision":
        data = {"revision": design.revision}
    elif data == "changes":
        data = {"outcome": "changes_requested", "comment": "Fix the p99.", "revision": design.revision}
    if persona != "anonymous":
        client.force_login(people[persona])
    expected = team_statuses.get(persona) or {"anonymous": 302, "outsider": 404, "staff": 404}[persona]
    before = counts()
    response = getattr(client, method)(url(name, design, *args), data or {})
    assert response.status_code == expected
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if expected in (302, 403, 404) and not (expected == 302 and persona != "anonymous"):
        assert counts() == before  # refused: nothing written
        assert design.name.encode() not in response.content  # and nothing told
    if expected == 302 and persona != "anonymous":
        assert response["Location"] == reverse("designs:detail", args=[design.pk])


@pytest.mark.parametrize(("name", "wrong"), [
    ("request", "put"), ("withdraw", "get"), ("decide", "delete"), ("milestones", "put"),
    ("milestone", "post"), ("milestone_json", "post"), ("compare", "post"), ("history", "post"),
])
def test_each_page_refuses_the_wrong_method(client_for, owner, in_review, name, wrong):
    args = [1] if name in ("milestone", "milestone_json") else []
    before = counts()
    assert getattr(client_for(owner), wrong)(url(name, in_review, *args)).status_code == 405
    assert counts() == before


def test_a_milestone_number_of_another_design_is_404(client_for, member, owner, in_review):
    other = designs.design_create(team=in_review.team, name="Other", description="", user=owner)
    assert client_for(member).get(url("milestone", other, 1)).status_code == 404
    assert client_for(member).get(url("milestone_json", other, 1)).status_code == 404


# --- refusals answer with the reason and write nothing -------------------------------------------


def test_an_approval_over_a_high_risk_is_refused_with_the_blockers_listed(client_for, reviewer, in_review):
    before = counts()
    response = client_for(reviewer).post(url("decide", in_review), {
        "outcome": "approved", "comment": "fine", "revision": in_review.revision})
    assert response.status_code == 400
    html = response.content.decode()
    assert "block approval" in html and 'data-testid="blockers"' in html and "P99 within five seconds" in html
    assert counts() == before


def test_an_approval_with_an_override_through_the_page(client_for, reviewer, in_review):
    response = client_for(reviewer).post(url("decide", in_review), {
        "outcome": "approved", "comment": "fine", "override_reason": "Renegotiating the target.",
        "revision": in_review.revision})
    assert response.status_code == 302
    decision = Decision.objects.get(design=in_review)
    assert decision.override_reason == "Renegotiating the target."


def test_the_requester_is_told_they_cannot_approve(client_for, member, in_review, team):
    from reviewapp.accounts.models import Membership

    Membership.objects.filter(user=member, team=team).update(role="reviewer")
    client = client_for(member)
    assert "You requested this review" in client.get(url("decide", in_review)).content.decode()
    before = counts()
    response = client.post(url("decide", in_review), {"outcome": "approved", "comment": "mine", "override_reason": "x",
                                                     "revision": in_review.revision})
    assert response.status_code == 403 and "You requested this review" in response.content.decode()
    assert counts() == before


def test_a_stale_decision_is_409_and_says_so(client_for, member, reviewer, in_review):
    seen = in_review.revision
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 600.0
    designs.design_update_inputs(design=in_review, data=inputs, revision=seen, user=member)
    before = counts()
    response = client_for(reviewer).post(url("decide", in_review), {
        "outcome": "changes_requested", "comment": "no", "revision": seen})
    assert response.status_code == 409 and "after you read revision" in response.content.decode()
    assert counts() == before


def test_a_decision_already_taken_is_409_and_names_who_took_it(client_for, reviewer, in_review, team):
    from tests.conftest import _user_in

    ruth = _user_in(team, "ruth", "reviewer")
    data = {"outcome": "changes_requested", "comment": "p99", "revision": in_review.revision}
    assert client_for(reviewer).post(url("decide", in_review), data).status_code == 302
    before = counts()
    response = client_for(ruth).post(url("decide", in_review), data)
    assert response.status_code == 409 and "rafael" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("data", [
    {},  # no revision
    {"revision": "abc"},
    {"revision": "1", "reviewers": ["99999"]},
    {"revision": "1", "message": "x" * 6000},
])
def test_a_bad_request_writes_nothing(client_for, member, published, filled_design, data):
    before = counts()
    assert client_for(member).post(url("request", filled_design), data).status_code == 400
    assert counts() == before


def test_a_request_on_a_design_in_review_is_409(client_for, member, in_review):
    before = counts()
    response = client_for(member).post(url("request", in_review), {"revision": in_review.revision})
    assert response.status_code == 409
    assert counts() == before


def test_withdrawing_with_no_open_request_is_409(client_for, member, published, filled_design):
    before = counts()
    assert client_for(member).post(url("withdraw", filled_design)).status_code == 409
    assert counts() == before


def test_a_milestone_name_with_a_line_break_is_400(client_for, member, in_review):
    before = counts()
    response = client_for(member).post(url("milestones", in_review), {"name": "Board\r\nBcc: x@example.com"})
    assert response.status_code == 400 and "control character U+000D" in response.content.decode()
    assert counts() == before


def test_a_milestone_name_too_long_is_400(client_for, member, in_review):
    before = counts()
    assert client_for(member).post(url("milestones", in_review), {"name": "x" * 201}).status_code == 400
    assert counts() == before


# --- what the pages show ------------------------------------------------------------------------


def test_the_design_page_shows_the_review_control_at_the_top(client_for, reviewer, in_review):
    html = client_for(reviewer).get(reverse("designs:detail", args=[in_review.pk])).content.decode()
    control = html.index('id="review-status"')
    assert control < html.index('id="design-forms"')
    assert "Requested by <strong>mei</strong>" in html and "Please look" in html
    # The decision dialog lists what an approval signs.
    assert 'data-testid="blockers"' in html and 'data-testid="unanswered"' in html
    assert "Requirements reviewed with the product owner" in html
    # The recent history loads when opened: the page carries its link, not its rows.
    assert 'data-testid="recent-history"' in html and url("history", in_review) in html
    assert 'data-testid="history"' not in html
    fragment = client_for(reviewer).get(url("history", in_review), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="history"' in fragment and "Requested a review of revision" in fragment
    assert "<html" not in fragment


def test_the_request_form_loads_when_opened_for_the_revision_the_page_showed(client_for, member, reviewer,
                                                                             filled_design):
    page = client_for(member).get(reverse("designs:detail", args=[filled_design.pk])).content.decode()
    shown = filled_design.revision
    assert f'{url("request", filled_design)}?revision={shown}' in page
    assert "rafael" not in page  # who may be named is read only when the form is opened
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 600.0
    designs.design_update_inputs(design=filled_design, data=inputs, revision=shown, user=member)
    fragment = client_for(member).get(url("request", filled_design), {"revision": shown},
                                      HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "rafael" in fragment
    assert f'name="revision" value="{shown}"' in fragment  # not the newer one saved meanwhile
    assert f"Request review of revision {shown}" in fragment
    # Posting it is refused as stale, and nothing is requested.
    before = counts()
    response = client_for(member).post(url("request", filled_design), {"revision": shown, "message": "ok"})
    assert response.status_code == 409 and counts() == before
    for junk in ("0", "-1", "abc", str(shown + 5), "9" * 40):
        fragment = client_for(member).get(url("request", filled_design), {"revision": junk},
                                          HTTP_HX_REQUEST="true").content.decode()
        assert f'name="revision" value="{shown + 1}"' in fragment  # anything else: the current revision


def test_the_design_page_shows_changed_since_approval_and_the_diff(client_for, member, reviewer, in_review):
    services.review_decide(design=in_review, user=reviewer, outcome="approved", comment="ok",
                           revision=in_review.revision, override_reason="ok")
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 600.0
    in_review.refresh_from_db()
    designs.design_update_inputs(design=in_review, data=inputs, revision=in_review.revision, user=member)
    html = client_for(member).get(reverse("designs:detail", args=[in_review.pk])).content.decode()
    assert 'data-testid="review-status">Changed since approval<' in html
    assert 'data-testid="changed-since-approval"' in html
    assert '<tr data-path="requirements.peak_qps"><th scope="row">Peak QPS</th><td>70</td><td>600</td>' in html
    assert 'data-path="capacity.replicas"' in html
    listing = client_for(member).get(reverse("designs:list")).content.decode()
    assert "Changed since approval" in listing


def test_the_compare_page_diffs_two_milestones(client_for, member, in_review):
    inputs = example_design()
    inputs["requirements"]["peak_qps"] = 600.0
    designs.design_update_inputs(design=in_review, data=inputs, revision=in_review.revision, user=member)
    services.milestone_create(design=in_review, user=member, name="After")
    client = client_for(member)
    html = client.get(url("compare", in_review), {"old": "1", "new": "2"}).content.decode()
    assert "Peak QPS" in html and 'data-path="capacity.replicas"' in html
    assert client.get(url("compare", in_review), {"old": "1", "new": "7"}).status_code == 400
    assert client.get(url("compare", in_review), {"old": "now", "new": "now"}).status_code == 200


def test_the_milestone_json_is_the_stored_snapshot(client_for, member, in_review):
    import json

    response = client_for(member).get(url("milestone_json", in_review, 1))
    assert json.loads(response.content) == Milestone.objects.get(design=in_review, number=1).snapshot
    assert response["Content-Disposition"].startswith("attachment")


def test_reading_review_pages_writes_nothing(client_for, reviewer, in_review):
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(reviewer)
    for name, args in [("request", []), ("decide", []), ("milestones", []), ("milestone", [1]),
                       ("milestone_json", [1]), ("compare", []), ("history", [])]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(name, in_review, *args)).status_code == 200
        assert not [q for q in captured.captured_queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)]


def test_staff_read_the_review_record_in_the_admin_and_cannot_change_it(client_for, staff, reviewer, in_review):
    from reviewapp.reviews.models import HistoryEvent

    services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="p99",
                           revision=in_review.revision)
    client = client_for(staff)
    event = HistoryEvent.objects.filter(design=in_review).first()
    for model in ("historyevent", "milestone", "reviewrequest", "decision"):
        page = client.get(f"/admin/reviews/{model}/")
        assert page.status_code == 200, model
    assert "Changes requested revision" in client.get("/admin/reviews/historyevent/").content.decode()
    assert client.get(f"/admin/reviews/historyevent/{event.pk}/change/").status_code == 200  # read-only view
    before = counts()
    assert client.post(f"/admin/reviews/historyevent/{event.pk}/change/", {"summary": "rewritten"}).status_code == 403
    assert client.post(f"/admin/reviews/historyevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/reviews/decision/add/").status_code == 403
    assert counts() == before


def test_the_design_page_reads_its_review_with_the_design_and_stays_right(client_for, member, reviewer, published,
                                                                         in_review):
    """The page reads the pinned version, the newest version's number and the milestone and
    decision counts with the design's own query (designs.selectors.with_assessment,
    reviews.selectors.with_review_counts): what it shows must follow every change to them."""
    from reviewapp.checklists import services as checklists

    def page():
        return client_for(member).get(reverse("designs:detail", args=[in_review.pk])).content.decode()

    milestones = Milestone.objects.filter(design=in_review).count()
    html = page()
    assert f"Milestones ({milestones})" in html and 'data-testid="decision-comment"' not in html
    assert "Version 2 is published." not in html
    services.milestone_create(design=in_review, user=member, name="Before the board")
    services.review_decide(design=in_review, user=reviewer, outcome="changes_requested", comment="Split the tiers.",
                           revision=in_review.revision)
    checklists.review_for_design(design=in_review)  # pinned to v1 (already, or now)
    checklists.version_publish(version=checklists.version_new_draft(version=published))
    html = page()
    assert f"Milestones ({Milestone.objects.filter(design=in_review).count()})" in html
    assert Milestone.objects.filter(design=in_review).count() >= milestones + 2  # ours and the decision's
    assert 'data-testid="decision-comment"' in html and "Split the tiers." in html
    assert "Version 2 is published." in html
