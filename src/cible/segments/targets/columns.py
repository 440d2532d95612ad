"""Organisation columns held in memory, so that a target's field conditions cost no database read.

A live count first intersects the segments' member sets (`axes.bitsets`); what remains is the
definition's conditions on the organisation's own fields ("suspect or prospect", "20 people or
more"). Read from the database, they cost about a microsecond per surviving organisation: 30 to
80 ms at a million organisations for a three-axis target, the whole of the count's budget. Here
each kept column is a dictionary of its distinct values and one small code per organisation id,
so a condition is tested once per distinct value (with `rules.value_matches`, the Python
definition the SQL is proved equal to) and then looked up for every surviving id at once.

Columns are loaded on first use (one grouped read each, ~0.3 s at a million rows) and kept
current through the database's change log (`changelog.py`, written by triggers in the writers'
own transactions): before each use, the rows changed since the last look are read again. The
store is never read or updated inside a transaction, which could hold uncommitted rows: a count
inside one goes to the database (`narrow` answers None).

Only low-cardinality columns are kept (codes, statuses, places, sizes, the owner): free text,
amounts and dates stay in the database, and a column that turns out to have more than
`MAX_DISTINCT` values is not kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.exceptions import FieldDoesNotExist
from django.db import connection

from cible.core.idsets import InIds, Ints, joined_ids, parse_ids
from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.axes import bitsets
from cible.segments.rules.tree import Condition, Group, Node
from cible.segments.targets import changelog

# The columns a count may keep in memory; the SQLite change-log trigger watches exactly these
# (migration targets.0002: a new one here needs the trigger re-created).
KEPT_COLUMNS = (
    "status",
    "tier",
    "source",
    "size_class",
    "headcount_band",
    "region",
    "country",
    "naf_section",
    "naf_division",
    "naf_code",
    "postal_code",
    "city",
    "currency",
    "headcount",
    "sales_team_size",
    "owner_id",
)
# Every organisation has a status: its column also says which ids exist.
PRESENCE = "status"
MAX_DISTINCT = 100_000
# Past this many changed organisations, reading the kept columns whole is cheaper.
MAX_CHANGED = 200_000
_KINDS = ("choice", "reference", "number", "text")


class _NoRow:
    def __repr__(self) -> str:
        return "<no organisation>"


_NO_ROW = _NoRow()


@dataclass
class _Column:
    """One column: `values[code]` for each distinct value (code 0: no organisation has this id),
    `codes[id]` for each organisation id."""

    values: list[Any] = field(default_factory=lambda: [_NO_ROW])
    index: dict[Any, int] = field(default_factory=dict)
    codes: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def code(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found

    def set(self, ids: Ints, codes: int | npt.NDArray[np.int32]) -> None:
        if len(ids):
            self._grow(int(ids.max()))
            self.codes[ids] = codes

    def _grow(self, highest: int) -> None:
        if highest >= len(self.codes):
            grown = np.zeros(max(highest + 1, len(self.codes) * 5 // 4), dtype=np.int32)
            grown[: len(self.codes)] = self.codes
            self.codes = grown

    def of(self, ids: Ints) -> npt.NDArray[np.int32]:
        """The codes of `ids` (0 for ids past the end)."""
        inside = ids < len(self.codes)
        if inside.all():
            return self.codes[ids]
        found = np.zeros(len(ids), dtype=np.int32)
        found[inside] = self.codes[ids[inside]]
        return found


class _TooVaried(Exception):
    pass


class Store:
    """The kept columns of one process, brought up to date under a lock before each use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._columns: dict[str, _Column] = {}
        self._varied: set[str] = set()  # columns found with too many values to keep
        self._tables: dict[tuple[str, Condition], tuple[int, npt.NDArray[np.bool_]]] = {}
        self._position = changelog.NOWHERE

    def forget(self) -> None:
        with self._lock:
            self._columns.clear()
            self._varied.clear()
            self._tables.clear()
            self._position = changelog.NOWHERE

    def narrow(self, group: Group | None, ids: Ints | None) -> tuple[Ints, Group | None] | None:
        """The ids among `ids` (every organisation: None) that pass the conditions of `group`
        the store can test, and what is left of `group` for the database (None: nothing).
        None when the store cannot help: inside a transaction, or nothing testable."""
        if group is None or not _may_use():
            return None
        testable, rest = _split(group, self._keepable)
        if not testable:
            return None
        wanted = {PRESENCE}
        for node in testable:
            wanted |= {name for c in _walk(node) if (name := _column_of(c)) is not None}
        with self._lock:
            try:
                self._update(wanted)
            except _TooVaried:
                return None
            if ids is None:
                ids = np.flatnonzero(self._columns[PRESENCE].codes).astype(np.int64)
            tested = Group(level=group.level, match=group.match, conditions=tuple(testable))
            passed = self._test(tested, ids)
        left = None if not rest else Group(level=group.level, match="all", conditions=rest)
        return ids[passed], left

    # --- testing ------------------------------------------------------------------------------

    def _keepable(self, condition: Condition) -> bool:
        column = _column_of(condition)
        if condition.field.kind == "segment":
            return condition.field.level == "organisation"
        return column is not None and column not in self._varied

    def _test(self, node: Node, ids: Ints) -> npt.NDArray[np.bool_]:
        if isinstance(node, Group):
            results = [self._test(child, ids) for child in node.conditions]
            combine = np.logical_and if node.match == "all" else np.logical_or
            return combine.reduce(results) if len(results) > 1 else results[0]
        if node.field.kind == "segment":
            segment_ids = [int(v) for v in node.value]  # type: ignore[union-attr, arg-type]
            members = bitsets.organisations_in([segment_ids])
            found = members.contains(ids)
            return found if node.op == "in" else ~found
        name = _column_of(node)
        assert name is not None
        column = self._columns[name]
        return self._table(name, column, node)[column.of(ids)]

    def _table(self, name: str, column: _Column, condition: Condition) -> npt.NDArray[np.bool_]:
        """Whether each distinct value of `column` passes `condition` (False for "no row")."""
        key = (name, condition)
        known, table = self._tables.get(key, (0, np.zeros(0, dtype=bool)))
        if known < len(column.values):
            extra = [
                value is not _NO_ROW and rules.value_matches(condition, value)
                for value in column.values[known:]
            ]
            table = np.concatenate([table, np.array(extra, dtype=bool)])
            if len(self._tables) > 4096:
                self._tables.clear()
            self._tables[key] = (len(column.values), table)
        return table

    # --- keeping the columns current ----------------------------------------------------------

    def _update(self, wanted: set[str]) -> None:
        changes = changelog.changes_since(self._position)
        if changes.ids is None or len(changes.ids) > MAX_CHANGED:
            loaded = set(self._columns)
            self._columns.clear()
            self._tables.clear()
            for name in loaded | wanted:
                self._load(name)
        else:
            if len(changes.ids) and self._columns:
                self._reread(changes.ids)
            for name in wanted - set(self._columns):
                self._load(name)
        self._position = changes.position

    def _load(self, name: str) -> None:
        """Read a whole column: one row per distinct value, with its ids."""
        table = connection.ops.quote_name(Organisation._meta.db_table)
        column_sql = connection.ops.quote_name(name)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column_sql}, {joined_ids('id', connection.vendor)} FROM {table} "
                f"GROUP BY {column_sql}"
            )
            rows = cursor.fetchall()
        if len(rows) > MAX_DISTINCT:
            self._varied.add(name)
            raise _TooVaried(name)
        column = _Column()
        for value, ids in rows:
            column.set(parse_ids(ids), column.code(value))
        self._columns[name] = column

    def _reread(self, ids: Ints) -> None:
        """Read the kept columns of `ids` again (ids without a row any more get code 0)."""
        names = list(self._columns)
        rows = list(
            Organisation.objects.filter(InIds("pk", ids)).order_by().values_list("id", *names)
        )
        found = np.array([row[0] for row in rows], dtype=np.int64)
        gone = np.setdiff1d(ids, found)
        for position, name in enumerate(names, start=1):
            column = self._columns[name]
            codes = [column.code(row[position]) for row in rows]
            column.set(found, np.array(codes, dtype=np.int32))
            column.set(gone, np.zeros(len(gone), dtype=np.int32))


def _may_use() -> bool:
    """Only in autocommit mode: a transaction's reads may hold its own uncommitted rows, which
    the log would not name again after a rollback."""
    return not connection.in_atomic_block


def _column_of(condition: Condition) -> str | None:
    """The kept column an organisation condition tests, or None."""
    f = condition.field
    if f.level != "organisation" or f.relation or f.kind not in _KINDS:
        return None
    if f.kind == "number" and f.decimal_places:
        return None
    try:
        column = getattr(Organisation._meta.get_field(f.lookup), "column", None)
    except FieldDoesNotExist:  # a lookup through a relation: not a column of ours
        return None
    return column if column in KEPT_COLUMNS else None


def _walk(node: Node) -> list[Condition]:
    return list(node.walk()) if isinstance(node, Group) else [node]


def _split(
    group: Group, testable: Callable[[Condition], bool]
) -> tuple[list[Node], tuple[Node, ...]]:
    """The nodes of `group` the store can test, and the others. In an "any" group it is all or
    nothing: one untested alternative could let any organisation through."""
    kept: list[Node] = []
    rest: list[Node] = []
    for node in group.conditions:
        (kept if all(testable(c) for c in _walk(node)) else rest).append(node)
    if group.match == "any" and rest:
        return [], group.conditions
    return kept, tuple(rest)


_store = Store()


def narrow(group: Group | None, ids: Ints | None) -> tuple[Ints, Group | None] | None:
    """See `Store.narrow`; the process's store."""
    return _store.narrow(group, ids)


def forget() -> None:
    """Drop every kept column (tests; after restoring a backup into a running process)."""
    _store.forget()
