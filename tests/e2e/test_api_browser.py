"""The API's pages in Chromium: the interactive docs render from the files shipped with
django-ninja (no request leaves the server, no CSP violation), and a token made on the tokens
page is shown once and works against the API."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import login

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_render_offline_under_the_policy(live_server, page: Page, member):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url)
            if not r.url.startswith((live_server.url, "data:", "blob:")) else None)
    login(page, live_server.url, "mei")
    response = page.goto(live_server.url + "/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("AI design review API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/designs/{pk}/inputs")).to_be_visible()
    assert violations == [] and elsewhere == []


@pytest.mark.django_db(transaction=True)
def test_a_token_made_on_the_page_is_shown_once_and_works(live_server, page: Page, member, design):
    login(page, live_server.url, "mei")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("CI job")
    page.get_by_role("button", name="Create token").click()
    raw = page.locator("#new-token-value").inner_text()
    assert raw.startswith("adr_")
    answer = page.request.get(f"{live_server.url}/api/v1/designs/{design.pk}",
                              headers={"Authorization": f"Bearer {raw}"})
    assert answer.status == 200 and answer.json()["name"] == "Ranking service"
    page.goto(live_server.url + "/api/tokens/")
    expect(page.locator("#token-list")).to_contain_text("CI job")
    expect(page.locator("body")).not_to_contain_text(raw)
