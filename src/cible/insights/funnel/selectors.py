"""The funnel report (issue 6 item 8, SPEC C5/C12, seed 003: "conversion at every step"; seed 004
§2: Suspect → Prospect → MQL → SQL → sale): how many leads reached each stage of the road, the
conversion from each stage to the next and from the first, the median and p75 time between
entering consecutive stages, and where the others left — over the leads the viewer may see.

Which leads: by *arrival* (the cohort that arrived in the period, each with its whole road to
date) or by *activity* (the leads that entered a stage during the period, whatever their
arrival, each with its whole road to date).

A lead has *reached* every stage up to the furthest it entered (`leads.models.ROAD`): a hot lead
that jumped from Suspect to MQL counts as a Prospect too. Times come only from transitions: when
a lead skipped a stage, its time for that step is not invented but counted as "skipped". A lead
re-qualified after being recycled counts at the furthest stage it had reached.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth import get_user_model
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import access
from cible.core.errors import FieldError, ValidationFailed
from cible.core.values import is_id
from cible.engagement.campaigns.models import Campaign
from cible.insights.funnel import queries
from cible.insights.performance.periods import Period, period_from_params
from cible.lifecycle.leads.models import (
    ROAD,
    DisqualifyReason,
    Lead,
    RecycleReason,
    Stage,
)
from cible.people.models import Source
from cible.segments.axes.models import Membership, Segment

TOP_REASONS = 3
MAX_GROUPS = 8  # comparison rows shown; the rest are summed as "Others"
COUNT_BINS = 1 << 22  # keys below this are counted in bins (32 MB at most)
OTHERS = "__others__"


class Mode(StrEnum):
    ARRIVAL = "arrival"
    ACTIVITY = "activity"


MODE_LABELS = {
    Mode.ARRIVAL: gettext_lazy("Leads that arrived in the period"),
    Mode.ACTIVITY: gettext_lazy("Leads that moved in the period"),
}


class Compare(StrEnum):
    SOURCE = "source"
    CAMPAIGN = "campaign"


COMPARE_LABELS = {
    Compare.SOURCE: gettext_lazy("By source"),
    Compare.CAMPAIGN: gettext_lazy("By campaign"),
}


@dataclass(frozen=True)
class FunnelFilters:
    period: Period
    mode: Mode = Mode.ARRIVAL
    source: str = ""
    campaign: Campaign | None = None
    segment: Segment | None = None
    owner: Any = None
    compare: Compare = Compare.SOURCE

    def as_params(self) -> dict[str, str]:
        """Query parameters giving these filters back through `filters_from_params`."""
        params = {**self.period.as_params(), "mode": self.mode.value}
        params["compare"] = self.compare.value
        if self.source:
            params["source"] = self.source
        for name, obj in (("campaign", self.campaign), ("segment", self.segment)):
            if obj is not None:
                params[name] = str(obj.pk)
        if self.owner is not None:
            params["owner"] = str(self.owner.pk)
        return params


def _choice(raw: str, name: str, enum: Any, errors: list[FieldError]) -> Any:
    try:
        return enum(raw or next(iter(enum)).value)
    except ValueError:
        choices = ", ".join(item.value for item in enum)
        message = _("Unknown value “%(value)s”; choose one of %(choices)s.")
        errors.append(FieldError(name, message % {"value": raw[:40], "choices": choices}))
        return next(iter(enum))


def _record(model: Any, raw: str, name: str, errors: list[FieldError]) -> Any:
    if not raw:
        return None
    found = model.objects.filter(pk=raw).first() if is_id(raw) else None
    if found is None:
        errors.append(
            FieldError(
                name, _("No %(what)s with id “%(value)s”.") % {"what": name, "value": raw[:40]}
            )
        )
    return found


def filters_from_params(*, params: Mapping[str, Any], today: dt.date) -> FunnelFilters:
    """The filters of the page and of `GET /funnel`, checked together: ValidationFailed lists
    every parameter at fault with its problem."""
    errors: list[FieldError] = []
    try:
        period = period_from_params(params, today=today)
    except ValidationFailed as error:
        errors += error.errors
        period = Period(today, today)

    def text(name: str) -> str:
        return str(params.get(name) or "").strip()

    mode = _choice(text("mode"), "mode", Mode, errors)
    compare = _choice(text("compare"), "compare", Compare, errors)
    source = text("source")
    if source and source not in Source.values:
        choices = ", ".join(Source.values)
        message = _("Unknown source “%(value)s”; choose one of %(choices)s.")
        errors.append(FieldError("source", message % {"value": source[:40], "choices": choices}))
    campaign = _record(Campaign, text("campaign"), "campaign", errors)
    segment = _record(Segment, text("segment"), "segment", errors)
    owner = _record(get_user_model(), text("owner"), "owner", errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return FunnelFilters(period, mode, source, campaign, segment, owner, compare)


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the period's days in the active time zone."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def funnel_leads(*, viewer: Any, filters: FunnelFilters) -> QuerySet[Lead]:
    """The leads the report counts, before the activity test: visible to `viewer`, filtered."""
    leads = access.visible(viewer, Lead.objects.all())
    if filters.mode == Mode.ARRIVAL:
        start, end = _bounds(filters.period)
        leads = leads.filter(arrived_at__gte=start, arrived_at__lt=end)
    if filters.source:
        leads = leads.filter(source=filters.source)
    if filters.campaign is not None:
        leads = leads.filter(campaign=filters.campaign)
    if filters.owner is not None:
        leads = leads.filter(owner=filters.owner)
    if filters.segment is not None:
        members = Membership.objects.filter(segment=filters.segment).values("organisation_id")
        leads = leads.filter(organisation_id__in=members)
    return leads


# --- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class Step:
    """The time from entering a stage to entering the next one, over the leads that entered
    both (`timed`); `skipped`: leads that reached the next stage without one of the two entries
    (a jump), whose time is unknown rather than guessed."""

    timed: int
    skipped: int
    median_days: float | None
    p75_days: float | None


@dataclass(frozen=True)
class StageRow:
    stage: str
    label: str
    reached: int
    to_next: float | None  # share of those who reached this stage who reached the next one
    from_first: float | None  # share of the first stage's leads who reached this one
    step: Step | None  # to the next stage (None for the last)
    still_here: int  # furthest here and still on the road
    recycled: int
    disqualified: int
    reasons: tuple[Reason, ...]  # why they left here, most frequent first

    @property
    def lost(self) -> int:
        return self.recycled + self.disqualified


@dataclass(frozen=True)
class GroupRow:
    """One source or campaign in the comparison: reached per stage and conversions."""

    key: str
    label: str
    reached: tuple[int, ...]

    @property
    def leads(self) -> int:
        return self.reached[0]

    @property
    def to_next(self) -> tuple[float | None, ...]:
        return tuple(_share(b, a) for a, b in zip(self.reached, self.reached[1:], strict=False))

    @property
    def overall(self) -> float | None:
        return _share(self.reached[-1], self.reached[0])


@dataclass(frozen=True)
class FunnelReport:
    filters: FunnelFilters
    stages: tuple[StageRow, ...]
    groups: tuple[GroupRow, ...] = field(default=())

    @property
    def leads(self) -> int:
        return self.stages[0].reached

    @property
    def customers(self) -> int:
        return self.stages[-1].reached

    @property
    def overall(self) -> float | None:
        return _share(self.customers, self.leads)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _step(days: npt.NDArray[np.float64], reached_next: int) -> Step:
    timed = len(days)
    if not timed:
        return Step(0, reached_next, None, None)
    median, p75 = np.percentile(days, [50, 75])
    return Step(timed, max(reached_next - timed, 0), float(median), float(p75))


REASON_LABELS = {**dict(RecycleReason.choices), **dict(DisqualifyReason.choices)}
# Reasons as small integers for the packed read (queries.py); 0: none given.
REASON_CODES = ["", *REASON_LABELS]
SOURCE_CODES = list(Source.values)


def _group_value(compare: Compare) -> Any:
    if compare == Compare.CAMPAIGN:
        return Coalesce(F("campaign_id"), Value(0))
    whens = [When(source=code, then=Value(i + 1)) for i, code in enumerate(SOURCE_CODES)]
    return Case(*whens, default=Value(0))


def _reason_value() -> Any:
    def codes(field: str) -> Any:
        whens = [
            When(**{field: code}, then=Value(i)) for i, code in enumerate(REASON_CODES) if code
        ]
        return Case(*whens, default=Value(0))

    # Off the road, and why (queries.ASIDE_BITS): the stage itself is not read, the leads' entry
    # columns tell where on the road they are (a CASE over the stage's text costs 0.1 s a million).
    aside = queries.ASIDE_BITS
    return Case(
        When(stage=Stage.RECYCLED, then=Value(aside) + codes("recycle_reason")),
        When(stage=Stage.DISQUALIFIED, then=Value(2 * aside) + codes("disqualify_reason")),
        default=Value(0),
        output_field=IntegerField(),
    )


def _group_key(compare: Compare, group: int) -> str:
    """The comparison key of a packed group: a source code or a campaign id ("" for none)."""
    if compare == Compare.CAMPAIGN:
        return str(group) if group else ""
    return SOURCE_CODES[group - 1] if group else ""


def _group_labels(compare: Compare, keys: list[str]) -> dict[str, str]:
    if compare == Compare.SOURCE:
        names = dict(Source.choices)
        return {key: str(names.get(key, key)) if key else _("No source") for key in keys}
    ids = [int(key) for key in keys if key]
    campaigns = dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {key: campaigns.get(int(key), key) if key else _("No campaign") for key in keys}


def _groups(compare: Compare, by_group: dict[str, list[int]]) -> tuple[GroupRow, ...]:
    ordered = sorted(by_group.items(), key=lambda item: (-item[1][0], item[0]))
    shown, rest = ordered[:MAX_GROUPS], ordered[MAX_GROUPS:]
    labels = _group_labels(compare, [key for key, _reached in shown])
    rows = [GroupRow(key, labels[key], tuple(reached)) for key, reached in shown]
    if rest:
        summed = tuple(int(sum(col)) for col in zip(*(r for _k, r in rest), strict=True))
        rows.append(GroupRow(OTHERS, _("Others (%(count)s)") % {"count": len(rest)}, summed))
    return tuple(rows)


def funnel_report(*, viewer: Any, filters: FunnelFilters) -> FunnelReport:
    """The whole report in two or three queries (the leads; by activity, who moved in the
    period; the names of the campaigns compared), whatever the number of leads."""
    leads = (
        funnel_leads(viewer=viewer, filters=filters)
        .order_by()
        .values(lid=F("id"), why=_reason_value(), grp=_group_value(filters.compare))
    )
    active = _bounds(filters.period) if filters.mode == Mode.ACTIVITY else None
    # Owner, campaign and segment keep few leads: their indexes pay; a period or a source alone
    # keeps many, read faster by a scan.
    selective = any(x is not None for x in (filters.owner, filters.campaign, filters.segment))
    found = queries.read(leads, scan=not selective, active=active)
    roads = queries.roads(found)

    size = len(ROAD)
    # One count per (group, furthest stage, stage now, reason), from one packed key.
    key = ((found.group * size + roads.furthest) * 16 + found.stage) * 64 + found.reason
    keys, counts = _count(key)
    reached_at = [0] * size  # leads whose furthest stage is this one
    still, recycled, disqualified = [0] * size, [0] * size, [0] * size
    reasons: list[Counter[str]] = [Counter() for _ in range(size)]
    by_group: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    for packed, n in zip(keys.tolist(), counts.tolist(), strict=True):
        reason, packed = packed % 64, packed // 64
        stage, packed = packed % 16, packed // 16
        far, group = packed % size, packed // size
        reached_at[far] += n
        by_group[_group_key(filters.compare, group)][far] += n
        if stage == queries.RECYCLED:
            recycled[far] += n
            reasons[far][REASON_CODES[reason]] += n
        elif stage == queries.DISQUALIFIED:
            disqualified[far] += n
            reasons[far][REASON_CODES[reason]] += n
        elif far < size - 1:
            still[far] += n
    reached = _at_least(reached_at)
    first = reached[0]
    stages = []
    for rank, road_stage in enumerate(ROAD):
        last = rank == size - 1
        stages.append(
            StageRow(
                stage=road_stage.value,
                label=str(road_stage.label),
                reached=reached[rank],
                to_next=None if last else _share(reached[rank + 1], reached[rank]),
                from_first=_share(reached[rank], first),
                step=None if last else _step(roads.days[rank], reached[rank + 1]),
                still_here=still[rank],
                recycled=recycled[rank],
                disqualified=disqualified[rank],
                reasons=tuple(
                    Reason(code, str(REASON_LABELS.get(code, code or _("No reason given"))), n)
                    for code, n in reasons[rank].most_common(TOP_REASONS)
                ),
            )
        )
    groups = {key: _at_least(counts) for key, counts in by_group.items()}
    return FunnelReport(filters, tuple(stages), _groups(filters.compare, groups))


def _count(keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each distinct key and its count: by counting into bins when the keys are small (sources:
    a few thousand bins; 5× faster than sorting a million keys), else by sorting (campaigns)."""
    if len(keys) and int(keys.max()) < COUNT_BINS:
        counts = np.bincount(keys)
        present = np.flatnonzero(counts)
        return present, counts[present]
    return np.unique(keys, return_counts=True)


def _at_least(furthest: list[int]) -> list[int]:
    """Leads whose furthest stage is each rank → leads that reached each rank (or beyond)."""
    return [int(n) for n in np.cumsum(furthest[::-1])[::-1]]
