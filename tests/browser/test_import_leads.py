"""Importing the X Education leads through the wizard: the preset is recognised, the dry run
says what would happen, the import creates the leads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cible.lifecycle.leads import importing
from cible.lifecycle.leads.models import Lead, StageTransition
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.lifecycle.test_import_leads import x_education_slice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a temporary directory, not to the checkout's var/."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def _count(page: Page, outcome: str) -> int:
    return int(re.sub(r"\D", "", page.locator(f"#count-{outcome}").inner_text()) or 0)


def test_marketer_imports_the_x_education_leads_with_its_preset(
    page: Page, live_server: Any, cast: Any, tmp_path: Path
) -> None:
    importing.register()  # the leads app's ready() does it once wired
    path = x_education_slice(tmp_path / "Leads-train-300.csv")
    login(page, live_server, "marie", PASSWORD)  # Marie's profile speaks English
    page.goto("/imports/new/")
    page.select_option("#id_entity", "leads")
    page.fill("#id_source", "X Education")
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("#upload")
    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))

    expect(page.locator("#mapping-origin")).to_have_attribute("data-origin", "preset")
    expect(page.locator("#suggestion-label")).to_contain_text("X Education (lead-scoring export)")
    table = page.locator("#mapping-table")
    expect(table.locator('tr[data-column="Prospect ID"] select')).to_have_value("external_id")
    expect(table.locator('tr[data-column="Converted"] select')).to_have_value("stage")
    expect(table.locator('tr[data-column="TotalVisits"] select')).to_have_value("properties")
    expect(page.locator("#id_key_external_id")).to_be_checked()
    with page.expect_navigation():
        page.click("#dry-run")

    expect(page.locator("#run-report")).to_have_attribute("data-dry-run", "1")
    assert _count(page, "created") == 300
    assert _count(page, "rejected") == 0
    assert Lead.objects.count() == 0
    with page.expect_navigation():
        page.click("#start-import")

    expect(page.locator("#run-status")).to_have_attribute("data-status", "done")
    assert _count(page, "created") == 300
    assert Lead.objects.count() == 300
    assert Lead.objects.filter(stage="customer").count() == 96
    assert StageTransition.objects.count() == 300
