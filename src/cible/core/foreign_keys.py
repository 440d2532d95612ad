"""Foreign keys set aside while a table is filled from empty, and added back after it.

PostgreSQL checks a foreign key row by row, with a lock on the referenced row: filling the
segment memberships of a million organisations (4.4 M rows, three keys) takes 59 s with its
keys against 20 s without them. Its manual gives the same advice for bulk loads ("Remove
Foreign Key Constraints"). A key is dropped in the transaction that records it
(`SuspendedForeignKey`, with its definition), and comes back in two steps that never block the
tables' other writers: `ADD CONSTRAINT … NOT VALID` (checked again for every new row at once),
then `VALIDATE CONSTRAINT`, one pass over the table. If rows point at nothing by then (a
referenced row deleted meanwhile), the key stays NOT VALID — still enforced for new rows — and
its record stays, for the owner of the table to clean up and call `restore_foreign_keys`
again. SQLite cannot drop a constraint without rebuilding the table, and checks keys cheaply:
there, nothing is set aside.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction
from django.db.utils import OperationalError, ProgrammingError

from cible.core.models import SuspendedForeignKey

log = logging.getLogger(__name__)


def suspend_foreign_keys(model: type[models.Model], *, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Drop `model`'s foreign-key constraints (PostgreSQL), in the caller's transaction; the
    names dropped."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    table = model._meta.db_table
    dropped: list[str] = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        # Changing a table's constraints with deferred checks pending fails ("pending trigger
        # events"): run them first, as Django's schema editor does.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [connection.ops.quote_name(table)],
        )
        for name, definition in cursor.fetchall():
            SuspendedForeignKey.objects.using(using).get_or_create(
                table=table, name=name, defaults={"definition": definition}
            )
            cursor.execute(
                f"ALTER TABLE {connection.ops.quote_name(table)} "
                f"DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
            dropped.append(name)
    return dropped


def restore_foreign_keys(
    model: type[models.Model] | None = None, *, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Add back every suspended key (of `model`, or of every table) and validate it; the names
    now valid. Idempotent; a key that rows still break stays NOT VALID and suspended."""
    try:
        pending = SuspendedForeignKey.objects.using(using).order_by("id")
        if model is not None:
            pending = pending.filter(table=model._meta.db_table)
        records = list(pending)
    except (OperationalError, ProgrammingError):  # before core's migration
        return []
    connection = connections[using]
    restored: list[str] = []
    for record in records:
        table, name = (connection.ops.quote_name(n) for n in (record.table, record.name))
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                "SELECT convalidated FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND conname = %s",
                [table, record.name],
            )
            if cursor.fetchone() is None:
                definition = record.definition.removesuffix(" NOT VALID")
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition} NOT VALID")
        try:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
                record.delete()
        except IntegrityError:
            log.warning("%s: rows break the foreign key %s; it stays NOT VALID", table, name)
            continue
        restored.append(record.name)
    return restored
