"""The team dashboard in Chromium: open it from the nav, filter (htmx swaps only the results and
the address follows), sort by a column and back, and the same links work with JavaScript off."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


@pytest.fixture
def portfolio(db, team, owner, other_team, member):
    from reviewapp.accounts.models import Membership
    from reviewapp.checklists import services
    from reviewapp.checklists.models import Checklist
    from reviewapp.designs.models import Design
    from tests.reviewapp.checklist_fixtures import sample
    from tests.reviewapp.portfolio_fixtures import inputs_with_peak

    version = services.checklist_import(data=sample(), publish=True)
    Checklist.objects.filter(pk=version.checklist_id).update(is_default=True)
    Membership.objects.create(user=member, team=other_team, role="member")
    for name, team_, peak in (("Ranking service", team, 40.0), ("Search reranker", team, 400.0),
                              ("Fraud scoring", other_team, 4000.0)):
        Design.objects.create(team=team_, name=name, description=f"{name} description", created_by=owner,
                              inputs=inputs_with_peak(peak))


def names(page: Page) -> list[str]:
    return page.locator("[data-testid=portfolio-table] tbody tr td:first-child a").all_inner_texts()


@pytest.mark.django_db(transaction=True)
def test_open_filter_and_sort_the_dashboard(live_server, page: Page, portfolio):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server.url, "mei")
    page.get_by_role("link", name="Team dashboard").click()
    expect(page.get_by_role("heading", name="Team dashboard")).to_be_visible()
    expect(page.get_by_test_id("design-count")).to_have_text("3")
    assert names(page) == ["Fraud scoring", "Ranking service", "Search reranker"]
    expect(page.get_by_test_id("risks-by-section")).to_be_visible()

    # Filter by team: htmx swaps the results (the heading stays the same element) and pushes the URL.
    heading = page.get_by_role("heading", name="Team dashboard").element_handle()
    page.get_by_label("Team").select_option(label="Search team")
    expect(page.get_by_test_id("design-count")).to_have_text("2")
    assert names(page) == ["Ranking service", "Search reranker"]
    assert heading.is_visible() and "team=" in page.url

    # Text filter, then clear it.
    page.get_by_label("Text").fill("rerank")
    expect(page.get_by_test_id("design-count")).to_have_text("1")
    assert names(page) == ["Search reranker"]
    page.get_by_label("Text").fill("")
    expect(page.get_by_test_id("design-count")).to_have_text("2")

    # Sort by monthly cost, then the other way round: the costlier (ten times the load) design moves.
    page.locator("a[data-sort=cost]").click()
    expect(page.locator("th[aria-sort=ascending] a[data-sort=cost]")).to_be_visible()
    assert names(page) == ["Ranking service", "Search reranker"]
    page.locator("a[data-sort=cost]").click()
    expect(page.locator("th[aria-sort=descending] a[data-sort=cost]")).to_be_visible()
    assert names(page) == ["Search reranker", "Ranking service"]
    assert "sort=cost" in page.url and "desc=1" in page.url and "team=" in page.url
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_filter_and_sort_links_work_without_javascript(live_server, browser, portfolio):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, live_server.url, "mei")
    page.goto(live_server.url + "/portfolio/")
    page.get_by_label("Review status").select_option("draft")
    page.get_by_label("Text").fill("fraud")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("design-count")).to_have_text("1")
    assert names(page) == ["Fraud scoring"]
    page.goto(live_server.url + "/portfolio/")
    page.locator("a[data-sort=name]").click()  # the active column: the other way round
    assert names(page) == ["Search reranker", "Ranking service", "Fraud scoring"]
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_trend_is_drawn_on_the_design_page_under_the_policy(live_server, page: Page, portfolio, owner):
    from reviewapp.designs.models import Design
    from reviewapp.reviews import services

    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    design = Design.objects.get(name="Ranking service")
    for name in ("first", "second"):
        services.milestone_create(design=design, user=owner, name=name)
    login(page, live_server.url, "mei")
    page.goto(f"{live_server.url}/portfolio/")
    expect(page.get_by_test_id("design-count")).to_have_text("3")
    page.get_by_role("link", name="Ranking service").click()
    expect(page.locator("#design-trend .js-plotly-plot")).to_be_visible()
    expect(page.locator("#design-trend .main-svg").first).to_be_attached()
    assert violations == []
