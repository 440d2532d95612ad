"""Fit scores in bulk, set-based (issue 5: every organisation of a 1,000,000 base in ≤ 30 s).

A full computation asks the database one question per criterion — the ids of the organisations
that meet it (`rules.to_q`) — and does the arithmetic over numpy arrays indexed by position in
the sorted list of all organisation ids: no Python loop over organisations, no per-row query.
It then compares the result with the profile's stored rows and writes only the difference —
usually a small one, since a nightly run finds most scores unchanged — or, when most rows
change (new criteria, first run), replaces them all through `core.bulk` (executemany on
SQLite, COPY on PostgreSQL). One short write transaction, one audit entry for the whole run.

The reads happen before the write transaction on purpose: SQLite takes its write lock at BEGIN
(settings: IMMEDIATE), and holding it through a million-row read would stall every other writer.
Organisations saved while the reads ran are re-scored at the end, inside the write transaction
(`updated_at` ≥ the start of the run). Changes that leave `updated_at` alone — a contact edited,
a product installed — are caught by their own refresh (receivers) and by the nightly run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from auditlog.models import LogEntry
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core.audit import Channel
from cible.core.bulk import bulk_insert, log_bulk, refresh_statistics
from cible.people.models import Organisation
from cible.segments.profiles.models import FitScore, IdealCustomerProfile, RunStatus, ScoringRun
from cible.segments.profiles.refresh import (
    CompiledCriteria,
    compile_criteria,
    criteria_of,
    criteria_signature,
    delete_scores,
    fit_scores_refresh_for,
)
from cible.segments.profiles.scoring import Criterion, fit_scores

Progress = Callable[[str], None]

# Below this many rows the planner's statistics are left to autovacuum / ANALYZE as usual.
STATISTICS_THRESHOLD = 10_000
# Scoring runs kept per profile (the pages show the last; older ones only show the trend).
KEEP_RUNS = 20
# When more than this share of the stored rows changed, replacing them all is cheaper than
# deleting the changed ones by id.
REPLACE_SHARE = 0.3
# A criterion id no longer in the profile: rows that still list it are rewritten.
_STALE_BIT = 1 << 40


@dataclass(frozen=True)
class ScoringResult:
    """What a full computation did: organisations scored, rows actually written."""

    profile_id: int
    rows: int
    written: int
    seconds: float
    run_id: int


class CriteriaChanged(Exception):
    """The profile's criteria changed while its scores were being computed: the rows computed
    under the old ones are not written (the change queued a run of its own)."""


# --- reading ids fast ----------------------------------------------------------------------------


def _sorted_unique(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """`np.unique` by sort and mask: numpy 2.4's `unique` takes seconds at a million values."""
    if len(ids) < 2:
        return ids
    ids = np.sort(ids)
    keep = np.empty(len(ids), dtype=np.bool_)
    keep[0] = True
    np.not_equal(ids[1:], ids[:-1], out=keep[1:])
    return ids[keep]


def _id_array(queryset: QuerySet[Any]) -> npt.NDArray[np.int64]:
    """The primary keys of `queryset` as a sorted, duplicate-free numpy array.

    Straight through the cursor: building a million Python model rows or tuples through the ORM
    costs seconds that the arithmetic does not need.
    """
    sql, params = queryset.values_list("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    # Rules over contacts or opportunities may join: one organisation can come back twice.
    return _sorted_unique(ids)


def _positions(
    all_ids: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Where each of `ids` sits in the sorted `all_ids`, and whether it is there at all."""
    if not len(all_ids):
        return np.zeros(len(ids), dtype=np.intp), np.zeros(len(ids), dtype=np.bool_)
    pos = np.clip(np.searchsorted(all_ids, ids), 0, len(all_ids) - 1)
    return pos, all_ids[pos] == ids


def _mask_over(all_ids: npt.NDArray[np.int64], ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """A mask over `all_ids` of the ids in `ids` (an id absent from `all_ids` is ignored)."""
    mask = np.zeros(len(all_ids), dtype=np.bool_)
    pos, found = _positions(all_ids, ids)
    mask[pos[found]] = True
    return mask


def _json_lists(masks: npt.NDArray[np.int64], criteria: Sequence[Criterion]) -> list[str]:
    """The `matched` JSON text of each row: computed once per combination of criteria met (few:
    at most 2 ** MAX_CRITERIA, in practice dozens), then looked up for every row."""
    if not len(masks):
        return []
    texts = {
        int(bits): json.dumps([c.id for k, c in enumerate(criteria) if int(bits) >> k & 1])
        for bits in np.flatnonzero(np.bincount(masks.astype(np.intp)))
    }
    return [texts[bits] for bits in masks.tolist()]


# --- the stored rows and the difference ----------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    ids: npt.NDArray[np.int64]  # sorted
    scores: npt.NDArray[np.int64]
    masks: npt.NDArray[np.int64]


def _stored(profile: IdealCustomerProfile, criteria: Sequence[Criterion], database: str) -> _Stored:
    """The profile's rows as arrays; `matched` as bit masks over the current criteria."""
    connection = connections[database]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('organisation_id')}, {quote('score')}, CAST({quote('matched')} AS TEXT) "
        f"FROM {quote(FitScore._meta.db_table)} WHERE {quote('profile_id')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [profile.pk])
        rows = cursor.fetchall()
    bit_of = {c.id: 1 << k for k, c in enumerate(criteria)}

    def mask_of(text: str) -> int:
        try:
            return sum(bit_of.get(i, _STALE_BIT) for i in set(json.loads(text)))
        except (TypeError, ValueError):
            return _STALE_BIT

    masks_by_text = {text: mask_of(text) for text in {row[2] for row in rows}}
    count = len(rows)
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=count)
    scores = np.fromiter((row[1] for row in rows), dtype=np.int64, count=count)
    masks = np.fromiter((masks_by_text[row[2]] for row in rows), dtype=np.int64, count=count)
    order = np.argsort(ids, kind="stable")
    return _Stored(ids=ids[order], scores=scores[order], masks=masks[order])


@dataclass(frozen=True)
class _Diff:
    write: npt.NDArray[np.bool_]  # over all_ids: rows to (re)write
    delete: npt.NDArray[np.int64]  # organisation ids whose stored row goes first
    replace: bool  # delete every row of the profile and write them all instead


def _difference(
    all_ids: npt.NDArray[np.int64],
    scores: npt.NDArray[np.int16],
    masks: npt.NDArray[np.int64],
    stored: _Stored,
) -> _Diff:
    pos, found = _positions(all_ids, stored.ids)
    same = found.copy()
    same[found] = (stored.scores[found] == scores[pos[found]]) & (
        stored.masks[found] == masks[pos[found]]
    )
    delete = stored.ids[~same]  # changed, or of an organisation no longer there
    if len(delete) > REPLACE_SHARE * max(len(stored.ids), 1):
        return _Diff(write=np.ones(len(all_ids), dtype=np.bool_), delete=delete, replace=True)
    write = np.ones(len(all_ids), dtype=np.bool_)
    write[pos[same]] = False
    return _Diff(write=write, delete=delete, replace=False)


# --- the full computation ------------------------------------------------------------------------


def fit_scores_compute(
    *,
    profile: IdealCustomerProfile,
    actor: Any = None,
    channel: str = Channel.JOB,
    progress: Progress | None = None,
) -> ScoringResult:
    """Recompute every organisation's fit to `profile`; writes the difference in one transaction.

    Idempotent. Records its progress in a `ScoringRun` and one audit entry for the whole run.
    """
    say = progress or (lambda message: None)
    started = timezone.now()
    clock = time.perf_counter()
    compiled = compile_criteria(criteria_of(profile))
    run = ScoringRun.objects.create(
        profile=profile, steps_total=len(compiled.criteria) + 2, started_at=started
    )

    def finish(status: str, **fields: Any) -> float:
        seconds = time.perf_counter() - clock
        ScoringRun.objects.filter(pk=run.pk).update(
            status=status, finished_at=timezone.now(), seconds=seconds, **fields
        )
        return seconds

    try:
        rows, written = _compute(
            profile, compiled, run=run, started=started, say=say, actor=actor, channel=channel
        )
    except CriteriaChanged as changed:
        seconds = finish(RunStatus.FAILED, error=str(changed))
        say(f"{profile.code}: {changed}")
        return ScoringResult(
            profile_id=profile.pk, rows=0, written=0, seconds=seconds, run_id=run.pk
        )
    except Exception as error:
        finish(RunStatus.FAILED, error=str(error)[:2000])
        raise
    seconds = finish(RunStatus.DONE, steps_done=run.steps_total, rows=rows)
    say(
        f"{profile.code}: {rows:,} organisations scored in {seconds:.1f} s "
        f"({written:,} rows written)"
    )
    _prune_runs(profile)
    return ScoringResult(
        profile_id=profile.pk, rows=rows, written=written, seconds=seconds, run_id=run.pk
    )


def _prune_runs(profile: IdealCustomerProfile) -> None:
    """Keep the last KEEP_RUNS runs of a profile (one a night adds up)."""
    old = ScoringRun.objects.filter(profile=profile).order_by("-started_at", "-id")[KEEP_RUNS:]
    ScoringRun.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()


def _step(run: ScoringRun, done: int) -> None:
    ScoringRun.objects.filter(pk=run.pk).update(steps_done=done)


def _compute(
    profile: IdealCustomerProfile,
    compiled: CompiledCriteria,
    *,
    run: ScoringRun,
    started: Any,
    say: Progress,
    actor: Any,
    channel: str,
) -> tuple[int, int]:
    """(organisations scored, rows written)."""
    organisations = Organisation.objects.all()
    all_ids = _id_array(organisations)
    say(f"{profile.code}: {len(all_ids):,} organisations")
    _step(run, 1)
    weights = np.zeros(len(all_ids), dtype=np.int32)
    masks = np.zeros(len(all_ids), dtype=np.int64)
    for k, (criterion, q) in enumerate(zip(compiled.criteria, compiled.filters, strict=True)):
        met = _mask_over(all_ids, _id_array(organisations.filter(q)))
        weights += met.astype(np.int32) * criterion.weight
        masks |= met.astype(np.int64) << k
        say(f"  {criterion.label}: {int(met.sum()):,} organisations")
        _step(run, k + 2)
    scores = fit_scores(weights, compiled.total_weight)
    database = router.db_for_write(FitScore)
    with transaction.atomic(using=database):
        _check_unchanged(profile, compiled)
        written = _write(profile, compiled, all_ids, scores, masks, database)
        rows = len(all_ids)
        # Deleted while we read: rows may have gone in for them (no constraint refuses them).
        # New organisations take higher ids, so a smaller count up to our highest id means a
        # deletion; then (rarely) one anti-join finds them.
        if rows and Organisation.objects.filter(pk__lte=int(all_ids[-1])).count() != rows:
            rows -= _delete_orphans(profile)
        # Saved while we read: score them again under the same lock as the rows just written.
        changed = Organisation.objects.filter(updated_at__gte=started).values_list("pk", flat=True)
        fit_scores_refresh_for(organisation_ids=list(changed), profiles=[profile], force=True)
        IdealCustomerProfile.objects.filter(pk=profile.pk).update(scored_at=timezone.now())
        log_bulk(
            actor=actor,
            channel=channel,
            model=FitScore,
            rows=written,
            action=LogEntry.Action.UPDATE,
            summary=f"fit scores of profile {profile.code}: {rows} organisations, "
            f"{written} rows written",
            details={"profile": profile.pk, "run": run.pk, "organisations": rows},
        )
    _step(run, run.steps_total)
    if written >= STATISTICS_THRESHOLD:
        refresh_statistics(FitScore, using=database)
    profile.scored_at = IdealCustomerProfile.objects.values_list("scored_at", flat=True).get(
        pk=profile.pk
    )
    return rows, written


def _check_unchanged(profile: IdealCustomerProfile, compiled: CompiledCriteria) -> None:
    """Inside the write transaction: the profile's row lock orders this write after any change
    of its criteria, which would make the scores just computed wrong."""
    if not IdealCustomerProfile.objects.select_for_update().filter(pk=profile.pk).exists():
        raise CriteriaChanged(_("The profile was deleted while its scores were computed."))
    if criteria_signature(criteria_of(profile)) != compiled.signature:
        raise CriteriaChanged(
            _(
                "The criteria changed while the scores were computed; the run queued by the "
                "change replaces this one."
            )
        )


def _write(
    profile: IdealCustomerProfile,
    compiled: CompiledCriteria,
    all_ids: npt.NDArray[np.int64],
    scores: npt.NDArray[np.int16],
    masks: npt.NDArray[np.int64],
    database: str,
) -> int:
    """Bring the stored rows to the computed scores; returns the rows written."""
    diff = _difference(all_ids, scores, masks, _stored(profile, compiled.criteria, database))
    if diff.replace:
        delete_scores(profile_ids=[profile.pk])
    else:
        delete_scores(profile_ids=[profile.pk], organisation_ids=diff.delete.tolist())
    chosen = np.flatnonzero(diff.write)
    return bulk_insert(
        FitScore,
        ["profile_id", "organisation_id", "score", "matched"],
        zip(
            repeat(profile.pk),
            all_ids[chosen].tolist(),
            scores[chosen].tolist(),
            _json_lists(masks[chosen], compiled.criteria),
            strict=False,
        ),
        using=database,
    )


def _delete_orphans(profile: IdealCustomerProfile) -> int:
    orphans = FitScore.objects.filter(profile=profile).exclude(
        organisation_id__in=Organisation.objects.values("pk")
    )
    return int(orphans.delete()[0])


# --- bulk writers --------------------------------------------------------------------------------

# Above this many organisations, a bulk writer's change is cheaper to absorb by full runs.
BULK_RECOMPUTE_THRESHOLD = 50_000


def fit_scores_after_bulk(
    *,
    organisation_ids: Collection[int] | None,
    actor: Any = None,
    channel: str = Channel.IMPORT,
) -> int:
    """The hook for bulk writers (imports, the demo, merges), which send no signals: re-score the
    organisations they wrote, or recompute every active profile when they are many (or unknown:
    None). Returns the number of rows written."""
    if organisation_ids is not None and len(organisation_ids) <= BULK_RECOMPUTE_THRESHOLD:
        return fit_scores_refresh_for(organisation_ids=organisation_ids)
    return sum(
        fit_scores_compute(profile=profile, actor=actor, channel=channel).written
        for profile in IdealCustomerProfile.objects.filter(is_active=True)
    )
