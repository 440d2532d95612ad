"""The two reads behind the funnel report, and the per-lead arithmetic in numpy.

Grouping the transitions per lead in SQL (a MIN per stage and lead) costs 10–25× a plain
grouped read on SQLite (measured in bench/bench_funnel.py: the sorter and one CASE per stage
and row dominate). Reading the rows into Python costs as much again. So each read returns its
rows packed as integers in ONE string (`group_concat` / `string_agg`), which numpy parses at
memory speed, and everything per lead happens on arrays:

1. the leads the report counts (an ORM queryset: the access rules and filters stay in
   `core.access` and the ORM), each as its id and one integer packing its stage, the reason
   it left the road and its comparison group;
2. the transitions of those leads, each as one integer: (lead id · 16 + stage code) · 2³² +
   seconds since 1970. Over the id range of the leads when they are dense, through the
   (lead, time) index when they are few.

Then: the furthest road stage of each lead, the first entry into each stage, and the days
between consecutive entries, with `np.maximum.at` / `np.minimum.at` over the arrays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import QuerySet

from cible.core.idsets import joined_ids, parse_ids
from cible.lifecycle.leads.models import ROAD, Stage, StageTransition

Ints = npt.NDArray[np.int64]

# Stage codes: the road's ranks, then the two stages off it; 15: any other value.
STAGE_CODES = {**{stage.value: rank for rank, stage in enumerate(ROAD)}, Stage.RECYCLED.value: 7}
STAGE_CODES[Stage.DISQUALIFIED.value] = 8
RECYCLED, DISQUALIFIED, UNKNOWN = 7, 8, 15
ROAD_SIZE = len(ROAD)
PAIRS = ROAD_SIZE - 1
SECONDS = 1 << 32
REASON_BITS = 1 << 6  # reason codes (index in the list the caller gives) below 64
GROUP_BITS = 1 << 31  # comparison groups: a campaign id or a source's index
MAX_LEAD_ID = (1 << 63) // (16 * SECONDS) - 1  # ids above it cannot be packed
SPARSE = 0.05  # below this share of their id range, read the leads' transitions by index
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Leads:
    """The counted leads as arrays, one entry per lead."""

    ids: Ints
    stage: Ints  # stage code
    reason: Ints  # index of the reason it left the road (0: none)
    group: Ints  # comparison group


@dataclass(frozen=True)
class Roads:
    """What the report needs of each counted lead, from its transitions."""

    leads: Leads
    furthest: Ints  # furthest road rank reached (at least 0: every lead reached the first)
    days: tuple[npt.NDArray[np.float64], ...]  # per pair i: days from stage i to i + 1


def _epoch(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"GREATEST(CAST(EXTRACT(EPOCH FROM {column}) AS bigint), 0)"
    return f"MAX(unixepoch({column}), 0)"


def _stage_code(column: str) -> str:
    whens = " ".join(f"WHEN '{stage}' THEN {code}" for stage, code in STAGE_CODES.items())
    return f"CASE {column} {whens} ELSE {UNKNOWN} END"


def _scan(sql: str, table: str) -> str:
    """On SQLite, read `table` from start to end rather than through an index: a period index
    followed by a row lookup per lead costs 5× a plain scan when the period holds many leads
    (measured: 250 against 45 ms for 100,000 leads)."""
    if connection.vendor != "sqlite":
        return sql
    name = connection.ops.quote_name(table)
    return sql.replace(f"FROM {name}", f"FROM {name} NOT INDEXED", 1)


def read_leads(leads: QuerySet[Any], *, scan: bool) -> Leads:
    """`leads` is a queryset of `.values(lid=, lstage=, why=, grp=)` with integer `why` (below
    64) and `grp` (0 ≤ grp < 2³¹): one query. `scan`: the filters keep many leads (a period,
    a source), so reading the whole table beats an index (SQLite)."""
    sql, params = leads.query.sql_with_params()
    if scan:
        sql = _scan(sql, leads.model._meta.db_table)
    packed = f"(({_stage_code('q.lstage')}) * {REASON_BITS} + q.why) * {GROUP_BITS} + q.grp"
    vendor = connection.vendor
    statement = f"SELECT {joined_ids('q.lid', vendor)}, {joined_ids(packed, vendor)} FROM ({sql}) q"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        ids_text, packed_text = cursor.fetchone()
    ids, codes = parse_ids(ids_text), parse_ids(packed_text)
    group = codes % GROUP_BITS
    rest = codes // GROUP_BITS
    return Leads(ids, rest // REASON_BITS, rest % REASON_BITS, group)


def read_roads(
    found: Leads,
    leads: QuerySet[Any],
    *,
    active: tuple[dt.datetime, dt.datetime] | None,
) -> Roads:
    """The roads of `found` (read from `leads`, the same queryset) from their transitions:
    one query. `active`, when given, keeps only the leads with a transition in [start, end)."""
    if len(found.ids) == 0:
        return Roads(found, np.zeros(0, dtype=np.int64), tuple(np.zeros(0) for _ in range(PAIRS)))
    low, high = int(found.ids.min()), int(found.ids.max())
    if high > MAX_LEAD_ID:
        raise OverflowError(f"lead ids above {MAX_LEAD_ID} cannot be packed")
    table = connection.ops.quote_name(StageTransition._meta.db_table)
    lead_and_stage = f"(CAST(t.lead_id AS bigint) * 16 + {_stage_code('t.to_stage')})"
    packed = f"{lead_and_stage} * {SECONDS} + {_epoch('t.occurred_at')}"
    if len(found.ids) < SPARSE * (high - low + 1):
        sql, params = leads.values("id").query.sql_with_params()
        where, values = f"t.lead_id IN ({sql})", list(params)
    else:
        where, values = "t.lead_id BETWEEN %s AND %s", [low, high]
        if connection.vendor == "sqlite":
            table += (
                " AS t NOT INDEXED"  # a range scan of the index plus a lookup per row is slower
            )
    if not table.endswith("NOT INDEXED"):
        table += " AS t"
    statement = f"SELECT {joined_ids(packed, connection.vendor)} FROM {table} WHERE {where}"
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        (text,) = cursor.fetchone()
    moves = parse_ids(text)
    return _roads(found, moves, active)


def _roads(found: Leads, moves: Ints, active: tuple[dt.datetime, dt.datetime] | None) -> Roads:
    seconds = moves % SECONDS
    rest = moves // SECONDS
    code, lead_id = rest % 16, rest // 16
    # Position of each lead id among the counted leads (-1: not counted, e.g. a hidden lead
    # in the id range).
    position = np.full(int(found.ids.max()) + 1, -1, dtype=np.int64)
    position[found.ids] = np.arange(len(found.ids))
    index = position[lead_id]
    counted = index >= 0
    index, code, seconds = index[counted], code[counted], seconds[counted]
    if active is not None:
        start, end = (int(moment.timestamp()) for moment in active)
        moved = np.zeros(len(found.ids), dtype=bool)
        moved[index[(seconds >= start) & (seconds < end)]] = True
        kept = np.flatnonzero(moved)
        renumber = np.full(len(found.ids), -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        found = Leads(found.ids[kept], found.stage[kept], found.reason[kept], found.group[kept])
        index = renumber[index]
        keep = index >= 0
        index, code, seconds = index[keep], code[keep], seconds[keep]
    size = len(found.ids)
    on_road = code < ROAD_SIZE
    index, code, seconds = index[on_road], code[on_road], seconds[on_road]
    furthest = np.where(found.stage < ROAD_SIZE, found.stage, 0)
    np.maximum.at(furthest, index, code)
    entries = np.full((size, ROAD_SIZE), NEVER, dtype=np.int64)
    np.minimum.at(entries, (index, code), seconds)
    days = []
    for i in range(PAIRS):
        before, after = entries[:, i], entries[:, i + 1]
        both = (before != NEVER) & (after != NEVER) & (after >= before)
        days.append((after[both] - before[both]) / 86400.0)
    return Roads(found, furthest, tuple(days))
