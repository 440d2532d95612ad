"""Sales takes an MQL: accepts it, qualifies it on BANT, watches the agreed SQL definition move it
to SQL, and converts it into an opportunity."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cible.lifecycle.leads import services
from cible.lifecycle.leads.definitions import seed_texts
from cible.lifecycle.leads.models import Lead
from cible.people.services import profile_set_language
from cible.pipeline.models import Opportunity
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def agree_seed_definitions(cast) -> None:
    for stage, text, criteria in seed_texts():
        definition = services.write_definition(
            stage=stage, text=text, criteria=criteria, actor=cast.marketer
        )
        services.approve_definition(definition=definition, actor=cast.marketer, side="marketing")
        services.approve_definition(definition=definition, actor=cast.manager, side="sales")


def test_accept_qualify_and_convert_a_lead(page: Page, live_server, cast) -> None:
    profile_set_language(user=cast.sdr, language="en")
    agree_seed_definitions(cast)
    acme = factories.organisation(cast.sdr, legal_name="Verrerie Chevalier")
    contact = factories.contact(
        cast.sdr, first_name="Jeanne", last_name="Dupont", organisation=acme.pk
    )
    lead = services.open_lead(
        contact=contact, source="webinar", stage="prospect", actor=cast.marketer, channel="ui"
    )
    Lead.objects.filter(pk=lead.pk).update(profile_score=78, engagement_score=52, grade="A2")
    lead.refresh_from_db()
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")

    login(page, live_server, "sophie", PASSWORD)
    page.goto(f"{live_server.url}/leads/?stage=mql")
    expect(page.locator("#stage-tabs [data-stage=mql] .stage-count")).to_have_text("1")
    page.click("#lead-table >> text=Jeanne Dupont")
    expect(page.locator("#lead-stage")).to_have_text("Marketing qualified lead (MQL)")

    with page.expect_navigation():
        page.click("#accept")
    expect(page.locator("#lead-stage")).to_have_text("Sales accepted lead (SAL)")
    expect(page.locator("#lead-road [data-stage=sal]")).to_have_attribute("data-state", "current")
    expect(page.locator("#missing li")).to_have_count(4)  # nothing of BANT is known yet

    page.select_option("#bant-form [name=budget]", "approved")
    page.select_option("#bant-form [name=authority]", "decision_maker")
    page.select_option("#bant-form [name=need]", "identified")
    page.select_option("#bant-form [name=timing]", "within_quarter")
    page.fill("#bant-form [name=notes]", "Le DAF signe ; projet au T1.")
    with page.expect_navigation():
        page.click("#save-bant")
    expect(page.locator("#lead-stage")).to_have_text("Sales qualified lead (SQL)")
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text(
        "the agreed definition moved the lead to Sales qualified lead (SQL)"
    )
    last_move = page.locator("#transitions tbody tr").last
    expect(last_move).to_contain_text("Stage definition")
    expect(last_move).to_contain_text("Sales qualified lead (SQL) v1")
    expect(last_move).to_contain_text("78 / 52 · A2")

    page.click("#convert-link")
    page.fill("[name=name]", "Verrerie — CRM 40 postes")
    page.fill("[name=one_time_amount]", "12 000")
    page.fill("[name=recurring_amount]", "850")
    with page.expect_navigation():
        page.click("#convert")
    expect(page.locator("#record-title")).to_have_text("Verrerie — CRM 40 postes")

    deal = Opportunity.objects.get()
    lead.refresh_from_db()
    assert (deal.lead_id, deal.organisation_id, lead.stage) == (lead.pk, acme.pk, "opportunity")
    assert lead.qualification_notes == "Le DAF signe ; projet au T1."
