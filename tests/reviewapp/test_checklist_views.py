"""The review page, the findings panel and its writes: access, methods, side effects."""

import pytest
from engine.design import example_design

from reviewapp.checklists import services
from reviewapp.checklists.models import Answer, DesignReview, RiskAcceptance
from tests.reviewapp.checklist_fixtures import filled_design, published, sample, staff  # noqa: F401

HX = {"HTTP_HX_REQUEST": "true"}


def flat(document: dict) -> dict:
    out = {}
    for group, values in document.items():
        for key, value in values.items():
            if value is None:
                out[f"{group}.{key}"] = ""
            elif isinstance(value, list):
                out[f"{group}.{key}"] = value
            elif isinstance(value, bool):
                out[f"{group}.{key}"] = "on" if value else ""
            else:
                out[f"{group}.{key}"] = str(value)
    return out


def urls(design, key="req_reviewed"):
    base = f"/checklists/design/{design.pk}"
    return {
        "review": f"{base}/review/",
        "panel": f"{base}/panel/",
        "answer": f"{base}/answers/{key}/",
        "accept": f"{base}/acceptances/{key}/",
        "pin": f"{base}/pin/",
    }


def outcome(html: str, key: str) -> str:
    marker = f'id="finding-{key}" data-outcome="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


# --- access and methods, for every view -------------------------------------------------


@pytest.mark.parametrize("name", ["review", "panel", "answer", "accept", "pin"])
def test_anonymous_goes_to_login(client, published, filled_design, name):
    url = urls(filled_design)[name]
    response = client.post(url) if name in ("answer", "accept", "pin") else client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["review", "panel", "answer", "accept", "pin"])
def test_outsider_gets_404(client_for, outsider, published, filled_design, name):
    client = client_for(outsider)
    url = urls(filled_design)[name]
    response = client.post(url, {"status": "pass"}) if name != "review" else client.get(url)
    assert response.status_code == 404
    assert not Answer.objects.exists() and not DesignReview.objects.exists()


@pytest.mark.parametrize(("name", "method"), [("review", "post"), ("panel", "put"), ("answer", "get"), ("accept", "get"), ("pin", "get")])
def test_wrong_method_is_405(client_for, member, published, filled_design, name, method):
    response = getattr(client_for(member), method)(urls(filled_design)[name])
    assert response.status_code == 405


@pytest.mark.parametrize("name", ["accept", "pin"])
def test_reviewer_only_actions_are_403_for_a_member(client_for, member, published, filled_design, name):
    response = client_for(member).post(urls(filled_design, "req_p99_budget")[name], {"rationale": "fine"})
    assert response.status_code == 403
    assert not RiskAcceptance.objects.exists()


# --- reading ----------------------------------------------------------------------------


def test_member_reads_scores_findings_and_plans(client_for, member, published, filled_design):
    response = client_for(member).get(urls(filled_design)["review"])
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="findings-panel"' in html
    assert outcome(html, "req_p99_budget") == "fail"  # the example's p99 is over 5 s
    assert outcome(html, "rel_fallback") == "pass"
    assert 'data-testid="high-risk-count">1<' in html
    # The list is compact: plans and traces are one finding's page (or loaded into the panel).
    assert "Set a p99 budget of at most five seconds." not in html
    detail = client_for(member).get(f"/checklists/design/{filled_design.pk}/findings/req_p99_budget/").content.decode()
    assert "Set a p99 budget of at most five seconds." in detail
    assert "requirements.latency_p99_ms &lt;= 5000" in detail  # the trace: expression and fact read
    # Reading pins nothing: the newest published version scores an unpinned design.
    assert f"v{published.number}" in html and not DesignReview.objects.exists()


def test_a_trace_shows_values_as_cel_writes_them(client_for, member, published, filled_design):
    client = client_for(member)
    detail = client.get(f"/checklists/design/{filled_design.pk}/findings/rel_breaker/").content.decode()
    assert "<code>architecture.circuit_breaker = true</code>" in detail
    detail = client.get(f"/checklists/design/{filled_design.pk}/findings/req_p99_budget/").content.decode()
    assert "<code>requirements.workload_timing = &#x27;online&#x27;</code>" in detail
    assert "= True" not in detail and "= None" not in detail


def test_the_design_page_renders_the_panel_without_javascript(client_for, member, published, filled_design):
    response = client_for(member).get(f"/designs/{filled_design.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="findings-panel"' in html and outcome(html, "req_p99_budget") == "fail"
    # No second request on load: the typing preview carries the panel (with the filters) out of band.
    assert 'hx-trigger="load' not in html and 'hx-include="#findings-filters"' in html


def test_filters_by_severity_and_outcome(client_for, member, published, filled_design):
    client = client_for(member)
    html = client.get(urls(filled_design)["panel"], {"severity": "high"}, **HX).content.decode()
    assert "finding-req_p99_budget" in html and "finding-req_reviewed" not in html
    assert html.lstrip().startswith('<section id="findings-panel"')
    assert "load, " not in html  # a re-rendered panel must not re-trigger itself
    html = client.get(urls(filled_design)["panel"], {"outcome": "pass"}, **HX).content.decode()
    assert "finding-rel_fallback" in html and "finding-req_p99_budget" not in html


def test_preview_evaluates_posted_values_and_saves_nothing(client_for, member, published, filled_design):
    data = flat(example_design())
    data["requirements.latency_p99_ms"] = "3000"
    data["requirements.latency_p95_ms"] = "2000"  # p99 below p95 would be invalid, and left out (issue 12)
    data["architecture.circuit_breaker"] = ""
    data["requirements.peak_qps"] = "not a number"  # invalid fields are ignored in a preview
    response = client_for(member).post(urls(filled_design)["panel"], data, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert outcome(html, "req_p99_budget") == "pass"
    assert outcome(html, "rel_breaker") == "fail"
    filled_design.refresh_from_db()
    assert filled_design.inputs["requirements"]["latency_p99_ms"] == example_design()["requirements"]["latency_p99_ms"]


def test_panel_without_a_published_checklist_says_so(client_for, member, filled_design):
    response = client_for(member).get(urls(filled_design)["review"])
    assert response.status_code == 200
    assert "No checklist is published yet." in response.content.decode()


def test_rule_errors_are_shown_to_staff_only(client_for, member, staff, team, filled_design):
    from reviewapp.accounts.models import Membership

    document = sample()
    document["sections"][0]["items"][0]["passes_when"] = "int(requirements.latency_p99_ms) / 0 > 0"  # fails at run time
    version = services.checklist_import(data=document, publish=True)
    version.checklist.is_default = True
    version.checklist.save(update_fields=["is_default"])
    Membership.objects.create(user=staff, team=team, role="member")
    html = client_for(member).get(urls(filled_design)["review"]).content.decode()
    assert "finding-req_p99_budget" not in html and "Rule error" not in html
    html = client_for(staff).get(urls(filled_design)["review"]).content.decode()
    assert outcome(html, "req_p99_budget") == "rule_error"


# --- writing ----------------------------------------------------------------------------


def test_member_answers_a_manual_item_and_the_panel_changes(client_for, member, published, filled_design):
    client = client_for(member)
    before = client.get(urls(filled_design)["review"]).content.decode()
    assert outcome(before, "req_reviewed") == "unanswered"
    response = client.post(urls(filled_design)["answer"], {"status": "fail", "reason": "not yet"}, **HX)
    assert response.status_code == 200
    assert outcome(response.content.decode(), "req_reviewed") == "fail"
    answer = Answer.objects.get(review__design=filled_design, item_key="req_reviewed")
    assert (answer.status, answer.reason, answer.answered_by) == ("fail", "not yet", member)


def test_answer_without_javascript_redirects_to_the_review_page(client_for, member, published, filled_design):
    response = client_for(member).post(urls(filled_design)["answer"], {"status": "pass"})
    assert response.status_code == 302 and response["Location"] == urls(filled_design)["review"]
    assert Answer.objects.get().status == "pass"


def test_multiple_choice_answer_uses_the_risk_rules(client_for, member, published, filled_design):
    client = client_for(member)
    url = urls(filled_design, "rel_degradation")["answer"]
    html = client.post(url, {"choices": ["deg_static"]}, **HX).content.decode()
    assert outcome(html, "rel_degradation") == "fail"
    html = client.post(url, {"choices": ["deg_static", "deg_queue"]}, **HX).content.decode()
    assert outcome(html, "rel_degradation") == "pass"
    assert Answer.objects.get().choices == ["deg_static", "deg_queue"]


@pytest.mark.parametrize(
    ("key", "data"),
    [
        ("req_reviewed", {"status": "not_applicable"}),  # needs a reason
        ("req_reviewed", {"status": "maybe"}),
        ("req_p99_budget", {"status": "pass"}),  # automatic
        ("rel_degradation", {"choices": ["deg_unknown"]}),
    ],
)
def test_a_bad_answer_is_refused_and_saves_nothing(client_for, member, published, filled_design, key, data):
    response = client_for(member).post(urls(filled_design, key)["answer"], data)
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_unknown_item_is_404(client_for, member, published, filled_design):
    assert client_for(member).post(urls(filled_design, "no_such_item")["answer"], {"status": "pass"}).status_code == 404


def test_clearing_an_answer_deletes_it(client_for, member, published, filled_design):
    client = client_for(member)
    client.post(urls(filled_design)["answer"], {"status": "pass"})
    client.post(urls(filled_design)["answer"], {"status": "clear"})
    assert not Answer.objects.exists()


def test_reviewer_accepts_and_revokes_a_risk(client_for, reviewer, published, filled_design):
    client = client_for(reviewer)
    url = urls(filled_design, "req_p99_budget")["accept"]
    html = client.post(url, {"rationale": "Chat tolerates it for the pilot", "expires_on": "2999-01-01"}, **HX).content.decode()
    assert outcome(html, "req_p99_budget") == "accepted_risk"
    acceptance = RiskAcceptance.objects.get()
    assert (acceptance.item_key, acceptance.accepted_by, str(acceptance.expires_on)) == ("req_p99_budget", reviewer, "2999-01-01")
    html = client.post(url, {"revoke": "1"}, **HX).content.decode()
    assert outcome(html, "req_p99_budget") == "fail"
    assert not RiskAcceptance.objects.exists()


def test_the_finding_page_posts_plainly_and_comes_back_to_itself(client_for, reviewer, published, filled_design):
    """Its own page has no findings panel: forms that targeted one sent nothing (issue 27, item 1)."""
    client = client_for(reviewer)
    page_url = f"/checklists/design/{filled_design.pk}/findings/req_p99_budget/"
    html = client.get(page_url).content.decode()
    assert 'hx-target="#findings-panel"' not in html and 'name="back" value="finding"' in html
    response = client.post(urls(filled_design, "req_p99_budget")["accept"], {"rationale": "Pilot only", "back": "finding"})
    assert (response.status_code, response["Location"]) == (302, page_url)
    assert RiskAcceptance.objects.get().item_key == "req_p99_budget"
    html = client.get(page_url).content.decode()
    assert "Accepted the risk of" in html and "Revoke the accepted risk" in html


def test_acceptance_needs_a_rationale(client_for, reviewer, published, filled_design):
    response = client_for(reviewer).post(urls(filled_design, "req_p99_budget")["accept"], {"rationale": ""})
    assert response.status_code == 400
    assert not RiskAcceptance.objects.exists()


def test_reviewer_repins_to_the_newest_version(client_for, reviewer, published, filled_design):
    client = client_for(reviewer)
    services.review_for_design(design=filled_design)  # pins v1
    newer = services.version_publish(version=services.version_new_draft(version=published))
    html = client.get(urls(filled_design)["review"]).content.decode()
    assert "Version 2 is published." in html
    assert DesignReview.objects.get().version == published
    response = client.post(urls(filled_design)["pin"], {"version": newer.pk})
    assert response.status_code == 302
    assert DesignReview.objects.get().version == newer


def test_open_findings_are_listed_before_passes(client_for, member, published, filled_design):
    # In checklist order the passing p99 item comes first; the failing fallback item is listed first.
    data = flat(example_design())
    data["requirements.latency_p99_ms"] = "1000"
    data["requirements.latency_p95_ms"] = "900"  # keep the percentiles in order: an invalid p99 counts as blank
    data["requirements.latency_p50_ms"] = "500"
    data["requirements.time_to_first_token_ms"] = "600"
    data["architecture.fallback_chain"] = []
    html = client_for(member).post(urls(filled_design)["panel"], data, **HX).content.decode()
    assert (outcome(html, "req_p99_budget"), outcome(html, "rel_fallback")) == ("pass", "fail")
    assert html.index('id="finding-rel_fallback"') < html.index('id="finding-req_p99_budget"')


@pytest.mark.parametrize(("key", "name", "data"), [
    ("req_reviewed", "answer", {"status": "not_applicable"}),  # needs a reason
    ("req_p99_budget", "accept", {"rationale": ""}),
])
def test_a_refused_write_does_not_pin_the_design_either(client_for, reviewer, published, filled_design, key, name, data):
    response = client_for(reviewer).post(urls(filled_design, key)[name], data)
    assert response.status_code == 400
    assert not DesignReview.objects.exists()
