"""REST endpoints of targets: saved searches, their live count, members and CSV export.

A target is visible to its owner and, when shared, to everybody; its owner or an administrator
changes it. Counts, members and exports hold only the records the caller may see.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.people.schemas import contact_out, organisation_out
from cible.segments.api.schemas import (
    CountIn,
    CountOut,
    CountQuery,
    DuplicateIn,
    MembersQuery,
    TargetIn,
    TargetMembersPage,
    TargetOut,
    TargetPage,
    TargetPatch,
)
from cible.segments.targets import definition as definitions
from cible.segments.targets import selectors, services
from cible.segments.targets.models import Target, TargetLevel

router = Router(tags=["targets"])


def target_out(target: Target, user: Any) -> dict[str, Any]:
    parts = definitions.describe(selectors.target_definition(target))
    return {
        "id": target.pk,
        "version": target.version,
        "name": target.name,
        "description": target.description,
        "level": target.level,
        "definition": target.definition,
        "described": [{"label": p.label, "text": p.text} for p in parts],
        "owner": target.owner_id,
        "shared": target.shared,
        "can_change": selectors.may_change(user, target),
        "created_at": target.created_at,
        "updated_at": target.updated_at,
    }


def count_out(result: selectors.TargetCount) -> dict[str, Any]:
    return {
        "count": result.count,
        "finished": result.finished,
        "level": str(result.level),
        "milliseconds": round(result.milliseconds, 1),
        "message": result.message,
    }


@router.get("/targets", response={200: TargetPage, **ERRORS})
def list_targets(request: HttpRequest, params: Query[MembersQuery]) -> Any:
    """Your targets and the shared ones, by name (cursor pagination)."""
    user = viewer(request)
    return paginate(
        selectors.target_list(viewer=user),
        cursor=params.cursor,
        limit=params.limit,
        serialize=lambda t: target_out(t, user),
        with_count=params.count,
    )


@router.post("/targets", response={201: TargetOut, **WRITE_ERRORS})
def create_target(request: HttpRequest, payload: TargetIn) -> Any:
    """Save a target (yours; private unless `shared`)."""
    user = viewer(request)
    target = services.target_create(actor=user, channel=Channel.API, data=payload.data())
    return Status(201, target_out(target, user))


# Before /targets/{pk}: the paths share their first part.
@router.post("/targets/count", response={200: CountOut, **ERRORS})
def count_definition(request: HttpRequest, payload: CountIn) -> Any:
    """Count an unsaved definition (the live count of the editor): the records you may see, or
    `finished: false` when it takes longer than `timeout_ms` (the server stops the query)."""
    result = selectors.target_count(
        viewer=viewer(request),
        definition=payload.definition or {},
        level=payload.level,
        timeout_ms=payload.timeout_ms,
    )
    return count_out(result)


@router.get("/targets/{pk}", response={200: TargetOut, **ERRORS})
def get_target(request: HttpRequest, pk: Path[Id]) -> Any:
    user = viewer(request)
    return target_out(selectors.target_get(viewer=user, pk=pk), user)


@router.patch("/targets/{pk}", response={200: TargetOut, **WRITE_ERRORS})
def update_target(request: HttpRequest, pk: Path[Id], payload: TargetPatch) -> Any:
    """Change the fields sent (owner or administrator); `version` must be the one you read."""
    user = viewer(request)
    data = payload.data()
    version = data.pop("version")
    target = services.target_update(
        target=selectors.target_get(viewer=user, pk=pk),
        actor=user,
        channel=Channel.API,
        data=data,
        expected_version=version,
    )
    return target_out(target, user)


@router.delete("/targets/{pk}", response={204: None, **WRITE_ERRORS})
def delete_target(request: HttpRequest, pk: Path[Id]) -> Any:
    user = viewer(request)
    services.target_delete(
        target=selectors.target_get(viewer=user, pk=pk), actor=user, channel=Channel.API
    )
    return Status(204, None)


@router.post("/targets/{pk}/duplicate", response={201: TargetOut, **WRITE_ERRORS})
def duplicate_target(request: HttpRequest, pk: Path[Id], payload: DuplicateIn) -> Any:
    """A private copy of a target you see, owned by you."""
    user = viewer(request)
    copy = services.target_duplicate(
        target=selectors.target_get(viewer=user, pk=pk),
        actor=user,
        channel=Channel.API,
        name=payload.name,
    )
    return Status(201, target_out(copy, user))


@router.get("/targets/{pk}/count", response={200: CountOut, **ERRORS})
def count_target(request: HttpRequest, pk: Path[Id], params: Query[CountQuery]) -> Any:
    """How many of the target's records you may see (null if it took over `timeout_ms`)."""
    user = viewer(request)
    result = selectors.target_count(
        viewer=user, target=selectors.target_get(viewer=user, pk=pk), timeout_ms=params.timeout_ms
    )
    return count_out(result)


@router.get("/targets/{pk}/members", response={200: TargetMembersPage, **ERRORS})
def target_members(request: HttpRequest, pk: Path[Id], params: Query[MembersQuery]) -> Any:
    """The target resolved: its organisations (or contacts) you may see, by name, one page at a
    time, under `organisations` or `contacts` according to its level."""
    user = viewer(request)
    target = selectors.target_get(viewer=user, pk=pk)
    members = selectors.target_members(viewer=user, target=target)
    if target.level == TargetLevel.CONTACT:
        page = paginate(
            members.select_related(None),
            cursor=params.cursor,
            limit=params.limit,
            serialize=contact_out,
            with_count=params.count,
        )
        key = "contacts"
    else:
        page = paginate(
            members.select_related(None).prefetch_related("installed_products"),
            cursor=params.cursor,
            limit=params.limit,
            serialize=organisation_out,
            with_count=params.count,
        )
        key = "organisations"
    return {
        "level": target.level,
        key: page["items"],
        "next_cursor": page["next_cursor"],
        "count": page["count"],
    }


@router.get(
    "/targets/{pk}/export.csv",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The target's records you may see, as CSV (UTF-8 with a BOM).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def export_target(request: HttpRequest, pk: Path[Id]) -> Any:
    """Streamed; logged as an export of the records it holds."""
    user = viewer(request)
    return selectors.target_export(
        viewer=user, target=selectors.target_get(viewer=user, pk=pk), channel=Channel.API
    )
