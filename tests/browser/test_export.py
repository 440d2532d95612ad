"""Exporting the filtered organisation list: only what the viewer may see, and no cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORMULA = '=HYPERLINK("http://evil.example/x","Cliquez ici")'


def test_export_these_respects_team_and_defuses_formulas(
    page: Page, live_server, cast, team_private
) -> None:
    factories.organisation(
        cast.ae, legal_name="Cabinet Rousseau", postal_code="75008", city="Paris"
    )
    factories.organisation(cast.ae, legal_name=FORMULA, postal_code="75002", city="Paris")
    factories.organisation(
        cast.ae, legal_name="Brasserie Fontaine", postal_code="69002", city="Lyon"
    )
    factories.organisation(
        cast.outsider, legal_name="Conseil Girard", postal_code="92100", city="Boulogne-Billancourt"
    )

    login(page, live_server, "basile", PASSWORD)  # Alice's teammate, not Olivier's
    page.goto("/organisations/")
    count = page.locator("#result-count")
    expect(count).to_have_text(re.compile(r"^\s*3\b"))  # the outsider's record is not listed

    page.select_option("#f-region", "FR-IDF")
    expect(count).to_have_text(re.compile(r"^\s*2\b"))
    expect(page).to_have_url(re.compile(r"region=FR-IDF"))
    expect(page.locator("#export-filtered")).to_have_attribute("href", re.compile(r"region=FR-IDF"))

    with page.expect_download() as download_info:
        page.click("#export-filtered")
    download = download_info.value
    assert download.suggested_filename.startswith("organisations-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    names = sorted(row[0] for row in body)

    assert len(header) >= 5
    assert names == sorted(["Cabinet Rousseau", "'" + FORMULA])
    assert "Conseil Girard" not in text  # the other team's organisation
    assert "Brasserie Fontaine" not in text  # outside the filter
    assert all(not cell.startswith(("=", "+", "@")) for row in body for cell in row)
    paris_row = next(row for row in body if row[0] == "Cabinet Rousseau")
    assert "Paris" in paris_row and "Île-de-France" in paris_row
