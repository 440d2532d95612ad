"""An administrator adds a colleague to a team and makes the pipeline team-private; the
colleague logs in and sees only their team's deals."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_a_colleague_who_sees_their_teams_deals(page: Page, live_server, cast) -> None:
    paris = factories.organisation(cast.ae, legal_name="Atelier Parisien")
    lyon = factories.organisation(cast.outsider, legal_name="Soierie Lyonnaise")
    factories.opportunity(cast.ae, paris, name="Atelier CRM")
    factories.opportunity(cast.outsider, lyon, name="Soierie CRM")

    login(page, live_server, "ada", PASSWORD)
    page.goto(f"{live_server.url}/settings/teams/")
    page.click("a[href='/settings/users/new/']")
    page.fill("[name=username]", "nina")
    page.fill("[name=first_name]", "nina")
    page.fill("[name=last_name]", "BERNARD")
    page.fill("[name=password]", "a long enough password")
    page.select_option("[name=role]", "sdr")
    page.get_by_label("AE Paris").check()
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator("#users")).to_contain_text("Nina Bernard")

    page.goto(f"{live_server.url}/settings/access/")
    page.select_option("[name=pipeline_visibility]", "team")
    with page.expect_navigation():
        page.click("button.btn-primary")

    page.context.clear_cookies()
    login(page, live_server, "nina", "a long enough password")
    page.goto(f"{live_server.url}/opportunities/")
    table = page.locator("#record-table")
    expect(table).to_contain_text("Atelier CRM")
    expect(table).not_to_contain_text("Soierie CRM")
