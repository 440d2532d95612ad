"""Each lead's first entry into each stage of the road, kept on the lead as it moves.

The funnel report needs, per lead, the furthest stage reached and the time between entering
consecutive stages. Read from the transitions, that is four rows or more per lead, grouped per
lead: 1.6–2.2 s at a million leads (bench/bench_funnel.py). Kept on the lead — one small integer
per road stage, the HOUR of the first entry counted from 2000-01-01 UTC — it is one compact row
per lead, read in a single pass.

Every path that writes a transition calls `mark` with what it wrote, in the same transaction:
the services (transitions.record_transition), rule moves and leads opened from interactions
(automatic), imports (importing.record_stages) and the demo. A later entry never replaces an
earlier one (MIN), so replaying history in any order gives the same columns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

from cible.core.idsets import InIds
from cible.lifecycle.leads.models import ROAD, Lead

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
EPOCH_SECONDS = int(EPOCH.timestamp())
COLUMNS = {stage.value: f"first_{stage.value}" for stage in ROAD}
SHARED = 20  # leads entering a stage in the same hour, from which one UPDATE … IN pays


def hour_of(moment: dt.datetime) -> int:
    """Hours from 2000-01-01 UTC to `moment` (0 for anything earlier)."""
    return max(int((moment - EPOCH).total_seconds()) // 3600, 0)


def sql_hour(column: str, vendor: str) -> str:
    """The same arithmetic in SQL, over a datetime column."""
    if vendor == "postgresql":
        seconds = f"EXTRACT(EPOCH FROM {column})"
        return f"GREATEST(FLOOR(({seconds} - {EPOCH_SECONDS}) / 3600), 0)::integer"
    return f"MAX((unixepoch({column}) - {EPOCH_SECONDS}) / 3600, 0)"


def mark(entries: Iterable[tuple[int, str, dt.datetime]]) -> None:
    """Record entries (lead id, stage, when): each road stage's column keeps its earliest hour.

    Moves written together mostly share their hour (a rule move, leads opened by a batch of
    interactions): those are one UPDATE each; the rest (an import of past leads,
    each with its own date) one executemany per stage."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for lead_id, stage, moment in entries:
        column = COLUMNS.get(stage)
        if column is not None and lead_id is not None:
            groups[(column, hour_of(moment))].append(lead_id)
    single: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for (column, hour), ids in groups.items():
        if len(ids) < SHARED:
            single[column].extend((hour, pk, hour) for pk in ids)
            continue
        not_earlier = Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__gt": hour})
        Lead.objects.filter(InIds("pk", ids)).filter(not_earlier).update(**{column: hour})
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        for column, rows in single.items():
            name = connection.ops.quote_name(column)
            cursor.executemany(
                f"UPDATE {table} SET {name} = %s WHERE id = %s AND ({name} IS NULL OR {name} > %s)",
                rows,
            )


def backfill_sql(vendor: str, table: str, transitions: str) -> list[str]:
    """Statements filling the columns from the stored transitions (the migration): per stage,
    one grouped pass over that stage's transitions joined to the leads (UPDATE … FROM)."""
    hour = sql_hour("t.occurred_at", vendor)
    return [
        f"UPDATE {table} SET {column} = f.h FROM ("
        f"SELECT t.lead_id, MIN({hour}) AS h FROM {transitions} t "
        f"WHERE t.to_stage = '{stage}' GROUP BY t.lead_id) f WHERE f.lead_id = {table}.id"
        for stage, column in COLUMNS.items()
    ]
