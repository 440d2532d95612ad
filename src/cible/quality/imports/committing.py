"""One batch matched and committed in one transaction, or, in the dry run, matched and counted.

The real run commits, in one transaction per batch, its records, its external keys, its rejected
rows, an `ImportBatch` naming the rows it covered, the run's counters and one audit entry: a
crash or a kill in the middle of a batch leaves nothing of that batch. Kept apart from the batch
loop (`pipeline.py`), which decides what runs next, because this is the part that must hold
together under a lock: everything a batch writes is here, in the order it is written.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import polars as pl
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core.errors import CibleError, FieldError
from cible.quality.imports import extras
from cible.quality.imports.bulkload import IndexPlan, WrittenRecords
from cible.quality.imports.decisions import Plan
from cible.quality.imports.matching import Matcher
from cible.quality.imports.models import ImportBatch, ImportRun, source_key
from cible.quality.imports.preparing import Timings
from cible.quality.imports.reading import ROW
from cible.quality.imports.writing import (
    announce_opt_outs,
    apply_updates,
    audit_batch,
    insert_creates,
    insert_rejections,
    invalidate_quality,
    record_keys,
    reserve_ids,
)


class ConcurrentRun(CibleError):
    status_code = 409


def counts_of(counts: Counter[str]) -> dict[str, int]:
    """The four outcomes of a run, zeros included, as the run stores them."""
    return {k: int(counts.get(k, 0)) for k in ("created", "updated", "unchanged", "rejected")}


def seconds(timings: Timings) -> dict[str, float]:
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


def check_batch(
    run: ImportRun,
    matcher: Matcher,
    frame: pl.DataFrame,
    errors: dict[int, list[FieldError]],
    rows: list[int],
    values: list[dict[str, Any]],
    timings: Timings,
    create_errors: dict[int, list[FieldError]],
) -> Counter[str]:
    """The dry run of one batch: its plan counted and its rejections kept, no record written."""
    began = time.perf_counter()
    plan, _matched = matcher.plan(rows, values, lock=False, create_errors=create_errors)
    timings["match"] += time.perf_counter() - began
    return _settle(run, matcher, frame, plan, errors, dry_run=True)


def _settle(
    run: ImportRun,
    matcher: Matcher,
    frame: pl.DataFrame,
    plan: Plan,
    errors: dict[int, list[FieldError]],
    *,
    dry_run: bool,
) -> Counter[str]:
    """Keep the batch's rejected rows (with their original cells) and count its outcome."""
    rejected = _rejections(plan, errors)
    insert_rejections(
        run,
        rejected,
        _cells(frame, run.columns, set(rejected)),
        field_column=matcher.field_column,
        dry_run=dry_run,
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


def write_batch(
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
    """Match and write one batch in one transaction; its outcome (the run's counters saved)."""
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
            insert_creates(
                model,
                matcher.create_columns,
                plan.creates,
                ids,
                defaults=matcher.decisions.create_defaults,
            )
            matcher.remember_created(plan.creates, ids)
        if plan.updates:
            apply_updates(model, plan.updates)
            invalidate_quality(model, plan.updates)
            announce_opt_outs(model, plan.updates)
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
        outcome = _settle(run, matcher, frame, plan, errors, dry_run=False)
        ImportBatch.objects.create(
            run=run, first_row=first_row, last_row=last_row, **counts_of(outcome)
        )
        total = counts + outcome
        ImportRun.objects.filter(pk=run.pk).update(
            rows_done=done,
            counts=counts_of(total),
            changes=dict(changes),
            change_samples=samples,
            timings=seconds(timings),
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
