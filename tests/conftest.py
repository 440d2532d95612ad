from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import translation

from cible.core import bulk
from cible.core.models import AccessPolicy
from tests.cast import Cast, make_cast
from tests.smtp import SmtpServer, start_smtp_server


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The cast's users cost seconds of PBKDF2 per test otherwise; hashing is not under test.
    The browser tests' live server runs in this process, so logins use the same hasher."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # still checks stored demo hashes
    ]


@pytest.fixture(autouse=True, scope="session")
def tasks_run_inline() -> Any:
    """Huey tasks run where they are enqueued (in-memory storage): no consumer in tests."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages built outside a request speak English in tests (pages follow the user's profile)."""
    with translation.override("en"):
        yield


@pytest.fixture
def one_insert_per_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's bulk path writes 500 rows a statement (tests/core/test_bulk.py): a test that
    counts queries to prove that a write of thousands of rows goes in one go pins one statement
    per table."""
    monkeypatch.setattr(bulk, "SQLITE_ROWS_PER_STATEMENT", 1_000_000)


@pytest.fixture
def cast(db: Any) -> Cast:
    return make_cast()


@pytest.fixture
def team_private(db: Any) -> AccessPolicy:
    """Organisations, contacts and deals private to the owner's team."""
    policy = AccessPolicy.current()
    policy.account_visibility = "team"
    policy.pipeline_visibility = "team"
    policy.save()
    return policy


@pytest.fixture
def client_for(db: Any):  # type: ignore[no-untyped-def]
    """A logged-in test client for a member of the cast."""

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def in_test_transaction(db: Any) -> Iterator[None]:
    """Like Django's test client, keep the connection open between requests: the whole fuzzing
    run happens inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port; Django's SMTP backend sends to it."""
    server = start_smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        server.stop()
