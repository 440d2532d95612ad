"""An AE records a deal: picks the organisation by typing its name, enters amounts the French
way, and finds the deal on the organisation's page; losing it asks for a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from cible.pipeline.models import Opportunity
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_deal_with_the_organisation_lookup(page: Page, live_server, cast) -> None:
    organisation = factories.organisation(cast.ae, legal_name="Verrerie Chevalier", city="Lille")
    factories.organisation(cast.ae, legal_name="Vergers du Nord", city="Arras")
    login(page, live_server, "alice", PASSWORD)

    page.goto(f"{live_server.url}/opportunities/new/")
    page.fill("[name=name]", "Verrerie — CRM 25 utilisateurs")
    page.fill("#id_organisation_search", "verr")
    options = page.locator("#id_organisation_options .lookup-option")
    expect(options).to_have_count(1)
    expect(options).to_contain_text("Verrerie Chevalier")
    options.click()
    expect(page.locator("#id_organisation_search")).to_have_value("Verrerie Chevalier")
    page.fill("[name=one_time_amount]", "12 500,50")
    page.fill("[name=recurring_amount]", "1 250")
    with page.expect_navigation():
        page.click("#save")

    deal = Opportunity.objects.get()
    assert deal.organisation == organisation
    assert (deal.one_time_amount, deal.recurring_amount) == (Decimal("12500.50"), Decimal("1250"))
    assert deal.owner == cast.ae
    expect(page.locator("#record-title")).to_have_text("Verrerie — CRM 25 utilisateurs")

    page.goto(f"{live_server.url}/organisations/{organisation.pk}/")
    page.click("[data-bs-target='#tab-opportunities']")
    expect(page.locator("#tab-opportunities")).to_contain_text("Verrerie — CRM 25 utilisateurs")


def test_losing_a_deal_needs_a_reason(page: Page, live_server, cast) -> None:
    organisation = factories.organisation(cast.ae, legal_name="Verrerie Chevalier")
    deal = factories.opportunity(cast.ae, organisation, name="Verrerie CRM")
    login(page, live_server, "alice", PASSWORD)

    page.goto(f"{live_server.url}/opportunities/{deal.pk}/edit/")
    page.select_option("[name=stage]", "lost")
    page.click("#save")
    expect(page.locator(".field-error[data-field=lost_reason]")).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage == "prospecting"

    page.select_option("[name=lost_reason]", "price")
    with page.expect_navigation():
        page.click("#save")
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.probability) == ("lost", "price", 0)
    assert deal.closed_on is not None
