"""What the predictive model may know about a lead, read in bulk as of the right moment.

A model must learn only from what was known *before* a salesperson touched the lead, or it learns
the answer (a "Lead quality" field typed after the call). So:

- a labelled lead's behaviour is counted up to its **cut-off**: the first time it reached SAL or
  any later stage, or left the road (recycled, disqualified) — the moment Sales took it up;
  an open lead's, up to now, which is the same moment of its life;
- the organisation's and contact's descriptive fields are used (size, sector, region, function,
  seniority, buying role), never their status, tier or lifecycle stage, which record the outcome;
- imported `properties` are used except those declared known only after contact, and except
  those the training flags as probable leaks (`training.leaks`).

Columns come back as numpy arrays: floats (NaN when missing) for numbers, objects (None when
missing) for text, keyed by a readable field name ("Source", "Contact · function",
"Web visit (count)", "Lead Origin").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connections

from cible.engagement.interactions.models import Interaction, InteractionKind
from cible.lifecycle.leads.models import ASIDE, RANK, Lead, Stage, StageTransition
from cible.people.models import Contact, Organisation

Columns = dict[str, npt.NDArray[Any]]

# (readable name, SQL expression over l = lead, c = contact, o = organisation)
DESCRIPTIVE: tuple[tuple[str, str], ...] = (
    ("Source", "l.source"),
    ("Source detail", "l.source_detail"),
    ("Organisation · size", "o.size_class"),
    ("Organisation · sector", "o.naf_section"),
    ("Organisation · region", "o.region"),
    ("Organisation · country", "o.country"),
    ("Contact · function", "c.function"),
    ("Contact · seniority", "c.seniority"),
    ("Contact · buying role", "c.buying_role"),
)
NUMERIC: tuple[tuple[str, str], ...] = (("Organisation · sales team", "o.sales_team_size"),)
# A numeric property is a number when at least this share of its present values are numbers.
NUMBER_SHARE = 0.95
# Stages from which Sales has taken the lead up: the cut-off of its features.
TAKEN_UP = [s.value for s in Stage if RANK.get(s, -1) >= RANK[Stage.SAL]] + [s.value for s in ASIDE]


@dataclass
class LeadFrame:
    lead_ids: npt.NDArray[np.int64]
    order: npt.NDArray[np.float64]  # arrival order (time, or a numeric property)
    columns: Columns


def _text(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    return np.array([None if v in (None, "") else str(v) for v in values], dtype=object)


def _number(values: Sequence[Any]) -> npt.NDArray[np.float64]:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _epoch(value: Any) -> float:
    if isinstance(value, str):  # SQLite hands back text
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return float(value.timestamp())


def _property_columns(raw: list[str | None], exclude: set[str]) -> Columns:
    parsed = [json.loads(text) if text else {} for text in raw]
    if parsed and isinstance(parsed[0], str):  # PostgreSQL jsonb as text, SQLite as text
        parsed = [json.loads(p) for p in parsed]
    names = sorted({key for props in parsed for key in props} - exclude)
    columns: Columns = {}
    for name in names:
        values = [props.get(name) for props in parsed]
        present = [v for v in values if v is not None and v != ""]
        numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
        if present and len(numbers) >= NUMBER_SHARE * len(present):
            columns[name] = np.array(
                [
                    float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                    for v in values
                ]
            )
        else:
            columns[name] = _text(
                [("yes" if v else "no") if isinstance(v, bool) else v for v in values]
            )
    return columns


def _behaviour(
    database: str,
    lead_ids: npt.NDArray[np.int64],
    where: str,
    params: list[Any],
    cutoffs: bool,
) -> Columns:
    """Interactions per kind per lead (chosen by `where` over `l`), up to each lead's cut-off
    when `cutoffs`, else up to now."""
    lead, interaction = Lead._meta.db_table, Interaction._meta.db_table
    transition = StageTransition._meta.db_table
    taken = ", ".join(f"'{s}'" for s in TAKEN_UP)
    kinds = list(InteractionKind.values)
    case = "CASE i.kind " + " ".join(f"WHEN '{k}' THEN {n}" for n, k in enumerate(kinds)) + " END"
    if cutoffs:
        sql = (
            f"WITH cut AS (SELECT lead_id, MIN(occurred_at) AS at FROM {transition} "
            f"WHERE to_stage IN ({taken}) GROUP BY lead_id) "
            f"SELECT l.id, {case}, COUNT(*) FROM {lead} l "
            f"LEFT JOIN cut ON cut.lead_id = l.id "
            f"JOIN {interaction} i ON i.contact_id = l.contact_id "
            f"AND (cut.at IS NULL OR i.occurred_at < cut.at) "
        )
    else:
        sql = (
            f"SELECT l.id, {case}, COUNT(*) FROM {lead} l "
            f"JOIN {interaction} i ON i.contact_id = l.contact_id "
        )
    sql += f"{where} GROUP BY l.id, i.kind"
    counts = np.zeros((len(lead_ids), len(kinds)))
    with connections[database].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows and len(lead_ids):
        found = np.array(rows, dtype=np.int64)
        at = np.minimum(np.searchsorted(lead_ids, found[:, 0]), len(lead_ids) - 1)
        keep = lead_ids[at] == found[:, 0]
        counts[at[keep], found[keep, 1]] = found[keep, 2]
    used = counts.sum(axis=0) > 0
    return {
        f"{InteractionKind(kind).label} (count)": counts[:, k]
        for k, kind in enumerate(kinds)
        if used[k]
    }


def lead_frame(
    *,
    lead_ids: Sequence[int] | None = None,
    stages: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    order_by: str = "arrived_at",
    labelled: bool = False,
    database: str = "default",
) -> LeadFrame:
    """The columns of the leads chosen by id or stage, ordered by id. `labelled`: leads with an
    outcome, for training — behaviour up to each one's cut-off, constant columns dropped."""
    lead, contact, organisation = (
        Lead._meta.db_table,
        Contact._meta.db_table,
        Organisation._meta.db_table,
    )
    selected = [expr for _name, expr in DESCRIPTIVE + NUMERIC]
    sql = (
        f"SELECT l.id, l.arrived_at, l.properties, {', '.join(selected)} FROM {lead} l "
        f"LEFT JOIN {contact} c ON c.id = l.contact_id "
        f"LEFT JOIN {organisation} o ON o.id = l.organisation_id"
    )
    conditions: list[str] = []
    params: list[Any] = []
    if lead_ids is not None:
        marks = ", ".join(["%s"] * len(lead_ids))
        conditions.append(f"l.id IN ({marks})" if lead_ids else "0 = 1")
        params += list(lead_ids)
    if stages is not None:
        marks = ", ".join(["%s"] * len(stages))
        conditions.append(f"l.stage IN ({marks})" if stages else "0 = 1")
        params += list(stages)
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    sql += f" {where} ORDER BY l.id"
    with connections[database].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    skip = set(exclude)
    columns: Columns = {}
    for k, (name, _expr) in enumerate(DESCRIPTIVE):
        if name not in skip:
            columns[name] = _text([r[3 + k] for r in rows])
    for k, (name, _expr) in enumerate(NUMERIC):
        if name not in skip:
            columns[name] = _number([r[3 + len(DESCRIPTIVE) + k] for r in rows])
    properties = _property_columns([r[2] for r in rows], skip)
    behaviour = _behaviour(database, ids, where, params, cutoffs=labelled) if len(ids) else {}
    columns.update({n: v for n, v in behaviour.items() if n not in skip})
    columns.update(properties)
    if labelled:  # learning from columns that say nothing (one value everywhere) is noise
        columns = {n: v for n, v in columns.items() if _varies(v)}
    if order_by.startswith("property:") and order_by[9:] in properties:
        order = properties[order_by[9:]].astype(np.float64)
        columns.pop(order_by[9:], None)  # an arrival number is not a signal
    else:
        order = np.array([_epoch(r[1]) for r in rows], dtype=np.float64)
    return LeadFrame(lead_ids=ids, order=order, columns=columns)


def _varies(values: npt.NDArray[Any]) -> bool:
    if values.dtype.kind == "f":
        known = values[~np.isnan(values)]
        return len(known) > 0 and (known.min() != known.max() or len(known) < len(values))
    seen = {v for v in values}
    return len(seen) > 1
