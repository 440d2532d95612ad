"""A sales manager writes a routing rule, simulates it on recent leads, saves it; a new MQL
arrives and goes straight to the SDR, and its page says why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cible.lifecycle.leads import services as leads
from cible.lifecycle.leads.models import Lead
from cible.people.services import profile_set_language
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_write_simulate_save_and_route_a_new_mql(page: Page, live_server, cast) -> None:
    profile_set_language(user=cast.manager, language="en")
    earlier = factories.contact(cast.marketer, first_name="Paul", last_name="Girard")
    leads.open_lead(
        contact=earlier, source="webinar", stage="prospect", actor=cast.marketer, channel="ui"
    )

    login(page, live_server, "sam", PASSWORD)
    page.goto(f"{live_server.url}/routing/")
    page.click("#new-rule")
    page.fill("#id_name", "Webinars to Sophie")
    page.select_option("#id_action", "assign_user")
    page.select_option("#id_user", str(cast.sdr.pk))
    page.select_option("#id_field_0", "source")
    page.select_option("#id_op_0", "in")
    page.fill("#id_value_0", "Webinar")
    page.click("#simulate")
    expect(page.locator("#simulation-summary")).to_have_text(
        "1 lead simulated, 1 would go elsewhere than today."
    )
    expect(page.locator("#simulation-rows tbody td")).to_have_text(
        ["Paul Girard", "Sophie Leroy", "Not assigned"]
    )
    with page.expect_navigation():
        page.click("#save-rule")
    expect(page.locator("#rules tr.rule")).to_have_count(1)
    expect(page.locator("#rules tr.rule td").nth(2)).to_have_text("source is one of Webinar")

    newcomer = factories.contact(cast.marketer, first_name="Jeanne", last_name="Dupont")
    lead = leads.open_lead(
        contact=newcomer, source="webinar", stage="mql", actor=cast.marketer, channel="ui"
    )
    assert Lead.objects.get(pk=lead.pk).owner == cast.sdr

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("#lead-section-routing .assignment-reason")).to_have_text(
        "Rule 1 “Webinars to Sophie” → Sophie Leroy"
    )
