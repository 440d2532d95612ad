"""A user creates an API token, uses it, and revokes it; the API then refuses it, saying why."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _call(url: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_token_life_cycle(page: Page, live_server, cast) -> None:
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/settings/tokens/")
    page.fill("[name=name]", "CRM sync")
    page.fill("[name=days_valid]", "30")
    page.click("form button.btn-primary")
    key = page.locator("#new-token code").inner_text().strip()
    assert key.startswith("cib_")

    status, body = _call(f"{live_server.url}/api/v1/organisations", key)
    assert status == 200 and body["items"] == []

    page.goto(f"{live_server.url}/settings/tokens/")
    expect(page.locator("#new-token")).to_have_count(0)  # shown once only
    with page.expect_navigation():
        page.locator("form[action*='/revoke/'] button").click()
    status, body = _call(f"{live_server.url}/api/v1/organisations", key)
    assert status == 401 and "revoked" in body["detail"]
