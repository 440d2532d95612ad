"""The order segments are computed in, and the circular references it refuses.

A segment depends on the segments its rule names (`segment in [...]`), and, in an exclusive axis,
on every segment before it (an organisation goes to the first segment that takes it). Membership
is computed in an order where each segment comes after everything it depends on; a rule that would
make a segment depend on itself — directly, through other segments, or through the order of an
exclusive axis — is refused when it is saved.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext as _

from cible.core.errors import FieldError
from cible.segments import rules
from cible.segments.axes.models import Axis, Segment, SegmentKind
from cible.segments.rules import Group, RuleInvalid


@dataclass(frozen=True)
class PlannedSegment:
    id: int
    axis_id: int
    exclusive: bool
    kind: str
    position: int
    name: str
    rule: Group | None
    axis_name: str = ""

    @property
    def is_rule(self) -> bool:
        return self.kind == SegmentKind.RULE

    @property
    def label(self) -> str:
        """The segment's name in the active language (stored names may be English msgids)."""
        return gettext(self.name) if self.name else ""

    @property
    def axis_label(self) -> str:
        return gettext(self.axis_name) if self.axis_name else ""


@dataclass
class Plan:
    """Every segment of every axis, rules parsed, in computing order."""

    segments: list[PlannedSegment] = field(default_factory=list)  # in computing order
    broken: dict[int, str] = field(default_factory=dict)  # segment id -> why its rule is unusable

    @property
    def rule_segments(self) -> list[PlannedSegment]:
        return [s for s in self.segments if s.is_rule and s.rule is not None]

    def fields(self) -> set[rules.RuleField]:
        used: set[rules.RuleField] = set()
        for segment in self.rule_segments:
            assert segment.rule is not None
            used |= segment.rule.fields()
        return used

    def by_axis(self) -> dict[int, list[PlannedSegment]]:
        grouped: dict[int, list[PlannedSegment]] = {}
        for segment in self.segments:
            grouped.setdefault(segment.axis_id, []).append(segment)
        return grouped

    def closure(self, segment_ids: Iterable[int]) -> list[PlannedSegment]:
        """The segments whose membership may change when those of `segment_ids` do: the whole
        axis of each one when it is exclusive, and whatever refers to them, transitively."""
        wanted = set(segment_ids)
        while True:
            grown = set(wanted)
            axes = {s.axis_id for s in self.segments if s.id in grown and s.exclusive}
            grown |= {s.id for s in self.segments if s.axis_id in axes}
            for segment in self.segments:
                if segment.rule is not None and segment.rule.segment_ids() & grown:
                    grown.add(segment.id)
            if grown == wanted:
                break
            wanted = grown
        return [s for s in self.segments if s.id in wanted]


def _planned(segment: Segment, axis: Axis, rule: Group | None) -> PlannedSegment:
    return PlannedSegment(
        id=segment.pk,
        axis_id=axis.pk,
        exclusive=axis.exclusive,
        kind=segment.kind,
        position=segment.position,
        name=segment.name,
        rule=rule,
        axis_name=axis.name,
    )


def dependencies(segments: list[PlannedSegment]) -> dict[int, set[int]]:
    """segment id -> the ids it must come after."""
    graph: dict[int, set[int]] = {s.id: set() for s in segments}
    ordered = sorted(segments, key=lambda s: (s.axis_id, s.position, s.id))
    for segment in ordered:
        if segment.rule is not None:
            graph[segment.id] |= segment.rule.segment_ids() & graph.keys()
        if segment.exclusive and segment.is_rule:
            graph[segment.id] |= {
                other.id
                for other in ordered
                if other.axis_id == segment.axis_id
                and (other.position, other.id) < (segment.position, segment.id)
            }
    return graph


_COLUMNS = ("pk", "kind", "position", "name", "rule", "axis_id", "axis__exclusive", "axis__name")
_cache: dict[str, Any] = {}


def load_plan() -> Plan:
    """The plan of the stored segments, rebuilt only when they changed (an incremental refresh
    runs on every save: one query of a few dozen rows, compared with the last one, is much
    cheaper than parsing every rule again). Rules are not re-checked against the resolvers (they
    were when saved); one that no longer parses is left out and named in `broken`."""
    rows = list(Segment.objects.order_by("pk").values_list(*_COLUMNS))
    if _cache.get("rows") == rows:
        return _cache["plan"]  # type: ignore[no-any-return]
    plan = Plan()
    planned: list[PlannedSegment] = []
    for pk, kind, position, name, data, axis_id, exclusive, axis_name in rows:
        rule: Group | None = None
        if kind == SegmentKind.RULE:
            try:
                rule = rules.parse(data, level="organisation", resolve=False)
            except RuleInvalid as error:
                plan.broken[pk] = str(error)
        planned.append(
            PlannedSegment(
                id=pk,
                axis_id=axis_id,
                exclusive=exclusive,
                kind=kind,
                position=position,
                name=name,
                rule=rule,
                axis_name=axis_name,
            )
        )
    order = TopologicalSorter(dependencies(planned)).static_order()
    by_id = {s.id: s for s in planned}
    plan.segments = [by_id[i] for i in order]
    _cache.update(rows=copy.deepcopy(rows), plan=plan)
    return plan


def cycle_errors(segment: Segment) -> list[FieldError]:
    """Why `segment` (unsaved changes included) would depend on itself, if it would."""
    key = segment.pk if segment.pk is not None else -1
    planned: list[PlannedSegment] = []
    for other in Segment.objects.select_related("axis").exclude(pk=segment.pk):
        planned.append(_planned(other, other.axis, _quiet_parse(other.rule, other.kind)))
    own = _planned(segment, segment.axis, _quiet_parse(segment.rule, segment.kind))
    planned.append(PlannedSegment(**{**own.__dict__, "id": key}))
    graph = dependencies(planned)
    if key in graph[key]:
        return [FieldError("rule", _("a segment cannot refer to itself"))]
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        names = {s.id: s.label for s in planned}
        cycle = error.args[1] if len(error.args) > 1 else []
        path = " → ".join(names.get(i, f"#{i}") for i in cycle)
        return [
            FieldError(
                "rule",
                _(
                    "this rule makes the segment depend on itself (%(path)s): a segment cannot "
                    "be defined from segments that are defined from it, nor from a later "
                    "segment of its own exclusive axis"
                )
                % {"path": path},
            )
        ]
    return []


def _quiet_parse(data: Any, kind: str) -> Group | None:
    if kind != SegmentKind.RULE or data is None:
        return None
    try:
        return rules.parse(data, level="organisation", resolve=False)
    except RuleInvalid:
        return None
