"""Segments in the browser (issue 5): Marie, from Marketing, reads the seed-002 axes side by side,
builds a segment "PME in Lille" with the rule builder, sees its members and exports them; a
condition left incomplete is pointed out where it is; a rebuild shows how long it took."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cible.people.models import CompetitorProduct, UserProfile
from cible.segments.axes.models import Axis, Segment
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def seeded_axes(db: Any) -> None:
    """Transactional tests before this one flushed the axes the migration seeded."""
    from django.apps import apps

    if not Axis.objects.exists():
        importlib.import_module("cible.segments.axes.migrations.0002_seed_axes").seed(apps, None)


@pytest.fixture
def lille(cast: Any) -> dict[str, Any]:
    CompetitorProduct.objects.create(name="Salesforce", vendor="Salesforce", category="CRM")
    return {
        "nordis": factories.organisation(
            cast.ae, legal_name="Nordis", postal_code="59000", city="Lille", headcount=42
        ),
        "flandres": factories.organisation(
            cast.outsider,
            legal_name="Flandres Logistique",
            postal_code="59000",
            city="Lille",
            headcount=120,
        ),
        "petit": factories.organisation(
            cast.ae, legal_name="Petit Lille", postal_code="59800", city="Lille", headcount=3
        ),
        "lyon": factories.organisation(
            cast.ae, legal_name="Gones", postal_code="69002", city="Lyon", headcount=50
        ),
    }


def condition(page: Page, index: str) -> Any:
    return page.locator(f"#id_rule-c-{index}")


def test_build_a_pme_in_lille_segment_and_see_its_members(
    page: Page, live_server: Any, cast: Any, lille: Any
) -> None:
    UserProfile.objects.update(language="en")
    login(page, live_server, "marie", PASSWORD)
    page.goto("/segments/")

    # The seed-002 axes, side by side, with what is in them.
    expect(page.locator("#axes section.axis-column")).to_have_count(5)
    geography = page.locator("#axis-" + str(Axis.objects.get(code="geography").pk))
    expect(geography.locator("h2")).to_have_text("Geography")
    expect(geography.locator("[data-segment=lille] [data-count]")).to_have_text("3")
    expect(geography.locator("[data-segment=lille] .segment-rule")).to_have_text(
        "Region is Hauts-de-France and postal code starts with “59”"
    )
    expect(geography.locator(".axis-chart svg")).to_have_count(1)

    # A new axis of her own (not exclusive), then a segment in it, built with the builder.
    page.click("#axis-new")
    page.fill("#id_name", "Campaign focus")
    page.uncheck("#id_exclusive")
    page.click("#save")
    focus = Axis.objects.get(code="campaign-focus")
    page.click(f"#axis-menu-{focus.pk}")
    page.click(f"#axis-{focus.pk} [data-action=segment-new]")
    page.fill("#id_name", "PME in Lille")

    page.click("#id_rule-g-root-add")
    page.select_option("#id_rule-c-0-field", "size_class")
    expect(condition(page, "0").locator("#id_rule-c-0-op")).to_have_value("in")
    condition(page, "0").get_by_text("SME (PME, 10–249)").click()
    page.click("#id_rule-g-root-add")
    page.select_option("#id_rule-c-1-field", "city")
    expect(page.locator("#id_rule-c-1-op")).to_have_value("equals")
    # Saved without a value: the problem is shown on the condition that has it.
    page.click("#save")
    expect(condition(page, "1").locator(".rule-error")).to_contain_text("the value is empty")
    expect(condition(page, "0").locator(".rule-error")).to_have_count(0)
    page.fill("#id_rule-c-1-value", "lille")
    page.click("#save")

    expect(page.locator("#segment-name")).to_have_text("PME in Lille")
    expect(page.locator("#segment-rule")).to_have_text(
        "Size is SME (PME, 10–249) and city is “lille”"
    )
    expect(page.locator("#member-count")).to_have_text("2")
    rows = page.locator("#members tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Flandres Logistique")
    expect(rows.nth(1)).to_contain_text("Nordis")

    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    with open(download.path(), encoding="utf-8-sig") as handle:
        lines = handle.read().strip().splitlines()
    assert lines[0].startswith("id,name,legal_name")
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["Flandres Logistique", "Nordis"]

    # Back on the axes page, the new axis shows the segment and its count.
    page.goto("/segments/")
    created = Segment.objects.get(code="pme-in-lille")
    expect(page.locator(f"#axis-{focus.pk} [data-segment=pme-in-lille] [data-count]")).to_have_text(
        "2"
    )
    # And its rule can be changed: the builder comes back with the conditions as saved.
    page.goto(f"/segments/{created.pk}/edit/")
    expect(page.locator("#id_rule-c-1-value")).to_have_value("lille")
    page.click("#id_rule-c-1-remove")
    expect(page.locator("#id_rule-c-1")).to_have_count(0)
    page.click("#save")
    expect(page.locator("#segment-rule")).to_have_text("Size is SME (PME, 10–249)")
    expect(page.locator("#member-count")).to_have_text("3")


def test_rebuild_all_shows_its_progress_and_how_long_it_took(
    page: Page, live_server: Any, cast: Any, lille: Any
) -> None:
    UserProfile.objects.update(language="en")
    login(page, live_server, "ada", PASSWORD)
    page.goto("/segments/")
    page.click("#rebuild-all")
    run = page.locator("#rebuild-run")
    expect(run).to_have_attribute("data-status", "done")
    expect(run).to_contain_text("26 of 26 segments")
    expect(run.locator("#rebuild-seconds")).to_have_text(re.compile(r"took \d+\.\d s"))


def test_a_segment_by_hand_takes_an_organisation_found_by_name(
    page: Page, live_server: Any, cast: Any, lille: Any
) -> None:
    UserProfile.objects.update(language="en")
    size = Axis.objects.get(code="size")
    login(page, live_server, "sam", PASSWORD)
    page.goto(f"/segments/axes/{size.pk}/segments/new/")
    page.fill("#id_name", "Key accounts")
    page.check("input[name=kind][value=manual]")
    expect(page.locator("#rule-box")).to_be_hidden()  # a segment by hand has no rule
    page.fill("#id_position", "1")
    page.click("#save")
    expect(page.locator("#segment-rule")).to_have_text("Members are added and removed by hand.")
    expect(page.locator("#member-count")).to_have_text("0")

    page.fill("#id_organisation_search", "Nor")
    page.click(".lookup-option:has-text('Nordis')")
    page.click("#member-add-button")
    expect(page.locator(".alert-success")).to_contain_text("1 organisation added.")
    expect(page.locator("#member-count")).to_have_text("1")
    nordis = lille["nordis"]
    expect(page.locator(f"#members tr[data-organisation='{nordis.pk}']")).to_be_visible()

    # Placed by hand first in an exclusive axis: Nordis left "PME" for "Key accounts".
    page.goto("/segments/")
    axis = page.locator(f"#axis-{size.pk}")
    expect(axis.locator("[data-segment=key-accounts] [data-count]")).to_have_text("1")
    expect(axis.locator("[data-segment=pme] [data-count]")).to_have_text("2")  # of 3

    page.click("[data-segment=key-accounts] .segment-link")
    page.click(f"[data-remove='{nordis.pk}']")
    expect(page.locator(".alert-success")).to_contain_text("1 organisation taken out.")
    expect(page.locator("#members tbody tr")).to_contain_text("No member you can see.")
