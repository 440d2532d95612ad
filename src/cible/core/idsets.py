"""Large sets of ids between the database and numpy: `InIds` (`column IN <ids>` as one query
parameter) and `ids_of` (a queryset's ids as one array).

A set computed in memory (the members of a few segments, thousands to hundreds of thousands of
ids) is handed to the database whole: SQLite reads it from one JSON array (`json_each`), where a
placeholder per id would exceed its variable limit; PostgreSQL probes its index with `= ANY` of
one array, about twice as fast as `IN (SELECT unnest(…))` at 30,000 ids. The other way, a
million ids come back as one aggregated text, parsed by numpy: ~8× faster than a row per id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.db import connections, models
from django.db.models import F, QuerySet
from django.db.models.expressions import Expression

Ints = npt.NDArray[np.int64]


class InIds(Expression):
    """A filter: `column` is one of `ids` (whole numbers). `filter(InIds("pk", ids))`."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, column: str | Expression, ids: Iterable[int]) -> None:
        super().__init__()
        self.column = F(column) if isinstance(column, str) else column
        self.ids = ids.tolist() if isinstance(ids, np.ndarray) else [int(i) for i in ids]

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        (self.column,) = expressions

    def resolve_expression(self, *args: Any, **kwargs: Any) -> InIds:
        resolved = self.copy()
        resolved.column = self.column.resolve_expression(*args, **kwargs)
        return resolved

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        if not self.ids:
            return "1 = 0", ()
        column, params = compiler.compile(self.column)
        placeholders = ", ".join(["%s"] * len(self.ids))
        return f"{column} IN ({placeholders})", (*params, *self.ids)

    def as_sqlite(
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.column)
        return f"{column} IN (SELECT value FROM json_each(%s))", (*params, json.dumps(self.ids))

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.column)
        return f"{column} = ANY(%s::bigint[])", (*params, self.ids)


def joined_ids(column: str, vendor: str) -> str:
    """SQL aggregating the whole numbers of `column` into one comma-separated text (NULLs left
    out), for `parse_ids`."""
    if vendor == "postgresql":
        return f"string_agg(CAST({column} AS text), ',')"
    return f"group_concat({column})"


def parse_ids(text: str | None) -> npt.NDArray[np.int64]:
    """The ids of a `joined_ids` text."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def ids_of(queryset: QuerySet[Any], field: str = "pk") -> npt.NDArray[np.int64]:
    """The values of the whole-number `field` (the primary key by default) of every row of
    `queryset`, NULLs left out, in no particular order."""
    rows = queryset.order_by().values(v=F(field))
    inner, params = rows.query.sql_with_params()
    connection = connections[rows.db]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {joined_ids('found.v', connection.vendor)} FROM ({inner}) found", params
        )
        return parse_ids(cursor.fetchone()[0])


def packed_ints(expression: str, vendor: str) -> str:
    """SQL aggregating the whole numbers of `expression` into one value for `fetch_packed`.

    On PostgreSQL, their 8-byte binary forms end to end, read as binary: the server's decimal
    formatting was most of the cost of a million-row read (string_agg of text: ~150 ms a column
    against ~50), and numpy reads the bytes as they are. Elsewhere, `joined_ids`' text."""
    if vendor == "postgresql":
        return f"string_agg(int8send(CAST({expression} AS bigint)), ''::bytea)"
    return joined_ids(expression, vendor)


def fetch_packed(sql: str, params: Sequence[Any], alias: str = "default") -> list[Ints]:
    """Each column of the one row of `sql`, a SELECT of `packed_ints` aggregates, as an array."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return [parse_ids(text) for text in cursor.fetchone()]
        # Binary results need a server-binding cursor; Django's is a client-binding one, so the
        # parameters are merged the way it would have merged them, then sent with none.
        query = cursor.cursor.mogrify(sql, params)
        began = time.monotonic()
        with psycopg.Cursor(cursor.cursor.connection) as binary:
            binary.format = psycopg.pq.Format.BINARY
            binary.execute(query)
            row = binary.fetchone()
        if connection.queries_logged:  # as Django's debug cursor would (query-count tests)
            connection.queries_log.append({"sql": query, "time": f"{time.monotonic() - began:.3f}"})
    assert row is not None
    return [
        np.frombuffer(value, dtype=">i8").astype(np.int64)
        if value is not None
        else np.zeros(0, dtype=np.int64)
        for value in row
    ]
