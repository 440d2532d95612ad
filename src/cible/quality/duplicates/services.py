"""Starting detection and bulk merges, in the foreground or in the background.

The UI and the API ask for a run and get its record at once (a task does the work and the page
polls the record); the CLI runs the same services in the foreground with a progress line.
Decisions on single pairs (merge, not a duplicate, undo) live in `merge`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.quality.duplicates import detect, merge, selectors
from cible.quality.duplicates.entities import ENTITIES
from cible.quality.duplicates.models import BulkMergeRun, DetectionRun, RunStatus

# Up to this many pairs a bulk merge runs within the request; more go to the background.
FOREGROUND_LIMIT = 50
STALE_AFTER = dt.timedelta(hours=1)
# The score proposed for a bulk merge: above it, detection makes (almost) no mistake.
BULK_THRESHOLD = 0.97


def _check_entity(entity: str) -> None:
    if entity not in ENTITIES:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "entity", _("must be one of: %(names)s") % {"names": ", ".join(ENTITIES)}
                )
            ]
        )


def check_threshold(raw: Any) -> float:
    """A merge threshold from input ("0.95", "95 %", 0.95): a share between 0.5 and 1."""
    text = str(raw if raw is not None else "").strip().replace(",", ".").replace("%", "").strip()
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value > 1:
        value /= 100
    if not 0.5 <= value <= 1:
        raise ValidationFailed(
            errors=[
                FieldError("threshold", _("must be a score between 0.5 and 1 (or 50 to 100 %)"))
            ]
        )
    return value


def detection_start(
    *, entity: str, actor: Any, channel: str, background: bool = True
) -> DetectionRun:
    """Ask for a detection run over every `entity` record."""
    _check_entity(entity)
    if not access.can(actor, "change"):
        raise PermissionDenied(_("You may not run duplicate detection."))
    unfinished = DetectionRun.objects.filter(
        entity=entity, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    )
    # A run still unfinished after an hour died with its worker: it must not block the next.
    unfinished.filter(created_at__lt=timezone.now() - STALE_AFTER).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=_("Interrupted: the background worker stopped before the end."),
    )
    running = unfinished.first()
    if running is not None:
        return running  # one at a time per entity: a second click joins the first run
    run = DetectionRun.objects.create(
        entity=entity, channel=channel, started_by=actor if getattr(actor, "pk", None) else None
    )
    if background:
        from cible.quality.duplicates.tasks import detection_task

        detection_task(run.pk)
        run.refresh_from_db()
    else:
        run = detection_execute(run_id=run.pk)
    return run


def detection_execute(
    *, run_id: int, progress: Callable[[str], None] | None = None
) -> DetectionRun:
    run = DetectionRun.objects.get(pk=run_id)
    return detect.run_detection(entity=run.entity, run=run, progress=progress)


def bulk_merge_start(
    *,
    entity: str,
    threshold: Any,
    actor: Any,
    channel: str,
    background: bool | None = None,
    progress: merge.ProgressCallback | None = None,
) -> BulkMergeRun:
    """Merge every open pair at or above `threshold` that `actor` may change: at once when there
    are few (or `background=False`), else in a background task; returns the run."""
    _check_entity(entity)
    value = check_threshold(threshold)
    if not access.can(actor, "change"):
        raise PermissionDenied(_("You may not merge records."))
    pairs = selectors.bulk_candidates(viewer=actor, entity=entity, threshold=value)
    run = BulkMergeRun.objects.create(
        entity=entity,
        threshold=value,
        channel=channel,
        started_by=actor if getattr(actor, "pk", None) else None,
        total=len(pairs),
    )
    if background is None:
        background = len(pairs) > FOREGROUND_LIMIT
    if background:
        from cible.quality.duplicates.tasks import bulk_merge_task

        bulk_merge_task(run.pk, getattr(actor, "pk", None))
        run.refresh_from_db()
        return run
    return merge.bulk_merge(run=run, actor=actor, pairs=pairs, progress=progress)


def bulk_merge_execute(*, run_id: int, actor_id: int | None) -> BulkMergeRun:
    run = BulkMergeRun.objects.get(pk=run_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    if actor is None:
        BulkMergeRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    pairs = selectors.bulk_candidates(viewer=actor, entity=run.entity, threshold=run.threshold)
    return merge.bulk_merge(run=run, actor=actor, pairs=pairs)


def bulk_merge_cancel(*, run: BulkMergeRun, actor: Any) -> BulkMergeRun:
    if not (access.is_admin(actor) or run.started_by_id == getattr(actor, "pk", None)):
        raise PermissionDenied(_("Only the person who started this bulk merge may cancel it."))
    BulkMergeRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(cancel_requested=True)
    run.refresh_from_db()
    return run
