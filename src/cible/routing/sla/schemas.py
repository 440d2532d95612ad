"""Request and answer shapes of the service-level endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams
from cible.routing.sla.models import BusinessCalendar, SlaClock, SlaPolicy
from cible.routing.sla.selectors import Compliance, Figures


class CalendarIn(InputSchema):
    name: str
    time_zone: str = "Europe/Paris"
    working_days: str = Field("12345", description="ISO weekday digits: 1 = Monday.")
    opening_hours: str = Field("09:00-12:30, 14:00-18:00", description="One or more ranges.")
    holidays_country: str = "FR"
    holidays_subdivision: str = ""


class CalendarPatch(InputSchema):
    name: str | None = None
    time_zone: str | None = None
    working_days: str | None = None
    opening_hours: str | None = None
    holidays_country: str | None = None
    holidays_subdivision: str | None = None


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    working_days: str
    opening_hours: str
    holidays_country: str
    holidays_subdivision: str


class PolicyIn(InputSchema):
    name: str
    handoff: str
    target_minutes: int
    business_hours: bool = True
    calendar: Id | None = None
    escalate_after_minutes: int | None = None
    notify_manager: bool = True
    notify_owner: bool = False
    team: Id | None = None
    active: bool = True


class PolicyPatch(InputSchema):
    name: str | None = None
    handoff: str | None = None
    target_minutes: int | None = None
    business_hours: bool | None = None
    calendar: Id | None = None
    escalate_after_minutes: int | None = None
    notify_manager: bool | None = None
    notify_owner: bool | None = None
    team: Id | None = None
    active: bool | None = None


class PolicyOut(Schema):
    id: int
    name: str
    handoff: str
    target_minutes: int
    business_hours: bool
    calendar: int | None
    escalate_after_minutes: int | None
    notify_manager: bool
    notify_owner: bool
    team: int | None
    active: bool


class ClockQuery(ListParams):
    status: str | None = None
    handoff: str | None = None
    owner: Id | None = None
    lead: Id | None = None
    due_before: dt.datetime | None = None


class ClockOut(Schema):
    id: int
    policy: int
    handoff: str
    lead: int
    owner: int | None
    team: int | None
    status: str
    started_at: dt.datetime
    due_at: dt.datetime
    escalate_at: dt.datetime | None
    met_at: dt.datetime | None
    breached_at: dt.datetime | None
    escalated_at: dt.datetime | None
    reassigned_at: dt.datetime | None
    reassigned_to: int | None


class ClockPage(Schema):
    items: list[ClockOut]
    next_cursor: str | None
    count: int | None


class FiguresOut(Schema):
    label: str
    started: int
    met: int
    breached: int
    running: int
    compliance: float | None


class WeekOut(FiguresOut):
    week: dt.date


class ComplianceOut(Schema):
    start: dt.date
    end: dt.date
    total: FiguresOut
    by_team: list[FiguresOut]
    by_user: list[FiguresOut]
    by_week: list[WeekOut]
    response_median_seconds: float | None
    response_p90_seconds: float | None
    speed_to_lead_median_seconds: float | None
    speed_to_lead_p90_seconds: float | None


class SweepOut(Schema):
    breached: int
    notified: int
    reassigned: int


def calendar_out(c: BusinessCalendar) -> dict[str, Any]:
    return {name: getattr(c, name) for name in CalendarOut.model_fields}


def policy_out(p: SlaPolicy) -> dict[str, Any]:
    data = {
        name: getattr(p, name)
        for name in PolicyOut.model_fields
        if name not in ("calendar", "team")
    }
    return {**data, "calendar": p.calendar_id, "team": p.team_id}


def clock_out(c: SlaClock) -> dict[str, Any]:
    return {
        "id": c.pk,
        "policy": c.policy_id,
        "handoff": c.policy.handoff,
        "lead": c.lead_id,
        "owner": c.owner_id,
        "team": c.team_id,
        "status": c.status,
        "started_at": c.started_at,
        "due_at": c.due_at,
        "escalate_at": c.escalate_at,
        "met_at": c.met_at,
        "breached_at": c.breached_at,
        "escalated_at": c.escalated_at,
        "reassigned_at": c.reassigned_at,
        "reassigned_to": c.reassigned_to_id,
    }


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "label": f.label,
        "started": f.started,
        "met": f.met,
        "breached": f.breached,
        "running": f.running,
        "compliance": f.compliance,
    }


def _seconds(value: dt.timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def compliance_out(c: Compliance) -> dict[str, Any]:
    return {
        "start": c.period.start,
        "end": c.period.end,
        "total": _figures(c.total),
        "by_team": [_figures(f) for f in c.by_team],
        "by_user": [_figures(f) for f in c.by_user],
        "by_week": [{**_figures(f), "week": week} for week, f in c.by_week],
        "response_median_seconds": _seconds(c.response_median),
        "response_p90_seconds": _seconds(c.response_p90),
        "speed_to_lead_median_seconds": _seconds(c.speed_median),
        "speed_to_lead_p90_seconds": _seconds(c.speed_p90),
    }
