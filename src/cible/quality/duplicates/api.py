"""REST endpoints of duplicates (/api/v1/duplicates): the queue, merges and their undo, bulk
merge, detection runs and a pre-flight check. Thin over the selectors and services."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, InputSchema, ListParams, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, NotFound, ValidationFailed
from cible.core.values import is_id
from cible.quality.duplicates import merge, scoring, selectors, services
from cible.quality.duplicates.entities import spec_for
from cible.quality.duplicates.models import (
    BulkMergeRun,
    DetectionRun,
    DuplicatePair,
    MergeRecord,
)

router = Router(tags=["duplicates"])

EntityName = Literal["organisation", "contact"]

# --- shapes -------------------------------------------------------------------------------------


class ReasonOut(Schema):
    code: str
    text: str
    weight: float


class PairOut(Schema):
    id: int
    entity: str
    record_a: int
    record_b: int
    score: float
    reasons: list[ReasonOut]
    status: str
    detected_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: int | None


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: str | None
    count: int | None = None


class FieldOut(Schema):
    field: str
    label: str
    a: str
    b: str
    differs: bool
    default: Literal["a", "b"]


class ComparisonOut(PairOut):
    versions: dict[str, int]
    default_survivor: int
    fields: list[FieldOut]


class PairQuery(ListParams):
    entity: EntityName = "organisation"
    status: Literal["open", "merged", "not_duplicate"] = "open"
    band: Literal["high", "likely", "possible"] | None = None
    min_score: float | None = Field(None, ge=0, le=1)
    owner: Id | None = Field(None, description="Pairs where this user owns either record.")


class MergeIn(InputSchema):
    survivor: Id | None = Field(
        None, description="Id of the record kept (default: the more complete one)."
    )
    values: dict[str, Literal["survivor", "loser"]] | None = Field(
        None, description="Per field, whose value is kept (default: filled, then most recent)."
    )
    versions: dict[str, int] | None = Field(
        None, description="Record id -> the version you compared; 409 if either moved since."
    )


class MergeOut(Schema):
    id: int
    entity: str
    survivor_id: int
    loser_id: int
    values: dict[str, str]
    moved: int
    merged_at: dt.datetime
    undone_at: dt.datetime | None
    channel: str


class BulkMergeIn(InputSchema):
    entity: EntityName = "organisation"
    threshold: float | str = Field(..., description="Minimum score, 0.5 to 1 (or 50 to 100).")
    dry_run: bool = Field(False, description="Only count the pairs that would be merged.")


class BulkPreviewOut(Schema):
    entity: str
    threshold: float
    count: int


class BulkRunOut(Schema):
    id: int
    entity: str
    threshold: float
    status: str
    total: int
    merged: int
    skipped: int
    failed: int
    errors: list[dict[str, Any]]
    created_at: dt.datetime
    finished_at: dt.datetime | None


class DetectIn(InputSchema):
    entity: EntityName = "organisation"


class DetectionOut(Schema):
    id: int
    entity: str
    status: str
    records: int
    candidates: int
    pairs: int
    new_pairs: int
    seconds: float
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


# --- serialisers --------------------------------------------------------------------------------


def reasons_out(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": r.get("code", ""),
            "text": scoring.describe(r),
            "weight": float(r.get("weight", 0)),
        }
        for r in reasons
    ]


def pair_out(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "entity": pair.entity,
        "record_a": pair.record_a,
        "record_b": pair.record_b,
        "score": pair.score,
        "reasons": reasons_out(pair.reasons),
        "status": pair.status,
        "detected_at": pair.detected_at,
        "decided_at": pair.decided_at,
        "decided_by": pair.decided_by_id,
    }


def merge_out(record: MergeRecord) -> dict[str, Any]:
    return {
        "id": record.pk,
        "entity": record.entity,
        "survivor_id": record.survivor_id,
        "loser_id": record.loser_id,
        "values": record.values,
        "moved": record.moved_count,
        "merged_at": record.merged_at,
        "undone_at": record.undone_at,
        "channel": record.channel,
    }


def run_out(run: BulkMergeRun) -> dict[str, Any]:
    return {
        name: getattr(run, name)
        for name in (
            "entity",
            "threshold",
            "status",
            "total",
            "merged",
            "skipped",
            "failed",
            "errors",
            "created_at",
            "finished_at",
        )
    } | {"id": run.pk}


def detection_out(run: DetectionRun) -> dict[str, Any]:
    return {
        name: getattr(run, name)
        for name in (
            "entity",
            "status",
            "records",
            "candidates",
            "pairs",
            "new_pairs",
            "seconds",
            "error",
            "created_at",
            "finished_at",
        )
    } | {"id": run.pk}


# --- pairs --------------------------------------------------------------------------------------


@router.get("/pairs", response={200: PairPage, **ERRORS})
def list_pairs(request: HttpRequest, params: Query[PairQuery]) -> Any:
    """Pairs of records you can both see, most likely first (the review queue)."""
    filters = selectors.parse_filters(params.model_dump(exclude_none=True))
    if filters.errors:
        raise ValidationFailed(errors=filters.errors)
    qs = selectors.pair_list(viewer=viewer(request), filters=filters)
    return paginate(
        qs, cursor=params.cursor, limit=params.limit, serialize=pair_out, with_count=params.count
    )


@router.get("/pairs/{pk}", response={200: ComparisonOut, **ERRORS})
def get_pair(request: HttpRequest, pk: Path[Id]) -> Any:
    """A pair with both records side by side and the values a merge keeps by default."""
    user = viewer(request)
    pair = selectors.pair_get(viewer=user, pk=pk)
    compared = selectors.comparison(viewer=user, pair=pair)
    survivor = compared.a if compared.survivor == "a" else compared.b
    return {
        **pair_out(pair),
        "versions": {str(r.pk): r.version for r in (compared.a, compared.b)},  # type: ignore[attr-defined]
        "default_survivor": survivor.pk,
        "fields": [
            {
                "field": row.name,
                "label": row.label,
                "a": row.value_a,
                "b": row.value_b,
                "differs": row.differs,
                "default": row.default,
            }
            for row in compared.rows
        ],
    }


def _versions(raw: dict[str, int] | None) -> dict[int, int]:
    versions = {}
    for key, value in (raw or {}).items():
        if not is_id(key):
            raise ValidationFailed(errors=[FieldError("versions", _("keys must be record ids"))])
        versions[int(key)] = value
    return versions


@router.post("/pairs/{pk}/merge", response={200: MergeOut, **WRITE_ERRORS})
def merge_pair(request: HttpRequest, pk: Path[Id], payload: MergeIn) -> Any:
    """Merge the two records: the loser's related records move to the survivor; undoable."""
    user = viewer(request)
    pair = selectors.pair_get(viewer=user, pk=pk)
    unknown = set(payload.values or {}) - {f.name for f in spec_for(pair.entity).fields}
    if unknown:
        raise ValidationFailed(
            errors=[
                FieldError(f"values.{name}", _("is not a field that can be merged"))
                for name in sorted(unknown)
            ]
        )
    record = merge.pair_merge(
        pair=pair,
        actor=user,
        channel=Channel.API,
        survivor_id=payload.survivor,
        choices=payload.values,
        versions=_versions(payload.versions),
    )
    return merge_out(record)


@router.post("/pairs/{pk}/not-duplicate", response={200: PairOut, **WRITE_ERRORS})
def not_duplicate(request: HttpRequest, pk: Path[Id]) -> Any:
    """Remember that the two records differ: the pair is never proposed again."""
    user = viewer(request)
    pair = selectors.pair_get(viewer=user, pk=pk)
    return pair_out(merge.pair_mark_not_duplicate(pair=pair, actor=user, channel=Channel.API))


# --- merges -------------------------------------------------------------------------------------


@router.get("/merges/{pk}", response={200: MergeOut, **ERRORS})
def get_merge(request: HttpRequest, pk: Path[Id]) -> Any:
    return merge_out(selectors.merge_get(viewer=viewer(request), pk=pk))


@router.post("/merges/{pk}/undo", response={200: MergeOut, **WRITE_ERRORS})
def undo_merge(request: HttpRequest, pk: Path[Id]) -> Any:
    """Restore the merged record (same id) and its related records; 409 if the record kept
    changed since the merge."""
    user = viewer(request)
    record = selectors.merge_get(viewer=user, pk=pk)
    merge.merge_undo(merge=record, actor=user, channel=Channel.API)
    record.refresh_from_db()
    return merge_out(record)


# --- bulk merge and detection -------------------------------------------------------------------


@router.post(
    "/bulk-merge",
    response={200: BulkPreviewOut, 202: BulkRunOut, **WRITE_ERRORS},
)
def bulk_merge(request: HttpRequest, payload: BulkMergeIn) -> Any:
    """Merge every open pair at or above `threshold` you may change, in the background (202);
    with `dry_run`, only count them (200)."""
    user = viewer(request)
    threshold = services.check_threshold(payload.threshold)
    if payload.dry_run:
        pairs = selectors.bulk_candidates(viewer=user, entity=payload.entity, threshold=threshold)
        return {"entity": payload.entity, "threshold": threshold, "count": len(pairs)}
    run = services.bulk_merge_start(
        entity=payload.entity, threshold=threshold, actor=user, channel=Channel.API, background=True
    )
    return Status(202, run_out(run))


@router.get("/bulk-merge/{pk}", response={200: BulkRunOut, **ERRORS})
def get_bulk_merge(request: HttpRequest, pk: Path[Id]) -> Any:
    return run_out(selectors.bulk_run_get(viewer=viewer(request), pk=pk))


@router.post("/detections", response={202: DetectionOut, **WRITE_ERRORS})
def start_detection(request: HttpRequest, payload: DetectIn) -> Any:
    """Detect duplicates over every record of the entity, in the background."""
    run = services.detection_start(
        entity=payload.entity, actor=viewer(request), channel=Channel.API, background=True
    )
    return Status(202, detection_out(run))


@router.get("/detections/{pk}", response={200: DetectionOut, **ERRORS})
def get_detection(request: HttpRequest, pk: Path[Id]) -> Any:
    run = DetectionRun.objects.filter(pk=pk).first()
    if run is None:
        raise NotFound(_("Not found, or not visible to you."))
    return detection_out(run)
