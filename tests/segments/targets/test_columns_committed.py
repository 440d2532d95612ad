"""The in-memory columns of target counts with real commits (autocommit, as a web worker runs):
a write is counted once committed and never before, however long its writer runs, and a store
left behind by the log's pruning reads everything again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from cible.people.models import Organisation
from cible.segments.targets import changelog, columns, selectors

pytestmark = pytest.mark.django_db(transaction=True)

BIG = {
    "organisation": {
        "match": "all",
        "conditions": [{"field": "headcount", "op": "gte", "value": 500}],
    }
}


@pytest.fixture
def store() -> Iterator[columns.Store]:
    columns.forget()
    yield columns._store
    columns.forget()


def big(viewer: Any) -> int | None:
    return selectors.target_count(viewer=viewer, definition=BIG).count


def organisations(*headcounts: int) -> list[int]:
    return [
        Organisation.objects.create(
            legal_name=f"Org {n}", name_key=f"org {n}", headcount=heads, status="prospect"
        ).pk
        for n, heads in enumerate(headcounts)
    ]


def test_committed_writes_are_counted_at_once(cast: Any, store: columns.Store) -> None:
    small, large, _other = organisations(10, 800, 20)
    assert big(cast.admin) == 1
    assert "headcount" in store._columns, "counted from memory"
    Organisation.objects.filter(pk=small).update(headcount=900)
    assert big(cast.admin) == 2
    with transaction.atomic():
        Organisation.objects.filter(pk=large).update(headcount=5)
        organisations(1000, 2000)
    assert big(cast.admin) == 3
    Organisation.objects.filter(pk=small).delete()
    assert big(cast.admin) == 2


def test_a_write_still_running_is_not_counted_until_it_commits(
    cast: Any, store: columns.Store
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is shared by one connection per thread")
    (pk,) = organisations(10)
    assert big(cast.admin) == 0
    written, release, done = threading.Event(), threading.Event(), threading.Event()

    def long_writer() -> None:
        try:
            with transaction.atomic():
                Organisation.objects.filter(pk=pk).update(headcount=700)
                organisations(600)
                written.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=long_writer)
    thread.start()
    assert written.wait(10)
    # Counted (and the store brought up to date) while the writer holds its transaction open.
    assert big(cast.admin) == 0
    assert big(cast.admin) == 0
    release.set()
    thread.join()
    assert done.is_set()
    assert big(cast.admin) == 2


def test_a_store_behind_the_pruned_log_reads_everything_again(
    cast: Any, store: columns.Store
) -> None:
    small, _large = organisations(10, 800)
    assert big(cast.admin) == 1
    behind = store._position
    Organisation.objects.filter(pk=small).update(headcount=999)
    changelog.prune()  # sets a mark after the update
    changelog.prune()  # drops what was logged before it: the update above
    assert changelog.changes_since(behind).everything
    assert big(cast.admin) == 2
    # Once read again, the store goes on from the log.
    Organisation.objects.filter(pk=small).update(headcount=1)
    assert not changelog.changes_since(store._position).everything
    assert big(cast.admin) == 1


def test_a_long_transaction_elsewhere_does_not_make_every_count_read_again(
    cast: Any, store: columns.Store
) -> None:
    """A transaction left open holds PostgreSQL's snapshot horizon back: the log rows committed
    since are read once, not at every count."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is shared by one connection per thread")
    small, _large = organisations(10, 800)
    opened, release = threading.Event(), threading.Event()

    def idle_in_transaction() -> None:
        try:
            with transaction.atomic():
                Organisation.objects.filter(pk=_large).update(tier="gold")
                opened.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=idle_in_transaction)
    thread.start()
    try:
        assert opened.wait(10)
        assert big(cast.admin) == 1
        Organisation.objects.filter(pk=small).update(headcount=999)
        assert big(cast.admin) == 2
        assert len(changelog.changes_since(store._position).ids) == 0
    finally:
        release.set()
        thread.join()
    assert big(cast.admin) == 2
