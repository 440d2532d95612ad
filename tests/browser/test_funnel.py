"""The funnel report in the browser (issue 6 item 8): Marie, a marketer, opens the funnel of
the last 12 months, reads how many leads reached each stage on the chart and in the table, then
narrows it to the leads from events and sees the figures change in place (HTMX), the address
keeping the filter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.insights.funnel.conftest import make_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leads(cast: Any) -> None:
    arrived = timezone.now() - dt.timedelta(days=40)
    to_mql = [("suspect", 0), ("prospect", 2), ("mql", 6)]
    for _ in range(3):
        make_lead(owner=cast.ae, source="website", path=to_mql, arrived=arrived)
    make_lead(owner=cast.ae, source="website", path=to_mql[:1], arrived=arrived)
    for _ in range(2):
        make_lead(owner=cast.ae, source="event", path=[("suspect", 0)], arrived=arrived)


def reached(page: Page, stage: str) -> Any:
    return page.locator(f'#funnel-table tr[data-stage="{stage}"] [data-measure="reached"]')


def test_open_the_funnel_and_filter_by_source(
    page: Page, live_server: Any, cast: Any, leads: None
) -> None:
    login(page, live_server, "marie", PASSWORD)
    page.goto("/funnel/")
    expect(page.locator("h1")).to_have_text("Funnel")
    expect(page.locator("[data-funnel-chart] svg")).to_have_count(1)
    expect(page.locator("[data-funnel-chart]")).to_contain_text("Suspect: 6")
    expect(reached(page, "suspect")).to_have_text("6")
    expect(reached(page, "mql")).to_have_text("3")
    expect(
        page.locator('#funnel-table tr[data-stage="suspect"] [data-measure="to_next"]')
    ).to_have_text("50.0 %")
    expect(
        page.locator('#funnel-table tr[data-stage="suspect"] [data-measure="median"]')
    ).to_have_text("2.0 d")
    expect(
        page.locator('#funnel-compare tr[data-group="website"] [data-measure="leads"]')
    ).to_have_text("4")

    page.select_option("#id_source", "event")
    page.wait_for_url("**source=event**")
    expect(reached(page, "suspect")).to_have_text("2")
    expect(reached(page, "prospect")).to_have_text("0")
    expect(page.locator('[data-figure="leads"]')).to_have_text("2")
    expect(page.locator("[data-funnel-chart]")).to_contain_text("Suspect: 2")
    expect(page.locator('#funnel-compare tr[data-group="website"]')).to_have_count(0)
    # The filters stay as chosen: the form is outside the refreshed part.
    expect(page.locator("#id_source")).to_have_value("event")

    # Custom dates: the two fields appear, and a year without leads says so.
    page.select_option("#id_period", "custom")
    expect(page.locator("#id_start")).to_be_visible()
    page.fill("#id_start", "2020-01-01")
    page.fill("#id_end", "2020-12-31")
    page.wait_for_url("**end=2020-12-31**")
    expect(page.locator("#no-leads")).to_be_visible()
    expect(page.locator('[data-figure="leads"]')).to_have_text("0")
