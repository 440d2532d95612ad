"""REST endpoints of axes and segments: thin over the axes app's selectors and services.

Everybody with a role reads axes and segments; counts are of the members the caller may see.
Administrators, Marketing and sales managers change them (`axes.permissions.may_manage`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core import access
from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, ValidationFailed
from cible.people.schemas import organisation_out
from cible.segments import rules
from cible.segments.api.schemas import (
    AxisIn,
    AxisOut,
    MembershipChangeOut,
    MembersIn,
    MembersQuery,
    OrganisationPage,
    RebuildIn,
    RebuildRunOut,
    RuleFieldOut,
    SegmentCreateIn,
    SegmentOut,
    SegmentPatch,
    SegmentQuery,
)
from cible.segments.axes import selectors, services
from cible.segments.axes.models import Axis, RebuildRun, Segment

router = Router(tags=["segments"])


def segment_out(segment: Segment, count: int) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "version": segment.version,
        "axis": segment.axis_id,
        "axis_code": segment.axis.code,
        "code": segment.code,
        "name": segment.display_name,
        "description": segment.description,
        "kind": segment.kind,
        "rule": segment.rule,
        "rule_text": selectors.segment_description(segment),
        "position": segment.position,
        "count": count,
        "rebuilt_at": segment.rebuilt_at,
    }


def axis_out(summary: selectors.AxisSummary) -> dict[str, Any]:
    axis = summary.axis
    return {
        "id": axis.pk,
        "code": axis.code,
        "name": axis.display_name,
        "description": axis.description,
        "exclusive": axis.exclusive,
        "position": axis.position,
        "is_active": axis.is_active,
        "segments": [segment_out(s.segment, s.count) for s in summary.segments],
    }


def _axis_summary(user: Any, axis: Axis) -> selectors.AxisSummary:
    for summary in selectors.axis_list(viewer=user, include_inactive=True):
        if summary.axis.pk == axis.pk:
            return summary
    return selectors.AxisSummary(axis=axis, segments=[])


def run_out(run: RebuildRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "segments_total": run.segments_total,
        "segments_done": run.segments_done,
        "percent": run.percent,
        "rows_added": run.rows_added,
        "rows_removed": run.rows_removed,
        "seconds": run.seconds,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
    }


# --- rule fields --------------------------------------------------------------------------------


@router.get("/rules/fields", response={200: list[RuleFieldOut], **ERRORS})
def rule_fields(request: HttpRequest, level: rules.Level = "organisation") -> Any:
    """The fields a rule may test at `level`, with their operators and choices."""
    if access.role_of(viewer(request)) is None:
        return []
    return [
        {
            "name": f.name,
            "label": f.label_text,
            "kind": f.kind,
            "operators": list(rules.OPERATORS[f.kind]),
            "choices": [{"value": v, "label": label} for v, label in f.choice_list()],
            "help": str(f.help or ""),
        }
        for f in rules.fields_for(level)
    ]


# --- axes ---------------------------------------------------------------------------------------


@router.get("/axes", response={200: list[AxisOut], **ERRORS})
def list_axes(request: HttpRequest, include_inactive: bool = False) -> Any:
    """Every axis in order, with its segments and the members of each the caller may see."""
    summaries = selectors.axis_list(viewer=viewer(request), include_inactive=include_inactive)
    return [axis_out(s) for s in summaries]


@router.post("/axes", response={201: AxisOut, **WRITE_ERRORS})
def create_axis(request: HttpRequest, payload: AxisIn) -> Any:
    axis = services.axis_create(actor=viewer(request), channel=Channel.API, data=payload.data())
    return Status(201, axis_out(selectors.AxisSummary(axis=axis, segments=[])))


@router.get("/axes/{pk}", response={200: AxisOut, **ERRORS})
def get_axis(request: HttpRequest, pk: Path[Id]) -> Any:
    user = viewer(request)
    return axis_out(_axis_summary(user, selectors.axis_get(viewer=user, pk=pk)))


@router.patch("/axes/{pk}", response={200: AxisOut, **WRITE_ERRORS})
def update_axis(request: HttpRequest, pk: Path[Id], payload: AxisIn) -> Any:
    """Rename, reorder, (de)activate; changing `exclusive` recomputes its segments."""
    user = viewer(request)
    axis = services.axis_update(
        axis=selectors.axis_get(viewer=user, pk=pk),
        actor=user,
        channel=Channel.API,
        data=payload.data(),
    )
    return axis_out(_axis_summary(user, axis))


@router.delete("/axes/{pk}", response={204: None, **WRITE_ERRORS})
def delete_axis(request: HttpRequest, pk: Path[Id]) -> Any:
    """Delete an axis with its segments (refused while another axis's rule uses one)."""
    user = viewer(request)
    services.axis_delete(
        axis=selectors.axis_get(viewer=user, pk=pk), actor=user, channel=Channel.API
    )
    return Status(204, None)


# --- rebuilds (before /segments/{pk}: the paths share their first part) -------------------------


@router.post("/segments/rebuilds", response={202: RebuildRunOut, **WRITE_ERRORS})
def start_rebuild(request: HttpRequest, payload: RebuildIn) -> Any:
    """Recompute the rule segments' membership in the background (all of them, or `segments`
    and those that depend on them); poll the returned run for its progress."""
    ids = list(dict.fromkeys(payload.segments or []))
    known = set(Segment.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in known]
    if missing:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "segments",
                    _("no segment has the id %(ids)s") % {"ids": ", ".join(map(str, missing))},
                )
            ]
        )
    run = services.membership_rebuild_start(
        actor=viewer(request), channel=Channel.API, segment_ids=ids or None
    )
    return Status(202, run_out(run))


@router.get("/segments/rebuilds/{pk}", response={200: RebuildRunOut, **ERRORS})
def get_rebuild(request: HttpRequest, pk: Path[Id]) -> Any:
    return run_out(selectors.rebuild_run_get(viewer=viewer(request), pk=pk))


# --- segments -----------------------------------------------------------------------------------


@router.get("/segments", response={200: list[SegmentOut], **ERRORS})
def list_segments(request: HttpRequest, params: Query[SegmentQuery]) -> Any:
    """Segments of every axis (or of `axis`), in order, with the members the caller may see."""
    user = viewer(request)
    if access.role_of(user) is None:
        return []
    segments = list(Segment.objects.select_related("axis"))
    if params.axis is not None:
        segments = [s for s in segments if s.axis_id == params.axis]
    counts = selectors.segment_counts(viewer=user, segments=segments)
    return [segment_out(s, counts[s.pk]) for s in segments]


@router.post("/segments", response={201: SegmentOut, **WRITE_ERRORS})
def create_segment(request: HttpRequest, payload: SegmentCreateIn, background: bool = False) -> Any:
    """A segment by rule (members computed now, or in the background with `background=true`)
    or by hand (`kind` manual, members added with /segments/{pk}/members)."""
    user = viewer(request)
    data = payload.data()
    axis = Axis.objects.filter(pk=data.pop("axis")).first()
    if axis is None:
        raise ValidationFailed(errors=[FieldError("axis", _("no axis has this id"))])
    segment = services.segment_create(
        actor=user, channel=Channel.API, axis=axis, data=data, background=background
    )
    return Status(201, segment_out(segment, selectors.segment_count(viewer=user, segment=segment)))


@router.get("/segments/{pk}", response={200: SegmentOut, **ERRORS})
def get_segment(request: HttpRequest, pk: Path[Id]) -> Any:
    user = viewer(request)
    segment = selectors.segment_get(viewer=user, pk=pk)
    return segment_out(segment, selectors.segment_count(viewer=user, segment=segment))


@router.patch("/segments/{pk}", response={200: SegmentOut, **WRITE_ERRORS})
def update_segment(
    request: HttpRequest, pk: Path[Id], payload: SegmentPatch, background: bool = False
) -> Any:
    """Change the fields sent; `version` must be the one you read (409 if it moved since)."""
    user = viewer(request)
    data = payload.data()
    version = data.pop("version")
    segment = services.segment_update(
        segment=selectors.segment_get(viewer=user, pk=pk),
        actor=user,
        channel=Channel.API,
        data=data,
        expected_version=version,
        background=background,
    )
    return segment_out(segment, selectors.segment_count(viewer=user, segment=segment))


@router.delete("/segments/{pk}", response={204: None, **WRITE_ERRORS})
def delete_segment(request: HttpRequest, pk: Path[Id]) -> Any:
    user = viewer(request)
    services.segment_delete(
        segment=selectors.segment_get(viewer=user, pk=pk), actor=user, channel=Channel.API
    )
    return Status(204, None)


@router.get("/segments/{pk}/members", response={200: OrganisationPage, **ERRORS})
def segment_members(request: HttpRequest, pk: Path[Id], params: Query[MembersQuery]) -> Any:
    """The organisations of the segment the caller may see, by name (cursor pagination)."""
    user = viewer(request)
    segment = selectors.segment_get(viewer=user, pk=pk)
    members = (
        selectors.segment_members(viewer=user, segment=segment)
        .order_by("name_key", "id")
        .prefetch_related("installed_products")
    )
    return paginate(
        members,
        cursor=params.cursor,
        limit=params.limit,
        serialize=organisation_out,
        with_count=params.count,
    )


@router.post("/segments/{pk}/members", response={200: MembershipChangeOut, **WRITE_ERRORS})
def add_members(request: HttpRequest, pk: Path[Id], payload: MembersIn) -> Any:
    """Put organisations in a segment made by hand (in an exclusive axis, this takes them out
    of its other segments)."""
    user = viewer(request)
    diff = services.segment_add_members(
        segment=selectors.segment_get(viewer=user, pk=pk),
        actor=user,
        channel=Channel.API,
        organisation_ids=payload.organisations,
    )
    return _change_out(diff)


@router.post("/segments/{pk}/members/remove", response={200: MembershipChangeOut, **WRITE_ERRORS})
def remove_members(request: HttpRequest, pk: Path[Id], payload: MembersIn) -> Any:
    """Take organisations out of a segment made by hand."""
    user = viewer(request)
    diff = services.segment_remove_members(
        segment=selectors.segment_get(viewer=user, pk=pk),
        actor=user,
        channel=Channel.API,
        organisation_ids=payload.organisations,
    )
    return _change_out(diff)


def _change_out(diff: services.MembershipDiff) -> dict[str, int]:
    return {
        "added": sum(map(len, diff.added.values())),
        "removed": sum(map(len, diff.removed.values())),
    }
