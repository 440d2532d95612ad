"""REST endpoints of tasks and notifications: thin over the selectors and services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.engagement.tasks import notifications, selectors, services
from cible.engagement.tasks.schemas import (
    CompleteIn,
    NotificationPage,
    NotificationQuery,
    ReadIn,
    ReadOut,
    ReassignIn,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskQuery,
    UnreadOut,
    notification_out,
    task_out,
)

router = Router(tags=["Tasks"])


@router.get("/tasks", response={200: TaskPage, **ERRORS})
def list_tasks(request: HttpRequest, params: Query[TaskQuery]) -> Any:
    """Your open tasks by due time (overdue first), or done ones, or those of your teams."""
    qs = selectors.task_list(
        viewer=viewer(request), scope=params.scope, done=params.done, assignee=params.assignee
    )
    order = ("-done_at", "-id") if params.done else ("due_at", "id")
    return paginate(
        qs.prefetch_related(None).order_by(*order),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=task_out,
    )


@router.post("/tasks", response={201: TaskOut, 200: TaskOut, **WRITE_ERRORS})
def create_task(request: HttpRequest, payload: TaskIn) -> Any:
    """Create a task (for yourself unless `assignee`); a known `key` answers 200 with its task."""
    task, created = services.task_create(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    return Status(201 if created else 200, task_out(task))


@router.get("/tasks/{pk}", response={200: TaskOut, **ERRORS})
def get_task(request: HttpRequest, pk: Path[Id]) -> Any:
    return task_out(selectors.task_get(viewer=viewer(request), pk=pk))


@router.post("/tasks/{pk}/complete", response={200: TaskOut, **WRITE_ERRORS})
def complete_task(request: HttpRequest, pk: Path[Id], payload: CompleteIn) -> Any:
    """Mark the task done; 409 if it already is."""
    task = selectors.task_get(viewer=viewer(request), pk=pk)
    services.complete_task(task=task, actor=viewer(request), channel=Channel.API, **payload.data())
    return task_out(task)


@router.post("/tasks/{pk}/reassign", response={200: TaskOut, **WRITE_ERRORS})
def reassign_task(request: HttpRequest, pk: Path[Id], payload: ReassignIn) -> Any:
    task = selectors.task_get(viewer=viewer(request), pk=pk)
    services.task_reassign_to(
        task=task, assignee_id=payload.assignee, actor=viewer(request), channel=Channel.API
    )
    return task_out(task)


@router.get("/notifications", response={200: NotificationPage, **ERRORS})
def list_notifications(request: HttpRequest, params: Query[NotificationQuery]) -> Any:
    """Your notifications, newest first."""
    return paginate(
        selectors.notification_list(user=viewer(request), unread=params.unread),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=notification_out,
    )


@router.get("/notifications/unread-count", response={200: UnreadOut, **ERRORS})
def unread_notifications(request: HttpRequest) -> Any:
    return {"unread": selectors.unread_count(user=viewer(request))}


@router.post("/notifications/read", response={200: ReadOut, **WRITE_ERRORS})
def read_notifications(request: HttpRequest, payload: ReadIn) -> Any:
    """Mark `ids` (or `all`) read; answers how many were unread."""
    marked = notifications.mark_read(
        user=viewer(request), ids=None if payload.all else payload.ids, all=payload.all
    )
    return {"marked": marked}
