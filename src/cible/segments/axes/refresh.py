"""Incremental refresh: every rule segment re-evaluated for a few organisations.

The organisations are read once as records (`records.py`: a handful of queries whatever the
number of segments), every rule is tested in Python with `rules.matches` — proven to give the
same answer as the SQL the full rebuild runs — in the plan's order, exclusive axes included, and
only the difference with the stored membership is written.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from cible.segments import rules
from cible.segments.axes import signals
from cible.segments.axes.models import Membership, RefreshMark, Segment
from cible.segments.axes.plan import Plan
from cible.segments.axes.records import organisation_records

CHUNK = 2000


@dataclass
class MembershipDiff:
    """What a refresh or a hand change did: segment id -> organisation ids."""

    added: dict[int, set[int]] = field(default_factory=dict)
    removed: dict[int, set[int]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.added.values()) or any(self.removed.values())

    @property
    def rows(self) -> int:
        return sum(map(len, self.added.values())) + sum(map(len, self.removed.values()))

    def merge(self, other: MembershipDiff) -> None:
        for mine, theirs in ((self.added, other.added), (self.removed, other.removed)):
            for segment_id, ids in theirs.items():
                mine.setdefault(segment_id, set()).update(ids)


def refresh_for(plan: Plan, organisation_ids: Collection[int]) -> MembershipDiff:
    """Bring the rule segments' membership of these organisations up to date."""
    diff = MembershipDiff()
    if not plan.rule_segments:
        return diff
    ids = sorted(set(organisation_ids))
    fields = plan.fields()
    for start in range(0, len(ids), CHUNK):
        diff.merge(_refresh_chunk(plan, ids[start : start + CHUNK], fields))
    mark_refreshed(ids)
    return diff


# A refresh after a bulk write stamps up to 50,000 organisations: PostgreSQL takes at most 65,535
# parameters in a statement.
MARKS_PER_STATEMENT = 5_000


def mark_refreshed(organisation_ids: Collection[int]) -> None:
    """Stamp these organisations as refreshed now, for a rebuild running meanwhile to refresh
    them again once it has written (`RefreshMark`)."""
    now = timezone.now()
    RefreshMark.objects.bulk_create(
        [RefreshMark(organisation_id=pk, at=now) for pk in organisation_ids],
        update_conflicts=True,
        unique_fields=["organisation_id"],
        update_fields=["at"],
        batch_size=MARKS_PER_STATEMENT,
    )


def _refresh_chunk(plan: Plan, ids: list[int], fields: set[rules.RuleField]) -> MembershipDiff:
    records = organisation_records(ids, fields)
    present = set(records)
    current: dict[int, set[int]] = {}
    for organisation_id, record in records.items():
        for segment_id in record["segment"]:
            current.setdefault(segment_id, set()).add(organisation_id)
    held: dict[int, set[int]] = {}
    for segment in plan.segments:  # placed by hand: rules leave them alone (exclusive axes)
        if segment.exclusive and (not segment.is_rule or segment.rule is None):
            held.setdefault(segment.axis_id, set()).update(current.get(segment.id, ()))
    diff = MembershipDiff()
    for segment in plan.segments:
        if not segment.is_rule or segment.rule is None:
            continue
        wanted = {i for i in present if rules.matches(segment.rule, records[i])}
        if segment.exclusive:
            taken = held.setdefault(segment.axis_id, set())
            wanted -= taken
            taken |= wanted
        have = current.get(segment.id, set())
        added, removed = wanted - have, have - wanted
        for organisation_id in added:
            records[organisation_id]["segment"].append(segment.id)
        for organisation_id in removed:
            records[organisation_id]["segment"].remove(segment.id)
        if added:
            diff.added[segment.id] = added
        if removed:
            diff.removed[segment.id] = removed
    if diff.changed:
        write(plan, diff)
        changed = set().union(*diff.added.values(), *diff.removed.values())
        signals.memberships_changed.send(Membership, organisation_ids=changed)
    return diff


def write(plan: Plan, diff: MembershipDiff) -> None:
    """Apply `diff` to the membership table and the segments' counts (no signals, no audit:
    rule membership is derived data)."""
    axis_of = {s.id: s.axis_id for s in plan.segments}
    table = connection.ops.quote_name(Membership._meta.db_table)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for segment_id, ids in diff.removed.items():
            placeholders = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"DELETE FROM {table} WHERE segment_id = %s AND organisation_id IN "
                f"({placeholders})",
                [segment_id, *sorted(ids)],
            )
        Membership.objects.bulk_create(
            [
                Membership(
                    segment_id=segment_id,
                    organisation_id=organisation_id,
                    axis_id=axis_of[segment_id],
                    since=now,
                )
                for segment_id, ids in diff.added.items()
                for organisation_id in sorted(ids)
            ],
            batch_size=500,
        )
        for segment_id in diff.added.keys() | diff.removed.keys():
            delta = len(diff.added.get(segment_id, ())) - len(diff.removed.get(segment_id, ()))
            Segment.objects.filter(pk=segment_id).update(
                member_count=Greatest(F("member_count") + delta, Value(0)),
                members_version=F("members_version") + 1,
            )
