"""The reads behind the funnel report, and the per-lead arithmetic in numpy.

Every lead keeps the hour of its first entry into each road stage (lifecycle.leads.road), so
the report reads ONE compact row per lead — never its transitions, four or more per lead, whose
grouping per lead alone took longer than the whole report may (bench/bench_funnel.py). Reading
rows into Python costs as much again, so the read returns its rows packed as integers in a few
aggregated values (`core.idsets.packed_ints`: text on SQLite, bytes on PostgreSQL), which numpy
reads at memory speed:

1. the leads the report counts (an ORM queryset: the access rules and filters stay in
   `core.access` and the ORM), each as its id, one integer packing its stage, the reason it
   left the road and its comparison group, and three integers packing its seven entry hours;
2. by activity only: the ids of the leads that left the road or came back to it in the period,
   through a small partial index; the rest of the period's moves are first entries, which the
   leads' columns already tell.

Then: the furthest road stage of each lead and the days between consecutive first entries,
on arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import QuerySet

from cible.core.idsets import fetch_packed, packed_ints
from cible.lifecycle.leads import road
from cible.lifecycle.leads.models import ASIDE_VALUES, ROAD, Lead, StageTransition

Ints = npt.NDArray[np.int64]
Small = npt.NDArray[np.int8]

# Where a lead stands: off the road (and which way), or on it (its entries tell where).
RECYCLED, DISQUALIFIED = 7, 8
ON_ROAD = 0  # somewhere on the road: the entries tell where
ROAD_SIZE = len(ROAD)
PAIRS = ROAD_SIZE - 1
ASIDE_BITS = 1 << 4  # `why`: 0 on the road, ASIDE_BITS (recycled) or twice it, plus a reason < 16
GROUP_BITS = 1 << 31  # comparison groups: a campaign id or a source's index
HOUR_BITS = 1 << 20  # entry hours since 2000 fit in 20 bits until 2119; three per integer
MISSING = HOUR_BITS - 1  # never entered
ENTRY_FIELDS = tuple(road.COLUMNS.values())
ASIDE_INDEX = "transition_aside_time"
SPLIT_FROM = 200_000  # leads (id range) from which the read is split over two connections


@dataclass(frozen=True)
class Leads:
    """The counted leads as arrays, one entry per lead."""

    ids: Ints
    stage: Small  # RECYCLED, DISQUALIFIED or ON_ROAD
    reason: Small  # index of the reason it left the road (0: none)
    group: Ints  # comparison group
    # (road stages × leads): hour of the first entry, MISSING if never. Stage-major, so that
    # each stage's hours are contiguous for the per-stage passes (3× faster than lead-major).
    entries: npt.NDArray[np.int32]

    def only(self, kept: npt.NDArray[np.bool_]) -> Leads:
        return Leads(
            self.ids[kept],
            self.stage[kept],
            self.reason[kept],
            self.group[kept],
            np.compress(kept, self.entries, axis=1),  # 4× faster than a 2-D mask
        )


@dataclass(frozen=True)
class Roads:
    """What the report needs of each counted lead."""

    leads: Leads
    furthest: Small  # furthest road rank reached (at least 0: every lead reached the first)
    days: tuple[npt.NDArray[np.float64], ...]  # per pair i: days from stage i to i + 1


def _scan(sql: str, table: str) -> str:
    """On SQLite, read `table` from start to end rather than through an index: a period index
    followed by a row lookup per lead costs 5× a plain scan when the period holds many leads
    (measured: 250 against 45 ms for 100,000 leads)."""
    if connection.vendor != "sqlite":
        return sql
    name = connection.ops.quote_name(table)
    return sql.replace(f"FROM {name}", f"FROM {name} NOT INDEXED", 1)


def _entry_triple(fields: tuple[str, ...]) -> str:
    """SQL packing up to three entry-hour columns of the subquery `q` into one integer."""
    packed = [f"CAST(COALESCE(q.{field}, {MISSING}) AS bigint)" for field in fields]
    return " + ".join(
        f"{column} * {HOUR_BITS ** (len(packed) - 1 - i)}" for i, column in enumerate(packed)
    )


def read(
    leads: QuerySet[Any], *, scan: bool, active: tuple[dt.datetime, dt.datetime] | None
) -> Leads:
    """The counted leads: `leads` is a queryset of `.values(lid=, why=, grp=)` with integer `why`
    (0 on the road; ASIDE_BITS or twice it plus a reason below 16 when recycled or disqualified)
    and `grp` (0 ≤ grp < 2³¹). `scan`: the filters keep many leads (a
    period, a source), so reading the whole table beats an index (SQLite). `active`: keep only
    the leads with a transition in [start, end).

    At a million leads the database's work per row dominates, so outside a transaction (where
    other connections see the same data) a large scan is split in two halves of the id range,
    read at once on two connections, beside the activity read. (A selective read goes through
    an index whose lookups each half would repeat.)"""
    leads = leads.values("lid", "why", "grp", *ENTRY_FIELDS)
    # One lookup at each end of the primary key: SQLite answers MIN and MAX in one SELECT by
    # scanning the table (80 ms at a million leads), but each alone from the index.
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT MIN(id) FROM {table}), (SELECT MAX(id) FROM {table})")
        low, high = (value or 0 for value in cursor.fetchone())
    parts = [(low, high)]
    if scan and high - low >= SPLIT_FROM and not connection.in_atomic_block:
        middle = (low + high) // 2
        parts = [(low, middle), (middle + 1, high)]
    reads: list[Callable[[], Any]] = [
        partial(_read_part, leads, scan, low, high) for low, high in parts
    ]
    if active is not None:
        reads.append(partial(_read_moved, active))
    if len(parts) == 1:
        results = [read() for read in reads]
    else:
        with ThreadPoolExecutor(max_workers=len(reads)) as pool:
            results = list(pool.map(_on_own_connection, reads))
    found = _concatenate(results[: len(parts)])
    if active is None:
        return found
    aside = results[-1]
    assert isinstance(aside, np.ndarray)
    flags = np.zeros(int(max(found.ids.max(initial=0), aside.max(initial=0))) + 1, dtype=bool)
    flags[aside] = True
    return found.only(flags[found.ids] | moved_in(found, active))


def _on_own_connection(read: Callable[[], Any]) -> Any:
    """Run `read` in a pool thread, on that thread's own connection, closed afterwards."""
    try:
        return read()
    finally:
        connection.close()


def _read_part(leads: QuerySet[Any], scan: bool, low: int, high: int) -> Leads:
    """The counted leads with ids in [low, high]: one query."""
    sql, params = leads.query.sql_with_params()
    if scan:
        sql = _scan(sql, leads.model._meta.db_table)
    packed = f"q.why * {GROUP_BITS} + q.grp"
    triples = [ENTRY_FIELDS[i : i + 3] for i in range(0, len(ENTRY_FIELDS), 3)]
    vendor = connection.vendor
    columns = [packed_ints("q.lid", vendor), packed_ints(packed, vendor)]
    columns += [packed_ints(_entry_triple(triple), vendor) for triple in triples]
    statement = f"SELECT {', '.join(columns)} FROM ({sql}) q WHERE q.lid BETWEEN %s AND %s"
    ids, codes, *entry_columns = fetch_packed(statement, [*params, low, high])
    group = codes % GROUP_BITS
    rest = codes // GROUP_BITS
    # Hours fit in 32 bits: half the memory to fill, copy and filter of 64-bit integers.
    entries = np.empty((ROAD_SIZE, len(ids)), dtype=np.int32)
    for triple, values in zip(triples, entry_columns, strict=True):
        first = ENTRY_FIELDS.index(triple[0])
        for i in range(len(triple)):
            entries[first + i] = (values // HOUR_BITS ** (len(triple) - 1 - i)) % HOUR_BITS
    aside = rest // ASIDE_BITS
    stage = np.select([aside == 1, aside == 2], [RECYCLED, DISQUALIFIED], ON_ROAD).astype(np.int8)
    return Leads(ids, stage, (rest % ASIDE_BITS).astype(np.int8), group, entries)


def _concatenate(parts: list[Any]) -> Leads:
    if len(parts) == 1:
        return parts[0]  # type: ignore[no-any-return]
    ids, stage, reason, group, entries = (
        np.concatenate(values, axis=-1)
        for values in zip(
            *((p.ids, p.stage, p.reason, p.group, p.entries) for p in parts), strict=True
        )
    )
    return Leads(ids, stage, reason, group, entries)


def _read_moved(period: tuple[dt.datetime, dt.datetime]) -> Ints:
    """Ids of the leads that left the road or came back to it in [start, end) (repeated): one
    query through the small partial index of those moves (`transition_aside_time`). The other
    moves of the period are first entries into road stages, known from the leads' own columns
    (`moved_in`): a lead never enters a road stage twice without leaving the road between."""
    start, end = period
    quote = connection.ops.quote_name
    table = quote(StageTransition._meta.db_table)
    # The partial index's own condition, word for word and with literals (the stages are
    # ours): SQLite uses a partial index only for a query that repeats its WHERE.
    aside = ", ".join(f"'{stage}'" for stage in ASIDE_VALUES)
    where = f"({quote('from_stage')} IN ({aside}) OR {quote('to_stage')} IN ({aside}))"
    if connection.vendor == "sqlite":
        table += f" INDEXED BY {ASIDE_INDEX}"
    column = packed_ints(quote("lead_id"), connection.vendor)
    statement = (
        f"SELECT {column} FROM {table} WHERE {where} "
        f"AND {quote('occurred_at')} >= %s AND {quote('occurred_at')} < %s"
    )
    moments = [connection.ops.adapt_datetimefield_value(moment) for moment in (start, end)]
    (ids,) = fetch_packed(statement, moments)
    return ids


def moved_in(found: Leads, period: tuple[dt.datetime, dt.datetime]) -> npt.NDArray[np.bool_]:
    """Which leads first entered a road stage in [start, end), from their entry hours (exact
    for periods starting on the hour, as the report's days do in whole-hour time zones)."""
    first, last = (road.hour_of(moment) for moment in period)
    entries = found.entries
    last = min(last, MISSING)  # never entered is never in a period
    moved = np.zeros(entries.shape[1], dtype=bool)
    for hours in entries:
        moved |= (hours >= first) & (hours < last)
    return moved


def roads(found: Leads) -> Roads:
    """The furthest stage of each lead and the days between its consecutive first entries."""
    entries = found.entries
    entered = entries != MISSING
    # The furthest road stage entered (every lead entered at least the one it arrived at).
    furthest = np.zeros(entries.shape[1], dtype=np.int8)
    for rank in range(1, ROAD_SIZE):
        furthest[entered[rank]] = rank
    days = []
    for i in range(PAIRS):
        before, after = entries[i], entries[i + 1]
        both = entered[i] & entered[i + 1] & (after >= before)
        days.append((after[both] - before[both]) / 24.0)
    return Roads(found, furthest, tuple(days))
