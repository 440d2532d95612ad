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
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.utils import OperationalError, ProgrammingError

from cible.core.models import SuspendedIndex


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
    connection = connections[using]
    restored: list[str] = []
    for record in records:
        try:
            owner = apps.get_model(record.app_label, record.model_name)
        except LookupError:  # the model went away with a migration: nothing to rebuild
            owner = None
        index = (
            next((i for i in owner._meta.indexes if i.name == record.name), None) if owner else None
        )
        with transaction.atomic(using=using):
            if index is not None and owner is not None:
                # The editor only renders the statement here (no schema change of its own).
                editor = connection.schema_editor(collect_sql=True)
                sql = str(index.create_sql(owner, editor))
                sql = sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                with connection.cursor() as cursor:
                    _check_deferred_constraints(connection, cursor)
                    cursor.execute(sql)
                restored.append(record.name)
            record.delete()
    return restored


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
