"""Which organisations changed since a reader last looked: the database's change log.

The triggers of migration `targets.0002` log, in each writer's own transaction, the ids of the
organisations it inserted, updated or deleted. A reader (the in-memory columns of `columns.py`)
keeps a `Position` and asks `changes_since(position)`; it gets the ids changed since, or `ALL`
when it must read everything again, and the position to keep for next time. Re-reading the
current rows of those ids brings it up to date: reading a row twice does no harm, so a position
may be conservative but must never skip a commit.

- PostgreSQL: log rows carry their writer's transaction id. A position is the `xmin` of a
  snapshot (every transaction below it had ended): the next look takes the rows of transaction
  ids at or above it, which covers every commit since, however long the writer ran.
- SQLite: writers are serialised, so the log's sequence is commit order; a position is the last
  sequence read plus the highest organisation id seen (new rows come above it: no insert log).

The log is pruned every few minutes (`prune`): rows read by every reader that looked since the
previous pruning go; a reader whose position is older than what was pruned reads everything.
A table rewritten under the readers (PostgreSQL `TRUNCATE`, a restore) changes its file node,
which also means "read everything".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from cible.core.idsets import Ints, parse_ids

LOG = "targets_organisation_change"
STATE = "targets_change_state"
ORGANISATIONS = "people_organisation"


@dataclass(frozen=True)
class Position:
    """Where a reader stands in the log: `mark` (a transaction id on PostgreSQL, a sequence on
    SQLite), the highest organisation id it has read (SQLite), and the table's identity.
    PostgreSQL: `applied`, the transactions at or above the mark already read — a committed
    transaction's rows all show at once, so they need not be read again while a long-running
    transaction holds the mark back."""

    mark: int
    highest_id: int
    table: int  # PostgreSQL: the table's file node
    applied: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Changes:
    ids: Ints | None  # None: everything may have changed
    position: Position

    @property
    def everything(self) -> bool:
        return self.ids is None


# The position of a reader that has read nothing yet: its first look reads everything.
NOWHERE = Position(mark=-1, highest_id=0, table=-1)


def changes_since(position: Position) -> Changes:
    """The organisations changed since `position`, and the position to keep after reading them."""
    if connection.vendor == "postgresql":
        return _postgresql(position)
    return _sqlite(position)


def _postgresql(position: Position) -> Changes:
    # One statement, so one snapshot: its horizon, the pruning mark and the log rows agree.
    # Anything still running at that snapshot has a transaction id at or above its horizon.
    applied = [str(xid) for xid in sorted(position.applied)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            f"pg_relation_filenode(%s), (SELECT pruned_through FROM {STATE} WHERE id = 1), "
            f"(SELECT string_agg(i::text, ',') FROM {LOG}, unnest(organisation_ids) i "
            "  WHERE xid >= %s::text::xid8 AND NOT xid = ANY(%s::text[]::xid8[])), "
            f"(SELECT string_agg(DISTINCT xid::text, ',') FROM {LOG} WHERE xid >= %s::text::xid8), "
            "pg_current_xact_id_if_assigned()::text",
            [ORGANISATIONS, str(position.mark), applied, str(position.mark)],
        )
        mark, table, pruned, text, read, own = cursor.fetchone()
    mark = int(mark)
    # The reader's own transaction, if it wrote (tests only): not over, so never done.
    done = frozenset(
        int(xid) for xid in (read or "").split(",") if xid and int(xid) >= mark and xid != own
    )
    after = Position(mark=mark, highest_id=0, table=int(table), applied=done)
    if table != position.table or pruned is None or pruned > position.mark:
        return Changes(None, after)
    return Changes(np.unique(parse_ids(text)), after)


def _sqlite(position: Position) -> Changes:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT pruned_through FROM {STATE} WHERE id = 1), "
            # Ids come above both the highest row and AUTOINCREMENT's mark, which only goes
            # down when a flush resets it.
            f"max(coalesce((SELECT max(id) FROM {ORGANISATIONS}), 0), coalesce((SELECT seq "
            f"FROM sqlite_sequence WHERE name = '{ORGANISATIONS}'), 0)), "
            # The log's AUTOINCREMENT mark: its last sequence, even once pruned away.
            f"(SELECT seq FROM sqlite_sequence WHERE name = '{LOG}'), "
            f"(SELECT group_concat(organisation_id) FROM {LOG} WHERE seq > %s)",
            [position.mark],
        )
        pruned, highest, mark, text = cursor.fetchone()
    highest, mark = int(highest or 0), int(mark or 0)
    after = Position(mark=mark, highest_id=highest, table=0)
    if pruned is None or pruned > position.mark or highest < position.highest_id:
        # Pruned past us, or ids handed out again after a flush: read everything.
        return Changes(None, after)
    changed = parse_ids(text)
    new = np.arange(position.highest_id + 1, highest + 1, dtype=np.int64)
    return Changes(np.unique(np.concatenate([changed, new])), after)


def prune() -> int:
    """Drop the log rows every reader has had the time to read: those older than the mark set at
    the previous pruning (a few minutes ago), then set a new mark. Returns the rows dropped.
    One transaction: a reader sees the rows dropped and the new `pruned_through` together."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            now = int(cursor.fetchone()[0])
        else:
            cursor.execute(f"SELECT seq FROM sqlite_sequence WHERE name = '{LOG}'")
            sequence = cursor.fetchone()
            now = int(sequence[0]) if sequence else 0
        cursor.execute(f"SELECT marked FROM {STATE} WHERE id = 1")
        found = cursor.fetchone()
        if found is None:  # the state row was deleted by hand: readers read everything till now
            cursor.execute(
                f"INSERT INTO {STATE} (id, pruned_through, marked) VALUES (1, 0, %s)", [now]
            )
            return 0
        marked = int(found[0])
        if connection.vendor == "postgresql":
            cursor.execute(f"DELETE FROM {LOG} WHERE xid < %s::text::xid8", [str(marked)])
        else:
            cursor.execute(f"DELETE FROM {LOG} WHERE seq <= %s", [marked])
        dropped = cursor.rowcount
        cursor.execute(
            f"UPDATE {STATE} SET pruned_through = %s, marked = %s WHERE id = 1", [marked, now]
        )
    return int(dropped)
