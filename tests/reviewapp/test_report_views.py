"""Report URLs: the access matrix (anonymous, outsider, member, reviewer, owner), methods, the
polled status fragment, downloads, and escaping of what people typed. No PDF is rendered here."""

import pytest
from django.urls import reverse

from reviewapp.reports import services
from reviewapp.reports.models import Report
from reviewapp.reports.selectors import milestone_source
from reviewapp.reviews.services import milestone_create
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401

EVIL = 'Bad <script>alert("x")</script>\n# heading'


@pytest.fixture
def milestone(owner, published, filled_design):
    return milestone_create(design=filled_design, user=owner, name="Before the board")


@pytest.fixture
def report(owner, milestone):
    report, _ = services.report_request(source=milestone_source(milestone.design, milestone), user=owner)
    return report


def read_urls(design, milestone, report):
    pk = design.pk
    return [
        reverse("reports:list", args=[pk]), reverse("reports:draft", args=[pk]),
        reverse("reports:draft_md", args=[pk]), reverse("reports:milestone", args=[pk, milestone.number]),
        reverse("reports:milestone_md", args=[pk, milestone.number]), reverse("reports:status", args=[pk, report.pk]),
    ]  # fmt: skip


def request_urls(design, milestone):
    return [reverse("reports:draft_pdf", args=[design.pk]),
            reverse("reports:milestone_pdf", args=[design.pk, milestone.number])]


def test_anonymous_is_sent_to_login(client, filled_design, milestone, report):
    for url in read_urls(filled_design, milestone, report) + request_urls(filled_design, milestone):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    response = client.post(request_urls(filled_design, milestone)[0])
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert Report.objects.count() == 1


def test_an_outsider_gets_404_everywhere_and_writes_nothing(client_for, outsider, filled_design, milestone, report):
    client = client_for(outsider)
    for url in read_urls(filled_design, milestone, report) + [reverse("reports:pdf", args=[filled_design.pk, report.pk])]:
        assert client.get(url).status_code == 404, url
    for url in request_urls(filled_design, milestone):
        assert client.post(url).status_code == 404, url
    assert Report.objects.count() == 1


@pytest.mark.parametrize("persona", ["member", "reviewer", "owner"])
def test_every_role_reads_reports_and_requests_a_pdf(request, client_for, persona, filled_design, milestone, report):
    client = client_for(request.getfixturevalue(persona))
    for url in read_urls(filled_design, milestone, report):
        assert client.get(url).status_code == 200, url
    response = client.post(reverse("reports:draft_pdf", args=[filled_design.pk]))
    draft = Report.objects.get(milestone=None)
    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    assert draft.snapshot["design"]["name"] == filled_design.name and draft.status == Report.Status.QUEUED


def test_wrong_methods_are_refused(client_for, member, filled_design, milestone, report):
    client = client_for(member)
    for url in request_urls(filled_design, milestone):
        assert client.get(url).status_code == 405
    for url in read_urls(filled_design, milestone, report):
        assert client.post(url).status_code == 405
    assert Report.objects.count() == 1


def test_a_report_of_another_design_is_404(client_for, owner, team, filled_design, milestone, report):
    from reviewapp.designs.models import Design

    other = Design.objects.create(team=team, name="Other", created_by=owner)
    client = client_for(owner)
    assert client.get(reverse("reports:status", args=[other.pk, report.pk])).status_code == 404
    assert client.get(reverse("reports:pdf", args=[other.pk, report.pk])).status_code == 404
    assert client.get(reverse("reports:milestone", args=[other.pk, milestone.number])).status_code == 404


def test_the_status_fragment_polls_while_queued_and_stops_when_ready(client_for, member, filled_design, report):
    client = client_for(member)
    url = reverse("reports:status", args=[filled_design.pk, report.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="report-pdf"') and 'hx-trigger="every 1s"' in fragment
    assert 'data-status="queued"' in fragment and "<html" not in fragment
    # Not ready: the download sends you to the status page.
    download = client.get(reverse("reports:pdf", args=[filled_design.pk, report.pk]))
    assert download.status_code == 302 and download["Location"] == url

    Report.objects.filter(pk=report.pk).update(status="ready", pdf=b"%PDF-1.7 test", pdf_size_bytes=13, page_count=1)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and 'data-status="ready"' in fragment and "Download PDF" in fragment
    download = client.get(reverse("reports:pdf", args=[filled_design.pk, report.pk]))
    assert download.content == b"%PDF-1.7 test" and "attachment" in download["Content-Disposition"]


def test_a_failed_report_says_why_and_offers_a_new_try(client_for, member, filled_design, milestone, report):
    Report.objects.filter(pk=report.pk).update(status="failed", reason="ChartRenderError: no browser")
    client = client_for(member)
    page = client.get(reverse("reports:status", args=[filled_design.pk, report.pk])).content.decode()
    assert "ChartRenderError: no browser" in page and "Make the PDF again" in page
    response = client.post(reverse("reports:milestone_pdf", args=[filled_design.pk, milestone.number]),
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'data-status="queued"' in response.content.decode()
    assert Report.objects.count() == 2


def test_an_overdue_report_is_replaced_by_a_new_request(settings, owner, milestone, report):
    settings.REPORT_QUEUED_TIMEOUT_S = 0
    again, created = services.report_request(source=milestone_source(milestone.design, milestone), user=owner)
    report.refresh_from_db()
    assert created and report.status == Report.Status.FAILED and "No worker" in report.reason


def test_the_html_report_escapes_what_people_typed(client_for, owner, filled_design, published):
    filled_design.name = EVIL
    filled_design.description = "<img src=x onerror=alert(1)>"
    filled_design.save(update_fields=["name", "description"])
    milestone = milestone_create(design=filled_design, user=owner, name="<b>bold</b>")
    client = client_for(owner)
    for url in (reverse("reports:draft", args=[filled_design.pk]),
                reverse("reports:milestone", args=[filled_design.pk, milestone.number])):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "<img src=x" not in page and "<b>bold</b>" not in page


def test_the_html_report_is_the_report(client_for, member, filled_design, milestone):
    page = client_for(member).get(reverse("reports:milestone", args=[filled_design.pk, milestone.number]))
    html = page.content.decode()
    for chapter in ("Executive summary", "The risks that matter most", "Requirements", "Architecture", "The numbers",
                    "Findings by severity", "Accepted risks", "Decision and sign-off", "Appendix: the full checklist"):
        assert chapter in html
    assert 'id="figure-latency_budget"' in html and 'id="figure-cost_by_plan"' in html  # plotly.js draws them
    assert "Milestone 1: Before the board" in html and "Make the PDF" in html
    draft = client_for(member).get(reverse("reports:draft", args=[filled_design.pk])).content.decode()
    assert "Working draft, not a milestone" in draft


def test_a_decision_with_an_override_is_shown_with_the_signature_block(owner, milestone):
    from reviewapp.reports.context import report_context
    from reviewapp.reports.render import report_html

    snapshot = {**milestone.snapshot, "review": {
        "decision": "approved", "label": "Approved", "comment": "Good <enough>", "decided_by": "rafael",
        "decided_at": "2026-11-29T10:00:00+00:00", "signed": {"medium_risks": [{"title": "Circuit breaker"}],
                                                              "unanswered": []},
        "override": {"reason": "Launch is internal only", "findings": [
            {"item_key": "req_p99_budget", "title": "P99 within five seconds", "severity": "high", "outcome": "fail"}]},
        "request": {"requested_by": "mei", "requested_at": "2026-11-28T09:00:00+00:00", "message": "Please"},
    }}  # fmt: skip
    html = report_html(report_context(snapshot), output="pdf")
    assert "Approved</strong>" in html and "rafael" in html and "Good &lt;enough&gt;" in html
    assert "Approved over open risks (override)" in html and "Launch is internal only" in html
    assert "P99 within five seconds" in html and "requested by mei" in html and "Circuit breaker" in html
    assert html.count('class="signature"') == 2 and "2026-11-29 10:00 UTC" in html


def _cover(html: str) -> str:
    return html[html.index('<section class="cover"'):html.index("</section>", html.index('<section class="cover"'))]


def test_the_cover_never_shows_a_bare_approval_above_a_not_ready_verdict(owner, milestone):
    """The PDF cover said "Approved" above "Verdict Not ready" (issue 27, item 7): an approval over
    the verdict says so on the cover, with the verdict's reasons and the reviewer's reason."""
    from reviewapp.reports.context import report_context
    from reviewapp.reports.markdown import report_markdown
    from reviewapp.reports.render import report_html

    assert milestone.snapshot["evaluation"]["verdict"] == "not_ready"  # the example fails the 5 s p99 rule
    reasons = "; ".join(milestone.snapshot["evaluation"]["verdict_reasons"])
    assert reasons.startswith("1 open high-risk issue")
    snapshot = {**milestone.snapshot, "review": {
        "decision": "approved", "label": "Approved", "decided_by": "rafael", "decided_at": "2026-11-29T10:00:00+00:00",
        "override": {"reason": "Launch is internal only", "findings": [
            {"item_key": "req_p99_budget", "title": "P99 within five seconds", "severity": "high", "outcome": "fail"}]},
    }}  # fmt: skip
    context = report_context(snapshot)
    cover = _cover(report_html(context, output="pdf"))
    verdict_at, decision_at = cover.index("<th>Verdict</th>"), cover.index("<th>Decision</th>")
    assert verdict_at < decision_at  # what the assessment says, then what the reviewer decided over it
    assert f"Approved over the verdict “Not ready” ({reasons}) by rafael, 2026-11-29 10:00 UTC" in cover
    assert "reason given: Launch is internal only" in cover
    assert "| Decision | Approved over the verdict “Not ready” (1 open high-risk issue" in report_markdown(context)

    snapshot["review"].pop("override")  # approved over unanswered high items, which the gate lets through
    cover = _cover(report_html(report_context(snapshot), output="pdf"))
    assert "Approved over the verdict “Not ready”" in cover and "no reason was recorded" in cover

    snapshot["review"].update(decision="changes_requested", label="Changes requested")
    cover = _cover(report_html(report_context(snapshot), output="pdf"))
    assert "<td>Changes requested by rafael, 2026-11-29 10:00 UTC</td>" in cover
