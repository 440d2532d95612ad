"""Privacy in the browser: an administrator records a withdrawal with its proof on a contact's
Privacy tab, downloads everything held about the person, then erases them and sees the contact
anonymised — on its page and in the list."""

from __future__ import annotations

import importlib
import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from cible.people.models import UserProfile
from cible.quality.privacy.services import consent_record
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def default_purposes(db) -> None:
    """Transactional tests before this one flushed the purposes the migration seeded."""
    from django.apps import apps

    importlib.import_module("cible.quality.privacy.migrations.0002_seed_purposes").seed(apps, None)


def test_withdraw_export_and_erase(page: Page, live_server, cast) -> None:
    UserProfile.objects.filter(user=cast.admin).update(language="en")
    organisation = factories.organisation(cast.ae, legal_name="Conserverie Le Guen", city="Quimper")
    contact = factories.contact(
        cast.ae,
        first_name="Maëlys",
        last_name="Kerbrat",
        email="maelys.kerbrat@conserverie-leguen.fr",
        phone="02 98 55 01 02",
        organisation=organisation.pk,
    )
    consent_record(
        contact=contact,
        actor=cast.ae,
        channel="ui",
        contact_channel="email",
        purpose="marketing",
        status="granted",
        source="form",
        proof={"form": "Newsletter footer", "ip": "203.0.113.9"},
    )

    login(page, live_server, "ada", PASSWORD)
    page.goto(f"/contacts/{contact.pk}/")
    page.click("#privacy-tab-button")
    cell = page.locator('#consent-grid tr[data-channel="email"] td[data-purpose="marketing"]')
    expect(cell).to_contain_text("Granted")

    # She wrote back asking to stop the newsletter: record it, with the proof.
    page.click("#consent-form-box summary")
    page.select_option("#id_channel", "email")
    page.select_option("#id_purpose", "marketing")
    page.select_option("#id_status", "withdrawn")
    page.select_option("#id_source", "email_unsubscribe")
    page.fill("#id_proof_form", "Reply to the March newsletter")
    page.fill("#id_proof_reference", "Ticket 4521")
    page.click("#consent-save")
    expect(page.locator("#privacy-notice")).to_have_text("The consent was recorded.")
    expect(cell).to_contain_text("Withdrawn")
    latest = page.locator("#consent-history tbody tr").first
    expect(latest).to_contain_text("Withdrawn")
    expect(latest).to_contain_text("Email unsubscribe link")
    expect(latest.locator(".proof")).to_contain_text("Ticket 4521")
    expect(latest).to_contain_text("Ada Admin")

    # Her subject-access request: everything held about her, in one zip.
    with page.expect_download() as download_info:
        page.click("#privacy-export")
    download = download_info.value
    assert re.fullmatch(
        rf"subject-access-contact-{contact.pk}-\d{{8}}-\d{{4}}\.zip", download.suggested_filename
    )
    with zipfile.ZipFile(download.path()) as archive:
        assert "README.txt" in archive.namelist()
        person = json.loads(archive.read("contact.json"))[0]
        history = json.loads(archive.read("consent_history.json"))
    assert (person["first_name"], person["email"]) == (
        "Maëlys",
        "maelys.kerbrat@conserverie-leguen.fr",
    )
    assert person["organisation_name"] == "Conserverie Le Guen"
    assert [(e["status"], e["proof_reference"]) for e in history] == [
        ("granted", ""),
        ("withdrawn", "Ticket 4521"),
    ]
    assert history[0]["proof_ip"] == "203.0.113.9"

    # Then her erasure request.
    with page.expect_navigation():
        page.click("#privacy-erase")
    expect(page.locator("h1")).to_have_text("Erase a person's data")
    page.fill("#id_reason", "Erasure requested by email, ticket 4522")
    page.fill("#id_confirm", str(contact.pk))
    with page.expect_navigation():
        page.click("#erase-confirm")
    expect(page).to_have_url(re.compile(rf"/contacts/{contact.pk}/$"))
    expect(page.locator(".alert-success")).to_contain_text(f"Contact #{contact.pk} was anonymised.")
    expect(page.locator("#record-title")).to_have_text(f"Anonymised contact #{contact.pk}")
    expect(page.locator("body")).not_to_contain_text("Kerbrat")
    expect(page.locator("body")).not_to_contain_text("maelys.kerbrat")
    page.click("#privacy-tab-button")
    expect(page.locator("#anonymised-banner")).to_be_visible()
    expect(page.locator("#privacy-erase")).to_have_count(0)
    expect(page.locator("#consent-form-box")).to_have_count(0)
    expect(cell).to_contain_text("Withdrawn")  # the fact of the withdrawal remains

    page.goto("/contacts/")
    expect(page.locator("#results")).to_contain_text(f"Anonymised contact #{contact.pk}")
    expect(page.locator("#results")).not_to_contain_text("Kerbrat")
