"""Reads of the service levels, through the viewer's access rights (core.access): the queues, the
compliance figures, a lead's clocks, policies and calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.leads.models import FINAL, Lead, RecycleReason, Stage
from cible.people.models import Team
from cible.routing.sla.models import BusinessCalendar, ClockStatus, Handoff, SlaClock, SlaPolicy

DEFAULT_WEEKS = 12
FIRST_YEAR, LAST_YEAR = 1970, 2999
MANAGER_ROLES = (Role.ADMIN, Role.SALES_MANAGER)


# --- queues ----------------------------------------------------------------------------------


def may_see_team_queue(viewer: Any) -> bool:
    return access.role_of(viewer) in MANAGER_ROLES


def queue(*, viewer: Any, scope: str = "mine", stage: str = "") -> QuerySet[Lead]:
    """The viewer's live leads (their team's for a manager, scope "team"; leads Sales sent back for
    Marketing), the one due soonest first, then the best scored; each with its next due time."""
    role = access.role_of(viewer)
    live = Lead.objects.exclude(stage__in=[s.value for s in FINAL])
    open_clocks = SlaClock.objects.filter(lead=OuterRef("pk"), status=ClockStatus.OPEN).order_by(
        "due_at"
    )
    if scope == "team" and may_see_team_queue(viewer):
        qs = live.filter(owner__isnull=False)
        if role != Role.ADMIN:
            qs = qs.filter(owner_id__in=access.teammate_ids(viewer))
    elif role == Role.MARKETING:
        reviews = SlaClock.objects.filter(policy__handoff=Handoff.RECYCLE_REVIEW)
        # What Sales sent back: under review, or rejected where no review policy runs.
        qs = live.filter(
            Q(owner=viewer)
            | Q(pk__in=reviews.filter(status=ClockStatus.OPEN).values("lead_id"))
            | (
                Q(stage=Stage.RECYCLED, recycle_reason=RecycleReason.REJECTED_BY_SALES)
                & ~Q(pk__in=reviews.values("lead_id"))
            )
        )
    else:
        qs = live.filter(owner=viewer)
    if stage:
        qs = qs.filter(stage=stage)
    qs = access.visible(viewer, qs).annotate(
        sla_due=Subquery(open_clocks.values("due_at")[:1]),
        sla_policy=Subquery(open_clocks.values("policy__name")[:1]),
        sla_handoff=Subquery(open_clocks.values("policy__handoff")[:1]),
        score=Coalesce("profile_score", Value(0)) + Coalesce("engagement_score", Value(0)),
    )
    return qs.select_related("contact", "organisation", "owner").order_by(
        F("sla_due").asc(nulls_last=True), F("score").desc(), "pk"
    )


def queue_row(*, viewer: Any, lead_id: int) -> Lead | None:
    """One row of the queue, after a one-click action (any scope the viewer may see)."""
    live = Lead.objects.filter(pk=lead_id)
    open_clocks = SlaClock.objects.filter(lead=OuterRef("pk"), status=ClockStatus.OPEN).order_by(
        "due_at"
    )
    return (
        access.visible(viewer, live)
        .annotate(
            sla_due=Subquery(open_clocks.values("due_at")[:1]),
            sla_policy=Subquery(open_clocks.values("policy__name")[:1]),
            sla_handoff=Subquery(open_clocks.values("policy__handoff")[:1]),
            score=Coalesce("profile_score", Value(0)) + Coalesce("engagement_score", Value(0)),
        )
        .select_related("contact", "organisation", "owner")
        .first()
    )


# --- clocks ----------------------------------------------------------------------------------


def lead_clocks(*, viewer: Any, lead: Lead) -> list[SlaClock]:
    qs = SlaClock.objects.filter(lead=lead).select_related(
        "policy", "owner", "reassigned_to", "team"
    )
    if not access.can(viewer, "view", lead):
        return []
    return list(qs.order_by("-started_at", "-pk")[:50])


def clock_list(
    *,
    viewer: Any,
    status: str = "",
    handoff: str = "",
    owner: int | None = None,
    lead: int | None = None,
    due_before: dt.datetime | None = None,
) -> QuerySet[SlaClock]:
    errors = []
    if status and status not in ClockStatus.values:
        errors.append(
            FieldError("status", _("one of %(values)s") % {"values": ", ".join(ClockStatus.values)})
        )
    if handoff and handoff not in Handoff.values:
        errors.append(
            FieldError("handoff", _("one of %(values)s") % {"values": ", ".join(Handoff.values)})
        )
    if due_before is not None:
        try:
            due_before = _in_utc(due_before)
        except OverflowError:
            errors.append(FieldError("due_before", _("a date and time between years 1 and 9999")))
    if errors:
        raise ValidationFailed(errors=errors)
    qs = access.visible(viewer, SlaClock.objects.all()).select_related("policy")
    if status:
        qs = qs.filter(status=status)
    if handoff:
        qs = qs.filter(policy__handoff=handoff)
    if owner is not None:
        qs = qs.filter(owner_id=owner)
    if lead is not None:
        qs = qs.filter(lead_id=lead)
    if due_before is not None:
        qs = qs.filter(due_at__lt=due_before)
    return qs.order_by("due_at", "id")


def _in_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC (naive: in the current time zone). ISO 8601 allows offsets up to ±23:59,
    PostgreSQL only ±15:59, and refusing one there would abort the request's transaction."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(dt.UTC)


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("calendar", "team").order_by("handoff", "name")


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.order_by("name")


# --- compliance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    team: int | None = None
    user: int | None = None
    handoff: str = ""


@dataclass
class Figures:
    """Counts of one slice (a team, a person, a week, or everything)."""

    label: str
    started: int = 0
    met: int = 0
    breached: int = 0
    running: int = 0

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return round(100 * self.met / decided, 1) if decided else None


@dataclass
class Compliance:
    period: Period
    total: Figures
    by_team: list[Figures] = field(default_factory=list)
    by_user: list[Figures] = field(default_factory=list)
    by_week: list[tuple[dt.date, Figures]] = field(default_factory=list)
    response_median: dt.timedelta | None = None  # assignment → first touch
    response_p90: dt.timedelta | None = None
    speed_median: dt.timedelta | None = None  # arrival → first touch
    speed_p90: dt.timedelta | None = None


def parse_period(params: Mapping[str, Any]) -> Period:
    """?start=&end= (dates), ?team=, ?user=, ?handoff=; default: the last 12 weeks."""
    today = timezone.localdate()
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, default in (("start", today - dt.timedelta(weeks=DEFAULT_WEEKS)), ("end", today)):
        raw = str(params.get(name) or "").strip()
        try:
            values[name] = dt.date.fromisoformat(raw) if raw else default
        except ValueError:
            values[name] = default
            errors.append(FieldError(name, _("a date like 2026-03-31")))
        else:
            if not FIRST_YEAR <= values[name].year <= LAST_YEAR:
                errors.append(FieldError(name, _("a date between 1970 and 2999")))
    for name in ("team", "user"):
        raw = str(params.get(name) or "").strip()
        valid = raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63
        if raw and not valid:
            errors.append(FieldError(name, _("an id")))
        values[name] = int(raw) if raw and valid else None
    handoff = str(params.get("handoff") or "")
    if handoff and handoff not in Handoff.values:
        errors.append(FieldError("handoff", _("an unknown handoff")))
    if not errors and values["end"] < values["start"]:
        errors.append(FieldError("end", _("the end comes before the start")))
    if errors:
        raise ValidationFailed(errors=errors)
    return Period(values["start"], values["end"], values["team"], values["user"], handoff)


def _percentile(values: list[dt.timedelta], share: float) -> dt.timedelta | None:
    """Nearest-rank percentile (the p90 of 10 values is the 9th)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def _counts(qs: QuerySet[SlaClock], key: str) -> list[dict[str, Any]]:
    return list(
        qs.values(key)
        .annotate(
            started=Count("pk"),
            met=Count("pk", filter=Q(status=ClockStatus.MET)),
            breached=Count("pk", filter=Q(status=ClockStatus.BREACHED)),
            running=Count("pk", filter=Q(status=ClockStatus.OPEN)),
        )
        .order_by(key)
    )


def _figures(row: Mapping[str, Any], label: str) -> Figures:
    return Figures(label, row["started"], row["met"], row["breached"], row["running"])


def compliance(*, viewer: Any, period: Period) -> Compliance:
    """Clocks started in the period that the viewer may see, by team, person and week."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    qs = access.visible(viewer, SlaClock.objects.all()).filter(
        started_at__gte=start, started_at__lt=end
    )
    qs = qs.exclude(status=ClockStatus.CANCELLED)
    if period.team is not None:
        qs = qs.filter(team_id=period.team)
    if period.user is not None:
        qs = qs.filter(owner_id=period.user)
    if period.handoff:
        qs = qs.filter(policy__handoff=period.handoff)
    total_row = qs.aggregate(
        started=Count("pk"),
        met=Count("pk", filter=Q(status=ClockStatus.MET)),
        breached=Count("pk", filter=Q(status=ClockStatus.BREACHED)),
        running=Count("pk", filter=Q(status=ClockStatus.OPEN)),
    )
    result = Compliance(period=period, total=_figures(total_row, _("All")))
    teams = dict(Team.objects.values_list("pk", "name"))
    result.by_team = [
        _figures(row, teams.get(row["team"], _("No team"))) for row in _counts(qs, "team")
    ]
    users = {
        u.pk: u.get_full_name() or u.get_username()
        for u in get_user_model().objects.filter(pk__in=qs.values("owner"))
    }
    result.by_user = sorted(
        (_figures(row, users.get(row["owner"], _("Nobody"))) for row in _counts(qs, "owner")),
        key=lambda f: f.label,
    )
    weekly = qs.annotate(week=TruncWeek("started_at"))
    result.by_week = [
        (
            row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"],
            _figures(row, ""),
        )
        for row in _counts(weekly, "week")
    ]
    touched = qs.filter(policy__handoff=Handoff.FIRST_TOUCH, met_at__isnull=False)
    response: list[dt.timedelta] = []
    first_touch: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for lead_id, started_at, met_at, arrived_at in touched.values_list(
        "lead_id", "started_at", "met_at", "lead__arrived_at"
    ):
        response.append(met_at - started_at)
        known = first_touch.get(lead_id)
        if known is None or met_at < known[0]:
            first_touch[lead_id] = (met_at, arrived_at)
    speed = [met - arrived for met, arrived in first_touch.values() if met >= arrived]
    result.response_median = _percentile(response, 0.5)
    result.response_p90 = _percentile(response, 0.9)
    result.speed_median = _percentile(speed, 0.5)
    result.speed_p90 = _percentile(speed, 0.9)
    return result
