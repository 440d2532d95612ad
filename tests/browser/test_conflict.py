"""Two teammates edit the same organisation at once: the second save is refused (HTTP 409)
with a conflict message, and the first change is kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import factories
from tests.browser.conftest import DEFAULT_TIMEOUT_MS
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_second_save_is_refused_and_first_change_kept(
    page: Page, browser: Browser, live_server, cast
) -> None:
    organisation = factories.organisation(
        cast.ae, legal_name="Imprimerie Moreau", postal_code="33000", city="Bordeaux"
    )
    edit_url = f"/organisations/{organisation.pk}/edit/"

    other_context = browser.new_context(
        locale="en-GB", timezone_id="Europe/Paris", base_url=live_server.url
    )
    other_context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        other = other_context.new_page()
        login(page, live_server, "alice", PASSWORD)
        login(other, live_server, "basile", PASSWORD)

        page.goto(edit_url)
        other.goto(edit_url)
        expect(page.locator("[name=city]")).to_have_value("Bordeaux")
        expect(other.locator("[name=city]")).to_have_value("Bordeaux")

        # Alice saves first.
        page.fill("[name=city]", "Mérignac")
        with page.expect_navigation():
            page.click("#save")
        expect(page).to_have_url(re.compile(rf"/organisations/{organisation.pk}/$"))
        expect(page.locator("#tab-overview")).to_contain_text("Mérignac")

        # Basile, still on the version he opened, saves another change.
        other.fill("[name=city]", "Pessac")
        with other.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith(edit_url)
        ) as posted:
            other.click("#save")
        assert posted.value.status == 409
        conflict = other.locator("#conflict-message")
        expect(conflict).to_be_visible()
        expect(conflict.locator("a")).to_have_attribute("href", edit_url)
        expect(other).to_have_url(re.compile(rf"{edit_url}$"))
        expect(other.locator("[name=city]")).to_have_value("Pessac")  # his input is not lost

        organisation.refresh_from_db()
        assert organisation.city == "Mérignac"
        assert organisation.version == 2

        # Reloading shows Alice's change; Basile can then apply his again.
        with other.expect_navigation():
            conflict.locator("a").click()
        expect(other.locator("[name=city]")).to_have_value("Mérignac")
    finally:
        other_context.close()
