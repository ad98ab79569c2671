"""The consolidated report of a team's designs: HTML, PDF and JSON, from each design's approved
milestone where it has one, else its working draft (labelled)."""

import pytest
from django.urls import reverse

from reviewapp.designs import services as designs
from reviewapp.designs.models import Design
from reviewapp.designs.selectors import design_assessment
from reviewapp.reviews import services as reviews
from reviewapp.reviews.models import Milestone
from tests.reviewapp.checklist_fixtures import filled_design, published, sample  # noqa: F401
from tests.reviewapp.portfolio_fixtures import inputs_with_peak
from tests.reviewapp.report_fixtures import pdf_text


@pytest.fixture
def approved_then_changed(filled_design, published, member, reviewer, owner):
    """The example design approved (over its high risk), then saved with a doubled peak load."""
    reviews.review_request(design=filled_design, user=member, revision=filled_design.revision)
    filled_design.refresh_from_db()
    reviews.review_decide(design=filled_design, user=reviewer, outcome="approved", comment="Fine.",
                          revision=filled_design.revision, override_reason="Known, fixed next quarter.")
    filled_design.refresh_from_db()
    peak = filled_design.inputs["requirements"]["peak_qps"]
    designs.design_update_inputs(design=filled_design, data=inputs_with_peak(peak * 4), revision=filled_design.revision,
                                 user=member)
    filled_design.refresh_from_db()
    assert filled_design.status == Design.Status.CHANGED_SINCE_APPROVAL
    return filled_design


@pytest.fixture
def draft(team, owner, published):
    return Design.objects.create(team=team, name="Batch scorer", created_by=owner, inputs=inputs_with_peak(30.0))


def by_name(data) -> dict:
    return {d["name"]: d for d in data["designs"]}


def test_json_reports_an_approved_design_from_its_milestone_and_a_draft_as_draft(
        client_for, member, approved_then_changed, draft):
    response = client_for(member).get(reverse("portfolio:report_json"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = response.json()
    assert data["format"] == "ai-design-review/portfolio-report" and data["teams"] == ["Search team"]
    approved, working = by_name(data)["Ranking service"], by_name(data)["Batch scorer"]

    milestone = Milestone.objects.get(pk=approved_then_changed.decisions.get().milestone_id)
    frozen = milestone.snapshot
    assert approved["source"] == "approved_milestone" and approved["milestone"]["number"] == milestone.number
    assert approved["review_status"] == "changed_since_approval"
    assert approved["score"] == frozen["evaluation"]["score"]["overall"]
    assert approved["open_high_risks"] == frozen["evaluation"]["high_risk_count"]
    assert approved["monthly_cost_usd"] == frozen["facts"]["cost"]["monthly_usd"]["selected"]
    # The design was changed after: its working draft costs more, and the report does not show that.
    now = design_assessment(approved_then_changed).facts.get("cost.monthly_usd.selected")
    assert now != approved["monthly_cost_usd"]

    live = design_assessment(draft)
    assert working["source"] == "draft" and working["milestone"] is None
    assert working["source_label"] == "Working draft (not approved)"
    assert working["score"] == live.evaluation.score.overall
    assert working["monthly_cost_usd"] == live.facts.get("cost.monthly_usd.selected")
    totals = data["totals"]
    assert totals == {**totals, "designs": 2, "from_approved_milestones": 1, "from_working_drafts": 1,
                      "open_high_risks": approved["open_high_risks"] + working["open_high_risks"]}
    assert sum(s["open_high_risks"] for s in data["risks_by_section"]) == totals["open_high_risks"]


def test_the_report_follows_the_dashboards_filters(client_for, member, approved_then_changed, draft):
    data = client_for(member).get(reverse("portfolio:report_json"), {"q": "batch"}).json()
    assert [d["name"] for d in data["designs"]] == ["Batch scorer"]
    assert data["selection"]["text"] == "batch"


def approved_label(design) -> str:
    milestone = Milestone.objects.get(pk=design.decisions.get().milestone_id)
    return f"Approved milestone M{milestone.number}: {milestone.name}"


def test_html_labels_each_row_with_where_it_comes_from(client_for, member, approved_then_changed, draft):
    response = client_for(member).get(reverse("portfolio:report"))
    html = response.content.decode()
    assert response.status_code == 200
    assert approved_label(approved_then_changed) in html and "Working draft (not approved)" in html
    assert "Open risks by checklist section" in html and 'href="/portfolio/report.pdf"' in html


def test_pdf_is_a_pdf_of_the_same_report(client_for, member, approved_then_changed, draft):
    response = client_for(member).get(reverse("portfolio:report_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(pdf_text(response.content).split())  # table cells wrap
    assert "Ranking service" in text and "Batch scorer" in text and "Working draft (not approved)" in text
    assert f"Approved milestone M{approved_then_changed.decisions.get().milestone.number}" in text


def test_an_outsider_gets_an_empty_report(client_for, outsider, approved_then_changed):
    data = client_for(outsider).get(reverse("portfolio:report_json")).json()
    assert data["designs"] == [] and data["teams"] == ["Other team"] and data["totals"]["designs"] == 0


def test_bad_filters_answer_400_naming_the_field(client_for, member, draft):
    response = client_for(member).get(reverse("portfolio:report_json"), {"status": "done"})
    assert response.status_code == 400 and "status" in response.json()["fields"]
    assert client_for(member).get(reverse("portfolio:report_pdf"), {"status": "done"}).status_code == 400
