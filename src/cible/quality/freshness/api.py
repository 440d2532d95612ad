"""REST endpoints of data freshness, under /api/v1/quality: thin over selectors and services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, ValidationFailed
from cible.quality.freshness import selectors, services, tally, tasks
from cible.quality.freshness.forms import NUMBERS, TOGGLES
from cible.quality.freshness.models import FreshnessPolicy
from cible.quality.freshness.schemas import (
    DashboardOut,
    EntityName,
    PolicyIO,
    PolicyPatch,
    StalePage,
    StaleQuery,
    TaskOut,
    TaskResolveIn,
    TasksIn,
    TasksOut,
    VerifyIn,
    VerifyOut,
    figures_out,
    owner_out,
    stale_out,
    task_out,
)

router = Router(tags=["data quality"])


@router.get("/dashboard", response={200: DashboardOut, **ERRORS})
def dashboard(request: HttpRequest) -> Any:
    """The caller's data-quality figures (over the records they may see) and per-owner rows."""
    status = tally.tally_catch_up(request_background=tasks.request_figures_refresh)
    board = selectors.dashboard(viewer=viewer(request))
    return {
        "computed_at": status.computed_at,
        "updating": status.pending,
        "entities": [figures_out(f) for f in board.entities],
        "owners": [owner_out(r) for r in board.owners],
    }


@router.get("/stale/{entity}", response={200: StalePage, **ERRORS})
def stale(request: HttpRequest, entity: EntityName, params: Query[StaleQuery]) -> Any:
    """Stale records with the reasons, in id order (cursor pagination)."""
    qs = selectors.stale_records(
        viewer=viewer(request), entity=entity, reason=params.reason, owner=params.owner
    ).order_by("id")
    return paginate(qs, cursor=params.cursor, limit=params.limit, serialize=stale_out)


def _policy_out(policy: FreshnessPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in (*NUMBERS, *TOGGLES)}


@router.get("/policy", response={200: PolicyIO, **ERRORS})
def policy(request: HttpRequest) -> Any:
    return _policy_out(FreshnessPolicy.current())


@router.patch("/policy", response={200: PolicyIO, **WRITE_ERRORS})
def policy_update(request: HttpRequest, payload: PolicyPatch) -> Any:
    """Change the staleness rules (administrators)."""
    updated = services.freshness_policy_update(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    return _policy_out(updated)


@router.post("/verify", response={200: VerifyOut, **WRITE_ERRORS})
def verify(request: HttpRequest, payload: VerifyIn) -> Any:
    """Mark records as verified today (all or nothing); their open tasks close."""
    result = services.records_mark_verified(
        actor=viewer(request), channel=Channel.API, entity=payload.entity, ids=payload.ids
    )
    return {"verified": result.verified, "refused": result.refused}


@router.post("/tasks", response={200: TasksOut, **WRITE_ERRORS})
def tasks_create(request: HttpRequest, payload: TasksIn) -> Any:
    """Ask the owners of stale records to verify them."""
    assignee = None
    if payload.assignee is not None:
        assignee = get_user_model().objects.filter(pk=payload.assignee, is_active=True).first()
        if assignee is None:
            raise ValidationFailed(errors=[FieldError("assignee", _("no active user has this id"))])
    batch = services.verification_tasks_create(
        actor=viewer(request),
        channel=Channel.API,
        entity=payload.entity,
        ids=payload.ids,
        owner=payload.owner,
        assignee=assignee,
    )
    return asdict(batch)


@router.get("/tasks", response={200: list[TaskOut], **ERRORS})
def my_tasks(request: HttpRequest, done: bool = False) -> Any:
    """The caller's verification tasks (at most 500, the earliest due first)."""
    return [task_out(t) for t in selectors.my_tasks(viewer=viewer(request), done=done)[:500]]


@router.post("/tasks/{task_id}/resolve", response={200: TaskOut, **WRITE_ERRORS})
def task_resolve(request: HttpRequest, task_id: Id, payload: TaskResolveIn) -> Any:
    """Settle a task: the record was verified, the contact has left, the organisation closed."""
    user = viewer(request)
    task = selectors.get_task(viewer=user, pk=task_id)
    task = services.verification_task_resolve(
        actor=user, channel=Channel.API, task=task, action=payload.action
    )
    return task_out(task)
