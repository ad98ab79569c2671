"""Trends: a design's score, open risks and monthly cost over its milestones, on the design page
and in the design report (HTML and PDF), from the milestones' snapshots."""

import json
import re

import pytest
from django.urls import reverse

from reviewapp.designs import services as designs
from reviewapp.reports.render import render_pdf
from reviewapp.reports.selectors import milestone_source
from reviewapp.reviews import services as reviews
from tests.reviewapp.checklist_fixtures import filled_design, published, sample  # noqa: F401
from tests.reviewapp.portfolio_fixtures import inputs_with_peak
from tests.reviewapp.report_fixtures import chart_browser, pdf_text  # noqa: F401


def figure_in(html: str) -> dict:
    found = re.search(r'<script id="figure-trend" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no trend figure in the page"
    return json.loads(found.group(1))


def trace(figure, name):
    (found,) = [t for t in figure["data"] if t["name"].startswith(name)]
    return found


@pytest.fixture
def three_milestones(filled_design, published, owner):
    """M1 as filled, M2 and M3 after raising the peak load (the cost goes up)."""
    peak = filled_design.inputs["requirements"]["peak_qps"]
    milestones = [reviews.milestone_create(design=filled_design, user=owner, name="first")]
    for factor, name in ((3, "bigger"), (6, "biggest")):
        designs.design_update_inputs(design=filled_design, data=inputs_with_peak(peak * factor),
                                     revision=filled_design.revision, user=owner)
        filled_design.refresh_from_db()
        milestones.append(reviews.milestone_create(design=filled_design, user=owner, name=name))
    return milestones


def test_the_design_page_draws_each_milestones_numbers(client_for, member, filled_design, three_milestones):
    html = client_for(member).get(reverse("designs:detail", args=[filled_design.pk])).content.decode()
    assert 'id="design-trend"' in html and "vendor/plotly.min.js" in html
    figure = figure_in(html)
    snapshots = [m.snapshot for m in three_milestones]
    assert trace(figure, "score")["x"] == ["M1 first", "M2 bigger", "M3 biggest"]
    assert trace(figure, "score")["y"] == [s["evaluation"]["score"]["overall"] for s in snapshots]
    assert trace(figure, "open high")["y"] == [s["evaluation"]["high_risk_count"] for s in snapshots]
    costs = trace(figure, "monthly cost")["y"]
    assert costs == [s["facts"]["cost"]["monthly_usd"]["selected"] for s in snapshots]
    assert costs[0] < costs[1] < costs[2]


def test_no_trend_before_two_milestones(client_for, member, filled_design, published, owner):
    url = reverse("designs:detail", args=[filled_design.pk])
    assert 'id="design-trend"' not in client_for(member).get(url).content.decode()
    reviews.milestone_create(design=filled_design, user=owner, name="only")
    assert 'id="design-trend"' not in client_for(member).get(url).content.decode()


def test_a_milestones_report_shows_the_trend_up_to_it_and_the_draft_report_adds_the_draft(
        client_for, member, filled_design, three_milestones):
    client = client_for(member)
    html = client.get(reverse("reports:milestone", args=[filled_design.pk, 2])).content.decode()
    assert trace(figure_in(html), "score")["x"] == ["M1 first", "M2 bigger"]
    html = client.get(reverse("reports:draft", args=[filled_design.pk])).content.decode()
    assert trace(figure_in(html), "score")["x"] == ["M1 first", "M2 bigger", "M3 biggest", "Working draft"]
    assert "Trend over the milestones" in html


def test_the_pdf_report_draws_the_trend(chart_browser, filled_design, three_milestones):
    rendered = render_pdf(milestone_source(filled_design, three_milestones[-1]))
    assert "Trend over the milestones" in pdf_text(rendered.pdf)
