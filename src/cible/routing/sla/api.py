"""REST endpoints of the service levels: policies, calendars, clocks, compliance, the sweep."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core import access
from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import PermissionDenied
from cible.routing.sla import selectors, services
from cible.routing.sla.models import BusinessCalendar, SlaPolicy
from cible.routing.sla.schemas import (
    CalendarIn,
    CalendarOut,
    CalendarPatch,
    ClockPage,
    ClockQuery,
    ComplianceOut,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    SweepOut,
    calendar_out,
    clock_out,
    compliance_out,
    policy_out,
)

router = Router(tags=["Service levels"])


@router.get("/sla/policies", response={200: list[PolicyOut], **ERRORS})
def list_policies(request: HttpRequest) -> Any:
    return [policy_out(p) for p in selectors.policy_list()]


@router.post("/sla/policies", response={201: PolicyOut, **WRITE_ERRORS})
def create_policy(request: HttpRequest, payload: PolicyIn) -> Any:
    policy = services.policy_save(actor=viewer(request), channel=Channel.API, **payload.data())
    return Status(201, policy_out(policy))


@router.patch("/sla/policies/{pk}", response={200: PolicyOut, **WRITE_ERRORS})
def update_policy(request: HttpRequest, pk: Path[Id], payload: PolicyPatch) -> Any:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    data = payload.data()
    policy = services.policy_save(actor=viewer(request), channel=Channel.API, policy=policy, **data)
    return policy_out(policy)


@router.get("/sla/calendars", response={200: list[CalendarOut], **ERRORS})
def list_calendars(request: HttpRequest) -> Any:
    return [calendar_out(c) for c in selectors.calendar_list()]


@router.post("/sla/calendars", response={201: CalendarOut, **WRITE_ERRORS})
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Any:
    calendar = services.calendar_save(actor=viewer(request), channel=Channel.API, **payload.data())
    return Status(201, calendar_out(calendar))


@router.patch("/sla/calendars/{pk}", response={200: CalendarOut, **WRITE_ERRORS})
def update_calendar(request: HttpRequest, pk: Path[Id], payload: CalendarPatch) -> Any:
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    calendar = services.calendar_save(
        actor=viewer(request), channel=Channel.API, calendar=calendar, **payload.data()
    )
    return calendar_out(calendar)


@router.get("/sla/clocks", response={200: ClockPage, **ERRORS})
def list_clocks(request: HttpRequest, params: Query[ClockQuery]) -> Any:
    """Visible clocks, the soonest due first; filter by status, handoff, owner, lead, due time."""
    qs = selectors.clock_list(
        viewer=viewer(request),
        status=params.status or "",
        handoff=params.handoff or "",
        owner=params.owner,
        lead=params.lead,
        due_before=params.due_before,
    )
    return paginate(
        qs, cursor=params.cursor, limit=params.limit, with_count=params.count, serialize=clock_out
    )


@router.get("/sla/compliance", response={200: ComplianceOut, **ERRORS})
def get_compliance(request: HttpRequest) -> Any:
    """?start=&end= (dates), ?team=, ?user=, ?handoff=: the figures of the compliance page."""
    period = selectors.parse_period(request.GET)
    return compliance_out(selectors.compliance(viewer=viewer(request), period=period))


@router.post("/sla/sweep", response={200: SweepOut, **ERRORS})
def run_sweep(request: HttpRequest) -> Any:
    """Run the breach sweep now (administrators); it also runs every minute in the worker."""
    if not access.is_admin(viewer(request)):
        raise PermissionDenied(_("Only administrators may run the sweep by hand."))
    report = services.sweep()
    return {
        "breached": report.breached,
        "notified": report.notified,
        "reassigned": report.reassigned,
    }
