"""Secondary indexes set aside during a very large bulk load, and built again after it.

Maintaining twenty indexes row by row makes a million-row load spend most of its time in index
B-trees (a raw insert into `people_organisation` is 2.4× slower with its indexes than without
them plus building them afterwards, on SQLite): building an index once from the loaded rows is
one sort. PostgreSQL's manual gives the same advice for bulk loads ("Remove Indexes").

Only the indexes declared in a model's `Meta.indexes` are set aside: unique constraints,
primary and foreign keys stay, so integrity is never loosened; the loader keeps the ones it
reads through (`keep`). While they are away, queries still return the same rows, only slower.
Each suspension is recorded (`SuspendedIndex`) in the transaction that drops the index, so a
crash or a kill leaves the list of what to rebuild: `restore_indexes` runs when the load ends,
when the next one starts, and before migrations (which may expect the indexes to exist).

The builds are what a large import waits for at its end. Where `restore_indexes` owns its
transactions, PostgreSQL builds on two connections at once and SQLite's sorter works in small
runs on helper threads (`sqlite_sorter`); inside a caller's transaction they run one after the
other in the caller's connection. Either way each index has a transaction of its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.utils import OperationalError, ProgrammingError

from cible.core.models import SuspendedIndex

# CREATE INDEX takes a SHARE lock, which does not conflict with itself. Each build already sorts
# with PostgreSQL's parallel workers but merges and writes its B-tree in one process: a second
# build keeps the cores busy meanwhile (a third brought nothing more on two cores).
PARALLEL_BUILDS = 2
# PostgreSQL wants 32MB of `maintenance_work_mem` per process sorting for a build: at its default
# (64MB) a build gets one parallel worker instead of two, ~5 % slower. Raised for the builders'
# sessions only, never lowered.
BUILD_MEMORY_KB = 256 * 1024
# With `temp_store = MEMORY` (settings.py), SQLite's sorter sorts one list of a malloc'ed record
# per row, beyond the CPU caches, on one thread, whatever `threads` says. With temporary files it
# sorts runs of `cache_size` (4 MB) on helper threads and merges them: the 17 builds after a
# million-row import went from 13.7 s to 7.1 s.
SQLITE_SORTER = {"temp_store": "FILE", "cache_size": "-4000", "threads": "2"}


def suspend_indexes(
    model: type[models.Model], *, keep: Collection[str] = (), using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Drop `model`'s `Meta.indexes` except `keep`, in the caller's transaction; the names
    dropped. If that transaction rolls back, the indexes and the record come back with it."""
    connection = connections[using]
    present = _present(model, using)
    dropped: list[str] = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _check_deferred_constraints(connection, cursor)
        for index in model._meta.indexes:
            if index.name in keep or index.name not in present:
                continue
            SuspendedIndex.objects.using(using).get_or_create(
                name=index.name,
                defaults={
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name or "",
                },
            )
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")
            dropped.append(index.name)
    return dropped


def restore_indexes(
    model: type[models.Model] | None = None, *, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Build every suspended index again (of `model`, or of every model); idempotent, safe to
    call concurrently (`IF NOT EXISTS`); each index in a transaction of its own. The names."""
    try:
        pending = SuspendedIndex.objects.using(using).order_by("id")
        if model is not None:
            pending = pending.filter(
                app_label=model._meta.app_label, model_name=model._meta.model_name
            )
        records = list(pending)
    except (OperationalError, ProgrammingError):  # before core's first migration
        return []
    if not records:
        return []
    connection = connections[using]
    if connection.in_atomic_block or not connection.get_autocommit():
        # Another connection would wait on the locks of the caller's transaction, and would not
        # see its rows: build in it, one after the other, as savepoints.
        built = {r.name for r in records if _rebuild(r, using)}
    elif connection.vendor == "postgresql":
        built = _rebuild_in_parallel(records, using)
    else:
        with sqlite_sorter(connection):
            built = {r.name for r in records if _rebuild(r, using)}
    return [r.name for r in records if r.name in built]


def _rebuild(record: SuspendedIndex, using: str) -> bool:
    """Build `record`'s index and forget the record, in one transaction; whether it was built
    (not when its model or index went away with a migration: nothing left to rebuild)."""
    try:
        owner = apps.get_model(record.app_label, record.model_name)
    except LookupError:
        owner = None
    index = next((i for i in owner._meta.indexes if i.name == record.name), None) if owner else None
    connection = connections[using]  # this thread's own
    with transaction.atomic(using=using):
        if index is not None and owner is not None:
            # The editor only renders the statement here (no schema change of its own).
            editor = connection.schema_editor(collect_sql=True)
            sql = str(index.create_sql(owner, editor))
            sql = sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
            with connection.cursor() as cursor:
                _check_deferred_constraints(connection, cursor)
                cursor.execute(sql)
        record.delete()
    return index is not None


def _rebuild_in_parallel(records: list[SuspendedIndex], using: str) -> set[str]:
    """`_rebuild` each record on `PARALLEL_BUILDS` connections of their own (Django's are per
    thread), in the order recorded (the declared one: the longest builds, on several text
    columns, first); after a failure no worker starts another build."""
    queue = deque(records)
    built: set[str] = set()
    failed = threading.Event()

    def work() -> None:
        connection = connections[using]
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('maintenance_work_mem', greatest(setting::bigint, %s) "
                    "|| 'kB', false) FROM pg_settings WHERE name = 'maintenance_work_mem'",
                    [BUILD_MEMORY_KB],
                )
            while not failed.is_set():
                try:
                    record = queue.popleft()
                except IndexError:  # nothing left
                    return
                if _rebuild(record, using):
                    built.add(record.name)
        except BaseException:
            failed.set()
            raise
        finally:
            connection.close()

    count = min(PARALLEL_BUILDS, len(records))
    with ThreadPoolExecutor(count, thread_name_prefix="restore_indexes") as pool:
        workers = [pool.submit(work) for _ in range(count)]
    for worker in workers:
        worker.result()  # the first failure, if any: its index stays recorded for the next call
    return built


@contextlib.contextmanager
def sqlite_sorter(connection: Any) -> Iterator[None]:
    """`SQLITE_SORTER` on `connection` for the builds, then its own settings back (nothing on
    PostgreSQL)."""
    previous: dict[str, int] = {}
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            # Changing temp_store drops the connection's temporary tables: not if it has any.
            cursor.execute("SELECT count(*) FROM sqlite_temp_master")
            if not cursor.fetchone()[0]:
                for name, setting in SQLITE_SORTER.items():
                    cursor.execute(f"PRAGMA {name}")
                    previous[name] = int(cursor.fetchone()[0])
                    cursor.execute(f"PRAGMA {name} = {setting}")
    try:
        yield
    finally:
        if previous:
            with connection.cursor() as cursor:
                for name, value in previous.items():
                    cursor.execute(f"PRAGMA {name} = {value}")


def _check_deferred_constraints(connection: Any, cursor: Any) -> None:
    """PostgreSQL refuses to change a table's indexes while the transaction holds deferred
    foreign-key checks on it ("pending trigger events"): run them now, then defer again (as
    Django's schema editor does around its own changes)."""
    if connection.vendor == "postgresql":
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _present(model: type[models.Model], using: str) -> set[str]:
    connection = connections[using]
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, model._meta.db_table))
