"""Every write of the axes app: axes, segments, hand-made membership, rebuilds and refreshes.

Rules are checked with `rules.parse` before anything is stored (an invalid rule can never be
saved) and refused when they would make a segment depend on itself (`plan.cycle_errors`). Changing
what decides membership (a rule, an order, exclusivity) recomputes the segments it affects —
at once, or in the background with a `RebuildRun` to follow (`background=True`).

Who may change axes and segments: administrators, Marketing and sales managers (segmentation is
shared configuration); everybody reads them, and counts follow each viewer's access.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import audit_context
from cible.core.bulk import refresh_statistics
from cible.core.concurrency import save_versioned
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.core.normalisers import NormalisationError
from cible.core.roles import Role
from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.axes import plan as plans
from cible.segments.axes import rebuild as rebuilder
from cible.segments.axes import signals
from cible.segments.axes.models import (
    Axis,
    Membership,
    RebuildRun,
    RebuildStatus,
    Segment,
    SegmentKind,
)
from cible.segments.axes.refresh import MembershipDiff, refresh_for

MANAGERS = frozenset({Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER})
MAX_MEMBERS_PER_CALL = 10_000
STALE_RUN_SECONDS = 3600
STALE_QUEUE_SECONDS = 300

Say = Callable[[str], None]

# Memberships a rebuild must change before the planner's statistics are refreshed.
STATISTICS_AFTER = 10_000


def may_manage(actor: Any) -> bool:
    return access.role_of(actor) in MANAGERS


def _require_manager(actor: Any) -> None:
    if not may_manage(actor):
        raise PermissionDenied(
            _("Only administrators, Marketing and sales managers may change segmentation.")
        )


# --- cleaning ----------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str, limit: int, errors: list[FieldError]) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors.append(FieldError(name, _("text is expected")))
        return ""
    text = " ".join(raw.split()) if name != "description" else raw.strip()
    if len(text) > limit:
        errors.append(
            FieldError(
                name,
                _("is too long (%(length)s characters, at most %(max)s)")
                % {"length": len(text), "max": limit},
            )
        )
    return text


def _code(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> str:
    raw = data.get("code")
    code = slugify(raw if isinstance(raw, str) and raw.strip() else name)[:50]
    if not code:
        errors.append(FieldError("code", _("is required (letters, digits and dashes)")))
    elif isinstance(raw, str) and raw.strip() and code != raw.strip():
        errors.append(
            FieldError(
                "code",
                _("« %(value)s » is not a code: use small letters, digits and dashes (%(hint)s)")
                % {"value": raw[:60], "hint": code},
            )
        )
        return ""
    return code


def _position(data: Mapping[str, Any], errors: list[FieldError]) -> int | None:
    if data.get("position") in (None, ""):
        return None
    try:
        return values.whole_number(data["position"], field="position", maximum=1_000_000)
    except NormalisationError as error:
        errors.append(FieldError("position", error.message))
        return None


def _flag(data: Mapping[str, Any], name: str, default: bool, errors: list[FieldError]) -> bool:
    if name not in data or data[name] in (None, ""):
        return default
    try:
        flag = values.boolean(data[name], field=name)
    except NormalisationError as error:
        errors.append(FieldError(name, error.message))
        return default
    return default if flag is None else flag


_AXIS_FIELDS = {"code", "name", "description", "exclusive", "position", "is_active"}
_SEGMENT_FIELDS = {"code", "name", "description", "kind", "rule", "position"}


def _unknown(data: Mapping[str, Any], known: set[str], errors: list[FieldError]) -> None:
    for name in sorted(set(data) - known - {"id", "version", "axis"}):
        errors.append(FieldError(name, _("is not a field you can set here")))


# --- axes --------------------------------------------------------------------------------------


def _clean_axis(
    data: Mapping[str, Any], axis: Axis | None
) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    _unknown(data, _AXIS_FIELDS, errors)
    merged: dict[str, Any] = {}
    name = _text(data, "name", 100, errors) if "name" in data or axis is None else axis.name
    if not name:
        errors.append(FieldError("name", _("is required")))
    merged["name"] = name
    if "code" in data or axis is None:
        merged["code"] = _code(data, name, errors)
        clash = Axis.objects.filter(code=merged["code"]).exclude(pk=getattr(axis, "pk", 0))
        if merged["code"] and clash.exists():
            errors.append(FieldError("code", _("another axis already has this code")))
    if "description" in data:
        merged["description"] = _text(data, "description", 2000, errors)
    if "exclusive" in data or axis is None:
        merged["exclusive"] = _flag(data, "exclusive", True, errors)
    if "is_active" in data or axis is None:
        merged["is_active"] = _flag(data, "is_active", True, errors)
    position = _position(data, errors)
    if position is not None:
        merged["position"] = position
    elif axis is None:
        highest = Axis.objects.aggregate(top=Max("position"))["top"] or 0
        merged["position"] = highest + 10
    return merged, errors


@transaction.atomic
def axis_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> Axis:
    """A new axis, empty until segments are added."""
    _require_manager(actor)
    merged, errors = _clean_axis(data, None)
    if errors:
        raise ValidationFailed(errors=errors)
    axis = Axis(**merged)
    with audit_context(actor=actor, channel=channel):
        axis.save()
    return axis


def axis_update(
    *, axis: Axis, actor: Any, channel: str, data: Mapping[str, Any], background: bool = False
) -> Axis:
    """Rename, reorder, (de)activate an axis or change its exclusivity (which recomputes it)."""
    _require_manager(actor)
    with transaction.atomic():
        merged, errors = _clean_axis(data, axis)
        if errors:
            raise ValidationFailed(errors=errors)
        was_exclusive = axis.exclusive
        for name, value in merged.items():
            setattr(axis, name, value)
        if axis.exclusive != was_exclusive:
            _check_axis_cycles(axis)
        with audit_context(actor=actor, channel=channel):
            axis.save()
    if axis.exclusive != was_exclusive:
        segment_ids = list(axis.segments.values_list("pk", flat=True))
        _recompute(segment_ids, actor=actor, channel=channel, background=background)
    return axis


def _check_axis_cycles(axis: Axis) -> None:
    for segment in axis.segments.all():
        segment.axis = axis
        errors = plans.cycle_errors(segment)
        if errors:
            raise ValidationFailed(errors=[FieldError("exclusive", errors[0].message)])


@transaction.atomic
def axis_delete(*, axis: Axis, actor: Any, channel: str) -> None:
    """Delete an axis with its segments and their membership; refused while a segment of
    another axis refers to one of them."""
    _require_manager(actor)
    ids = set(axis.segments.values_list("pk", flat=True))
    _refuse_if_referenced(ids, exclude_axis=axis.pk)
    with audit_context(actor=actor, channel=channel):
        _delete_memberships(ids)
        axis.delete()


def _refuse_if_referenced(ids: set[int], *, exclude_axis: int | None = None) -> None:
    if not ids:
        return
    for other in Segment.objects.filter(kind=SegmentKind.RULE).select_related("axis"):
        if other.pk in ids or other.axis_id == exclude_axis:
            continue
        try:
            group = rules.parse(other.rule, level="organisation", resolve=False)
        except rules.RuleInvalid:
            continue
        if group.segment_ids() & ids:
            raise ValidationFailed(
                _(
                    "Segment « %(name)s » (%(axis)s) refers to it in its rule: change that rule "
                    "first."
                )
                % {"name": other.display_name, "axis": other.axis.display_name}
            )


def _delete_memberships(segment_ids: Iterable[int]) -> None:
    """Memberships go without one audit entry per row (they are derived, or logged with their
    segment's deletion)."""
    ids = list(segment_ids)
    if ids:
        Membership.objects.filter(segment_id__in=ids)._raw_delete(Membership.objects.db)


# --- segments ----------------------------------------------------------------------------------


def _clean_rule(raw: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            errors.append(FieldError("rule", _("the rule is not valid JSON")))
            return None
    try:
        group = rules.parse(raw, level="organisation")
    except rules.RuleInvalid as error:
        errors.extend(
            FieldError(f"rule.{e.field}" if e.field else "rule", e.message) for e in error.errors
        )
        return None
    return group.to_json()


def _clean_segment(
    data: Mapping[str, Any], axis: Axis, segment: Segment | None
) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    _unknown(data, _SEGMENT_FIELDS, errors)
    merged: dict[str, Any] = {}
    name = _text(data, "name", 100, errors) if "name" in data or segment is None else segment.name
    if not name:
        errors.append(FieldError("name", _("is required")))
    merged["name"] = name
    if "code" in data or segment is None:
        merged["code"] = _code(data, name, errors)
        clash = Segment.objects.filter(axis=axis, code=merged["code"]).exclude(
            pk=getattr(segment, "pk", 0)
        )
        if merged["code"] and clash.exists():
            errors.append(FieldError("code", _("another segment of this axis has this code")))
    if "description" in data:
        merged["description"] = _text(data, "description", 2000, errors)
    kind = data.get("kind", segment.kind if segment else SegmentKind.RULE)
    if kind not in SegmentKind.values:
        errors.append(
            FieldError("kind", _("« %(value)s » is not rule or manual") % {"value": str(kind)[:60]})
        )
        kind = SegmentKind.RULE
    merged["kind"] = kind
    if kind == SegmentKind.MANUAL:
        merged["rule"] = None
    elif "rule" in data or segment is None or segment.rule is None:
        if data.get("rule") in (None, "", {}):
            errors.append(FieldError("rule", _("a segment by rule needs a rule")))
        else:
            merged["rule"] = _clean_rule(data["rule"], errors)
    position = _position(data, errors)
    if position is not None:
        merged["position"] = position
    elif segment is None:
        highest = axis.segments.aggregate(top=Max("position"))["top"] or 0
        merged["position"] = highest + 10
    return merged, errors


def _membership_changes(segment: Segment, merged: Mapping[str, Any]) -> bool:
    return any(
        name in merged and merged[name] != getattr(segment, name)
        for name in ("kind", "rule", "position")
    )


def segment_create(
    *,
    actor: Any,
    channel: str,
    axis: Axis,
    data: Mapping[str, Any],
    background: bool = False,
) -> Segment:
    """A segment of `axis`: by rule (members computed now, or in the background) or by hand."""
    _require_manager(actor)
    with transaction.atomic():
        merged, errors = _clean_segment(data, axis, None)
        if errors:
            raise ValidationFailed(errors=errors)
        segment = Segment(axis=axis, **merged)
        cycles = plans.cycle_errors(segment)
        if cycles:
            raise ValidationFailed(errors=cycles)
        with audit_context(actor=actor, channel=channel):
            segment.save()
    _recompute([segment.pk], actor=actor, channel=channel, background=background)
    segment.refresh_from_db()
    return segment


def segment_update(
    *,
    segment: Segment,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    background: bool = False,
) -> Segment:
    """Change a segment; a new rule, kind or position recomputes the segments it affects.
    Turning a rule segment into a manual one keeps its current members as the hand-made list."""
    _require_manager(actor)
    with transaction.atomic():
        merged, errors = _clean_segment(data, segment.axis, segment)
        if errors:
            raise ValidationFailed(errors=errors)
        recompute = _membership_changes(segment, merged)
        expected = segment.version if expected_version is None else expected_version
        for name, value in merged.items():
            setattr(segment, name, value)
        if recompute:
            cycles = plans.cycle_errors(segment)
            if cycles:
                raise ValidationFailed(errors=cycles)
        with audit_context(actor=actor, channel=channel):
            save_versioned(segment, expected_version=expected)
    if recompute:
        _recompute([segment.pk], actor=actor, channel=channel, background=background)
        segment.refresh_from_db()
    return segment


def segment_delete(*, segment: Segment, actor: Any, channel: str, background: bool = False) -> None:
    """Delete a segment and its membership; the rest of an exclusive axis is recomputed (the
    organisations it held may now fall in a later segment)."""
    _require_manager(actor)
    with transaction.atomic():
        _refuse_if_referenced({segment.pk})
        others = list(
            Segment.objects.filter(axis_id=segment.axis_id)
            .exclude(pk=segment.pk)
            .values_list("pk", flat=True)
        )
        with audit_context(actor=actor, channel=channel):
            _delete_memberships([segment.pk])
            segment.delete()
    if segment.axis.exclusive and others:
        _recompute(others, actor=actor, channel=channel, background=background)


# --- hand-made membership ----------------------------------------------------------------------


def _visible_organisations(actor: Any, ids: Collection[Any]) -> list[int]:
    errors: list[FieldError] = []
    wanted: list[int] = []
    for raw in ids:
        try:
            number = values.whole_number(raw, field="organisations", minimum=1)
        except NormalisationError as error:
            errors.append(FieldError("organisations", error.message))
            continue
        if number is not None and number not in wanted:
            wanted.append(number)
    if len(wanted) > MAX_MEMBERS_PER_CALL:
        errors.append(
            FieldError(
                "organisations",
                _("at most %(max)s organisations at a time") % {"max": MAX_MEMBERS_PER_CALL},
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)
    seen = set(
        access.visible(actor, Organisation.objects.filter(pk__in=wanted)).values_list(
            "pk", flat=True
        )
    )
    missing = [i for i in wanted if i not in seen]
    if missing:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "organisations",
                    _("no organisation you can see has the id %(ids)s")
                    % {"ids": ", ".join(map(str, missing[:20]))},
                )
            ]
        )
    return wanted


def _require_manual(segment: Segment) -> None:
    if segment.kind != SegmentKind.MANUAL:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "segment",
                    _(
                        "« %(name)s » is defined by a rule: its members follow the rule. Change "
                        "the rule, or make the segment a segment by hand."
                    )
                    % {"name": segment.display_name},
                )
            ]
        )


@transaction.atomic
def segment_add_members(
    *, segment: Segment, actor: Any, channel: str, organisation_ids: Collection[Any]
) -> MembershipDiff:
    """Put organisations in a segment by hand. In an exclusive axis this takes them out of the
    axis's other segments (a placement by hand wins over the rules)."""
    _require_manager(actor)
    _require_manual(segment)
    ids = _visible_organisations(actor, organisation_ids)
    already = set(
        Membership.objects.filter(segment=segment, organisation_id__in=ids).values_list(
            "organisation_id", flat=True
        )
    )
    new = [i for i in ids if i not in already]
    diff = MembershipDiff()
    if not new:
        return diff
    # Row by row (at most MAX_MEMBERS_PER_CALL): model signals tell other apps (fit scores).
    if segment.axis.exclusive:
        elsewhere = Membership.objects.filter(axis=segment.axis, organisation_id__in=new)
        for membership in elsewhere.exclude(segment=segment):
            diff.removed.setdefault(membership.segment_id, set()).add(membership.organisation_id)
            membership.delete()
    now = timezone.now()
    for organisation_id in new:
        Membership.objects.create(
            segment=segment, organisation_id=organisation_id, axis=segment.axis, since=now
        )
    diff.added[segment.pk] = set(new)
    rebuilder.recount(diff.added.keys() | diff.removed.keys())
    _log_members(segment, actor, channel, added=new)
    signals.memberships_changed.send(Membership, organisation_ids=set(new))
    return diff


@transaction.atomic
def segment_remove_members(
    *, segment: Segment, actor: Any, channel: str, organisation_ids: Collection[Any]
) -> MembershipDiff:
    """Take organisations out of a segment made by hand; rule segments of the axis may then take
    them (they are re-evaluated at once)."""
    _require_manager(actor)
    _require_manual(segment)
    ids = _visible_organisations(actor, organisation_ids)
    diff = MembershipDiff()
    gone: list[int] = []
    for membership in Membership.objects.filter(segment=segment, organisation_id__in=ids):
        gone.append(membership.organisation_id)
        membership.delete()  # one by one: model signals tell other apps (fit scores)
    if not gone:
        return diff
    diff.removed[segment.pk] = set(gone)
    rebuilder.recount([segment.pk])
    _log_members(segment, actor, channel, removed=gone)
    diff.merge(membership_refresh_for(organisation_ids=gone))
    signals.memberships_changed.send(Membership, organisation_ids=set(gone))
    return diff


def _log_members(
    segment: Segment,
    actor: Any,
    channel: str,
    added: Collection[int] = (),
    removed: Collection[int] = (),
) -> None:
    """One audit entry on the segment per hand change of its members (the membership rows
    themselves are not audited: most are derived from rules, by the million)."""
    changes: dict[str, Any] = {}
    if added:
        changes["members added"] = ["", ", ".join(map(str, sorted(added)))]
    if removed:
        changes["members removed"] = [", ".join(map(str, sorted(removed))), ""]
    with audit_context(actor=actor, channel=channel):
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(Segment),
            object_pk=str(segment.pk),
            object_id=segment.pk,
            object_repr=str(segment)[:200],
            action=LogEntry.Action.UPDATE,
            changes=changes,
        )


# --- recomputing -------------------------------------------------------------------------------


def membership_refresh_for(*, organisation_ids: Collection[int]) -> MembershipDiff:
    """Re-evaluate every rule segment for these organisations and write the difference.

    Called by the signal receivers when an organisation (or its contacts, opportunities or
    installed products) changes; bulk writers call it with the ids they wrote (see
    `membership_after_bulk`). Idempotent."""
    if not organisation_ids:
        return MembershipDiff()
    return refresh_for(plans.load_plan(), organisation_ids)


BULK_REBUILD_THRESHOLD = 50_000


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

        rebuilder.rebuild(plan, wanted, progress=step)
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
    _require_manager(actor)
    run = _claim_run(actor=actor, channel=channel, scope=list(segment_ids or []))
    from cible.segments.axes import tasks

    transaction.on_commit(lambda: tasks.rebuild_membership(run.pk))
    return run


def _recompute(segment_ids: list[int], *, actor: Any, channel: str, background: bool) -> None:
    if not segment_ids:
        return
    if background:
        membership_rebuild_start(actor=actor, channel=channel, segment_ids=segment_ids)
    else:
        plan = plans.load_plan()
        rebuilder.rebuild(plan, plan.closure(segment_ids))


def organisation_removed(*, organisation_id: int) -> None:
    """Before an organisation is deleted: its membership rows go, its segments count one less."""
    rows = Membership.of_organisations([organisation_id])
    segment_ids = list(rows.values_list("segment_id", flat=True))
    if segment_ids:
        rows._raw_delete(rows.db)
        Segment.objects.filter(pk__in=segment_ids, member_count__gt=0).update(
            member_count=F("member_count") - 1
        )


__all__ = [
    "MembershipDiff",
    "axis_create",
    "axis_delete",
    "axis_update",
    "may_manage",
    "membership_after_bulk",
    "membership_rebuild",
    "membership_rebuild_start",
    "membership_refresh_for",
    "segment_add_members",
    "segment_create",
    "segment_delete",
    "segment_remove_members",
    "segment_update",
]
