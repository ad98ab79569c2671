"""In Chromium: a reviewer accepts a risk on the finding's own page (no findings panel there to
swap), with JavaScript and without it; the acceptance is saved and the finding stops blocking
approval."""

import pytest
from playwright.sync_api import Browser, expect

from reviewapp.checklists.models import RiskAcceptance
from reviewapp.designs.selectors import design_assessment
from reviewapp.reviews.workflow import approval_gate
from tests.e2e.helpers import login
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401

pytestmark = pytest.mark.e2e


def _blocker_keys(design) -> list[str]:
    return [b["item_key"] for b in approval_gate(design_assessment(design).evaluation).blockers]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_reviewer_accepts_a_risk_on_the_finding_page(live_server, browser: Browser, reviewer, published, filled_design,
                                                     javascript):
    assert _blocker_keys(filled_design) == ["req_p99_budget"]  # the example's 8 s p99 fails the 5 s rule
    page = browser.new_context(java_script_enabled=javascript).new_page()
    login(page, live_server.url, "rafael")

    page.goto(f"{live_server.url}/checklists/design/{filled_design.pk}/findings/req_p99_budget/")
    expect(page.locator("h1")).to_have_text("P99 within five seconds")
    page.get_by_label("Rationale for P99 within five seconds").fill("The pilot's chat tolerates 8 s.")
    page.get_by_role("button", name="Accept risk").click()

    expect(page.get_by_role("status")).to_contain_text("Accepted the risk of “P99 within five seconds”")
    expect(page.locator("h1")).to_have_text("P99 within five seconds")  # back on the finding's page
    expect(page.get_by_role("button", name="Revoke the accepted risk")).to_be_visible()
    acceptance = RiskAcceptance.objects.get(review__design=filled_design)
    assert (acceptance.item_key, acceptance.accepted_by.username, acceptance.rationale) == (
        "req_p99_budget", "rafael", "The pilot's chat tolerates 8 s.")
    assert _blocker_keys(filled_design) == []
