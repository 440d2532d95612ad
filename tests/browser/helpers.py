"""Steps shared by browser tests. Import as ``from tests.browser.helpers import login``."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page


def login(page: Page, live_server: Any, username: str, password: str) -> None:
    """Sign in through the real login form and wait for the page it leads to.

    Raises AssertionError when the form is shown again (wrong credentials, inactive user), so
    that a test fails at the login rather than on a later, puzzling step.
    """
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if page.url.split("?", 1)[0].rstrip("/").endswith("/login"):
        raise AssertionError(f"login as {username!r} failed: still on {page.url}")
