"""Full rebuild of rule segments' membership, set-based: the database does the work.

Two ways, both diffing against the stored membership so that `since` keeps the day an
organisation came in and an unchanged base writes nothing:

- **an exclusive axis in one pass** (the usual case, and seed 002's): one `INSERT … SELECT` reads
  the organisations once and gives each the first segment whose rule it passes —
  `CASE WHEN rule₁ THEN s₁ WHEN rule₂ THEN s₂ … END` in position order, organisations placed by
  hand left out — into a temporary table `stage`; then the membership rows of the axis's rule
  segments not in `stage` are deleted and the `stage` rows not yet stored are inserted, in one
  short transaction; the counts come from `stage` grouped by segment.
- **segment by segment** (overlapping axes, and segments whose rule names another segment of
  their own axis): the same, one segment at a time in computing order (`plan.py`), with the
  temporary table `held` keeping, in an exclusive axis, what earlier segments or hands took.

Axes and segments are taken in an order where each comes after the segments its rules name.
Readers always see whole axes (or segments); other writers wait for one of them at most (SQLite
has one writer). No row passes through Python.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cible.core.foreign_keys import restore_foreign_keys, suspend_foreign_keys
from cible.core.indexes import restore_indexes, suspend_indexes
from cible.core.models import SuspendedForeignKey
from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.axes.models import Membership, Segment
from cible.segments.axes.plan import Plan, PlannedSegment, dependencies

Progress = Callable[["SegmentRebuilt"], None]


@dataclass(frozen=True)
class SegmentRebuilt:
    """One step of a rebuild: a segment, or a whole exclusive axis (`segments` > 1)."""

    name: str
    segments: int
    members: int
    added: int
    removed: int
    seconds: float


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


_STAGE = "segments_rebuild_stage"
_HELD = "segments_rebuild_held"
_TABLE = Membership._meta.db_table


def _create_temporary_tables(cursor: Any) -> None:
    _drop_temporary_tables(cursor)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_STAGE} (organisation_id bigint PRIMARY KEY, segment_id bigint)"
    )
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_HELD} (axis_id bigint NOT NULL, organisation_id bigint NOT "
        f"NULL, PRIMARY KEY (axis_id, organisation_id))"
    )


def _drop_temporary_tables(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
    cursor.execute(f"DROP TABLE IF EXISTS {_HELD}")


def _left_alone(plan: Plan, axis_id: int, rebuilt: set[int]) -> list[int]:
    """Segments of an exclusive axis whose members rules must not take: those by hand (a
    placement by hand wins, whatever its position), broken rules, and segments not rebuilt."""
    return [
        s.id
        for s in plan.segments
        if s.axis_id == axis_id and (not s.is_rule or s.rule is None or s.id not in rebuilt)
    ]


def _members_of(segment_ids: list[int]) -> Any:
    return Membership.objects.filter(segment_id__in=segment_ids).values("organisation_id")


def _apply(cursor: Any, axis_id: int, segment_ids: list[int]) -> tuple[int, int, dict[int, int]]:
    """Make the stored membership of `segment_ids` equal `stage`; (added, removed, counts)."""
    table = _quote(_TABLE)
    placeholders = ", ".join(["%s"] * len(segment_ids))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        cursor.execute(
            f"DELETE FROM {table} WHERE segment_id IN ({placeholders}) AND NOT EXISTS (SELECT 1 "
            f"FROM {_STAGE} s WHERE s.organisation_id = {table}.organisation_id AND "
            f"s.segment_id = {table}.segment_id)",
            segment_ids,
        )
        removed = max(cursor.rowcount, 0)
        cursor.execute(
            f"INSERT INTO {table} (segment_id, organisation_id, axis_id, since) SELECT "
            f"s.segment_id, s.organisation_id, %s, %s FROM {_STAGE} s WHERE NOT EXISTS (SELECT 1 "
            f"FROM {table} m WHERE m.segment_id = s.segment_id AND m.organisation_id = "
            f"s.organisation_id)",
            (axis_id, now),
        )
        added = max(cursor.rowcount, 0)
        cursor.execute(f"SELECT segment_id, COUNT(*) FROM {_STAGE} GROUP BY segment_id")
        counts = {int(segment_id): int(count) for segment_id, count in cursor.fetchall()}
        stamp = timezone.now()
        for segment_id in segment_ids:
            Segment.objects.filter(pk=segment_id).update(
                member_count=counts.get(segment_id, 0),
                rebuilt_at=stamp,
                members_version=F("members_version") + 1,
            )
    return added, removed, counts


def rebuild_axis(cursor: Any, plan: Plan, axis: list[PlannedSegment]) -> SegmentRebuilt:
    """An exclusive axis in one pass (see the module docstring)."""
    began = time.perf_counter()
    ordered = sorted(
        (s for s in axis if s.is_rule and s.rule is not None), key=lambda s: (s.position, s.id)
    )
    axis_id = ordered[0].axis_id
    choice = Case(
        *(When(rules.to_q(s.rule), then=Value(s.id)) for s in ordered if s.rule is not None),
        default=None,
        output_field=BigIntegerField(),
    )
    queryset = Organisation.objects.annotate(_segment=choice)
    # Filtering on the CASE makes the database evaluate it twice per organisation: cheap for
    # column tests, not for rules that look through relations (semi-joins). Those keep every
    # row and drop the unplaced ones afterwards.
    heavy = any(f.relation or f.kind == "segment" for s in ordered for f in s.rule.fields())  # type: ignore[union-attr]
    if not heavy:
        queryset = queryset.filter(_segment__isnull=False)
    alone = _left_alone(plan, axis_id, {s.id for s in ordered})
    if alone:
        queryset = queryset.exclude(pk__in=_members_of(alone))
    sql, params = queryset.order_by().values_list("pk", "_segment").query.sql_with_params()
    cursor.execute(f"DELETE FROM {_STAGE}")
    cursor.execute(f"INSERT INTO {_STAGE} (organisation_id, segment_id) {sql}", params)
    if heavy:
        cursor.execute(f"DELETE FROM {_STAGE} WHERE segment_id IS NULL")
    added, removed, counts = _apply(cursor, axis_id, [s.id for s in ordered])
    return SegmentRebuilt(
        name=ordered[0].axis_label,
        segments=len(ordered),
        members=sum(counts.values()),
        added=added,
        removed=removed,
        seconds=time.perf_counter() - began,
    )


def rebuild_segment(cursor: Any, plan: Plan, segment: PlannedSegment) -> SegmentRebuilt:
    """One rule segment (see the module docstring)."""
    began = time.perf_counter()
    assert segment.rule is not None
    queryset = Organisation.objects.filter(rules.to_q(segment.rule))
    if segment.exclusive:
        held = RawSQL(  # noqa: S611 - a constant table name; the axis id is a parameter
            f"SELECT organisation_id FROM {_HELD} WHERE axis_id = %s", (segment.axis_id,)
        )
        queryset = queryset.filter(~Q(pk__in=held))
    queryset = queryset.annotate(_segment=Value(segment.id, output_field=BigIntegerField()))
    sql, params = queryset.order_by().values_list("pk", "_segment").query.sql_with_params()
    cursor.execute(f"DELETE FROM {_STAGE}")
    cursor.execute(f"INSERT INTO {_STAGE} (organisation_id, segment_id) {sql}", params)
    if segment.exclusive:
        cursor.execute(
            f"INSERT INTO {_HELD} (axis_id, organisation_id) SELECT %s, organisation_id "
            f"FROM {_STAGE}",
            (segment.axis_id,),
        )
    added, removed, counts = _apply(cursor, segment.axis_id, [segment.id])
    return SegmentRebuilt(
        name=segment.label,
        segments=1,
        members=counts.get(segment.id, 0),
        added=added,
        removed=removed,
        seconds=time.perf_counter() - began,
    )


def _hold(cursor: Any, plan: Plan, axis_id: int, rebuilt: set[int]) -> None:
    alone = _left_alone(plan, axis_id, rebuilt)
    if alone:
        placeholders = ", ".join(["%s"] * len(alone))
        cursor.execute(
            f"INSERT INTO {_HELD} (axis_id, organisation_id) SELECT DISTINCT %s, "
            f"organisation_id FROM {_quote(_TABLE)} WHERE segment_id IN ({placeholders})",
            [axis_id, *alone],
        )


def recount(segment_ids: Iterable[int]) -> None:
    """member_count from the membership table (manual segments, after hand changes)."""
    for segment_id in segment_ids:
        count = Membership.objects.filter(segment_id=segment_id).count()
        Segment.objects.filter(pk=segment_id).update(
            member_count=count, members_version=F("members_version") + 1
        )


Unit = tuple[str, int]  # ("axis", axis id) or ("segment", segment id)


def _units(plan: Plan, segments: list[PlannedSegment]) -> list[tuple[Unit, list[PlannedSegment]]]:
    """The steps of a rebuild, in an order where each comes after what its rules name."""
    wanted = [s for s in segments if s.is_rule and s.rule is not None]
    wanted_ids = {s.id for s in wanted}
    whole: set[int] = set()
    for axis_id, members in plan.by_axis().items():
        rule_members = [s for s in members if s.is_rule and s.rule is not None]
        own = {s.id for s in members}
        if (
            rule_members
            and members[0].exclusive
            and all(s.id in wanted_ids for s in rule_members)
            and not any(s.rule.segment_ids() & own for s in rule_members if s.rule is not None)
        ):
            whole.add(axis_id)
    unit_of: dict[int, Unit] = {
        s.id: ("axis", s.axis_id) if s.axis_id in whole else ("segment", s.id) for s in wanted
    }
    graph: dict[Unit, set[Unit]] = {unit: set() for unit in unit_of.values()}
    for segment_id, needs in dependencies(plan.segments).items():
        unit = unit_of.get(segment_id)
        if unit is None:
            continue
        graph[unit] |= {unit_of[n] for n in needs if n in unit_of and unit_of[n] != unit}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError:  # axes naming each other's segments: one segment at a time
        return [(("segment", s.id), [s]) for s in wanted]
    grouped: dict[Unit, list[PlannedSegment]] = {unit: [] for unit in order}
    for segment in wanted:
        grouped[unit_of[segment.id]].append(segment)
    return [(unit, grouped[unit]) for unit in order]


# A full rebuild into an empty membership table, for a base of at least this many
# organisations, sets the table's secondary index and foreign keys aside while it writes.
FILL_FROM_EMPTY_FROM = 100_000


@contextlib.contextmanager
def filling(full: bool) -> Iterator[bool]:
    """Around a rebuild: when it fills an empty membership table for a large base (the first
    rebuild, or after the table was emptied), write without the (axis, organisation) index
    and the foreign keys, then build the index in one sort and validate the keys in one pass
    (`core.indexes`, `core.foreign_keys`): 4.4 M rows in seconds instead of a minute on
    PostgreSQL. Yields whether it did. Leftovers of a crashed fill are put back first."""
    restore_indexes(Membership)
    _restore_keys()
    large = Organisation.objects.order_by()[FILL_FROM_EMPTY_FROM - 1 :].exists()
    if not (full and large and not Membership.objects.exists()):
        yield False
        return
    with transaction.atomic():
        suspend_indexes(Membership)
        suspend_foreign_keys(Membership)
    try:
        yield True
    finally:
        restore_indexes(Membership)
        _restore_keys()


def _restore_keys() -> None:
    """The keys back; rows written meanwhile for an organisation or a segment deleted since
    (nothing else points at them: membership is derived data) go first."""
    if not SuspendedForeignKey.objects.filter(table=_TABLE).exists():
        return
    table = _quote(_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM "
            f"{_quote(Organisation._meta.db_table)} o WHERE o.id = {table}.organisation_id) "
            f"OR NOT EXISTS (SELECT 1 FROM {_quote(Segment._meta.db_table)} s "
            f"WHERE s.id = {table}.segment_id AND s.axis_id = {table}.axis_id)"
        )
    restore_foreign_keys(Membership)


def rebuild(
    plan: Plan, segments: list[PlannedSegment], *, progress: Progress | None = None
) -> list[SegmentRebuilt]:
    """Rebuild the rule segments among `segments`; manual ones are recounted. Returns one result
    per step (an exclusive axis, or a segment)."""
    results: list[SegmentRebuilt] = []
    recount(s.id for s in segments if not s.is_rule)
    units = _units(plan, segments)
    with connection.cursor() as cursor:
        _create_temporary_tables(cursor)
        try:
            held_axes: set[int] = set()
            rebuilt = {s.id for _unit, members in units for s in members}
            for (kind, _key), members in units:
                if kind == "axis":
                    result = rebuild_axis(cursor, plan, members)
                else:
                    segment = members[0]
                    if segment.exclusive and segment.axis_id not in held_axes:
                        _hold(cursor, plan, segment.axis_id, rebuilt)
                        held_axes.add(segment.axis_id)
                    result = rebuild_segment(cursor, plan, segment)
                results.append(result)
                if progress is not None:
                    progress(result)
        finally:
            _drop_temporary_tables(cursor)
    return results


def rule_matches(segment: PlannedSegment, ids: Iterable[int]) -> set[int]:
    """The organisations among `ids` that pass the segment's rule (SQL; for checks and tests)."""
    assert segment.rule is not None
    return set(
        Organisation.objects.filter(Q(pk__in=list(ids)), rules.to_q(segment.rule)).values_list(
            "pk", flat=True
        )
    )
