"""Signing in and out through the real login form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_shows_name_and_counts_then_logout(page: Page, live_server, cast) -> None:
    factories.organisation(
        cast.ae, legal_name="Boulangerie Martin", postal_code="75011", city="Paris"
    )
    factories.organisation(
        cast.ae, legal_name="Transports Lefebvre", postal_code="69003", city="Lyon"
    )
    factories.organisation(
        cast.ae2, legal_name="Menuiserie Garnier", postal_code="44000", city="Nantes"
    )
    factories.contact(cast.ae, first_name="Jeanne", last_name="Dupont")

    login(page, live_server, "alice", PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_contain_text("Alice")
    expect(page.locator("#user-menu")).to_have_text(re.compile(r"Alice Martin"))
    expect(page.locator("#count-organisations")).to_have_text("3")
    expect(page.locator("#count-contacts")).to_have_text("1")

    page.click("#user-menu")
    with page.expect_navigation():
        page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.locator("input[name=username]")).to_be_visible()
    expect(page.locator("#user-menu")).to_have_count(0)
    # Signed out for real: the home page sends back to the login form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_wrong_password_shows_the_error(page: Page, live_server, cast) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not the password")
    with page.expect_navigation():
        page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"/login/$"))
    error = page.locator(".alert-danger")
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile(r"did not match|incorrect"))
    expect(page.locator("#user-menu")).to_have_count(0)
