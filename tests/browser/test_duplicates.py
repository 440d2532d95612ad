"""Reviewing duplicates in the browser: the queue, the side-by-side comparison, choosing the
surviving values, the merge (the survivor shows the loser's contacts), then undo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cible.people.models import Contact, Organisation
from cible.quality.duplicates.detect import run_detection
from cible.quality.duplicates.models import DuplicatePair
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_review_compare_merge_then_undo(page: Page, live_server, cast) -> None:
    kept = factories.organisation(
        cast.ae,
        legal_name="Verrerie Chevalier SAS",
        siren="732 829 320",
        phone="03 20 12 34 56",
        street="8 rue Nationale",
        postal_code="59000",
        city="Lille",
        headcount="45",
    )
    twin = factories.organisation(
        cast.ae2,
        legal_name="VERRERIE CHEVALLIER",
        siren="732829320",
        phone="+33 3 20 12 34 56",
        postal_code="59000",
        city="Lille",
        naf_code="23.13Z",
    )
    factories.contact(cast.ae, first_name="Inès", last_name="Garnier", organisation=kept.pk)
    moved = factories.contact(
        cast.ae2, first_name="Hugo", last_name="Lemaire", organisation=twin.pk
    )
    run_detection(entity="organisation")
    pair = DuplicatePair.objects.get()
    page.on("dialog", lambda dialog: dialog.accept())

    login(page, live_server, "alice", PASSWORD)
    page.goto("/duplicates/")
    row = page.locator(f"#pairs tr[data-pair='{pair.pk}']")
    expect(row).to_contain_text("Verrerie Chevalier SAS")
    expect(row).to_contain_text("VERRERIE CHEVALLIER")
    expect(row.locator(".badge").first).to_have_text(re.compile(r"^\d+ %$"))
    with page.expect_navigation():
        row.locator(".compare-link").click()

    # Side by side: the differing rows are highlighted, the fuller record is kept by default.
    expect(page.locator("tr[data-field=legal_name]")).to_have_class(re.compile("table-warning"))
    expect(page.locator("tr[data-field=siren]")).not_to_have_class(re.compile("table-warning"))
    expect(page.locator("#survivor-a")).to_be_checked()
    expect(page.locator("#choice-naf_code-b")).to_be_checked()  # A has none
    page.locator("#choice-legal_name-a").check()  # the well-typed name
    with page.expect_navigation():
        page.click("#merge")

    expect(page).to_have_url(re.compile(rf"/organisations/{kept.pk}/$"))
    expect(page.locator("#record-title")).to_have_text("Verrerie Chevalier SAS")
    page.click("#contacts-tab-button")
    contacts = page.locator("#tab-contacts")
    expect(contacts).to_contain_text("Hugo Lemaire")  # the merged record's contact
    expect(contacts).to_contain_text("Inès Garnier")
    expect(page.locator("#tab-overview")).to_contain_text("23.13Z")
    assert not Organisation.objects.filter(pk=twin.pk).exists()

    with page.expect_navigation():
        page.click("#merge-link")
    expect(page.locator("#merge-title")).to_contain_text("VERRERIE CHEVALLIER")
    expect(page.locator("#snapshot")).to_contain_text("23.13Z")
    with page.expect_navigation():
        page.click("#undo")

    expect(page).to_have_url(re.compile(rf"/organisations/{twin.pk}/$"))
    expect(page.locator("#record-title")).to_have_text("VERRERIE CHEVALLIER")
    page.click("#contacts-tab-button")
    expect(page.locator("#tab-contacts")).to_contain_text("Hugo Lemaire")
    assert Contact.objects.get(pk=moved.pk).organisation_id == twin.pk
    assert Organisation.objects.get(pk=kept.pk).naf_code == ""
