"""Creating an organisation through the form: a bad SIREN is refused next to its field, then
the corrected record is saved with its derived and normalised values."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cible.people.models import Organisation
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invalid_siren_then_fixed(page: Page, live_server, cast) -> None:
    login(page, live_server, "alice", PASSWORD)
    before = Organisation.objects.count()

    page.goto("/organisations/new/")
    form = page.locator("#record-form")
    form.locator("[name=legal_name]").fill("Ateliers Dubois SAS")
    form.locator("[name=siren]").fill("123456789")
    form.locator("[name=phone]").fill("01 44 55 66 77")
    form.locator("[name=street]").fill("12 rue du Faubourg Saint-Honoré")
    form.locator("[name=postal_code]").fill("75008")
    form.locator("[name=city]").fill("Paris")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/organisations/new/")
    ) as posted:
        page.click("#save")
    assert posted.value.status == 422

    error = page.locator(".field-error[data-field=siren]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("SIREN")
    expect(page.locator(".field-error")).to_have_count(1)  # only the SIREN is wrong
    # The message sits in the SIREN field's own block, under its input.
    siren_block = form.locator("> div").filter(has=page.locator("[name=siren]"))
    expect(siren_block.locator(".field-error[data-field=siren]")).to_be_visible()
    expect(form.locator("[name=siren]")).to_have_value("123456789")  # what was typed is kept
    expect(form.locator("[name=legal_name]")).to_have_value("Ateliers Dubois SAS")
    assert Organisation.objects.count() == before

    form.locator("[name=siren]").fill("732 829 320")
    with page.expect_navigation():
        page.click("#save")

    expect(page).to_have_url(re.compile(r"/organisations/\d+/$"))
    expect(page.locator("#record-title")).to_have_text("Ateliers Dubois SAS")
    overview = page.locator("#tab-overview")
    expect(overview).to_contain_text("732829320")
    expect(overview).to_contain_text("Île-de-France")
    expect(overview).to_contain_text("+33144556677")
    expect(overview).to_contain_text("Alice Martin")  # the creator owns it by default
    assert Organisation.objects.count() == before + 1
    saved = Organisation.objects.get(legal_name="Ateliers Dubois SAS")
    assert (saved.siren, saved.region, saved.phone) == ("732829320", "FR-IDF", "+33144556677")
    assert saved.owner == cast.ae
    assert page.url.endswith(f"/organisations/{saved.pk}/")


def test_inline_validation_as_fields_are_left(page: Page, live_server, cast) -> None:
    """Leaving a field checks it at once: the SIREN problem, and how the phone will be stored."""
    login(page, live_server, "alice", PASSWORD)
    page.goto("/organisations/new/")
    form = page.locator("#record-form")
    form.locator("[name=siren]").fill("123456789")
    form.locator("[name=siren]").press("Tab")
    expect(page.locator("#feedback-siren .field-error")).to_contain_text("SIREN")

    form.locator("[name=phone]").fill("01 44 55 66 77")
    form.locator("[name=phone]").press("Tab")
    expect(page.locator("#feedback-phone")).to_contain_text("+33144556677")
    expect(page.locator("#feedback-phone .field-error")).to_have_count(0)

    form.locator("[name=siren]").fill("732 829 320")
    form.locator("[name=siren]").press("Tab")
    expect(page.locator("#feedback-siren .field-error")).to_have_count(0)
    expect(page.locator("#feedback-siren")).to_contain_text("732829320")
    assert Organisation.objects.count() == 0  # checking saves nothing
