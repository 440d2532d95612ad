"""Two calls racing with the same events store each event once (PostgreSQL: real concurrency).

Both calls are held at a barrier right after checking which events are already stored, so both
believe every event is new: the second insert must then hit the unique constraint
`interaction_event_once`, take the winner's rows for duplicates and store the rest.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from cible.engagement.interactions import ingestion
from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.services import ingest_events

pytestmark = pytest.mark.django_db(transaction=True)


def _events(numbers: range, source: str = "website") -> list[dict[str, Any]]:
    return [
        {"event_id": f"evt-{n}", "source": source, "kind": "web_visit", "visitor_id": f"v{n}"}
        for n in numbers
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers; the race needs PostgreSQL's concurrent transactions",
)
def test_two_concurrent_calls_with_the_same_events_store_each_once(cast, monkeypatch):
    barrier = threading.Barrier(2, timeout=20)
    checked = threading.local()
    original = ingestion._stored_keys

    def stored_keys_then_wait(keys):
        found = original(keys)
        if not getattr(checked, "done", False):
            checked.done = True
            barrier.wait()  # both calls have now seen "nothing stored yet"
        return found

    monkeypatch.setattr(ingestion, "_stored_keys", stored_keys_then_wait)
    results: dict[str, Any] = {}
    errors: list[BaseException] = []

    def send(name: str, events: list[dict[str, Any]]) -> None:
        try:
            results[name] = ingest_events(events=events, actor=cast.marketer)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    shared = _events(range(300))
    first = threading.Thread(target=send, args=("a", shared + _events(range(300, 320))))
    second = threading.Thread(target=send, args=("b", shared + _events(range(320, 350))))
    first.start()
    second.start()
    first.join(60)
    second.join(60)
    assert errors == []
    a, b = results["a"], results["b"]
    assert Interaction.objects.count() == 350
    assert a.accepted + b.accepted == 350
    assert sorted([a.duplicates, b.duplicates]) == [0, 300]
    assert Interaction.objects.filter(event_id="evt-5").count() == 1
