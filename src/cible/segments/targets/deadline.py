"""A time limit on one read query, enforced by the database rather than by waiting.

A live count while someone edits a target must never hold a worker for long: each keystroke may
send a new definition, and the browser drops the answers it no longer wants (hx-sync), but the
server keeps running a query it has started. So the query itself is capped:

- PostgreSQL: `SET LOCAL statement_timeout` inside a (read-only) transaction; the server cancels
  the statement at the deadline (SQLSTATE 57014). The transaction, or the savepoint when one is
  already open, is rolled back, and the previous timeout comes back.
- SQLite: a progress handler, called every few thousand virtual-machine steps, interrupts the
  statement once the deadline has passed. No transaction is opened: with `BEGIN IMMEDIATE`
  (settings) it would take the write lock; an interrupted SELECT leaves any open transaction
  as it was.
- other databases: no limit.

`QueryTimedOut` is raised when the limit cut the query; any other database error goes through.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from django.db import OperationalError, connections, transaction

# SQLite: how many virtual-machine steps between two looks at the clock (well under 1 ms).
PROGRESS_STEPS = 20_000
QUERY_CANCELED = "57014"


class QueryTimedOut(Exception):
    """The query ran past its deadline and was stopped by the database."""


def _canceled_on_postgres(error: BaseException) -> bool:
    cause = error.__cause__
    return (
        getattr(cause, "sqlstate", None) == QUERY_CANCELED
        or getattr(cause, "pgcode", None) == QUERY_CANCELED
    )


@contextlib.contextmanager
def deadline(milliseconds: int, *, using: str = "default") -> Iterator[None]:
    """Run the block's queries under a time limit of `milliseconds` (reads only)."""
    connection = connections[using]
    milliseconds = max(1, int(milliseconds))  # 0 would mean "no limit" to PostgreSQL
    if connection.vendor == "postgresql":
        with _postgres(connection, milliseconds):
            yield
    elif connection.vendor == "sqlite":
        with _sqlite(connection, milliseconds):
            yield
    else:
        yield


@contextlib.contextmanager
def _postgres(connection: Any, milliseconds: int) -> Iterator[None]:
    try:
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('statement_timeout')")
                previous = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{int(milliseconds)}ms"]
                )
            yield
            # Inside an outer transaction the savepoint is released, not ended: SET LOCAL would
            # outlive the block, so the previous limit is put back by hand.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError as error:
        if _canceled_on_postgres(error):
            raise QueryTimedOut from error
        raise


@contextlib.contextmanager
def _sqlite(connection: Any, milliseconds: int) -> Iterator[None]:
    connection.ensure_connection()
    raw = connection.connection
    stop_at = time.monotonic() + milliseconds / 1000
    expired = False

    def handler() -> int:
        nonlocal expired
        if time.monotonic() >= stop_at:
            expired = True
            return 1  # non-zero: SQLite abandons the statement (SQLITE_INTERRUPT)
        return 0

    raw.set_progress_handler(handler, PROGRESS_STEPS)
    try:
        yield
    except OperationalError as error:
        if expired:
            raise QueryTimedOut from error
        raise
    finally:
        raw.set_progress_handler(None, 0)
