"""The global search box finds a contact by phone number, however the number is typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_by_phone_opens_the_contact(page: Page, live_server, cast) -> None:
    organisation = factories.organisation(cast.ae, legal_name="Fromagerie Lambert", city="Annecy")
    contact = factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Dupont",
        job_title="Directrice achats",
        phone="01 23 45 67 89",
        organisation=organisation.pk,
    )
    factories.contact(cast.ae, first_name="Paul", last_name="Dupont", phone="01 98 76 54 32")
    assert contact.phone == "+33123456789"

    login(page, live_server, "alice", PASSWORD)
    page.fill("#global-search", "+33 1 23 45 67 89")

    hits = page.locator("#search-popup a[data-kind=contact]")
    expect(hits).to_have_count(1)
    expect(hits).to_contain_text("Jeanne Dupont")
    expect(hits).to_contain_text("Fromagerie Lambert")
    expect(page.locator("#search-popup a[data-kind=organisation]")).to_have_count(0)

    with page.expect_navigation():
        hits.click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact.pk}/$"))
    expect(page.locator("#record-title")).to_have_text("Jeanne Dupont")
    expect(page.locator("#contact-phone")).to_have_text("+33123456789")
