"""Every write of the axes app: axes, segments, hand-made membership, rebuilds and refreshes.

Axes, segments and hand-made membership are written here; the rebuilds and refreshes live in
`membership` and are re-exported from here (`services.membership_…`), the data is cleaned by
`cleaning`, and who may write is decided by `permissions`.

Rules are checked with `rules.parse` before anything is stored (an invalid rule can never be
saved) and refused when they would make a segment depend on itself (`plan.cycle_errors`). Changing
what decides membership (a rule, an order, exclusivity) recomputes the segments it affects —
at once, or in the background with a `RebuildRun` to follow (`background=True`).

Who may change axes and segments: administrators, Marketing and sales managers (segmentation is
shared configuration); everybody reads them, and counts follow each viewer's access.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, ValidationFailed
from cible.core.normalisers import NormalisationError
from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.axes import plan as plans
from cible.segments.axes import rebuild as rebuilder
from cible.segments.axes import signals
from cible.segments.axes.cleaning import clean_axis, clean_segment
from cible.segments.axes.membership import (
    membership_after_bulk,
    membership_rebuild,
    membership_rebuild_start,
    membership_refresh_for,
    recompute_segments,
)
from cible.segments.axes.models import Axis, Membership, Segment, SegmentKind
from cible.segments.axes.permissions import require_manager
from cible.segments.axes.refresh import MembershipDiff, mark_refreshed

MAX_MEMBERS_PER_CALL = 10_000


# --- axes --------------------------------------------------------------------------------------


@transaction.atomic
def axis_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> Axis:
    """A new axis, empty until segments are added."""
    require_manager(actor)
    merged, errors = clean_axis(data, None)
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
    require_manager(actor)
    with transaction.atomic():
        merged, errors = clean_axis(data, axis)
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
        recompute_segments(segment_ids, actor=actor, channel=channel, background=background)
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
    require_manager(actor)
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
                _("Segment “%(name)s” (%(axis)s) refers to it in its rule: change that rule first.")
                % {"name": other.display_name, "axis": other.axis.display_name}
            )


def _delete_memberships(segment_ids: Iterable[int]) -> None:
    """Memberships go without one audit entry per row (they are derived, or logged with their
    segment's deletion)."""
    ids = list(segment_ids)
    if ids:
        Membership.objects.filter(segment_id__in=ids)._raw_delete(Membership.objects.db)


# --- segments ----------------------------------------------------------------------------------


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
    require_manager(actor)
    with transaction.atomic():
        merged, errors = clean_segment(data, axis, None)
        if errors:
            raise ValidationFailed(errors=errors)
        segment = Segment(axis=axis, **merged)
        cycles = plans.cycle_errors(segment)
        if cycles:
            raise ValidationFailed(errors=cycles)
        with audit_context(actor=actor, channel=channel):
            segment.save()
    recompute_segments([segment.pk], actor=actor, channel=channel, background=background)
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
    require_manager(actor)
    with transaction.atomic():
        merged, errors = clean_segment(data, segment.axis, segment)
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
        recompute_segments([segment.pk], actor=actor, channel=channel, background=background)
        segment.refresh_from_db()
    return segment


def segment_delete(*, segment: Segment, actor: Any, channel: str, background: bool = False) -> None:
    """Delete a segment and its membership; the rest of an exclusive axis is recomputed (the
    organisations it held may now fall in a later segment)."""
    require_manager(actor)
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
        recompute_segments(others, actor=actor, channel=channel, background=background)


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
                        "“%(name)s” is defined by a rule: its members follow the rule. Change "
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
    require_manager(actor)
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
    mark_refreshed(new)  # a rebuild computing meanwhile must not put them back in a rule segment
    log_member_changes(segment, actor, channel, added=new)
    signals.memberships_changed.send(Membership, organisation_ids=set(new))
    return diff


@transaction.atomic
def segment_remove_members(
    *, segment: Segment, actor: Any, channel: str, organisation_ids: Collection[Any]
) -> MembershipDiff:
    """Take organisations out of a segment made by hand; rule segments of the axis may then take
    them (they are re-evaluated at once)."""
    require_manager(actor)
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
    log_member_changes(segment, actor, channel, removed=gone)
    diff.merge(membership_refresh_for(organisation_ids=gone))
    signals.memberships_changed.send(Membership, organisation_ids=set(gone))
    return diff


def log_member_changes(
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


__all__ = [
    "MembershipDiff",
    "axis_create",
    "axis_delete",
    "axis_update",
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
