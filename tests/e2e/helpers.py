"""Shared steps of the browser tests."""

from playwright.sync_api import Page, expect

PASSWORD = "pw-for-tests-1"


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Designs")).to_be_visible()
