"""Hand placements carried over when two organisations are merged, and back when it is undone.

The merge (quality.duplicates) moves every row Django lists as referring to the merged-away
record; memberships are hidden from it, being mostly derived. Rule segments need nothing: the
survivor's save re-evaluates its rules, and so does the undo for both records
(receivers.merge_recorded). A placement by hand, though, is somebody's decision and must not go
with the record: the survivor takes the loser's segments made by hand, except in an exclusive
axis where it is placed by hand itself (its own placement wins). Registered with
`people.hooks.register_merge_keeper`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cible.people.hooks import MergeKeeper
from cible.segments.axes import rebuild as rebuilder
from cible.segments.axes import signals
from cible.segments.axes.models import Membership, Segment, SegmentKind
from cible.segments.axes.services import log_member_changes

ENTITY = "organisation"


def _by_hand(organisation_id: int) -> Any:
    return Membership.of_organisations([organisation_id]).filter(segment__kind=SegmentKind.MANUAL)


def _log(segment_ids: set[int], actor: Any, channel: str, **changes: list[int]) -> None:
    for segment in Segment.objects.filter(pk__in=segment_ids):
        log_member_changes(segment, actor, channel, **changes)


def keep(entity: str, loser_id: int, survivor_id: int, actor: Any, channel: str) -> Any:
    """Place the survivor in the loser's segments made by hand; what was done, for undo. In an
    exclusive axis a placement by hand wins over the rules, as when placing by hand
    (`services.segment_add_members`), but not over the survivor's own placement by hand."""
    if entity != ENTITY:
        return None
    placed = list(_by_hand(loser_id).select_related("axis"))
    if not placed:
        return None
    theirs = list(Membership.of_organisations([survivor_id]).select_related("segment"))
    segments = {m.segment_id for m in theirs}
    by_hand = {m.axis_id for m in theirs if m.segment.kind == SegmentKind.MANUAL}
    added: set[int] = set()
    displaced: set[int] = set()
    for row in placed:
        if row.segment_id in segments or (row.axis.exclusive and row.axis_id in by_hand):
            continue
        if row.axis.exclusive:
            for ruled in (m for m in theirs if m.axis_id == row.axis_id):
                displaced.add(ruled.segment_id)
                ruled.delete()  # one by one: model signals tell other apps (fit scores)
            by_hand.add(row.axis_id)
        Membership.objects.create(
            segment_id=row.segment_id, organisation_id=survivor_id, axis=row.axis, since=row.since
        )
        added.add(row.segment_id)
    if added:
        rebuilder.recount(added | displaced)
        _log(added, actor, channel, added=[survivor_id])
        signals.memberships_changed.send(Membership, organisation_ids={survivor_id})
    return {
        "placed": sorted((row.segment_id, row.since.isoformat()) for row in placed),
        "added": sorted(added),
    }


def restore(
    entity: str, loser_id: int, survivor_id: int, note: Any, actor: Any, channel: str
) -> None:
    """Take the survivor out of what it joined by the merge, and put the restored record back in
    its segments made by hand (those still existing and still by hand). The rule segments of
    both are computed again by the undo itself (`receivers.merge_recorded`)."""
    if entity != ENTITY:
        return
    joined = _by_hand(survivor_id).filter(segment_id__in=note["added"])
    left = set()
    for row in joined:
        left.add(row.segment_id)
        row.delete()  # one by one: model signals tell other apps (fit scores)
    since = {segment_id: datetime.fromisoformat(at) for segment_id, at in note["placed"]}
    back = set()
    for segment in Segment.objects.filter(pk__in=since, kind=SegmentKind.MANUAL):
        Membership.objects.create(
            segment=segment,
            organisation_id=loser_id,
            axis_id=segment.axis_id,
            since=since[segment.pk],
        )
        back.add(segment.pk)
    rebuilder.recount(left | back)
    _log(left, actor, channel, removed=[survivor_id])
    _log(back, actor, channel, added=[loser_id])
    signals.memberships_changed.send(Membership, organisation_ids={loser_id, survivor_id})


KEEPER = MergeKeeper(name="segments", keep=keep, restore=restore)
