"""Writing scores back in bulk: the lead's score columns and its parts, for the rows that changed.

SQLite takes `executemany` of one UPDATE and one upsert (its write lock is already held: the
caller's transaction began IMMEDIATE). PostgreSQL takes one COPY into a temporary table, then one
`UPDATE … FROM` and one `INSERT … ON CONFLICT`. Scores never bump a lead's `version`: they are
derived data (`Lead.derived_fields`), and an edit in progress must not fail because an interaction
arrived meanwhile. The newest scoring wins: a batch that read its facts before an interaction
arrived does not overwrite the rescore that interaction caused (`scored_at`/`as_of` guards).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from django.db import connections

from cible.lifecycle.leads.models import Lead
from cible.lifecycle.scoring.engine import Scores
from cible.lifecycle.scoring.models import LeadScore, ScoringModel

_temporary = itertools.count()


def parts_json(scores: Scores, rows: npt.NDArray[np.intp]) -> list[str]:
    """Each chosen lead's parts as a JSON object of its non-zero parts, built column-wise."""
    if not len(rows):
        return []
    if not scores.part_names:
        return ["{}"] * len(rows)
    frame = pl.DataFrame(
        {f"c{i}": np.round(scores.parts[rows, i], 1) for i in range(len(scores.part_names))}
    )
    pieces = [
        pl.when(pl.col(f"c{i}") != 0)
        .then(pl.format('"{}":{}', pl.lit(name), pl.col(f"c{i}")))
        .otherwise(None)
        for i, name in enumerate(scores.part_names)
    ]
    joined = frame.select(
        pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("").alias("parts")
    )
    return ("{" + joined["parts"] + "}").to_list()


def write(
    scores: Scores,
    rows: npt.NDArray[np.intp],
    *,
    model: ScoringModel,
    as_of: dt.datetime,
    database: str = "default",
) -> int:
    """Store the scores of `scores`' leads at positions `rows`; returns how many."""
    if not len(rows):
        return 0
    connection = connections[database]
    ids = scores.lead_ids[rows].tolist()
    profile = scores.profile[rows].tolist()
    engagement = scores.engagement[rows].tolist()
    grades = [scores.grades[i] for i in rows.tolist()]
    parts = parts_json(scores, rows)
    if connection.vendor == "postgresql":
        _write_postgresql(connection, model, as_of, ids, profile, engagement, grades, parts)
    else:
        _write_sqlite(connection, model, as_of, ids, profile, engagement, grades, parts)
    return len(ids)


def _write_sqlite(
    connection: Any,
    model: ScoringModel,
    as_of: dt.datetime,
    ids: list[int],
    profile: list[int],
    engagement: list[int],
    grades: list[str],
    parts: list[str],
) -> None:
    lead, score = Lead._meta.db_table, LeadScore._meta.db_table
    stamp = as_of.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {lead} SET profile_score = %s, engagement_score = %s, grade = %s, "
            "scored_at = %s WHERE id = %s AND (scored_at IS NULL OR scored_at <= %s)",
            list(
                zip(
                    profile,
                    engagement,
                    grades,
                    itertools.repeat(stamp),
                    ids,
                    itertools.repeat(stamp),
                    strict=False,
                )
            ),
        )
        cursor.executemany(
            f"INSERT INTO {score} (lead_id, model_id, model_version, as_of, parts) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (lead_id) DO UPDATE SET "
            "model_id = excluded.model_id, model_version = excluded.model_version, "
            f"as_of = excluded.as_of, parts = excluded.parts WHERE {score}.as_of <= excluded.as_of",
            list(
                zip(
                    ids,
                    itertools.repeat(model.pk),
                    itertools.repeat(model.version),
                    itertools.repeat(stamp),
                    parts,
                    strict=False,
                )
            ),
        )


def _write_postgresql(
    connection: Any,
    model: ScoringModel,
    as_of: dt.datetime,
    ids: list[int],
    profile: list[int],
    engagement: list[int],
    grades: list[str],
    parts: list[str],
) -> None:
    lead, score = Lead._meta.db_table, LeadScore._meta.db_table
    staging = f"lead_scores_{next(_temporary)}"
    with connection.cursor() as wrapper:
        wrapper.execute(
            f"CREATE TEMPORARY TABLE {staging} (id bigint, profile smallint, "
            "engagement smallint, grade varchar(2), parts jsonb)"
        )
        with wrapper.cursor.copy(f"COPY {staging} FROM STDIN") as copy:
            for row in zip(ids, profile, engagement, grades, parts, strict=True):
                copy.write_row(row)
        wrapper.execute(
            f"UPDATE {lead} AS t SET profile_score = s.profile, engagement_score = s.engagement, "
            f"grade = s.grade, scored_at = %s FROM {staging} AS s WHERE t.id = s.id "
            "AND (t.scored_at IS NULL OR t.scored_at <= %s)",
            [as_of, as_of],
        )
        wrapper.execute(
            f"INSERT INTO {score} (lead_id, model_id, model_version, as_of, parts) "
            f"SELECT id, %s, %s, %s, parts FROM {staging} ON CONFLICT (lead_id) DO UPDATE SET "
            "model_id = excluded.model_id, model_version = excluded.model_version, "
            f"as_of = excluded.as_of, parts = excluded.parts WHERE {score}.as_of <= excluded.as_of",
            [model.pk, model.version, as_of],
        )
        wrapper.execute(f"DROP TABLE {staging}")
