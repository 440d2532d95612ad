"""Two arrivals at once for one contact: exactly one lead opens, the other gets a conflict
(`lead_one_live_per_contact`, on a real PostgreSQL server)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import translation

from cible.core.errors import ConflictError
from cible.lifecycle.leads import services
from cible.lifecycle.leads.models import Lead, StageTransition

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers: no race to lose"
    ),
]


def test_concurrent_open_lead_gives_one_lead_and_one_conflict(cast: Any, dupont: Any) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def arrive(source: str) -> None:
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):  # threads do not inherit the test's language
                services.open_lead(contact=dupont.pk, source=source, actor=None, channel="job")
            outcome = "opened"
        except ConflictError as error:
            outcome = f"conflict: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=arrive, args=(s,)) for s in ("website", "event")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "opened"]
    assert "Jeanne Dupont already has" in next(o for o in outcomes if o.startswith("conflict"))
    assert Lead.objects.filter(contact=dupont).count() == 1
    assert StageTransition.objects.filter(lead__contact=dupont).count() == 1
