"""The review in Chromium, two people in two browser contexts: a member requests a review naming a
reviewer; the reviewer sees the request, reads what the approval signs and approves with a comment
(over the open high risk, with a reason); the member edits the design; the page says "changed since
approval" and shows what changed."""

import pytest
from playwright.sync_api import Browser, expect

from reviewapp.designs.document import html_id
from reviewapp.reviews.models import Decision, ReviewRequest
from tests.e2e.helpers import login
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_request_approve_edit_and_see_what_changed(live_server, browser: Browser, member, reviewer, published,
                                                   filled_design):
    design_url = f"{live_server.url}/designs/{filled_design.pk}/"

    # The member asks Rafael for a review.
    mei = browser.new_context().new_page()
    login(mei, live_server.url, "mei")
    mei.goto(design_url)
    control = mei.locator("#review-status")
    expect(control.get_by_test_id("review-status")).to_have_text("Draft")
    control.get_by_test_id("request-review").locator("summary").click()
    control.get_by_label("Message").fill("Board review on Friday: is the GPU bill right?")
    control.get_by_label("rafael").check()
    control.get_by_role("button", name="Request review of revision").click()
    expect(mei.locator("#review-status").get_by_test_id("review-status")).to_have_text("In review")
    assert ReviewRequest.objects.get(design=filled_design).requested_by == member

    # The reviewer sees the request in the list and on the page.
    rafael = browser.new_context().new_page()
    login(rafael, live_server.url, "rafael")
    expect(rafael.get_by_role("row", name=filled_design.name)).to_contain_text("In review")
    rafael.get_by_role("link", name=filled_design.name).click()
    control = rafael.locator("#review-status")
    expect(control).to_contain_text("Requested by mei")
    expect(control.get_by_test_id("request-message")).to_have_text("Board review on Friday: is the GPU bill right?")

    # The approval dialog lists what it signs; the open high risk blocks it unless overridden.
    control.get_by_test_id("decide").locator("summary").click()
    dialog = control.get_by_test_id("decision")
    expect(dialog.get_by_test_id("blockers")).to_contain_text("P99 within five seconds")
    expect(dialog.get_by_test_id("unanswered")).to_contain_text("Requirements reviewed with the product owner")
    dialog.get_by_label("Approved", exact=True).check()
    dialog.get_by_label("Comment", exact=True).fill("Capacity plan holds; revisit the p99 target with product.")
    dialog.get_by_role("button", name="Record decision").click()
    refused = rafael.get_by_test_id("decision-errors")  # no reason given for the blocker: refused, on the dialog page
    expect(refused).to_contain_text("block approval")
    assert not Decision.objects.exists()
    dialog = rafael.get_by_test_id("decision")
    dialog.get_by_label("Approved", exact=True).check()
    dialog.get_by_label("Comment", exact=True).fill("Capacity plan holds; revisit the p99 target with product.")
    dialog.get_by_label("Reason to approve over the 1 blocker").fill("The 8 s p99 is agreed for the pilot.")
    dialog.get_by_role("button", name="Record decision").click()
    control = rafael.locator("#review-status")
    expect(control.get_by_test_id("review-status")).to_have_text("Approved")
    expect(control).to_contain_text("Approved by rafael")
    expect(control.get_by_test_id("decision-override")).to_be_visible()
    decision = Decision.objects.get(design=filled_design)
    assert (decision.decided_by, decision.outcome) == (reviewer, "approved")

    # The member edits the peak; the page says the approval no longer matches and shows the diff.
    mei.goto(design_url)
    expect(mei.locator("#review-status").get_by_test_id("review-status")).to_have_text("Approved")
    mei.locator("#" + html_id("requirements.peak_qps")).fill("700")
    mei.get_by_role("button", name="Save requirements and architecture").click()
    control = mei.locator("#review-status")
    expect(control.get_by_test_id("review-status")).to_have_text("Changed since approval")
    changed = control.get_by_test_id("changed-since-approval")
    expect(changed.locator('tr[data-path="requirements.peak_qps"]')).to_contain_text("70")
    expect(changed.locator('tr[data-path="requirements.peak_qps"] td').nth(1)).to_have_text("700")
    expect(changed.locator('tr[data-path="capacity.replicas"]')).to_be_visible()
    expect(changed.locator('tr[data-path="cost.on_demand.monthly"]')).to_contain_text("+")

    # The reviewer's list says so too.
    rafael.goto(f"{live_server.url}/designs/")
    expect(rafael.get_by_role("row", name=filled_design.name)).to_contain_text("Changed since approval")
