"""The data-quality dashboard improves as owners verify their records (issue 4, "done when").

Sam, the sales manager, sees stale records on the dashboard, asks Alice to verify all her stale
organisations; Alice works through her verification tasks; the dashboard then counts fewer
stale records.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cible.people.models import Organisation, UserProfile
from cible.quality.freshness.tally import tally_invalidate
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def aged(owner: Any, name: str, *, created: int, verified: int | None, **data: Any) -> Any:
    record = factories.organisation(owner, legal_name=name, **data)
    now = timezone.now()
    Organisation.objects.filter(pk=record.pk).update(
        created_at=now - dt.timedelta(days=created),
        last_verified_at=None if verified is None else now - dt.timedelta(days=verified),
    )
    tally_invalidate(entity="organisation", ids=[record.pk])
    return record


def stale_figure(page: Page) -> Any:
    return page.locator("#summary-organisation [data-figure=stale]")


def test_tasks_to_an_owner_and_the_dashboard_improves(
    page: Page, live_server: Any, cast: Any
) -> None:
    UserProfile.objects.update(language="en")
    aged(cast.ae, "Ancienne SARL", created=900, verified=400, city="Lyon")
    aged(cast.ae, "Jamais SA", created=200, verified=None)
    aged(cast.ae, "Fraîche SAS", created=300, verified=10)
    aged(cast.outsider, "Lyonnaise SA", created=800, verified=500)

    login(page, live_server, "sam", PASSWORD)
    page.goto("/quality/")
    expect(stale_figure(page)).to_have_text("3")
    expect(page.locator("#summary-organisation [data-figure=total]")).to_have_text("4")
    # The charts are drawn (ECharts renders SVG), the trend ends with today's live point.
    expect(page.locator("[data-chart=chart-completeness-organisation-data] svg")).to_have_count(1)
    expect(page.locator("[data-chart=chart-trend-counts-data] svg")).to_have_count(1)
    alice_row = page.locator(f"#owners tr[data-owner='{cast.ae.pk}']")
    expect(alice_row.locator("th")).to_have_text("Alice Martin")
    expect(alice_row.locator("[data-stale=organisation]")).to_have_text("2")

    # The owner's stale list says why each record is stale.
    alice_row.locator("[data-stale=organisation]").click()
    expect(page.locator("#stale-table tbody tr")).to_have_count(2)
    ancienne = page.locator("#stale-table tbody tr", has_text="Ancienne SARL")
    expect(ancienne.locator("[data-reason=age]")).to_be_visible()
    jamais = page.locator("#stale-table tbody tr", has_text="Jamais SA")
    expect(jamais.locator("[data-reason=never]")).to_be_visible()

    # Ask Alice to verify all her stale organisations, from the dashboard's owner list.
    page.goto("/quality/")
    alice_row = page.locator(f"#owners tr[data-owner='{cast.ae.pk}']")
    alice_row.locator("[data-tasks-menu]").click()
    with page.expect_navigation():
        alice_row.locator("[data-tasks-for=organisation]").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "2 verification tasks created (Alice Martin: 2)."
    )
    expect(page.locator(f"#owners tr[data-owner='{cast.ae.pk}'] [data-open-tasks]")).to_have_text(
        "2"
    )

    page.context.clear_cookies()
    login(page, live_server, "alice", PASSWORD)
    page.goto("/quality/")
    expect(page.locator("#my-tasks-count")).to_have_text("2")
    page.click("#my-tasks")
    tasks = page.locator("#tasks tbody tr")
    expect(tasks).to_have_count(2)
    row = tasks.filter(has_text="Ancienne SARL")
    expect(row).to_contain_text("Not verified for too long")
    with page.expect_navigation():
        row.locator("[data-action=verify]").click()
    expect(page.locator(".alert-success")).to_contain_text("Ancienne SARL: verified.")
    expect(page.locator("#tasks tbody tr")).to_have_count(1)

    # The other one she checks from the record's own page.
    page.locator("#tasks tbody tr", has_text="Jamais SA").locator("a", has_text="Jamais SA").click()
    with page.expect_navigation():
        page.click("#verify")
    page.goto("/quality/tasks/")
    expect(page.locator("#tasks tbody tr")).to_have_count(1)
    expect(page.locator("#tasks tbody")).to_contain_text("Nothing to verify")

    # The dashboard improved: only Olivier's Lyon record is still stale.
    page.goto("/quality/")
    expect(stale_figure(page)).to_have_text("1")
    expect(
        page.locator(f"#owners tr[data-owner='{cast.ae.pk}'] [data-stale=organisation]")
    ).to_have_text("0")
    expect(page.locator("#my-tasks-count")).to_have_text("0")
    expect(page.locator("#figures-as-of")).to_have_text(re.compile(r"\d"))
