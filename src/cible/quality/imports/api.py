"""REST endpoints of imports: send a file, follow its run, start, cancel, fetch the error file.

Thin over the services and selectors: the same upload, mapping, dry run and import as the
wizard and `cible import`, with channel "api". A run is visible to whoever sent it and to
administrators (another user's run answers 404).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from cible.core.api_kit import ERRORS, WRITE_ERRORS, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import CibleError, FieldError, ValidationFailed
from cible.quality.imports import selectors, services
from cible.quality.imports.errorfile import message
from cible.quality.imports.models import ImportRun

router = Router(tags=["imports"])


class Counts(Schema):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class RunOut(Schema):
    uuid: uuid.UUID
    entity: str
    source: str
    filename: str
    format: str
    encoding: str
    delimiter: str
    columns: list[str]
    mapping: dict[str, str]
    key: str
    policy: str
    status: str
    progress: int
    rows_total: int
    rows_done: int
    rows_checked: int
    counts: Counts
    dry_run_counts: Counts
    changes: dict[str, int]
    error_message: str
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None = None
    count: int | None = None


class RejectionOut(Schema):
    row: int
    message: str
    errors: list[dict[str, str]]


class RunQuery(Schema):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


class RejectionQuery(Schema):
    dry_run: bool = False
    limit: int = Field(100, ge=1, le=1000)


def run_out(run: ImportRun) -> dict[str, Any]:
    return {
        "uuid": run.uuid,
        "entity": run.entity,
        "source": run.source,
        "filename": run.filename,
        "format": run.format,
        "encoding": run.encoding,
        "delimiter": run.delimiter,
        "columns": run.columns,
        "mapping": {c: f for c, f in (run.mapping or {}).items() if f},
        "key": run.key,
        "policy": run.policy,
        "status": run.status,
        "progress": run.progress,
        "rows_total": run.rows_total,
        "rows_done": run.rows_done,
        "rows_checked": run.rows_checked,
        "counts": run.counts or {},
        "dry_run_counts": run.dry_run_counts or {},
        "changes": {k: int(v) for k, v in (run.changes or {}).items()},
        "error_message": run.error_message,
        "cancel_requested": run.cancel_requested,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def _mapping(raw: str | None, run: ImportRun) -> dict[str, str | None]:
    if raw is None or not raw.strip():
        return dict(run.mapping)
    try:
        mapping = json.loads(raw)
    except ValueError as error:
        raise ValidationFailed(
            errors=[FieldError("mapping", _("is not valid JSON (%(error)s)") % {"error": error})]
        ) from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items()
    ):
        raise ValidationFailed(
            errors=[
                FieldError("mapping", _("must be a JSON object: column name → field name or null"))
            ]
        )
    return mapping


@router.get("/imports", response={200: RunPage, **ERRORS})
def list_imports(request: HttpRequest, params: Query[RunQuery]) -> Any:
    """Your imports (every import for an administrator), newest first."""
    return paginate(
        selectors.run_list(viewer(request)),
        cursor=params.cursor,
        limit=params.limit,
        serialize=run_out,
    )


@router.post("/imports", response={201: RunOut, **WRITE_ERRORS})
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    entity: Form[str],
    source: Form[str],
    mapping: Form[str | None] = None,
    key: Form[str | None] = None,
    policy: Form[str] = ImportRun.Policy.FILL_EMPTY,
    dry_run: Form[bool] = False,
) -> Any:
    """Send a CSV or XLSX file (multipart) and start its dry run (`dry_run=true`) or import.

    `mapping` is a JSON object `{"column": "field" or null}`; without it the suggested mapping
    is used (the source's last mapping, a Salesforce/HubSpot preset, or the header names).
    `key` chooses how existing records are found (`external_id`, `siren`, `siret`, `domain`,
    `email`), `policy` what happens to them (`fill_empty`, `overwrite`, `skip`). The work goes
    on in the background: poll `GET /imports/{uuid}`.
    """
    actor = viewer(request)
    run = services.upload(
        actor=actor,
        entity=entity,
        source=source,
        file=file,
        filename=file.name or "import.csv",
        channel=Channel.API,
    )
    try:
        services.configure(
            run, actor=actor, mapping=_mapping(mapping, run), key=key or run.key, policy=policy
        )
    except CibleError:
        services.discard(run, actor=actor)
        raise
    run = services.check(run, actor=actor) if dry_run else services.start(run, actor=actor)
    return Status(201, run_out(run))


@router.get("/imports/{run_id}", response={200: RunOut, **ERRORS})
def get_import(request: HttpRequest, run_id: uuid.UUID) -> Any:
    """The run's status, progress, counts and changes made by the normalisers."""
    return run_out(selectors.get_run(viewer(request), run_id))


@router.post("/imports/{run_id}/check", response={200: RunOut, **WRITE_ERRORS})
def check_import(request: HttpRequest, run_id: uuid.UUID) -> Any:
    """Run the dry run (again): `dry_run_counts` and the rejected rows, nothing written."""
    run = selectors.get_run(viewer(request), run_id)
    return run_out(services.check(run, actor=viewer(request)))


@router.post("/imports/{run_id}/start", response={200: RunOut, **WRITE_ERRORS})
def start_import(request: HttpRequest, run_id: uuid.UUID) -> Any:
    """Import (after a dry run), or resume a failed, cancelled or interrupted import after its
    last committed batch."""
    run = selectors.get_run(viewer(request), run_id)
    return run_out(services.start(run, actor=viewer(request)))


@router.post("/imports/{run_id}/cancel", response={200: RunOut, **WRITE_ERRORS})
def cancel_import(request: HttpRequest, run_id: uuid.UUID) -> Any:
    """Stop after the current batch; the batches already committed stay in."""
    run = selectors.get_run(viewer(request), run_id)
    return run_out(services.cancel(run, actor=viewer(request)))


@router.get("/imports/{run_id}/rejections", response={200: list[RejectionOut], **ERRORS})
def list_rejections(request: HttpRequest, run_id: uuid.UUID, params: Query[RejectionQuery]) -> Any:
    """The rejected rows (of the dry run with `dry_run=true`) and why, by row number."""
    run = selectors.get_run(viewer(request), run_id)
    rows = selectors.rejections(run, dry_run=params.dry_run, limit=params.limit)
    return [{"row": r.row, "message": message(r.errors), "errors": r.errors} for r in rows]


@router.get(
    "/imports/{run_id}/errors",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {}}}}}
    },
)
def error_file(request: HttpRequest, run_id: uuid.UUID, dry_run: bool = False) -> Any:
    """The rejected rows as CSV: the original columns plus an "error" column; fix the cells
    and send the file again as it is."""
    run = selectors.get_run(viewer(request), run_id)
    filename, content = services.error_file(run, dry_run=dry_run)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
