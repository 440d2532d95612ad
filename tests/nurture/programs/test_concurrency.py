"""Two workers advancing at the same minute on PostgreSQL claim disjoint chunks (FOR UPDATE SKIP
LOCKED): every contact gets the step once, none is skipped."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from cible.nurture.mailing.models import OutboundMessage
from cible.nurture.programs import engine, services
from cible.nurture.programs.models import EnrolmentEvent, EventKind
from cible.people.models import Contact
from tests.nurture.programs.conftest import later

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_share_the_work_without_doubling_it(
    cast: Any, nurture: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks between workers need PostgreSQL (SQLite has one writer)")
    Contact.objects.bulk_create(
        [
            Contact(last_name=f"P{n}", name_key=f"p{n}", email=f"p{n}@example.org")
            for n in range(300)
        ]
    )
    ids = list(Contact.objects.values_list("pk", flat=True))
    services.enrol(
        program=nurture["program"],
        contact_ids=ids,
        source="manual",
        actor=cast.marketer,
        channel="ui",
    )
    monkeypatch.setattr(engine, "CHUNK", 25)
    real_run = engine.run_chunk

    def slow_run(*args: Any, **kwargs: Any) -> None:
        real_run(*args, **kwargs)
        time.sleep(0.05)  # hold the chunk's row locks a while: the other worker must skip them

    monkeypatch.setattr(engine, "run_chunk", slow_run)
    moment = later()
    reports: list[Any] = []

    def worker() -> None:
        try:
            reports.append(services.advance_due(now=moment))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.enrolments for r in reports) == 300
    assert all(r.enrolments > 0 for r in reports)
    assert OutboundMessage.objects.count() == 300
    queued = EnrolmentEvent.objects.filter(kind=EventKind.EMAIL_QUEUED)
    assert queued.count() == queued.values("enrolment_id").distinct().count() == 300
