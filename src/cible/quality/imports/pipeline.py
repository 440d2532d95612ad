"""The batch loop of a run: read → normalise → match → write, one transaction per batch.

Each batch of the real run commits, in one transaction, its records, its external keys, its
rejected rows, an `ImportBatch` naming the rows it covered, the run's counters and one audit
entry. A crash or a kill in the middle of a batch leaves nothing of that batch; the next run of
`execute` starts after the last committed batch and, since rows are matched by key, rows of the
lost batch are written once. The dry run goes through the very same steps without writing.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cible.core.bulk import refresh_statistics
from cible.core.errors import CibleError, FieldError
from cible.lib.memory import no_cyclic_gc
from cible.people.hooks import records_bulk_written
from cible.quality.imports import extras, registry
from cible.quality.imports.bulkload import IndexPlan, WrittenRecords
from cible.quality.imports.columns import NormalisedBatch, normalise_batch
from cible.quality.imports.matching import Matcher, Plan
from cible.quality.imports.models import ImportBatch, ImportRun, source_key
from cible.quality.imports.reading import open_table, read_batches
from cible.quality.imports.writing import (
    apply_updates,
    audit_batch,
    insert_creates,
    insert_rejections,
    invalidate_quality,
    record_keys,
    reserve_ids,
)

DEFAULT_BATCH_ROWS = 50_000
REFRESH_AFTER = 10_000  # records created by a run before the planner's statistics are refreshed
ROW = "_row"
# An error file neutralises cells a spreadsheet would read as a formula with an apostrophe
# (core.csv_export): taken off again when such a file comes back.
_QUOTED = r"^'([=+\-@\t\r])"

logger = logging.getLogger(__name__)
Status = ImportRun.Status
Progress = Callable[[ImportRun], None]
Stop = Callable[[], bool]
Timings = defaultdict[str, float]  # seconds per phase: read, normalise, match, write


class ConcurrentRun(CibleError):
    status_code = 409


def batch_rows() -> int:
    return int(getattr(settings, "IMPORT_BATCH_ROWS", DEFAULT_BATCH_ROWS))


def _timed(iterator: Iterator[pl.DataFrame], timings: Timings) -> Iterator[pl.DataFrame]:
    while True:
        began = time.perf_counter()
        frame = next(iterator, None)
        timings["read"] += time.perf_counter() - began
        if frame is None:
            return
        yield frame


def _unquote(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).str.replace(_QUOTED, "${1}") for c in columns)


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
    frames = _timed(read_batches(table, batch_size=batch_rows(), start_row=start_row), timings)
    created_before = counts["created"]
    indexes = IndexPlan(entity, remaining=run.rows_total - start_row + 1)
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
    for prepared in _prepared(frames, entity, mapping, mapped_columns, blanks, timings):
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
            outcome = _check_batch(
                run, matcher, frame, errors, rows, values, timings, create_errors
            )
        else:
            outcome = _write_batch(
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
                dry_run_counts=_counts(counts),
                changes=dict(changes),
                change_samples=samples,
                timings=_seconds(timings),
                heartbeat_at=timezone.now(),
            )
        run.refresh_from_db()
        if progress is not None:
            progress(run)
        # The cyclic collector is off during the run (no_cyclic_gc): what the batch left in
        # cycles is freed here, once, instead of growing for a million rows.
        gc.collect(1)
    return False


@dataclass
class Prepared:
    """A batch read and normalised, ready to be matched and written."""

    frame: pl.DataFrame
    batch: NormalisedBatch
    errors: dict[int, list[FieldError]]  # rows rejected
    create_errors: dict[int, list[FieldError]]  # rows that may only update
    rows: list[int]  # the rows to match, and their values
    values: list[dict[str, Any]]
    first_row: int
    last_row: int


def _prepare(
    frame: pl.DataFrame,
    entity: registry.ImportableEntity,
    mapping: dict[str, str],
    mapped_columns: list[str],
    blanks: frozenset[str] = frozenset(),
) -> Prepared:
    """Normalise one batch: pure, no database (it runs beside the writes, below). The error
    file keeps the cells as they were (`frame`), blank literals included."""
    cells = extras.blank_out(_unquote(frame, mapped_columns), mapped_columns, blanks)
    batch = normalise_batch(entity, cells, mapping)
    errors, create_errors = split_errors(entity, frame, mapping, batch.errors)
    keep = [i for i, row in enumerate(batch.rows) if row not in errors]
    return Prepared(
        frame=frame,
        batch=batch,
        errors=errors,
        create_errors=create_errors,
        rows=[batch.rows[i] for i in keep],
        values=[batch.values[i] for i in keep],
        first_row=int(frame[ROW].min()),  # type: ignore[arg-type]
        last_row=int(frame[ROW].max()),  # type: ignore[arg-type]
    )


def _prepared(
    frames: Iterator[pl.DataFrame],
    entity: registry.ImportableEntity,
    mapping: dict[str, str],
    mapped_columns: list[str],
    blanks: frozenset[str],
    timings: Timings,
) -> Iterator[Prepared]:
    """The batches, each read and normalised in a thread while the previous one is matched and
    written: polars and the database driver release the GIL, so on two cores reading and
    normalising batch n + 1 mostly costs nothing beside the writes of batch n."""

    language = translation.get_language()  # thread-local: the messages of the run's language

    def next_batch() -> Prepared | None:
        with translation.override(language):
            while (frame := next(frames, None)) is not None:
                if frame.height:
                    began = time.perf_counter()
                    prepared = _prepare(frame, entity, mapping, mapped_columns, blanks)
                    timings["normalise"] += time.perf_counter() - began
                    return prepared
        return None

    timings["read"] += 0.0  # both keys exist before the thread adds to them
    timings["normalise"] += 0.0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as pool:
        pending = pool.submit(next_batch)
        try:
            while True:
                began = time.perf_counter()
                prepared = pending.result()
                timings["wait"] += time.perf_counter() - began
                if prepared is None:
                    return
                pending = pool.submit(next_batch)
                yield prepared
        finally:
            pending.cancel()  # a cancel or an error: at most the batch under way is finished


def _save_timings(run: ImportRun, timings: Timings) -> None:
    ImportRun.objects.filter(pk=run.pk).update(timings=_seconds(timings))


def _refresh_statistics(matcher: Matcher, created: int, timings: Timings) -> None:
    """After a big load the planner's statistics are stale: list pages and counts would plan
    against an almost empty table."""
    if created >= REFRESH_AFTER:
        began = time.perf_counter()
        refresh_statistics(matcher.model)
        timings["statistics"] += time.perf_counter() - began


def split_errors(
    entity: Any,
    frame: pl.DataFrame,
    mapping: dict[str, str],
    errors: dict[int, list[FieldError]],
) -> tuple[dict[int, list[FieldError]], dict[int, list[FieldError]]]:
    """(rows rejected, rows that may only update): an error on a field whose cell is empty or
    not in the file ("legal name is required") stops a row from creating a record, not from
    completing an existing one — a file of SIRENs and phone numbers updates what it finds."""
    if not errors:
        return {}, {}
    column_of = {target: column for column, target in mapping.items()}
    columns = sorted({c for errs in errors.values() for e in errs if (c := column_of.get(e.field))})
    picked = frame.filter(pl.col(ROW).is_in(sorted(errors))).select(ROW, *columns)
    cells = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in picked.iter_rows()}
    rejected: dict[int, list[FieldError]] = {}
    create_only: dict[int, list[FieldError]] = {}
    for row, found in errors.items():

        def blank(error: FieldError, row: int = row) -> bool:
            column = column_of.get(error.field)
            cell = cells.get(row, {}).get(column) if column else None
            return error.field in entity.specs and (cell is None or not str(cell).strip())

        if all(blank(error) for error in found):
            create_only[row] = found
        else:
            rejected[row] = found
    return rejected, create_only


def _counts(counts: Counter[str]) -> dict[str, int]:
    return {k: int(counts.get(k, 0)) for k in ("created", "updated", "unchanged", "rejected")}


def _seconds(timings: Timings) -> dict[str, float]:
    return {k: round(v, 3) for k, v in timings.items()}


def _rejections(plan: Plan, errors: dict[int, list[FieldError]]) -> dict[int, list[FieldError]]:
    rejected = {row: list(errs) for row, errs in errors.items()}
    for row, errs in plan.rejected.items():
        rejected.setdefault(row, []).extend(errs)
    return rejected


def _cells(frame: pl.DataFrame, columns: list[str], rows: set[int]) -> dict[int, tuple]:
    if not rows:
        return {}
    picked = frame.filter(pl.col(ROW).is_in(sorted(rows))).select(ROW, *columns)
    return {row[0]: row[1:] for row in picked.iter_rows()}


def _check_batch(
    run: ImportRun,
    matcher: Matcher,
    frame: pl.DataFrame,
    errors: dict[int, list[FieldError]],
    rows: list[int],
    values: list[dict[str, Any]],
    timings: Timings,
    create_errors: dict[int, list[FieldError]],
) -> Counter[str]:
    began = time.perf_counter()
    plan, _matched = matcher.plan(rows, values, lock=False, create_errors=create_errors)
    timings["match"] += time.perf_counter() - began
    rejected = _rejections(plan, errors)
    insert_rejections(
        run,
        rejected,
        _cells(frame, run.columns, set(rejected)),
        field_column=matcher.field_column,
        dry_run=True,
    )
    return Counter(
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=len(plan.unchanged),
        rejected=len(rejected),
    )


def _lock_run(run: ImportRun, first_row: int) -> None:
    """Inside the batch's transaction: make sure no other worker committed these rows."""
    if connection.vendor == "postgresql":
        ImportRun.objects.select_for_update().filter(pk=run.pk).values_list("pk").first()
    if ImportBatch.objects.filter(run=run, last_row__gte=first_row).exists():
        raise ConcurrentRun(
            _(
                "Rows from %(row)s on were imported by another worker meanwhile: this one "
                "stops, the other goes on."
            )
            % {"row": first_row}
        )


def _write_batch(
    run: ImportRun,
    matcher: Matcher,
    actor: Any,
    frame: pl.DataFrame,
    errors: dict[int, list[FieldError]],
    rows: list[int],
    values: list[dict[str, Any]],
    timings: Timings,
    create_errors: dict[int, list[FieldError]],
    *,
    indexes: IndexPlan,
    written: WrittenRecords,
    first_row: int,
    last_row: int,
    done: int,
    counts: Counter[str],
    changes: Counter[str],
    samples: dict[str, Any],
) -> Counter[str]:
    model = matcher.model
    with transaction.atomic():
        began = time.perf_counter()
        _lock_run(run, first_row)
        plan, _matched = matcher.plan(rows, values, lock=True, create_errors=create_errors)
        timings["match"] += time.perf_counter() - began
        began = time.perf_counter()
        indexes.before_writing(creates=len(plan.creates), rows=len(rows) + len(errors))
        ids = reserve_ids(model, len(plan.creates))
        if plan.creates:
            insert_creates(model, matcher.create_columns, plan.creates, ids)
            matcher.remember_created(plan.creates, ids)
        if plan.updates:
            apply_updates(model, plan.updates)
            invalidate_quality(model, plan.updates)
        keys = [*plan.new_keys]
        keys += [
            (c.external_id, pk) for c, pk in zip(plan.creates, ids, strict=True) if c.external_id
        ]
        if keys or plan.stale_keys:
            record_keys(
                entity=matcher.entity.name,
                source=source_key(run.source),
                pairs=keys,
                stale=plan.stale_keys,
            )
        if matcher.entity.after_write is not None and (plan.creates or plan.updates):
            matcher.entity.after_write(
                extras.Written(
                    run=run,
                    actor=actor,
                    created=[(pk, c.values) for c, pk in zip(plan.creates, ids, strict=True)],
                    updated=[(u.id, u.values, u.previous) for u in plan.updates],
                )
            )
        timings["write"] += time.perf_counter() - began
        rejected = _rejections(plan, errors)
        insert_rejections(
            run,
            rejected,
            _cells(frame, run.columns, set(rejected)),
            field_column=matcher.field_column,
            dry_run=False,
        )
        outcome = Counter(
            created=len(plan.creates),
            updated=len(plan.updates),
            unchanged=len(plan.unchanged),
            rejected=len(rejected),
        )
        ImportBatch.objects.create(
            run=run, first_row=first_row, last_row=last_row, **_counts(outcome)
        )
        total = counts + outcome
        ImportRun.objects.filter(pk=run.pk).update(
            rows_done=done,
            counts=_counts(total),
            changes=dict(changes),
            change_samples=samples,
            timings=_seconds(timings),
            heartbeat_at=timezone.now(),
        )
        audit_batch(
            actor=actor,
            run=run,
            model=model,
            first_row=first_row,
            last_row=last_row,
            created=ids,
            updated=[u.id for u in plan.updates],
        )
        began = time.perf_counter()  # leaving the block commits: the pages of every index
    timings["commit"] += time.perf_counter() - began
    written.add(ids)
    written.add(u.id for u in plan.updates)
    return outcome


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
