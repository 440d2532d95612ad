"""Reads of the axes app, each for a viewer: counts and lists follow `core.access.visible`.

Axes and segments are shared configuration everybody sees; their members are organisations,
which each viewer sees only as far as the access policy lets them. A viewer who sees the whole
base gets the stored `member_count` (no query per segment); anyone else gets a count of the
members they may see, in one grouped query for all segments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound
from cible.core.values import is_id
from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.axes.models import Axis, Membership, RebuildRun, Segment, SegmentKind

# Above this many organisations, recomputing after a change (segments, fit scores) runs in the
# background and the page follows its progress; below it, the page answers with the result.
BACKGROUND_FROM = 50_000


def base_is_large() -> bool:
    """Whether the base holds at least BACKGROUND_FROM organisations (without counting them all)."""
    return Organisation.objects.order_by().values("pk")[:BACKGROUND_FROM].count() >= BACKGROUND_FROM


@dataclass(frozen=True)
class SegmentSummary:
    segment: Segment
    count: int  # members the viewer may see
    description: str  # the rule in words ("" for a segment by hand)

    @property
    def id(self) -> int:
        return self.segment.pk

    @property
    def name(self) -> str:
        return self.segment.display_name


@dataclass(frozen=True)
class AxisSummary:
    axis: Axis
    segments: list[SegmentSummary]

    @property
    def total(self) -> int:
        """Organisations in some segment of the axis (exact for exclusive axes)."""
        return sum(s.count for s in self.segments)


def _sees_everything(viewer: Any) -> bool:
    return not access.visible(viewer, Organisation.objects.all()).query.has_filters()


def visible_organisations(viewer: Any) -> QuerySet[Organisation]:
    return access.visible(viewer, Organisation.objects.all())


def segment_counts(*, viewer: Any, segments: Iterable[Segment]) -> dict[int, int]:
    """segment id -> members `viewer` may see."""
    segments = list(segments)
    if access.role_of(viewer) is None:
        return {s.pk: 0 for s in segments}
    if _sees_everything(viewer):
        return {s.pk: s.member_count for s in segments}
    counts = dict(
        Membership.objects.filter(
            segment_id__in=[s.pk for s in segments],
            organisation__in=visible_organisations(viewer).values("pk"),
        )
        .values_list("segment_id")
        .annotate(n=Count("pk"))
        .values_list("segment_id", "n")
    )
    return {s.pk: counts.get(s.pk, 0) for s in segments}


def segment_description(segment: Segment) -> str:
    """The segment's rule in words, in the active language ("" for a segment by hand)."""
    if segment.kind != SegmentKind.RULE or segment.rule is None:
        return ""
    try:
        return rules.describe(rules.parse(segment.rule, level="organisation", resolve=False))
    except rules.RuleInvalid as error:
        return _("This rule can no longer be used: %(problem)s") % {"problem": error}


def axis_list(*, viewer: Any, include_inactive: bool = False) -> list[AxisSummary]:
    """Every axis with its segments, in order, and the members the viewer may see in each."""
    axes = Axis.objects.all() if include_inactive else Axis.objects.filter(is_active=True)
    axes = axes.prefetch_related("segments")
    axis_rows = list(axes)
    segments = [s for axis in axis_rows for s in axis.segments.all()]
    counts = segment_counts(viewer=viewer, segments=segments)
    return [
        AxisSummary(
            axis=axis,
            segments=[
                SegmentSummary(
                    segment=s, count=counts.get(s.pk, 0), description=segment_description(s)
                )
                for s in sorted(axis.segments.all(), key=lambda s: (s.position, s.pk))
            ],
        )
        for axis in axis_rows
    ]


def axis_get(*, viewer: Any, pk: Any) -> Axis:
    axis = Axis.objects.filter(pk=pk).first() if is_id(pk) else None
    if axis is None or access.role_of(viewer) is None:
        raise NotFound(_("No axis #%(id)s.") % {"id": pk})
    return axis


def axis_by_code(*, viewer: Any, code: str) -> Axis:
    axis = Axis.objects.filter(code=code).first()
    if axis is None or access.role_of(viewer) is None:
        raise NotFound(_("No axis with the code “%(code)s”.") % {"code": code[:60]})
    return axis


def segment_get(*, viewer: Any, pk: Any) -> Segment:
    segment = Segment.objects.select_related("axis").filter(pk=pk).first() if is_id(pk) else None
    if segment is None or access.role_of(viewer) is None:
        raise NotFound(_("No segment #%(id)s.") % {"id": pk})
    return segment


def segment_members(*, viewer: Any, segment: Segment) -> QuerySet[Organisation]:
    """The organisations of `segment` that `viewer` may see (unordered: the caller sorts)."""
    members = Membership.objects.filter(segment=segment).values("organisation_id")
    return visible_organisations(viewer).filter(pk__in=members)


def segment_count(*, viewer: Any, segment: Segment) -> int:
    return segment_counts(viewer=viewer, segments=[segment])[segment.pk]


def organisation_segments(*, viewer: Any, organisation: Organisation) -> list[Segment]:
    """The segments an organisation is in, by axis order (empty if the viewer may not see it)."""
    if not access.can(viewer, "view", organisation):
        return []
    held = Membership.of_organisations([organisation.pk]).values("segment_id")
    return list(
        Segment.objects.filter(pk__in=held)
        .select_related("axis")
        .order_by("axis__position", "axis_id", "position", "pk")
    )


def rebuild_run_latest() -> RebuildRun | None:
    return RebuildRun.objects.order_by("-started_at", "-pk").first()


def rebuild_run_get(*, viewer: Any, pk: Any) -> RebuildRun:
    run = RebuildRun.objects.filter(pk=pk).first() if is_id(pk) else None
    if run is None or access.role_of(viewer) is None:
        raise NotFound(_("No rebuild #%(id)s.") % {"id": pk})
    return run


def rule_fields(*, level: rules.Level = "organisation") -> list[rules.RuleField]:
    """The fields a rule editor offers (organisation level for segments)."""
    return rules.fields_for(level)
