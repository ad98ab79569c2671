"""The dashboard and the consolidated report read a fixed number of queries, whatever the number of
designs (200 here), with pinned and unpinned designs, answers, accepted risks, benchmark runs and
approved milestones among them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviewapp.checklists import services as checklists
from reviewapp.checklists.models import Answer, RiskAcceptance
from reviewapp.designs.models import Design
from reviewapp.reviews import services as reviews
from tests.reviewapp.benchmark_fixtures import make_run
from tests.reviewapp.checklist_fixtures import published, sample  # noqa: F401
from tests.reviewapp.portfolio_fixtures import make_designs


def dress(designs, *, owner, member, reviewer, approve: int):
    """Give the designs what makes an assessment read more: pins, answers, acceptances, runs; and
    approve `approve` of them (a milestone each)."""
    for i, design in enumerate(designs):
        if i % 2 == 0:
            review = checklists.review_for_design(design=design, user=owner)
            if i % 4 == 0:
                Answer.objects.create(review=review, item_key="req_p99_budget", status="", choices=[], reason="x",
                                      answered_by=owner)
            if i % 6 == 0:
                RiskAcceptance.objects.create(review=review, item_key="req_p99_budget", rationale="known",
                                              accepted_by=owner)
        if i % 5 == 0:
            make_run(design)
    for design in designs[:approve]:
        reviews.review_request(design=design, user=member, revision=design.revision)
        design.refresh_from_db()
        reviews.review_decide(design=design, user=reviewer, outcome="approved", comment="Fine.",
                              revision=design.revision, override_reason="Known risk, fixed next quarter.")


def queries_of(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_number_of_designs(client_for, team, owner, member, reviewer, published,
                                                        django_assert_max_num_queries):
    client = client_for(member)
    first = make_designs(team, owner, 10)
    dress(first, owner=owner, member=member, reviewer=reviewer, approve=1)
    urls = (reverse("portfolio:dashboard"), reverse("portfolio:report_json"), reverse("portfolio:report"))
    few = {url: queries_of(client, url)[0] for url in urls}

    more = make_designs(team, owner, 190, start=10)
    dress(more, owner=owner, member=member, reviewer=reviewer, approve=3)
    assert Design.objects.filter(team=team).count() == 200
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            count, response = queries_of(client, url)
        assert count == few[url], url
    # ... and the 200 are there, with what made them read more.
    assert client.get(urls[0]).content.decode().count("<tr data-design=") == 200
    data = client.get(urls[1]).json()
    assert data["totals"]["designs"] == 200 and data["totals"]["from_approved_milestones"] == 4
