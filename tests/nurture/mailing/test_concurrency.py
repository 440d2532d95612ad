"""Two workers sending at once: every message leaves exactly once (claims are atomic)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from cible.nurture.mailing import services
from cible.nurture.mailing.models import MessageStatus, OutboundMessage
from cible.people.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_workers_never_send_a_message_twice(
    template: Any, always_open: Any, smtp_server: Any
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is shared by one connection per thread")
    contacts = Contact.objects.bulk_create(
        [
            Contact(last_name=f"P{n}", name_key=f"p{n}", email=f"p{n}@d{n % 3}.fr")
            for n in range(300)
        ]
    )
    services.queue_messages(
        template=template,
        recipients=[(c.pk, f"c:{c.pk}") for c in contacts],
        origin="test",
        channel="job",
    )
    reports: list[Any] = []

    def worker() -> None:
        try:
            reports.append(services.send_due(limit=400))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    received = [r for m in smtp_server.messages for r in m.rcpt_tos]
    assert len(received) == len(set(received)) == 300
    assert sum(r.sent for r in reports) == 300
    assert OutboundMessage.objects.filter(status=MessageStatus.SENT).count() == 300
