"""Switching the interface between French and English with the navbar button.

The label assertions need the French catalog (src/cible/locale/fr/LC_MESSAGES/django.mo):
without it every label stays in English and they fail, while the `<html lang>` and button checks
pass either way.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cible.people.models import UserProfile
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _switch(page: Page) -> None:
    with page.expect_navigation():
        page.click("#switch-language")


def test_switch_language_changes_lang_and_button(page: Page, live_server, cast) -> None:
    login(page, live_server, "alice", PASSWORD)  # Alice's profile speaks French
    html = page.locator("html")
    button = page.locator("#switch-language")
    expect(html).to_have_attribute("lang", "fr")
    expect(button).to_have_text("EN")

    _switch(page)
    expect(html).to_have_attribute("lang", "en")
    expect(button).to_have_text("FR")
    assert UserProfile.objects.get(user=cast.ae).language == "en"  # remembered on the profile

    # Still English on the next page: the choice sticks.
    page.goto("/organisations/")
    expect(html).to_have_attribute("lang", "en")

    _switch(page)
    expect(html).to_have_attribute("lang", "fr")
    expect(button).to_have_text("EN")
    expect(page).to_have_url(f"{live_server.url}/organisations/")  # back where the user was
    assert UserProfile.objects.get(user=cast.ae).language == "fr"


def test_switch_language_translates_labels(page: Page, live_server, cast) -> None:
    """Needs the French catalog."""
    login(page, live_server, "marie", PASSWORD)  # Marie's profile speaks English
    nav = page.locator("#nav")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Opportunities")).to_be_visible()
    page.click("#user-menu")
    expect(page.locator("#logout")).to_have_text("Log out")

    _switch(page)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(nav.get_by_role("link", name="Opportunités")).to_be_visible()
    page.click("#user-menu")
    expect(page.locator("#logout")).to_have_text("Se déconnecter")

    _switch(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Opportunities")).to_be_visible()
