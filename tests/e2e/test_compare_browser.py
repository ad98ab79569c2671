"""Templates and alternatives in Chromium: start two designs from templates (self-hosted LLM and
managed API), tick both on the design list, and see them side by side with the differences marked."""

import pytest
from playwright.sync_api import Page, expect

from reviewapp.checklists import services as checklist_services
from reviewapp.designs.models import Design
from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


def start_from_template(page: Page, base_url: str, template: str) -> None:
    page.goto(base_url + "/designs/")
    page.get_by_role("button", name="New design").click()
    page.get_by_role("link", name="start from a template").click()
    page.get_by_role("link", name=template).click()
    expect(page.locator("#starter-description")).to_contain_text("Why these choices")
    page.get_by_role("button", name="Create design").click()
    expect(page.get_by_role("heading", name=template)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_pick_two_designs_and_see_them_side_by_side(live_server, page: Page, member, team):
    checklist_services.default_checklist_load()
    login(page, live_server.url, "mei")
    start_from_template(page, live_server.url, "RAG chat on a self-hosted LLM")
    start_from_template(page, live_server.url, "LLM chat via a managed API")
    assert Design.objects.filter(team=team).count() == 2

    page.goto(live_server.url + "/designs/")
    page.get_by_label("Compare RAG chat on a self-hosted LLM").check()
    page.get_by_label("Compare LLM chat via a managed API").check()
    page.get_by_role("button", name="Compare selected").click()

    # Columns in the list's order (by name): the managed API first.
    hosted = Design.objects.get(name="RAG chat on a self-hosted LLM")
    bought = Design.objects.get(name="LLM chat via a managed API")
    table = page.locator("#comparison")
    expect(table.locator("thead th.compare-column")).to_have_count(2)
    expect(table.locator("thead th.compare-column").nth(0)).to_contain_text(bought.name)
    expect(table.locator("thead th.compare-column").nth(1)).to_contain_text(hosted.name)
    replicas = table.locator('tr[data-key="capacity.replicas"]')
    expect(replicas).to_have_class("differs")
    expect(replicas.locator("td").nth(0)).to_have_text("—")  # the API runs no fleet of ours
    expect(replicas.locator("td").nth(1)).to_contain_text("replicas")
    expect(table.locator('tr[data-key="requirements.workload_timing"]')).not_to_have_class("differs")
    pdf = page.get_by_role("button", name="Download as PDF")
    expect(pdf).to_have_attribute("href", f"/designs/compare/compare.pdf?pick={bought.pk}&pick={hosted.pk}")
