"""In Chromium: a reviewer tracks a failing finding as an action with a past due date; the team
dashboard and the team's actions page show it overdue; from the dashboard the reviewer opens it,
fixes the design (the p99 the rule reads), and the action closes automatically (issue 28, done
when 2)."""

import pytest
from playwright.sync_api import Browser, expect

from reviewapp.actions.models import Action
from reviewapp.designs.document import html_id
from tests.e2e.helpers import login
from tests.reviewapp.checklist_fixtures import filled_design, published  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_an_overdue_action_closes_when_the_design_is_fixed(live_server, browser: Browser, reviewer, member, team,
                                                            published, filled_design):
    page = browser.new_context().new_page()
    login(page, live_server.url, "rafael")

    page.goto(f"{live_server.url}/checklists/design/{filled_design.pk}/findings/req_p99_budget/")
    page.get_by_label("Action owner for P99 within five seconds").select_option(label="mei")
    page.get_by_label("Action due date for P99 within five seconds").fill("2026-01-15")
    page.get_by_role("button", name="Track as action").click()
    expect(page.locator("h1")).to_have_text("P99 within five seconds")
    expect(page.get_by_test_id("action-owner")).to_have_text("mei")
    action = Action.objects.get()
    assert (action.owner, action.status, str(action.due_on)) == (member, "open", "2026-01-15")

    page.goto(f"{live_server.url}/teams/{team.slug}/actions/")
    expect(page.locator(f"#action-{action.pk}").get_by_test_id("overdue")).to_be_visible()

    page.goto(f"{live_server.url}/portfolio/")  # the dashboard: the design's overdue action
    cell = page.locator(f'tr[data-design="{filled_design.pk}"] td[data-col="overdue-actions"]')
    cell.get_by_role("link", name="P99 within five seconds").click()  # open the overdue action
    expect(page.get_by_test_id("action-status")).to_have_text("Open")
    expect(page.get_by_test_id("overdue")).to_be_visible()

    page.goto(f"{live_server.url}/designs/{filled_design.pk}/")  # the requirements and architecture forms
    for key, value in [("requirements.latency_p50_ms", "1000"), ("requirements.latency_p95_ms", "3000"),
                       ("requirements.latency_p99_ms", "4000")]:
        page.locator("#" + html_id(key)).fill(value)
    page.get_by_role("button", name="Save requirements and architecture").click()
    expect(page.get_by_text("Saved requirements and architecture (revision 2)")).to_be_visible()

    page.goto(f"{live_server.url}/actions/{action.pk}/")
    expect(page.get_by_test_id("action-status")).to_have_text("Done")
    expect(page.get_by_test_id("overdue")).to_have_count(0)
    expect(page.get_by_test_id("action-history")).to_contain_text("closed automatically: the finding passes")
    page.goto(f"{live_server.url}/teams/{team.slug}/actions/")
    expect(page.locator(f"#action-{action.pk}")).to_have_count(0)  # the open list no longer has it
    page.goto(f"{live_server.url}/portfolio/")
    expect(page.locator(f'tr[data-design="{filled_design.pk}"] td[data-col="overdue-actions"]')).to_have_text("–")
    assert Action.objects.get().status == "done"
