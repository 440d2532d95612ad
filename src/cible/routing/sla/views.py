"""Pages of the service levels: the queues (with one-click accept, reject and review), the
compliance report, the policy and calendar editors, and the lead page's "Service levels" card.
Thin over `selectors` and `services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.lifecycle.leads import services as lead_services
from cible.lifecycle.leads.models import Lead, Stage
from cible.people.models import Team
from cible.people.selectors import user_choices
from cible.routing.sla import selectors, services
from cible.routing.sla.forms import CalendarForm, PolicyForm, RejectForm
from cible.routing.sla.models import BusinessCalendar, SlaPolicy
from cible.routing.sla.timeleft import duration_text, time_left

PER_PAGE = 50


def _rows(leads: Any) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "lead": lead,
            "left": time_left(lead.sla_due, now) if lead.sla_due else "",
            "late": bool(lead.sla_due and lead.sla_due < now),
        }
        for lead in leads
    ]


@login_required
@require_GET
def queue_view(request: HttpRequest) -> HttpResponse:
    scope = request.GET.get("scope", "mine")
    stage = request.GET.get("stage", "")
    if stage and stage not in Stage.values:
        stage = ""
    leads = selectors.queue(viewer=request.user, scope=scope, stage=stage)
    page = CappedPaginator(leads, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": _rows(page.object_list),
        "scope": scope if selectors.may_see_team_queue(request.user) else "mine",
        "may_see_team": selectors.may_see_team_queue(request.user),
        "stage": stage,
        "stages": Stage.choices,
        "sales": access.role_of(request.user) in lead_services.SALES_ROLES,
        "marketing": access.role_of(request.user) in ("marketing", "admin"),
        "reject_form": RejectForm(),
    }
    return render(request, "sla/queue.html", context)


def _row(request: HttpRequest, lead_id: int, error: str = "", status: int = 200) -> HttpResponse:
    lead = selectors.queue_row(viewer=request.user, lead_id=lead_id)
    if lead is None:
        raise Http404
    context = {
        "row": _rows([lead])[0],
        "error": error,
        "sales": access.role_of(request.user) in lead_services.SALES_ROLES,
        "marketing": access.role_of(request.user) in ("marketing", "admin"),
        "reject_form": RejectForm(),
        "scope": "team" if request.POST.get("scope") == "team" else "mine",
    }
    if error and not request.htmx:  # type: ignore[attr-defined]
        status = 422
    return render(request, "sla/_queue_row.html", context, status=status)


def _visible_lead(request: HttpRequest, pk: int) -> Lead:
    lead = access.visible(request.user, Lead.objects.filter(pk=pk)).first()
    if lead is None:
        raise Http404
    return lead


@login_required
@require_POST
def accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    try:
        lead_services.accept(lead=lead, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        return _row(request, pk, error=str(error))
    return _row(request, pk)


@login_required
@require_POST
def reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = RejectForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    try:
        lead_services.reject(lead=lead, actor=request.user, reason=reason, channel=Channel.UI)
    except CibleError as error:
        message = "; ".join(e.message for e in error.errors) or str(error)
        return _row(request, pk, error=message)
    return _row(request, pk)


@login_required
@require_POST
def reviewed_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    try:
        services.review_done(lead=lead, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        return _row(request, pk, error=str(error))
    return _row(request, pk)


# --- compliance --------------------------------------------------------------------------------


def _duration(value: Any) -> str:
    return duration_text(value.total_seconds()) if value is not None else "—"


@login_required
@require_GET
def compliance_view(request: HttpRequest) -> HttpResponse:
    try:
        period = selectors.parse_period(request.GET)
    except CibleError as error:
        messages.error(request, str(error))
        period = selectors.parse_period({})
    figures = selectors.compliance(viewer=request.user, period=period)
    weeks = [week.isoformat() for week, _f in figures.by_week]
    charts = {
        "weekly": {
            "kind": "lines",
            "labels": weeks,
            "series": [
                {"name": _("Started"), "values": [f.started for _w, f in figures.by_week]},
                {"name": _("Met on time"), "values": [f.met for _w, f in figures.by_week]},
                {"name": _("Breached"), "values": [f.breached for _w, f in figures.by_week]},
            ],
        },
        "by_user": {
            "kind": "bars",
            "name": _("Compliance"),
            "labels": [f.label for f in figures.by_user],
            "values": [f.compliance if f.compliance is not None else 0 for f in figures.by_user],
            "suffix": " %",
            "max": 100,
        },
    }
    context = {
        "figures": figures,
        "period": period,
        "charts": charts,
        "response_median": _duration(figures.response_median),
        "response_p90": _duration(figures.response_p90),
        "speed_median": _duration(figures.speed_median),
        "speed_p90": _duration(figures.speed_p90),
        "teams": Team.objects.values_list("pk", "name"),
        "users": user_choices(),
        "handoffs": selectors.Handoff.choices,
    }
    return render(request, "sla/compliance.html", context)


# --- editors ---------------------------------------------------------------------------------


@login_required
@require_GET
def settings_view(request: HttpRequest) -> HttpResponse:
    context = {
        "policies": selectors.policy_list(),
        "calendars": selectors.calendar_list(),
        "may_edit": access.role_of(request.user) in services.EDITOR_ROLES,
    }
    return render(request, "sla/settings.html", context)


def _edit(
    request: HttpRequest,
    *,
    form_class: type[Any],
    instance: Any,
    initial: dict[str, Any],
    save: Any,
    title: str,
) -> HttpResponse:
    if access.role_of(request.user) not in services.EDITOR_ROLES:
        messages.error(
            request, _("Only administrators and sales managers may change service levels.")
        )
        return HttpResponseRedirect(reverse("sla:settings"))
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.values() if hasattr(form, "values") else dict(form.cleaned_data)
        try:
            save(values)
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("sla:settings"))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "sla/edit.html",
        {"form": form, "title": title, "instance": instance},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk) if pk else None
    initial = {}
    if policy is not None:
        initial = {name: getattr(policy, name) for name in services.POLICY_FIELDS}
    return _edit(
        request,
        form_class=PolicyForm,
        instance=policy,
        initial=initial,
        save=lambda values: services.policy_save(
            actor=request.user, channel=Channel.UI, policy=policy, **values
        ),
        title=str(policy) if policy else _("New SLA policy"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=pk) if pk else None
    initial: dict[str, Any] = {"working_days": list("12345")}
    if calendar is not None:
        initial = {name: getattr(calendar, name) for name in services.CALENDAR_FIELDS}
        initial["working_days"] = list(calendar.working_days)
    return _edit(
        request,
        form_class=CalendarForm,
        instance=calendar,
        initial=initial,
        save=lambda values: services.calendar_save(
            actor=request.user, channel=Channel.UI, calendar=calendar, **values
        ),
        title=str(calendar) if calendar else _("New business calendar"),
    )


# --- the lead page -----------------------------------------------------------------------------


def lead_section(viewer: Any, lead: Any) -> dict[str, Any] | None:
    """Registered with people.hooks (on="lead"): the lead's clocks and escalations."""
    clocks = selectors.lead_clocks(viewer=viewer, lead=lead)
    if not clocks:
        return None
    now = timezone.now()
    return {
        "key": "sla",
        "title": _("Service levels"),
        "template": "sla/_lead_clocks.html",
        "clocks": [
            {
                "clock": c,
                "left": time_left(c.due_at, now) if c.status == "open" else "",
                # The sweep found the lead already moved on or handed over: nothing to reassign.
                "handed_over": bool(
                    c.reassigned_at
                    and c.reassigned_to_id is None
                    and (lead.owner_id != c.owner_id or not lead.is_live)
                ),
            }
            for c in clocks
        ],
    }
