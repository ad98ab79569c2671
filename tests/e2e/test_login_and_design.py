"""A person's first minute, in a real Chromium: log in, find the design, open it."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_member_logs_in_and_opens_a_design(live_server, page: Page, member, design):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Designs")).to_be_visible()
    page.get_by_role("link", name="Ranking service").click()
    expect(page.get_by_role("heading", name=re.compile("Ranking service"))).to_be_visible()
    expect(page.get_by_text("you are member")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_wrong_password_stays_on_login(live_server, page: Page, member):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill("nope")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
