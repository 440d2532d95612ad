"""The organisation list: filters narrow the table, column headers sort it, pages turn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITIES = [
    "Angers",
    "Brest",
    "Caen",
    "Dijon",
    "Foix",
    "Grenoble",
    "Lille",
    "Metz",
    "Nancy",
    "Vannes",
]
NAME, CITY = 0, 2  # columns of the organisation table


def _results(page: Page, n: int) -> None:
    expect(page.locator("#result-count")).to_have_text(re.compile(rf"^\s*{n}\b"))


@pytest.fixture
def thirty(cast):  # type: ignore[no-untyped-def]
    """30 organisations: every third a customer with 300 staff (ETI), the rest prospects (PME)."""
    for i in range(30):
        customer = i % 3 == 0
        factories.organisation(
            cast.ae,
            legal_name=f"Société {i + 1:02d}",
            city=CITIES[i % len(CITIES)],
            status="customer" if customer else "prospect",
            headcount=300 if customer else 20 + i,
        )


def test_filter_narrows_the_table(page: Page, live_server, cast, thirty) -> None:
    login(page, live_server, "alice", PASSWORD)
    page.goto("/organisations/")
    rows = page.locator("#record-table tbody tr")
    _results(page, 30)
    expect(rows).to_have_count(25)

    page.select_option("#f-status", "customer")
    _results(page, 10)
    expect(rows).to_have_count(10)
    expect(page).to_have_url(re.compile(r"status=customer"))
    names = rows.locator(f"td:nth-child({NAME + 1})").all_inner_texts()
    assert names == [f"Société {i + 1:02d}" for i in range(0, 30, 3)]

    page.select_option("#f-status", "prospect")
    _results(page, 20)
    page.select_option("#f-size_class", "eti")
    _results(page, 0)
    page.select_option("#f-status", "")
    _results(page, 10)  # size alone: the ten ETIs

    # The filters survive a reload: they are in the address.
    page.reload()
    _results(page, 10)
    expect(page.locator("#f-size_class")).to_have_value("eti")


def test_sort_by_column_header(page: Page, live_server, cast, thirty) -> None:
    login(page, live_server, "alice", PASSWORD)
    page.goto("/organisations/")
    first_city = page.locator(f"#record-table tbody tr:first-child td:nth-child({CITY + 1})")
    first_name = page.locator(f"#record-table tbody tr:first-child td:nth-child({NAME + 1})")
    expect(first_name).to_have_text("Société 01")  # by name by default

    header = page.locator("#record-table thead a[href*='sort=city']")
    with page.expect_navigation():
        header.click()
    expect(page).to_have_url(re.compile(r"sort=city(&|$)"))
    expect(first_city).to_have_text("Angers")

    with page.expect_navigation():
        page.locator("#record-table thead a[href*='sort=-city']").click()
    expect(page).to_have_url(re.compile(r"sort=-city"))
    expect(first_city).to_have_text("Vannes")
    cities = page.locator(f"#record-table tbody td:nth-child({CITY + 1})").all_inner_texts()
    assert cities == sorted(cities, reverse=True)


def test_next_page(page: Page, live_server, cast, thirty) -> None:
    login(page, live_server, "alice", PASSWORD)
    page.goto("/organisations/")
    rows = page.locator("#record-table tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.last.locator("td").first).to_have_text("Société 25")

    with page.expect_navigation():
        page.click("#next-page")
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(5)
    names = rows.locator(f"td:nth-child({NAME + 1})").all_inner_texts()
    assert names == [f"Société {n}" for n in range(26, 31)]
    expect(page.locator("#next-page")).to_have_count(0)  # the last page
    _results(page, 30)
