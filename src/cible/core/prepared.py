"""Queries compiled once and run again for other ids.

Building a query through the ORM costs about a millisecond of Python (the compiler, the joins,
the lookups) — more than the database takes to read one lead by its key. A hot path that runs
the same query for other ids (routing one lead as it arrives) compiles it once per number of
ids and substitutes the ids into the compiled parameters; the rows still go through the ORM's
converters, so they come back exactly as `values_list(named=True)` returns them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.utils import create_namedtuple_class

# Stand-in ids, negative so that they cannot collide with a parameter of the query itself.
_SENTINEL = -(10**15)
_MAX_SHAPES = 64  # distinct id counts kept per query (batches are of a few sizes)


@dataclass(frozen=True)
class _Shape:
    alias: str
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    positions: tuple[int, ...]  # where each id goes in `params`
    converters: dict[int, Any]  # the ORM's conversions of the database's values, by column
    row: type


class Prepared:
    """`build(ids)` returns a `values_list(..., named=True)` queryset whose only varying parameters
    are `ids`, each used once (e.g. `filter(pk__in=ids)`); `rows(ids)` runs it."""

    def __init__(self, build: Callable[[Sequence[int]], QuerySet[Any]]) -> None:
        self._build = build
        self._shapes: dict[int, _Shape | None] = {}

    def rows(self, ids: Sequence[int]) -> list[Any]:
        if not ids:  # `filter(pk__in=[])` matches nothing (the ORM refuses to compile it)
            return []
        if len(ids) not in self._shapes:
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes.clear()
            self._shapes[len(ids)] = self._compile(len(ids))
        shape = self._shapes[len(ids)]
        if shape is None:  # the ids do not map one to one onto parameters: the ORM's way
            return list(self._build(ids))
        params = list(shape.params)
        for position, value in zip(shape.positions, ids, strict=True):
            params[position] = value
        with connections[shape.alias].cursor() as cursor:
            cursor.execute(shape.sql, params)
            fetched = cursor.fetchall()
        rows = (
            shape.compiler.apply_converters(fetched, shape.converters)
            if shape.converters
            else fetched
        )
        new = tuple.__new__
        return [new(shape.row, tuple(row)) for row in rows]

    def _compile(self, count: int) -> _Shape | None:
        stand_ins = {_SENTINEL - i: i for i in range(count)}  # stand-in → index of the id
        queryset = self._build(list(stand_ins))
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        slots = [
            (stand_ins[v], i) for i, v in enumerate(params) if isinstance(v, int) and v in stand_ins
        ]
        if sorted(n for n, _i in slots) != list(range(count)):
            return None
        names = queryset._fields  # type: ignore[attr-defined]  # the names values_list was given
        return _Shape(
            alias=queryset.db,
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            positions=tuple(i for _n, i in sorted(slots)),
            row=create_namedtuple_class(*names),
            converters=compiler.get_converters(
                [s[0] for s in compiler.select[: compiler.col_count]]
            ),
        )


def row_locks(model: type[Model], field: str = "pk") -> Prepared:
    """`rows(ids)` locks the rows of `model` whose `field` is one of `ids`, in key order (the
    order that keeps two lockers from deadlocking), and returns their keys."""
    return Prepared(
        lambda ids: (
            model._default_manager.filter(**{f"{field}__in": ids})
            .order_by("pk")
            .select_for_update()
            .values_list("pk", named=True)
        )
    )
