"""An edit made in the browser appears in the record's History tab: field, old and new
values, who, and the channel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_city_change_is_in_history(page: Page, live_server, cast) -> None:
    organisation = factories.organisation(
        cast.ae, legal_name="Verrerie Chevalier", postal_code="59000", city="Lille"
    )
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"/organisations/{organisation.pk}/")
    with page.expect_navigation():
        page.click("#edit")
    page.fill("[name=city]", "Roubaix")
    with page.expect_navigation():
        page.click("#save")
    expect(page).to_have_url(re.compile(rf"/organisations/{organisation.pk}/$"))

    page.click("#history-tab-button")
    history = page.locator("#tab-history #history")
    expect(history).to_be_visible()
    rows = history.locator("tbody tr")
    # Newest first: the edit, then the creation.
    expect(rows).to_have_count(2)
    change = rows.first
    expect(change.locator("td").nth(1)).to_have_text("Alice Martin")
    expect(change.locator("td").nth(2)).to_have_text("ui")
    # Only the city changed: one line, "city: Lille → Roubaix" with the old value struck out.
    lines = change.locator("td").nth(4).locator("div")
    expect(lines).to_have_count(1)
    expect(lines).to_have_text(
        re.compile(r"^\s*(city|ville):\s*Lille\s*→\s*Roubaix\s*$", re.IGNORECASE)
    )
    expect(lines.locator(".text-decoration-line-through")).to_have_text("Lille")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("ui")
    expect(rows.nth(1)).to_contain_text("Lille")
