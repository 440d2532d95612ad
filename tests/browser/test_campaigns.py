"""Campaigns in the browser: Marie sets up an email campaign, adds the people of a target after
seeing how many would be added (and who would be skipped), and reads the member funnel; she tags
a landing page for her ads; a stale edit tells her someone else saved first."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cible.engagement.campaigns import services
from cible.engagement.campaigns.models import Campaign, CampaignMember
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.engagement.campaigns.world import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_campaign_add_a_target_and_read_the_funnel(
    page: Page, live_server: Any, cast: Any
) -> None:
    world = make_world(cast)
    login(page, live_server, "marie", PASSWORD)

    page.goto("/campaigns/")
    page.click("text=New")
    page.fill("#id_name", "Newsletter CRM — March")
    page.select_option("#id_type", "email")
    page.fill("#id_budget", "1 200")
    page.fill("#id_actual_cost", "900")
    page.fill("#id_starts_on", "2026-03-02")
    page.fill("#id_utm_source", "newsletter")
    page.fill("#id_utm_medium", "email")
    page.fill("#id_utm_campaign", "crm-march")
    with page.expect_navigation():
        page.click("#save")
    created = Campaign.objects.get()
    expect(page.locator("#record-title")).to_have_text("Newsletter CRM — March")
    expect(page.locator("[data-kpi=members]")).to_have_text("0")

    # Choose a target: the count comes before anything is added.
    page.select_option("#id_target", str(world.everyone.pk))
    expect(page.locator("[data-split=to-add]")).to_have_text("4")
    expect(page.locator("[data-split=opted-out]")).to_have_text("1")
    expect(page.locator("[data-split=no-email]")).to_have_text("1")
    assert not CampaignMember.objects.exists()
    with page.expect_navigation():
        page.click("#confirm-add")
    expect(page.locator(".alert-success")).to_contain_text("4 contacts added.")
    expect(page.locator("[data-kpi=members]")).to_have_text("4")
    expect(page.locator("#member-count")).to_contain_text("4 members")
    expect(page.locator("#member-table tbody tr")).to_have_count(4)
    expect(page.locator(f"#member-table tr[data-contact='{world.nadia.pk}']")).to_have_count(0)

    # Responses arrive; the funnel counts who reached each status.
    CampaignMember.objects.filter(contact__in=[world.nora, world.luc]).update(status="opened")
    CampaignMember.objects.filter(contact=world.lucie).update(status="clicked")
    page.reload()
    expect(page.locator("#funnel tr[data-status=targeted] [data-count]")).to_have_text("4")
    expect(page.locator("#funnel tr[data-status=opened] [data-count]")).to_have_text("3")
    expect(page.locator("#funnel tr[data-status=clicked] [data-count]")).to_have_text("1")
    expect(page.locator("[data-kpi=responses]")).to_have_text("1")
    expect(page.locator("#funnel-chart svg")).to_be_visible()

    # Only those who clicked.
    page.select_option("#member-status", "clicked")
    expect(page.locator("#member-table tbody tr")).to_have_count(1)
    expect(page.locator("#member-table tbody")).to_contain_text("Lucie Testa")

    # A tagged link for the landing page.
    page.fill("#utm-url", "www.example.com/crm")
    page.click("#utm-build")
    expect(page.locator("#utm-link")).to_have_value(
        "https://www.example.com/crm?utm_source=newsletter&utm_medium=email&utm_campaign=crm-march"
    )
    assert created.members.count() == 4


def test_work_the_members_one_by_one(page: Page, live_server: Any, cast: Any) -> None:
    world = make_world(cast)
    event = services.campaign_create(
        actor=cast.marketer, channel="ui", data={"name": "Salon du CRM", "type": "event"}
    )
    login(page, live_server, "marie", PASSWORD)
    page.goto(f"/campaigns/{event.pk}/")

    # Start the campaign from its page.
    with page.expect_navigation():
        page.click("#status-actions [data-status=active]")
    expect(page.locator("#campaign-status")).to_have_text("Active")

    # Add one person by typing her (last) name.
    page.fill("#id_contact_search", "Testa")
    page.locator("#id_contact_options .lookup-option", has_text="Lucie Testa").click()
    with page.expect_navigation():
        page.click("#add-contact-button")
    expect(page.locator(".alert-success")).to_contain_text("Lucie Testa was added.")
    row = page.locator(f"#member-table tr[data-contact='{world.lucie.pk}']")
    expect(row).to_be_visible()

    # She came to the stand: attended.
    with page.expect_navigation():
        row.locator("select[name=status]").select_option("attended")
    expect(page.locator("[data-kpi=responses]")).to_have_text("1")
    expect(page.locator("#funnel tr[data-status=attended] [data-count]")).to_have_text("1")

    with page.expect_download() as download_info:
        page.click("#export-members")
    with open(download_info.value.path(), encoding="utf-8-sig") as handle:
        lines = handle.read().strip().splitlines()
    assert lines[1].split(",")[1:3] == ["Lucie", "Testa"]
    assert lines[1].split(",")[6] == "Attended"

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click(f"[data-remove='{world.lucie.pk}']")
    expect(page.locator("[data-kpi=members]")).to_have_text("0")
    assert not CampaignMember.objects.exists()


def test_a_stale_edit_shows_the_conflict(page: Page, live_server: Any, cast: Any) -> None:
    created = services.campaign_create(
        actor=cast.marketer, channel="ui", data={"name": "Salon", "type": "event"}
    )
    login(page, live_server, "marie", PASSWORD)
    page.goto(f"/campaigns/{created.pk}/edit/")
    # The live server shares this thread's SQLite connection: write only once it has answered
    # every request of the pages so far.
    page.wait_for_load_state("networkidle")
    services.campaign_update(
        campaign=created, actor=cast.admin, channel="ui", data={"budget": "5000"}
    )
    page.fill("#id_budget", "7000")
    page.click("#save")
    expect(page.locator("#conflict-message")).to_contain_text("Someone else saved this record")
    created.refresh_from_db()
    assert str(created.budget) == "5000.00"
