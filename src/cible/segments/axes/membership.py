"""Keeping membership current: refreshes, rebuilds and the hooks that trigger them.

`membership_refresh_for` re-evaluates the rule segments for a few organisations (after a save,
or a bulk write: `membership_after_bulk`); `membership_rebuild` recomputes whole segments
set-based, one run at a time (a `RebuildRun`, claimed by `_claim_run`), at once or queued in the
background (`membership_rebuild_start`); `recompute_segments` is what `services` calls when a
rule, an order or exclusivity changes; `organisation_removed` drops a deleted organisation's
rows. The `membership_*` functions are re-exported by `services`, where callers find them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core.bulk import refresh_statistics
from cible.core.errors import ConflictError
from cible.segments.axes import plan as plans
from cible.segments.axes import rebuild as rebuilder
from cible.segments.axes import signals
from cible.segments.axes.models import (
    Membership,
    RebuildRun,
    RebuildStatus,
    RefreshMark,
    Segment,
)
from cible.segments.axes.permissions import require_manager
from cible.segments.axes.refresh import MembershipDiff, refresh_for

STALE_RUN_SECONDS = 3600
STALE_QUEUE_SECONDS = 300

Say = Callable[[str], None]

# Memberships a rebuild must change before the planner's statistics are refreshed.
STATISTICS_AFTER = 10_000


def membership_refresh_for(*, organisation_ids: Collection[int]) -> MembershipDiff:
    """Re-evaluate every rule segment for these organisations and write the difference.

    Called by the signal receivers when an organisation (or its contacts, opportunities or
    installed products) changes; bulk writers call it with the ids they wrote (see
    `membership_after_bulk`). Idempotent."""
    if not organisation_ids:
        return MembershipDiff()
    return refresh_for(plans.load_plan(), organisation_ids)


BULK_REBUILD_THRESHOLD = 50_000
# A rebuild refreshes again the organisations refreshed since it began, and this much earlier:
# an edit committed after the rebuild read the table may have been refreshed a little before.
MARK_SLACK = dt.timedelta(minutes=5)
MARKS_KEPT = dt.timedelta(days=1)


def membership_after_bulk(
    *, organisation_ids: Collection[int] | None, actor: Any = None, channel: str = "import"
) -> MembershipDiff | RebuildRun:
    """The hook for bulk writers (imports, the demo, merges), which send no signals: refresh the
    organisations they wrote, or rebuild everything when they are many (or unknown: None)."""
    if organisation_ids is not None and len(organisation_ids) <= BULK_REBUILD_THRESHOLD:
        return membership_refresh_for(organisation_ids=organisation_ids)
    return membership_rebuild(actor=actor, channel=channel)


def _claim_run(*, actor: Any, channel: str, scope: list[int] | None) -> RebuildRun:
    """A RebuildRun, refused while another one runs (one rebuild at a time).

    A run that crashed, or that was queued while no background worker runs, would block every
    later one: a run counts as running for an hour once started (it knows its segment total),
    for five minutes while it waits for a worker."""
    now = timezone.now()
    started = Q(segments_total__gt=0, started_at__gte=now - dt.timedelta(seconds=STALE_RUN_SECONDS))
    waiting = Q(segments_total=0, started_at__gte=now - dt.timedelta(seconds=STALE_QUEUE_SECONDS))
    with transaction.atomic():
        running = RebuildRun.objects.select_for_update().filter(
            Q(status=RebuildStatus.RUNNING) & (started | waiting)
        )
        if running.exists():
            raise ConflictError(
                _("A rebuild of the segments is already running; wait for it to finish.")
            )
        return RebuildRun.objects.create(
            started_at=now,
            requested_by=actor if getattr(actor, "pk", None) else None,
            channel=channel,
            scope=scope or [],
        )


def membership_rebuild(
    *,
    actor: Any = None,
    channel: str = "job",
    segment_ids: Collection[int] | None = None,
    run: RebuildRun | None = None,
    progress: Say | None = None,
) -> RebuildRun:
    """Recompute the membership of every rule segment (or of `segment_ids` and what depends on
    them), set-based; the returned RebuildRun holds the figures, and the progress as it goes."""
    if run is None:
        run = _claim_run(actor=actor, channel=channel, scope=list(segment_ids or []))
    began = time.perf_counter()
    try:
        plan = plans.load_plan()
        wanted = plan.closure(run.scope) if run.scope else list(plan.segments)
        total = sum(1 for s in wanted if s.is_rule and s.rule is not None)
        run.started_at = timezone.now()  # a queued run starts now
        RebuildRun.objects.filter(pk=run.pk).update(segments_total=total, started_at=run.started_at)
        run.segments_total = total
        if progress:
            progress(_("Rebuilding %(count)s segments…") % {"count": total})

        def step(result: rebuilder.SegmentRebuilt) -> None:
            run.segments_done += result.segments
            run.rows_added += result.added
            run.rows_removed += result.removed
            RebuildRun.objects.filter(pk=run.pk).update(
                segments_done=run.segments_done,
                rows_added=run.rows_added,
                rows_removed=run.rows_removed,
            )
            if progress:
                progress(
                    _(
                        "[%(done)s/%(total)s] %(name)s: %(members)s members "
                        "(+%(added)s, −%(removed)s) in %(seconds).1f s"
                    )
                    % {
                        "done": run.segments_done,
                        "total": total,
                        "name": result.name,
                        "members": result.members,
                        "added": result.added,
                        "removed": result.removed,
                        "seconds": result.seconds,
                    }
                )

        with rebuilder.filling(full=not run.scope):
            rebuilder.rebuild(plan, wanted, progress=step)
        _catch_up(since=run.started_at)
    except Exception as error:
        RebuildRun.objects.filter(pk=run.pk).update(
            status=RebuildStatus.FAILED,
            error=str(error)[:2000],
            finished_at=timezone.now(),
            seconds=time.perf_counter() - began,
        )
        raise
    if run.rows:
        signals.memberships_changed.send(Membership, organisation_ids=None)
    if run.rows >= STATISTICS_AFTER:
        # The planner would otherwise plan the cross-tab's joins on an almost empty table
        # (PostgreSQL: no index-only scans before the visibility map is set).
        refresh_statistics(Membership)
    run.seconds = time.perf_counter() - began
    run.finished_at = timezone.now()
    run.status = RebuildStatus.DONE
    RebuildRun.objects.filter(pk=run.pk).update(
        status=run.status, seconds=run.seconds, finished_at=run.finished_at
    )
    if progress:
        progress(
            _("Done: %(count)s segments rebuilt in %(seconds).1f s (+%(added)s, −%(removed)s).")
            % {
                "count": run.segments_done,
                "seconds": run.seconds,
                "added": run.rows_added,
                "removed": run.rows_removed,
            }
        )
    return run


def membership_rebuild_start(
    *, actor: Any, channel: str, segment_ids: Collection[int] | None = None
) -> RebuildRun:
    """Queue a rebuild in the background; the UI polls the returned run for its progress."""
    require_manager(actor)
    run = _claim_run(actor=actor, channel=channel, scope=list(segment_ids or []))
    from cible.segments.axes import tasks

    transaction.on_commit(lambda: tasks.rebuild_membership(run.pk))
    return run


def recompute_segments(
    segment_ids: list[int], *, actor: Any, channel: str, background: bool
) -> None:
    """Recompute `segment_ids` and what depends on them: now, or queued in the background."""
    if not segment_ids:
        return
    if background:
        membership_rebuild_start(actor=actor, channel=channel, segment_ids=segment_ids)
    else:
        began = timezone.now()
        plan = plans.load_plan()
        rebuilder.rebuild(plan, plan.closure(segment_ids))
        _catch_up(since=began)


def _catch_up(*, since: dt.datetime) -> MembershipDiff:
    """After a rebuild's writes: refresh again the organisations refreshed while it computed
    from older data (an edit, a placement by hand), and forget marks no rebuild still needs."""
    marked = RefreshMark.objects.filter(at__gte=since - MARK_SLACK)
    ids = list(marked.values_list("organisation_id", flat=True))
    diff = refresh_for(plans.load_plan(), ids) if ids else MembershipDiff()
    RefreshMark.objects.filter(at__lt=timezone.now() - MARKS_KEPT).delete()
    return diff


def organisation_removed(*, organisation_id: int) -> None:
    """Before an organisation is deleted: its membership rows go, its segments count one less."""
    rows = Membership.of_organisations([organisation_id])
    segment_ids = list(rows.values_list("segment_id", flat=True))
    if segment_ids:
        rows._raw_delete(rows.db)
        Segment.objects.filter(pk__in=segment_ids).update(
            member_count=Greatest(F("member_count") - 1, Value(0)),
            members_version=F("members_version") + 1,
        )


__all__ = [
    "BULK_REBUILD_THRESHOLD",
    "membership_after_bulk",
    "membership_rebuild",
    "membership_rebuild_start",
    "membership_refresh_for",
    "organisation_removed",
    "recompute_segments",
]
