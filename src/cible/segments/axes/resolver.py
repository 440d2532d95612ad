"""The `segment` pseudo-field of rules, resolved through the materialised membership table."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from cible.segments import rules
from cible.segments.axes.models import Membership, Segment


class SegmentResolver:
    def unknown(self, ids: Sequence[int]) -> list[int]:
        known = set(Segment.objects.filter(pk__in=ids).values_list("pk", flat=True))
        return [i for i in ids if i not in known]

    def q(self, op: str, ids: Sequence[int], path: str) -> Q:
        members = Membership.objects.filter(segment_id__in=list(ids)).values("organisation_id")
        found = Q(**{f"{path}__in": members})
        return found if op == "in" else ~found

    def label(self, id_: int) -> str:
        segment = Segment.objects.select_related("axis").filter(pk=id_).first()
        if segment is None:
            return f"#{id_}"
        return f"{segment.axis.display_name} › {segment.display_name}"


def register() -> None:
    rules.register_resolver("segment", SegmentResolver())
