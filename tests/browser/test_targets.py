"""Targets in the browser (issue 5, seed 002): Marie builds "equipped with Salesforce, sales team
11–20 or > 20, in Lille or Paris, contacts who are sales directors", watching the live count
narrow as she ticks segments and adds conditions; she saves it, sees its members and exports
them; Alice, who may not change Marie's shared target, duplicates it."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cible.people.models import UserProfile
from cible.segments.axes.models import Axis
from cible.segments.targets.models import Target
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.segments.targets.world import make_base, segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def seeded_axes(db: Any) -> None:
    """Transactional tests before this one flushed the axes the migration seeded."""
    from django.apps import apps

    if not Axis.objects.exists():
        importlib.import_module("cible.segments.axes.migrations.0002_seed_axes").seed(apps, None)


def tick(page: Page, axis: str, code: str) -> None:
    page.click(f"label[for=segment-{segment(axis, code)}]")


def live_count(page: Page) -> Any:
    return page.locator("#live-count-value")


def test_build_the_seed_002_target_with_a_live_count(
    page: Page, live_server: Any, cast: Any
) -> None:
    UserProfile.objects.update(language="en")
    base = make_base(cast)
    login(page, live_server, "marie", PASSWORD)
    page.goto("/targets/")
    page.click("#target-new")
    page.fill("#id_name", "Salesforce sales teams in Lille or Paris")
    page.check("#id_shared")
    expect(live_count(page)).to_have_text("6")  # nothing chosen yet: everything she sees

    tick(page, "installed-crm", "salesforce")
    expect(live_count(page)).to_have_text("4")
    tick(page, "sales-team", "11-20")
    tick(page, "sales-team", "over-20")
    expect(live_count(page)).to_have_text("3")  # Petit Lille's sales team is 2
    tick(page, "geography", "lille")
    tick(page, "geography", "paris")
    expect(live_count(page)).to_have_text("2")  # Lugdunum is in Lyon
    expect(page.locator("#live-count")).to_contain_text("organisations you can see")

    # The people of these organisations who are sales directors.
    page.check("#id_level_1")
    expect(page.locator("#live-count")).to_contain_text("contacts you can see")
    expect(live_count(page)).to_have_text("4")
    page.click("#id_contact-g-root-add")
    page.select_option("#id_contact-c-0-field", "function")
    page.locator("#id_contact-c-0").get_by_text("Sales", exact=True).click()
    expect(live_count(page)).to_have_text("3")  # Pierre works in IT
    page.click("#id_contact-g-root-add")
    page.select_option("#id_contact-c-1-field", "seniority")
    expect(page.locator("#live-count-body")).to_have_attribute("data-state", "invalid")
    expect(page.locator("#live-count-problems")).to_contain_text("Contact conditions — condition 2")
    page.locator("#id_contact-c-1").get_by_text("Director / VP").click()
    expect(live_count(page)).to_have_text("2")  # Nadia is a manager

    page.click("#save")
    target = Target.objects.get()
    expect(page.locator("#target-name")).to_have_text("Salesforce sales teams in Lille or Paris")
    expect(page.locator("#target-count")).to_have_text("2")
    definition = page.locator("#target-definition")
    expect(definition).to_contain_text("Installed CRM")
    expect(definition).to_contain_text("Function is Sales and seniority is Director / VP")
    expect(page.locator(f"#members tr[data-contact='{base.nora.pk}']")).to_be_visible()
    expect(page.locator(f"#members tr[data-contact='{base.paul.pk}']")).to_be_visible()
    expect(page.locator("#members tbody tr")).to_have_count(2)

    with page.expect_download() as download_info:
        page.click("#export-csv")
    with open(download_info.value.path(), encoding="utf-8-sig") as handle:
        lines = handle.read().strip().splitlines()
    assert lines[0].startswith("Id,First name,Last name")
    assert sorted(line.split(",")[2] for line in lines[1:]) == ["Nora", "Paul"]

    # Alice sees the shared target, may not change it, and makes her own copy.
    page.context.clear_cookies()
    login(page, live_server, "alice", PASSWORD)
    page.goto("/targets/")
    row = page.locator(f"#targets tr[data-target='{target.pk}']")
    expect(row.locator("[data-count] [data-value]")).to_have_text("2")
    row.locator("a").click()
    expect(page.locator("#target-edit")).to_have_count(0)
    page.click("#target-duplicate")
    expect(page.locator("h1")).to_contain_text("Copy of Salesforce sales teams")
    expect(page.locator("#id_level_1")).to_be_checked()
    expect(live_count(page)).to_have_text("2")
