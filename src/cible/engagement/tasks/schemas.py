"""API shapes of tasks and notifications (shape only: the services validate values)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams
from cible.engagement.tasks.models import Notification, Task


class TaskIn(InputSchema):
    title: str
    kind: str = Field("follow_up", description="call, email, meeting, follow_up or other.")
    note: str = ""
    due_at: dt.datetime | None = Field(None, description="ISO 8601 with a time zone.")
    assignee: Id | None = Field(None, description="User id; yourself when left out.")
    contact: Id | None = None
    organisation: Id | None = Field(None, description="Defaults to the contact's organisation.")
    key: str | None = Field(None, description="Idempotency key: the same key returns the task.")


class TaskQuery(ListParams):
    scope: Literal["mine", "team"] = Field(
        "mine", description="Your tasks, or all you may see (your teams', everyone's for admins)."
    )
    done: bool = False
    assignee: Id | None = Field(None, description="With scope=team: one person's tasks.")


class CompleteIn(InputSchema):
    outcome: str = ""
    happened: bool = Field(
        False, description="A call or meeting task: it took place; record it on the timeline."
    )


class ReassignIn(InputSchema):
    assignee: Id


class TaskOut(Schema):
    id: int
    title: str
    kind: str
    note: str
    due_at: dt.datetime | None
    overdue: bool
    assignee: int
    contact: int | None
    organisation: int | None
    source: str
    key: str | None
    done_at: dt.datetime | None
    outcome: str
    created_by: int | None
    created_at: dt.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None
    count: int | None


def task_out(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "kind": task.kind,
        "note": task.note,
        "due_at": task.due_at,
        "overdue": task.is_overdue(timezone.now()),
        "assignee": task.assignee_id,
        "contact": task.contact_id,
        "organisation": task.organisation_id,
        "source": task.source,
        "key": task.key,
        "done_at": task.done_at,
        "outcome": task.outcome,
        "created_by": task.created_by_id,
        "created_at": task.created_at,
    }


class NotificationQuery(ListParams):
    unread: bool = False


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    count: int | None


def notification_out(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


class ReadIn(InputSchema):
    ids: list[Id] = Field(default_factory=list, max_length=1000)
    all: bool = Field(False, description="Mark every notification read.")


class ReadOut(Schema):
    marked: int


class UnreadOut(Schema):
    unread: int
