"""The run of an import: the loop over its batches, and the workers that start and end it.

Each batch is read and normalised in a thread (`preparing.py`) while the previous one is matched
and written in its own transaction (`committing.py`). A crash or a kill in the middle of a batch
leaves nothing of that batch; the next run of `execute` starts after the last committed batch
and, since rows are matched by key, rows of the lost batch are written once. The dry run goes
through the very same steps without writing. The workers (`run_check`, `run_import`, for the
Huey tasks and the command line) move the run's status around `execute` and never raise for a
failed run.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core.bulk import refresh_statistics
from cible.core.errors import CibleError
from cible.lib.memory import no_cyclic_gc
from cible.people.hooks import records_bulk_written
from cible.quality.imports import extras, registry
from cible.quality.imports.bulkload import IndexPlan, WrittenRecords
from cible.quality.imports.committing import check_batch, counts_of, seconds, write_batch
from cible.quality.imports.matching import Matcher
from cible.quality.imports.models import ImportBatch, ImportRun
from cible.quality.imports.preparing import Timings, prepared_batches, timed
from cible.quality.imports.reading import open_table, read_batches

DEFAULT_BATCH_ROWS = 50_000
REFRESH_AFTER = 10_000  # records created by a run before the planner's statistics are refreshed

logger = logging.getLogger(__name__)
Status = ImportRun.Status
Progress = Callable[[ImportRun], None]
Stop = Callable[[], bool]


def batch_rows() -> int:
    return int(getattr(settings, "IMPORT_BATCH_ROWS", DEFAULT_BATCH_ROWS))


def _cancel_requested(run: ImportRun) -> bool:
    return bool(
        ImportRun.objects.filter(pk=run.pk).values_list("cancel_requested", flat=True).first()
    )


def execute(
    run: ImportRun,
    *,
    actor: Any,
    dry_run: bool,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> bool:
    """Run the pass over the file; True if it stopped because a cancel was asked for (by
    `services.cancel`, or by `stop()`, e.g. Ctrl-C in the command line)."""
    entity = registry.get(run.entity)
    if entity is None:
        raise CibleError(_("This kind of record can no longer be imported."))
    if not run.stored_path or not run.stored_file.is_file():
        raise CibleError(
            _(
                "The uploaded file of this import is no longer kept (deleted after the retention "
                "period, or because it held the data of a person who was erased): upload the "
                "file again to import it."
            )
        )
    table = open_table(run.stored_file, filename=run.filename)
    if table.columns != run.columns:
        raise CibleError(_("The stored file no longer has the columns it was uploaded with."))
    matcher = Matcher(entity=entity, run=run, actor=actor, dry_run=dry_run)
    mapping = {column: field for column, field in run.mapping.items() if field}
    mapped_columns = list(mapping)
    blanks = extras.blank_literals(entity, run.columns)  # "Select" in an X Education export
    start_row = 1 if dry_run else committed_rows(run) + 1
    timings: Timings = defaultdict(float, {} if dry_run else (run.timings or {}))
    counts: Counter[str] = Counter() if dry_run else Counter(run.counts or {})
    changes: Counter[str] = Counter(run.changes or {}) if start_row > 1 else Counter()
    samples: dict[str, Any] = dict(run.change_samples or {}) if start_row > 1 else {}
    done = 0 if dry_run else run.rows_done
    frames = timed(read_batches(table, batch_size=batch_rows(), start_row=start_row), timings)
    created_before = counts["created"]
    indexes = IndexPlan(entity, remaining=run.rows_total - start_row + 1, reads=matcher.reads)
    written = WrittenRecords()
    if not dry_run:
        indexes.restore(timings)  # left aside by a run that was killed
    # Matching and writing allocate a dict per row too.
    try:
        with no_cyclic_gc():
            cancelled = _batches(
                run,
                frames,
                matcher,
                actor,
                entity,
                mapping,
                mapped_columns,
                blanks,
                indexes,
                written,
                dry_run=dry_run,
                stop=stop,
                progress=progress,
                done=done,
                timings=timings,
                counts=counts,
                changes=changes,
                samples=samples,
            )
    finally:
        if indexes.suspended:
            indexes.restore(timings)
        if written.any:  # whole batches committed, whatever stopped the run
            _announce(entity, written, actor)
    _refresh_statistics(matcher, counts["created"] - created_before, timings)
    _save_timings(run, timings)
    return cancelled


def _announce(entity: registry.ImportableEntity, written: WrittenRecords, actor: Any) -> None:
    """Segments and fit scores follow the records written. Their failure must not mark the
    import failed (its rows are in); a rebuild or the nightly run catches up."""
    try:
        records_bulk_written(model=entity.model, ids=written.ids, actor=actor, channel="import")
    except Exception:
        logger.exception("records written by an import were not announced")


def _batches(
    run: ImportRun,
    frames: Iterator[pl.DataFrame],
    matcher: Matcher,
    actor: Any,
    entity: registry.ImportableEntity,
    mapping: dict[str, str],
    mapped_columns: list[str],
    blanks: frozenset[str],
    indexes: IndexPlan,
    written: WrittenRecords,
    *,
    dry_run: bool,
    stop: Stop | None,
    progress: Progress | None,
    done: int,
    timings: Timings,
    counts: Counter[str],
    changes: Counter[str],
    samples: dict[str, Any],
) -> bool:
    """The loop over the batches; True if it stopped on a cancel (counts updated in place)."""
    for prepared in prepared_batches(frames, entity, mapping, mapped_columns, blanks, timings):
        if (stop is not None and stop()) or _cancel_requested(run):
            return True
        frame, batch = prepared.frame, prepared.batch
        errors, create_errors = prepared.errors, prepared.create_errors
        rows, values = prepared.rows, prepared.values
        first_row, last_row = prepared.first_row, prepared.last_row
        changes.update(batch.changes)
        for name, pair in batch.change_samples.items():
            samples.setdefault(name, [str(part) for part in pair])
        if dry_run:
            outcome = check_batch(run, matcher, frame, errors, rows, values, timings, create_errors)
        else:
            outcome = write_batch(
                run,
                matcher,
                actor,
                frame,
                errors,
                rows,
                values,
                timings,
                create_errors,
                indexes=indexes,
                written=written,
                first_row=first_row,
                last_row=last_row,
                done=done + frame.height,
                counts=counts,
                changes=changes,
                samples=samples,
            )
        counts.update(outcome)
        done += frame.height
        if dry_run:
            ImportRun.objects.filter(pk=run.pk).update(
                rows_checked=done,
                dry_run_counts=counts_of(counts),
                changes=dict(changes),
                change_samples=samples,
                timings=seconds(timings),
                heartbeat_at=timezone.now(),
            )
        run.refresh_from_db()
        if progress is not None:
            progress(run)
        # The cyclic collector is off during the run (no_cyclic_gc): what the batch left in
        # cycles is freed here, once, instead of growing for a million rows.
        gc.collect(1)
    return False


def _save_timings(run: ImportRun, timings: Timings) -> None:
    ImportRun.objects.filter(pk=run.pk).update(timings=seconds(timings))


def _refresh_statistics(matcher: Matcher, created: int, timings: Timings) -> None:
    """After a big load the planner's statistics are stale: list pages and counts would plan
    against an almost empty table."""
    if created >= REFRESH_AFTER:
        began = time.perf_counter()
        refresh_statistics(matcher.model)
        timings["statistics"] += time.perf_counter() - began


# --- the workers (Huey tasks and the command line) ----------------------------------------------


def _actor(actor_id: int | None, run: ImportRun) -> Any:
    pk = actor_id or run.created_by_id
    return get_user_model().objects.filter(pk=pk).first() if pk is not None else None


def run_check(
    run_id: int,
    *,
    actor_id: int | None,
    progress: Progress | None = None,
    stop: Stop | None = None,
) -> ImportRun:
    """Execute the dry run of a run in status CHECKING; never raises for a failed run."""
    return _execute_run(run_id, dry_run=True, actor_id=actor_id, progress=progress, stop=stop)


def run_import(
    run_id: int,
    *,
    actor_id: int | None,
    progress: Progress | None = None,
    stop: Stop | None = None,
) -> ImportRun:
    """Execute (or resume) the import of a run in status RUNNING; never raises for a failed
    run, except KeyboardInterrupt, re-raised once the run is marked cancelled."""
    return _execute_run(run_id, dry_run=False, actor_id=actor_id, progress=progress, stop=stop)


def _execute_run(
    run_id: int,
    *,
    dry_run: bool,
    actor_id: int | None,
    progress: Progress | None,
    stop: Stop | None,
) -> ImportRun:
    run = ImportRun.objects.get(pk=run_id)
    if run.status != (Status.CHECKING if dry_run else Status.RUNNING):
        return run
    try:
        cancelled = execute(
            run, actor=_actor(actor_id, run), dry_run=dry_run, progress=progress, stop=stop
        )
    except BaseException as error:
        _failed(run, error, dry_run=dry_run)
        if not isinstance(error, Exception):
            raise
        return ImportRun.objects.get(pk=run_id)
    if dry_run:
        ImportRun.objects.filter(pk=run_id, status=Status.CHECKING).update(
            status=Status.MAPPED if cancelled else Status.CHECKED,
            cancel_requested=False,
            heartbeat_at=timezone.now(),
        )
    else:
        ImportRun.objects.filter(pk=run_id).update(
            status=Status.CANCELLED if cancelled else Status.DONE,
            finished_at=timezone.now(),
            cancel_requested=False,
        )
    return ImportRun.objects.get(pk=run_id)


def _failed(run: ImportRun, error: BaseException, *, dry_run: bool) -> None:
    if isinstance(error, KeyboardInterrupt):
        status, message = (Status.MAPPED if dry_run else Status.CANCELLED), ""
    elif isinstance(error, CibleError):
        status, message = Status.FAILED, str(error)
    else:
        logger.exception("Import %s failed", run.uuid)
        status = Status.FAILED
        message = _(
            "The import stopped on an unexpected error (%(error)s). The rows of the batches "
            "already committed are in; start it again to continue after them."
        ) % {"error": f"{type(error).__name__}: {error}"[:500]}
    if dry_run and status == Status.FAILED:
        message = message or _("The check stopped on an unexpected error.")
    ImportRun.objects.filter(pk=run.pk).update(
        status=status,
        error_message=message,
        finished_at=None if dry_run else timezone.now(),
        cancel_requested=False,
    )


def committed_rows(run: ImportRun) -> int:
    """The last row of the file that went in (0 if none)."""
    last = (
        ImportBatch.objects.filter(run=run).order_by("-last_row").values_list("last_row", flat=True)
    )
    return last.first() or 0
