"""The dashboard's rendered rows are cached under a stamp of what they show: a view seen again
computes nothing, and any change a row shows renders it anew."""

import pytest
from django.core.cache import cache

from reviewapp.checklists import services as checklists
from reviewapp.designs import services as designs
from reviewapp.designs.selectors import design_assessment
from reviewapp.portfolio import views
from tests.reviewapp.checklist_fixtures import filled_design, published, sample  # noqa: F401
from tests.reviewapp.portfolio_fixtures import inputs_with_peak

URL = "/portfolio/"


@pytest.fixture
def computed(monkeypatch):
    """How many times the rows were computed (not read from the cache)."""
    cache.clear()
    calls = []
    real = views.dashboard_rows
    monkeypatch.setattr(views, "dashboard_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def row_of(client, design) -> str:
    html = client.get(URL).content.decode()
    return html.split(f'data-design="{design.pk}"', 1)[1].split("</tr>", 1)[0]


def test_a_view_seen_again_is_read_from_the_cache(client_for, member, filled_design, published, computed):
    client = client_for(member)
    first = row_of(client, filled_design)
    assert row_of(client, filled_design) == first
    assert client.get(URL, HTTP_HX_REQUEST="true").status_code == 200
    assert len(computed) == 1
    client.get(URL, {"sort": "cost"})  # another sort is another page
    assert len(computed) == 2


def test_a_saved_design_shows_its_new_numbers(client_for, member, filled_design, published, computed):
    client = client_for(member)
    before = row_of(client, filled_design)
    designs.design_update_inputs(design=filled_design, data=inputs_with_peak(900.0), revision=filled_design.revision,
                                 user=member)
    filled_design.refresh_from_db()
    after = row_of(client, filled_design)
    cost = design_assessment(filled_design).facts.get("cost.monthly_usd.selected")
    assert after != before and f"${cost:,.0f}" in after and len(computed) == 2


def test_an_accepted_risk_shows_at_once(client_for, member, reviewer, filled_design, published, computed):
    client = client_for(member)
    high = design_assessment(filled_design).evaluation.high_risk_count
    assert f"{high} high" in row_of(client, filled_design)
    review = checklists.review_for_design(design=filled_design, user=reviewer)
    checklists.risk_accept(review=review, item_key="req_p99_budget", user=reviewer, rationale="Known.")
    assert f"{high - 1} high" in row_of(client, filled_design)


def test_a_renamed_team_shows_at_once(client_for, member, team, filled_design, published, computed):
    client = client_for(member)
    row_of(client, filled_design)
    team.name = "Relevance team"
    team.save()
    assert "Relevance team" in row_of(client, filled_design)


def test_a_status_change_shows_at_once(client_for, member, filled_design, published, computed):
    from reviewapp.designs.models import Design

    client = client_for(member)
    assert "changed since approval" not in row_of(client, filled_design)
    Design.objects.filter(pk=filled_design.pk).update(status=Design.Status.CHANGED_SINCE_APPROVAL)
    assert "changed since approval" in row_of(client, filled_design)


def test_rows_scored_with_a_draft_version_are_never_cached(client_for, member, filled_design, published, computed):
    from reviewapp.checklists.models import ChecklistVersion

    review = checklists.review_for_design(design=filled_design, user=member)
    ChecklistVersion.objects.filter(pk=review.version_id).update(status=ChecklistVersion.Status.DRAFT)
    client = client_for(member)
    row_of(client, filled_design)
    row_of(client, filled_design)
    assert len(computed) == 2


def test_the_stamp_covers_exactly_the_designs_the_rows_show(member, owner, team, other_team, filled_design, published):
    from reviewapp.accounts.models import Membership, Team
    from reviewapp.designs.models import Design
    from reviewapp.portfolio.selectors import _stamps, team_designs

    Membership.objects.create(user=member, team=other_team, role="member")
    Design.objects.create(team=other_team, name="Fraud scoring", description="Streaming", created_by=owner,
                          status=Design.Status.IN_REVIEW)
    outsiders = Design.objects.create(team=Team.objects.create(name="Elsewhere", slug="elsewhere"), name="Hidden",
                                      created_by=owner)
    for selection in ({}, {"team_id": team.pk}, {"team_id": other_team.pk}, {"status": "in_review"},
                      {"status": "approved"}):
        stamped = [r[0] for r in _stamps(member, team_id=selection.get("team_id"), status=selection.get("status", ""))]
        shown = [d.pk for d in team_designs(member, **selection).order_by("pk")]
        assert stamped == shown, selection
    assert outsiders.pk not in [r[0] for r in _stamps(member, team_id=None, status="")]
