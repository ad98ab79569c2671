"""In Chromium: staff edits an item of a new draft in the admin and publishes it; a member answers
a manual item on the design page and sees the score and findings change without a page reload."""

import re

import pytest
from playwright.sync_api import Page, expect

from reviewapp.checklists.models import ChecklistVersion, Item
from tests.e2e.helpers import login
from tests.reviewapp.checklist_fixtures import filled_design, published, staff  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_staff_edits_an_item_in_a_new_draft_and_publishes_it(live_server, page: Page, staff, published):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/admin/checklists/checklistversion/{published.pk}/change/")
    expect(page.get_by_text("cannot change")).to_be_visible()
    page.get_by_role("button", name="New draft from this version").click()
    expect(page.get_by_text("Test checklist v2 (draft)").first).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^5 items$")).click()
    page.get_by_role("link", name="req_p99_budget").click()
    passes_when = page.locator("textarea[name=passes_when]")
    passes_when.fill("requirements.latency_p99_ms <=")  # refused with the compiler's message
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist").first).to_contain_text("does not compile")
    page.locator("textarea[name=passes_when]").fill("requirements.latency_p99_ms <= 9000")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    draft = ChecklistVersion.objects.get(number=2)
    page.goto(f"{live_server.url}/admin/checklists/checklistversion/{draft.pk}/change/")
    page.get_by_role("button", name="Publish this version").click()
    expect(page.locator(".messagelist")).to_contain_text("Published Test checklist v2")

    draft.refresh_from_db()
    assert draft.status == "published"
    assert Item.objects.get(section__version=draft, key="req_p99_budget").passes_when.endswith("<= 9000")
    assert Item.objects.get(section__version=published, key="req_p99_budget").passes_when.endswith("<= 5000")


@pytest.mark.django_db(transaction=True)
def test_member_answers_on_the_design_page_without_a_reload(live_server, page: Page, member, published, filled_design):
    login(page, live_server.url, "mei")

    page.goto(f"{live_server.url}/designs/{filled_design.pk}/")
    panel = page.locator("#findings-panel")
    score = panel.get_by_test_id("overall-score")
    expect(score).to_have_text("42")
    finding = panel.locator("#finding-req_reviewed")
    expect(finding).to_have_attribute("data-outcome", "unanswered")
    page.evaluate("window.__marker = 'still here'")

    finding.locator("summary").click()  # the answer form loads with the finding's details
    finding.get_by_label("Answer to Requirements reviewed with the product owner").select_option("pass")
    finding.get_by_role("button", name="Save answer").click()

    expect(panel.locator("#finding-req_reviewed")).to_have_attribute("data-outcome", "pass")
    expect(panel.get_by_test_id("overall-score")).to_have_text("58")
    assert page.evaluate("window.__marker") == "still here"
    from reviewapp.checklists.models import Answer

    assert Answer.objects.get(review__design=filled_design, item_key="req_reviewed").status == "pass"


@pytest.mark.django_db(transaction=True)
def test_a_rule_trace_loads_on_demand_with_the_values_being_typed(live_server, page: Page, member, published, filled_design):
    login(page, live_server.url, "mei")

    page.goto(f"{live_server.url}/designs/{filled_design.pk}/")
    finding = page.locator("#findings-panel #finding-req_p99_budget")
    expect(finding).to_have_attribute("data-outcome", "fail")  # the example's p99 is 8 s, over 5 s
    assert page.get_by_test_id("rule-trace").count() == 0  # no trace in the page until asked for

    # Opened, the finding loads its trace and plan.
    page.locator("#findings-panel #finding-req_p99_budget summary").click()
    trace = page.locator("#findings-panel #finding-req_p99_budget").get_by_test_id("rule-trace")
    expect(trace).to_contain_text("requirements.latency_p99_ms <= 5000")
    expect(trace).to_contain_text("requirements.latency_p99_ms = 8000")
    expect(page.locator("#findings-panel #finding-req_p99_budget")).to_contain_text("Set a p99 budget of at most five seconds.")

    # Type passing targets (p50 <= p95 <= p99, or the invalid p99 would count as blank): the preview
    # redraws the panel, the finding stays open and its trace reads the typed (unsaved) value.
    page.locator("#f-requirements-latency-p50-ms").fill("1000")
    page.locator("#f-requirements-latency-p95-ms").fill("2000")
    page.locator("#f-requirements-latency-p99-ms").fill("3000")
    expect(finding).to_have_attribute("data-outcome", "pass")
    expect(trace).to_contain_text("requirements.latency_p99_ms = 3000")
