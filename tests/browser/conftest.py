"""Fixtures for the browser suite: Debian's Chromium driven by Playwright against a live server.

Browser tests are marked ``@pytest.mark.browser`` and
``@pytest.mark.django_db(transaction=True)``: the live server runs in another thread, so it only
sees rows that the test has committed. ``scripts/test.sh`` runs this folder alone
(``pytest -m browser tests/browser``) and keeps it out of the other stages.

No ``playwright install``: the browser is the system Chromium, ``CIBLE_TEST_CHROMIUM``
(default ``/usr/bin/chromium``, Debian package ``chromium``).
"""

from __future__ import annotations

import os

# Playwright's sync API runs an asyncio event loop in this process, so Django's async-safety
# check would refuse the ORM calls that tests and fixtures make. Set before Django touches a
# database; this conftest is only loaded for the browser suite.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re
import tempfile
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 10_000
REQUESTS_DRAIN_SECONDS = 10.0
FAILURE_DIR = Path(tempfile.gettempdir()) / "cible-browser-failures"


def chromium_path() -> str:
    return os.environ.get("CIBLE_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole session; each test gets its own context."""
    executable = chromium_path()
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        pytest.fail(
            f"Chromium is missing: no executable at {executable}. Install the Debian package "
            "'chromium' (apt-get install -y chromium) or point CIBLE_TEST_CHROMIUM at it; "
            "scripts/test.sh installs it when run as root.",
            pytrace=False,
        )
    try:
        launched = playwright_driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:
        pytest.fail(f"Chromium at {executable} did not start: {exc}", pytrace=False)
    try:
        yield launched
    finally:
        launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so that ``page`` knows whether the test failed."""
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, live_server, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh context and page per test (en-GB, Paris time, 10 s timeout), based on the live
    server so that ``page.goto("/login/")`` works. On failure, a screenshot is kept."""
    context = browser.new_context(
        locale="en-GB",
        timezone_id="Europe/Paris",
        base_url=live_server.url,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            FAILURE_DIR.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            shot = FAILURE_DIR / f"{name}.png"
            try:
                new_page.screenshot(path=str(shot), full_page=True)
                print(f"\nbrowser: failed at {new_page.url}; screenshot in {shot}")
            except Exception as exc:  # the page may be gone; the test's own error matters more
                print(f"\nbrowser: failed at {new_page.url}; no screenshot ({exc})")
        context.close()
        _wait_for_live_requests()


def _wait_for_live_requests() -> None:
    """Wait until the live server has answered every request the page sent.

    A page can still be loading (an HTMX fragment, the page after a redirect) when the test's
    last assertion passes. The server thread answering it shares the test's in-memory SQLite
    connection, so the flush that ends the test would meet its open read ("database table is
    locked") and leave rows behind for the next test. Closing the context closes the sockets;
    the server's request threads (daemons, so ``server_close`` never joins them) end soon after.
    """
    deadline = time.monotonic() + REQUESTS_DRAIN_SECONDS
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(max(0.0, deadline - time.monotonic()))
