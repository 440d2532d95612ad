"""The cross-tab explorer in the browser (issue 5, seed 002: "if you lose 100 % of the deals in a
segment…"): Sam, a sales manager, crosses the installed CRM with the geography, spots the cell
that loses every deal — Salesforce in Lille, 0 of 12 — clicks it on the heatmap and sees its
accounts; then finds the same story on the segment-performance page."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cible.people.models import CompetitorProduct, UserProfile
from cible.pipeline.models import Opportunity
from cible.segments.axes.models import Axis
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLOSED = timezone.localdate() - dt.timedelta(days=20)


@pytest.fixture(autouse=True)
def seeded_axes(db: Any) -> None:
    """Transactional tests before this one flushed the axes the migration seeded."""
    from django.apps import apps

    if not Axis.objects.exists():
        importlib.import_module("cible.segments.axes.migrations.0002_seed_axes").seed(apps, None)


def _deals(owner: Any, organisation: Any, n: int, stage: str) -> None:
    extra = {"lost_reason": "price"} if stage == "lost" else {"one_time_amount": "8000"}
    deals = [
        factories.opportunity(owner, organisation, stage=stage, closed_on=CLOSED, **extra).pk
        for _ in range(n)
    ]
    opened = timezone.make_aware(dt.datetime.combine(CLOSED - dt.timedelta(days=45), dt.time(9)))
    Opportunity.objects.filter(pk__in=deals).update(created_at=opened)


@pytest.fixture
def book(cast: Any) -> dict[str, Any]:
    """Salesforce shops in Lille lose every deal; elsewhere half are won."""
    for name in ("Salesforce", "HubSpot"):
        CompetitorProduct.objects.create(name=name, vendor=name, category="CRM")
    org = factories.organisation
    lille = [
        org(
            cast.ae,
            legal_name=name,
            postal_code="59000",
            city="Lille",
            headcount=60,
            installed_products=["Salesforce"],
        )
        for name in ("Nordis Automatisme", "Flandres Logiciels")
    ]
    paris = org(
        cast.ae2,
        legal_name="Seine Conseil",
        postal_code="75008",
        city="Paris",
        headcount=40,
        installed_products=["HubSpot"],
    )
    lyon = org(
        cast.ae,
        legal_name="Gones Industrie",
        postal_code="69002",
        city="Lyon",
        headcount=300,
        installed_products=["Salesforce"],
    )
    _deals(cast.ae, lille[0], 7, "lost")
    _deals(cast.ae, lille[1], 5, "lost")
    _deals(cast.ae2, paris, 10, "won")
    _deals(cast.ae2, paris, 10, "lost")
    _deals(cast.ae, lyon, 6, "won")
    _deals(cast.ae, lyon, 6, "lost")
    UserProfile.objects.update(language="en")
    return {"lille": lille, "paris": paris, "lyon": lyon}


def test_explore_the_crosstab_and_spot_the_losing_cell(
    page: Page, live_server: Any, cast: Any, book: Any
) -> None:
    login(page, live_server, "sam", PASSWORD)
    page.goto("/performance/crosstab/")
    page.select_option("#id_a", "installed-crm")
    page.wait_for_url("**a=installed-crm**")
    page.select_option("#id_b", "geography")
    page.wait_for_url("**b=geography**")
    expect(page.locator("#id_measure")).to_have_value("win_rate")

    # The finding is said in words, with its numbers, without looking for it.
    finding = page.locator("#findings .finding")
    expect(finding).to_have_count(1)
    expect(finding).to_have_attribute("data-row", "salesforce")
    expect(finding).to_have_attribute("data-column", "lille")
    expect(finding).to_contain_text("Salesforce × Lille")
    expect(finding).to_contain_text("Win rate 0 % (0 of 12 deals)")
    expect(finding).to_contain_text("well below the overall 36 %")  # 16 of 44

    # The heatmap marks it; a click on the cell lists its accounts under the chart.
    heatmap = page.locator("#heatmap")
    expect(heatmap.locator("svg")).to_have_count(1)
    expect(heatmap).to_contain_text("▼ 0 %")
    spec = json.loads(page.locator("#chart-crosstab-data").text_content() or "{}")
    flag = spec["flags"][0]
    assert (spec["y_labels"][flag["y"]], spec["x_labels"][flag["x"]]) == ("Salesforce", "Lille")
    x, y = page.evaluate(
        """([x, y]) => echarts.getInstanceByDom(document.getElementById("heatmap"))
              .convertToPixel({seriesIndex: 0}, [x, y])""",
        [flag["x"], flag["y"]],
    )
    box = heatmap.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    accounts = page.locator("#cell-accounts #accounts-list")
    expect(accounts.locator("#accounts-heading")).to_contain_text("Installed CRM: Salesforce")
    expect(accounts.locator("#accounts-heading")).to_contain_text("Geography: Lille")
    expect(accounts.locator("#accounts-count")).to_have_text("2 accounts")
    rows = accounts.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Flandres Logiciels")
    expect(rows.nth(1)).to_contain_text("Nordis Automatisme")

    # The figures beneath, with their totals, say the same.
    cell = page.locator("#crosstab-table tr[data-row=salesforce] td[data-column=lille]")
    expect(cell).to_have_attribute("data-flag", "under")
    expect(cell).to_contain_text("0 %")
    expect(cell).to_contain_text("12 deals")
    expect(page.locator("#crosstab-table tr[data-row=all] td[data-column=all]")).to_have_text(
        "36 %"
    )

    # Another measure: the revenue won, in euros.
    page.select_option("#id_measure", "revenue_won")
    page.wait_for_url("**measure=revenue_won**")
    expect(page.locator("#crosstab-table tr[data-row=all] td[data-column=all]")).to_have_text(
        "128,000\u00a0€"
    )

    # The segment-performance page tells the same story on the geography axis alone.
    page.click("#segments-link")
    page.select_option("#id_axis", "installed-crm")
    page.wait_for_url("**axis=installed-crm**")
    salesforce = page.locator("#performance-table tr[data-segment=salesforce]")
    expect(salesforce.locator("[data-measure=won]")).to_have_text("6")
    expect(salesforce.locator("[data-measure=lost]")).to_have_text("18")
    page.select_option("#id_axis", "geography")
    page.wait_for_url("**axis=geography**")
    lille = page.locator("#performance-table tr[data-segment=lille]")
    expect(lille).to_have_attribute("data-flag", "under")
    expect(lille.locator("[data-measure=win_rate]")).to_contain_text("0 %")
    expect(lille.locator("[data-measure=lost_share]")).to_have_text("100 %")
    expect(lille.locator("[data-measure=profit]")).to_have_text("costs unknown")
    expect(
        page.locator("#performance-table tr[data-segment=lyon] [data-measure=sales_cycle_days]")
    ).to_have_text("45 d")
    expect(page.locator("#findings")).to_contain_text("Lille: Win rate 0 % (0 of 12 deals)")
    lille.locator(".segment-link").click()
    expect(page.locator("#segment-accounts #accounts-count")).to_have_text("2 accounts")
