"""The navbar on a laptop screen: one line, everything reachable, in French (longest labels)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_on_one_line(page: Page, width: int) -> None:
    nav = page.locator("nav.navbar").bounding_box()
    assert nav is not None and nav["height"] < 70, nav  # one row, not two
    for selector in ("#global-search", "#switch-language", "#user-menu"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, (selector, box)


@pytest.mark.parametrize("width", [1280, 1366, 1920])
def test_the_navbar_fits_a_laptop_screen(page: Page, live_server, cast, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server, "alice", PASSWORD)  # Alice's profile speaks French
    _fits_on_one_line(page, width)
    nav = page.locator("#nav")
    # Icon-only links still say where they go (tooltip and accessible name).
    link = nav.get_by_role("link", name="Opportunités")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("title", "Opportunités")
    with page.expect_navigation():
        link.click()
    assert page.url.endswith("/opportunities/")
    page.click("#marketing-menu")
    expect(page.locator("#marketing-menu + .dropdown-menu")).to_be_visible()


def test_a_narrow_screen_folds_the_navbar_into_the_menu_button(
    page: Page, live_server, cast
) -> None:
    page.set_viewport_size({"width": 1100, "height": 800})
    login(page, live_server, "alice", PASSWORD)
    expect(page.locator("#nav")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#nav").get_by_text("File d'attente")).to_be_visible()  # labels back
