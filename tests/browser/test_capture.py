"""Web capture in the browser: Marie builds a form for her campaign, a visitor (not logged in)
opens its public page from an ad, fills it in and sends it; Marie sees the submission, the new
contact and the lead the lifecycle opened for them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from cible.engagement.campaigns.models import Campaign, CampaignMember
from cible.engagement.capture import guard
from cible.engagement.capture.models import FormSubmission, WebForm
from cible.lifecycle.leads.models import Lead
from cible.people.models import Contact
from cible.people.services import profile_set_language
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_a_form_submit_it_logged_out_and_see_the_lead(
    page: Page, browser: Browser, live_server: Any, cast: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(guard, "MIN_FILL_SECONDS", 1)  # a person's pace, a test's patience
    profile_set_language(user=cast.marketer, language="en")
    campaign = Campaign.objects.create(
        name="Webinar CRM 2026", type="webinar", utm_campaign="crm-2026", owner=cast.marketer
    )
    login(page, live_server, "marie", PASSWORD)

    # Marie builds the form.
    page.goto("/forms/")
    with page.expect_navigation():
        page.click("#new-form")
    page.fill("#id_name", "Webinar registration")
    page.select_option("#id_interaction_kind", "webinar")
    page.select_option("#id_campaign", str(campaign.pk))
    page.fill("#id_title_en", "Register for the webinar")
    page.fill("#id_thank_you_en", "You are registered, see you on Thursday!")
    page.fill("#id_consent_text_en", "I agree to receive emails about this webinar.")
    page.fill("#id_consent_text_fr", "J'accepte de recevoir des e-mails sur ce webinaire.")
    page.check("#id_use_job_title")
    page.fill("#id_label_en_job_title", "Your role")
    with page.expect_navigation():
        page.click("#save")
    form = WebForm.objects.get()
    expect(page.locator("#record-title")).to_have_text("Webinar registration")
    expect(page.locator("#form-campaign")).to_have_text("Webinar CRM 2026")
    expect(page.locator("#snippet")).to_contain_text(f"/f/{form.key}/submit")
    page.goto(f"/forms/{form.pk}/?lang=en")
    expect(page.locator("#preview")).to_contain_text("Your role")

    # A visitor, not logged in, arrives from an ad.
    visitor = browser.new_context(locale="en-GB", base_url=live_server.url)
    public = visitor.new_page()
    public.goto(f"/f/{form.key}/?lang=en&utm_source=linkedin&utm_medium=ads&utm_campaign=crm-2026")
    expect(public.locator("#form-title")).to_have_text("Register for the webinar")
    public.fill("[name=email]", "Paul.Martin@Globex.fr")
    public.fill("[name=first_name]", "paul")
    public.fill("[name=last_name]", "martin")
    public.fill("[name=company]", "Globex")
    public.fill("[name=job_title]", "Head of sales")
    public.wait_for_timeout(1100)
    with public.expect_navigation():
        public.click("button[type=submit]")  # consent not ticked yet
    expect(public.locator(".field-error[data-field=consent]")).to_be_visible()
    expect(public.locator("[name=first_name]")).to_have_value("paul")
    public.check("[name=consent]")
    with public.expect_navigation():
        public.click("button[type=submit]")
    expect(public.locator("#thanks")).to_have_text("You are registered, see you on Thursday!")
    visitor.close()

    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, contact.job_title) == (
        "Paul",
        "Martin",
        "Head of sales",
    )
    assert CampaignMember.objects.get(contact=contact).status == "responded"
    lead = Lead.objects.get(contact=contact)

    # Marie sees the submission, the refused one before it, the contact and the lead.
    page.reload()
    accepted = page.locator("#submission-table tr[data-outcome=accepted]")
    expect(accepted).to_have_count(1)
    expect(accepted).to_contain_text("Paul.Martin@Globex.fr")  # as sent
    expect(accepted).to_contain_text("utm_source=linkedin")
    expect(page.locator("#submission-table tr[data-outcome=invalid]")).to_contain_text(
        "consent: your consent is required"
    )
    expect(page.locator("[data-count=accepted]")).to_have_text("1")
    assert FormSubmission.objects.count() == 2
    with page.expect_navigation():
        accepted.locator(f"a[data-contact='{contact.pk}']").click()
    expect(page.locator("body")).to_contain_text("Paul Martin")
    page.get_by_role("tab", name=re.compile("^Leads")).click()
    lead_link = page.locator(f"a[href='/leads/{lead.pk}/']")
    expect(lead_link).to_be_visible()
    with page.expect_navigation():
        lead_link.click()
    expect(page.locator("body")).to_contain_text("Webinar CRM 2026")
