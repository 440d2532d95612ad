"""Secondary indexes set aside for a bulk load come back, whatever happened to the load."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management.sql import emit_pre_migrate_signal
from django.db import connection, transaction
from django.db.utils import OperationalError

from cible.core import indexes
from cible.core.indexes import restore_indexes, suspend_indexes
from cible.core.models import SuspendedIndex
from cible.people.models import Organisation

DECLARED = {index.name for index in Organisation._meta.indexes}


def present() -> set[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, Organisation._meta.db_table)
    return DECLARED & set(names)


@pytest.mark.django_db
def test_suspended_indexes_are_dropped_recorded_and_restored() -> None:
    dropped = suspend_indexes(Organisation, keep=("org_siren", "org_name"))

    assert set(dropped) == DECLARED - {"org_siren", "org_name"}
    assert present() == {"org_siren", "org_name"}
    assert set(SuspendedIndex.objects.values_list("name", flat=True)) == set(dropped)

    assert set(restore_indexes(Organisation)) == set(dropped)
    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()
    assert restore_indexes(Organisation) == []  # nothing left to do


@pytest.mark.django_db
def test_a_load_that_rolls_back_takes_its_suspension_with_it() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        suspend_indexes(Organisation)
        assert present() == set()
        raise RuntimeError("the batch failed")

    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()


@pytest.mark.django_db
def test_migrations_rebuild_what_a_killed_load_left_aside() -> None:
    suspend_indexes(Organisation, keep=("org_siren",))  # and then the process was killed

    emit_pre_migrate_signal(verbosity=0, interactive=False, db="default")

    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(thread, index) of every build, in the order they start."""
    started: list[tuple[str, str]] = []
    real = indexes._rebuild

    def spy(record: SuspendedIndex, using: str) -> bool:
        started.append((threading.current_thread().name, record.name))
        return real(record, using)

    monkeypatch.setattr(indexes, "_rebuild", spy)
    return started


def other_sessions() -> int:
    """PostgreSQL sessions on the test database besides this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_load_that_ended_gets_every_index_back_on_connections_of_their_own(
    builds: list[tuple[str, str]],
) -> None:
    suspend_indexes(Organisation, keep=("org_siren",))

    restored = restore_indexes(Organisation)

    assert set(restored) == DECLARED - {"org_siren"}
    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()
    threads = {thread for thread, _index in builds}
    if connection.vendor == "postgresql":
        assert all(thread.startswith("restore_indexes") for thread in threads)
        # The builders' connections are closed once they are done.
        for _attempt in range(50):
            if other_sessions() == 0:
                break
            time.sleep(0.1)
        assert other_sessions() == 0
    else:  # one writer at a time: the caller's connection
        assert threads == {threading.current_thread().name}


@pytest.mark.django_db
def test_inside_a_transaction_the_builds_stay_in_the_callers_connection(
    builds: list[tuple[str, str]],
) -> None:
    suspend_indexes(Organisation)

    # The test's own transaction holds the lock of the dropped indexes: another connection would
    # wait for it forever.
    with transaction.atomic():
        assert set(restore_indexes(Organisation)) == DECLARED

    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()
    assert {thread for thread, _index in builds} == {threading.current_thread().name}


@pytest.mark.django_db(transaction=True)
def test_a_build_that_fails_stays_recorded_for_the_next_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suspend_indexes(Organisation)
    real = indexes._rebuild

    def fail_on_city(record: SuspendedIndex, using: str) -> bool:
        if record.name == "org_city":
            raise OperationalError("disk full")
        return real(record, using)

    monkeypatch.setattr(indexes, "_rebuild", fail_on_city)
    with pytest.raises(OperationalError):
        restore_indexes(Organisation)

    assert "org_city" not in present()
    assert "org_city" in SuspendedIndex.objects.values_list("name", flat=True)
    monkeypatch.setattr(indexes, "_rebuild", real)
    assert "org_city" in restore_indexes(Organisation)
    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()


def sorter_pragmas() -> dict[str, int]:
    with connection.cursor() as cursor:
        values = {}
        for name in indexes.SQLITE_SORTER:
            cursor.execute(f"PRAGMA {name}")
            values[name] = cursor.fetchone()[0]
        return values


sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's sorter")


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_sqlite_sorts_in_small_runs_on_helper_threads_during_the_builds_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = sorter_pragmas()
    during: list[dict[str, int]] = []
    real = indexes._rebuild

    def observe(record: SuspendedIndex, using: str) -> bool:
        during.append(sorter_pragmas())
        return real(record, using)

    monkeypatch.setattr(indexes, "_rebuild", observe)
    suspend_indexes(Organisation)
    restore_indexes(Organisation)

    assert during[0] == {"temp_store": 1, "cache_size": -4000, "threads": 2}  # 1: FILE
    assert sorter_pragmas() == before
    assert present() == DECLARED


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_sqlite_keeps_the_callers_temporary_tables() -> None:
    # Changing temp_store would drop them.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scratch (id INTEGER)")
        cursor.execute("INSERT INTO scratch VALUES (1)")
    before = sorter_pragmas()
    try:
        suspend_indexes(Organisation)
        restore_indexes(Organisation)

        assert present() == DECLARED
        assert sorter_pragmas() == before
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM scratch")
            assert cursor.fetchone()[0] == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE scratch")
