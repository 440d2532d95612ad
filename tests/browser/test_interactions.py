"""Interactions in the browser: an AE opens a contact's Timeline, logs a call in two clicks (the
button, then the outcome), sees it at the top of the timeline without leaving the page, then
logs a meeting with its details and filters the timeline down to meetings."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.services import record_interaction
from cible.people.models import UserProfile
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_a_call_in_two_clicks_and_see_it_in_the_timeline(page: Page, live_server, cast) -> None:
    UserProfile.objects.filter(user=cast.ae).update(language="en")
    organisation = factories.organisation(cast.ae, legal_name="Fromagerie Vidal")
    contact = factories.contact(
        cast.ae,
        first_name="Lucie",
        last_name="Vidal",
        email="lucie.vidal@fromagerie-vidal.fr",
        organisation=organisation.pk,
    )
    record_interaction(
        kind="email_sent", contact=contact, channel="api", actor=cast.ae, subject="Offre"
    )

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    page.click("#timeline-tab-button")
    entries = page.locator("#timeline-entries .timeline-entry")
    expect(entries).to_have_count(1)

    page.click("#log-call")  # click 1
    page.click("#call-connected")  # click 2: saved
    expect(page.locator("#timeline-notice")).to_have_text("Call logged: Connected.")
    expect(entries).to_have_count(2)
    newest = entries.first
    expect(newest.locator(".kind")).to_have_text("Call")
    expect(newest.locator(".outcome")).to_have_text("Connected")
    expect(newest).to_contain_text("Alice Martin")
    assert page.url.endswith(f"/contacts/{contact.pk}/")  # refreshed in place
    call = Interaction.objects.get(kind="call")
    assert (call.contact_id, call.owner_id, call.outcome) == (contact.pk, cast.ae.pk, "connected")

    # A meeting, with its details.
    page.click("#log-meeting")
    page.locator("#log-meeting-form summary").click()
    page.fill("#meeting-subject", "Démo de la plateforme")
    page.fill("#meeting-duration_minutes", "45")
    page.click("#meeting-held")
    expect(page.locator("#timeline-notice")).to_have_text("Meeting logged: Held.")
    expect(entries.first.locator(".subject")).to_have_text("Démo de la plateforme")
    expect(entries.first.locator(".duration")).to_contain_text("45 min")

    # The section was just swapped in: let HTMX finish settling (it binds the filter then).
    page.wait_for_function("() => !document.querySelector('.htmx-settling, .htmx-swapping')")
    page.wait_for_timeout(100)
    page.select_option("#timeline-kind", "meeting")
    expect(entries).to_have_count(1)
    expect(entries.first.locator(".kind")).to_have_text("Meeting")
