"""Input and output shapes of the freshness endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import DEFAULT_LIMIT, MAX_LIMIT, Id, InputSchema, LooseBool
from cible.quality.freshness.selectors import EntityFigures, OwnerRow, reasons_of

EntityName = Literal["organisation", "contact"]


class FieldOut(Schema):
    name: str
    label: str
    filled: int
    expected: int
    percent: float | None


class ReasonOut(Schema):
    code: str
    label: str
    count: int


class EntityFiguresOut(Schema):
    entity: str
    total: int
    complete_percent: float | None
    stale: int
    stale_percent: float | None
    incomplete: int
    duplicates: int | None = Field(description="Open likely-duplicate pairs; null if not tracked")
    fields: list[FieldOut]
    reasons: list[ReasonOut]


class OwnerOut(Schema):
    owner_id: int | None
    name: str
    records: dict[str, int]
    stale: dict[str, int]
    incomplete: dict[str, int]
    duplicates: dict[str, int | None]
    open_tasks: int


class DashboardOut(Schema):
    computed_at: dt.datetime | None = Field(description="When every figure was last recomputed")
    updating: bool
    entities: list[EntityFiguresOut]
    owners: list[OwnerOut]


def figures_out(f: EntityFigures) -> dict[str, Any]:
    return {
        "entity": f.entity,
        "total": f.total,
        "complete_percent": f.complete_percent,
        "stale": f.stale,
        "stale_percent": f.stale_percent,
        "incomplete": f.incomplete,
        "duplicates": f.duplicates,
        "fields": [
            {
                "name": x.name,
                "label": x.label,
                "filled": x.filled,
                "expected": x.expected,
                "percent": x.percent,
            }
            for x in f.fields
        ],
        "reasons": [{"code": r.code, "label": r.label, "count": r.count} for r in f.reasons],
    }


def owner_out(row: OwnerRow) -> dict[str, Any]:
    return {
        "owner_id": row.owner_id,
        "name": row.name,
        "records": row.records,
        "stale": row.stale,
        "incomplete": row.incomplete,
        "duplicates": row.duplicates,
        "open_tasks": row.open_tasks,
    }


class StaleQuery(Schema):
    owner: str | None = Field(None, description="A user id, or 'none' for unowned records")
    reason: Literal["age", "never", "bounced", "left", "closed"] | None = None
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class StaleOut(Schema):
    id: int
    name: str
    owner_id: int | None
    last_verified_at: dt.datetime | None
    reasons: list[str]


class StalePage(Schema):
    items: list[StaleOut]
    next_cursor: str | None
    count: int | None = None


def stale_out(record: Any) -> dict[str, Any]:
    return {
        "id": record.pk,
        "name": str(record),
        "owner_id": record.owner_id,
        "last_verified_at": record.last_verified_at,
        "reasons": reasons_of(record),
    }


class PolicyIO(Schema):
    organisation_max_age_days: int
    contact_max_age_days: int
    never_verified_grace_days: int
    task_due_days: int
    email_bounced: bool
    contact_left: bool
    organisation_closed: bool


class PolicyPatch(InputSchema):
    organisation_max_age_days: int | str | None = None
    contact_max_age_days: int | str | None = None
    never_verified_grace_days: int | str | None = None
    task_due_days: int | str | None = None
    email_bounced: LooseBool = None
    contact_left: LooseBool = None
    organisation_closed: LooseBool = None


class VerifyIn(InputSchema):
    entity: EntityName
    ids: list[Id] = Field(min_length=1, max_length=500)


class VerifyOut(Schema):
    verified: int
    refused: int


class TasksIn(InputSchema):
    entity: EntityName
    ids: list[Id] | None = Field(None, max_length=5000, description="The records to verify")
    owner: str | None = Field(
        None, description="Instead of ids: every stale record of this user id, or 'none'"
    )
    assignee: Id | None = Field(None, description="Who receives the tasks of unowned records")


class TasksOut(Schema):
    created: int
    already_open: int
    skipped: int
    unowned: int
    truncated: bool
    by_owner: dict[str, int]


class TaskOut(Schema):
    id: int
    entity: str
    record_id: int
    record: str
    reasons: list[str]
    due_on: dt.date
    done_at: dt.datetime | None
    outcome: str


def task_out(task: Any) -> dict[str, Any]:
    return {
        "id": task.pk,
        "entity": task.entity,
        "record_id": task.organisation_id or task.contact_id,
        "record": str(task.record),
        "reasons": task.reason_list,
        "due_on": task.due_on,
        "done_at": task.done_at,
        "outcome": task.outcome,
    }


class TaskResolveIn(InputSchema):
    action: Literal["verify", "left", "closed"]
