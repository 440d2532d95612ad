"""The timeline section of contact and organisation pages: filter by kind, page with "more",
and log a call or a meeting in two clicks (a button, then the outcome), all refreshed in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cible.core import access
from cible.core.errors import CibleError, PermissionDenied
from cible.core.values import is_id
from cible.engagement.interactions import kinds, selectors, services
from cible.engagement.interactions.forms import LogForm
from cible.engagement.interactions.models import Interaction, InteractionKind, InteractionOutcome
from cible.people.models import Contact, Organisation

MODELS: dict[str, type[Contact] | type[Organisation]] = {
    "contact": Contact,
    "organisation": Organisation,
}


@dataclass(frozen=True)
class Entry:
    interaction: Interaction
    icon: str
    duration: str
    campaign_url: str


def _campaign_url(campaign_id: int | None) -> str:
    """The campaign's page, once the campaigns app serves one (it sits beside this app)."""
    if campaign_id is None:
        return ""
    for name in ("campaigns:detail", "campaigns:campaign_detail"):
        try:
            return reverse(name, args=[campaign_id])
        except NoReverseMatch:
            continue
    return ""


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("%(hours)s h %(minutes)02d") % {"hours": minutes // 60, "minutes": minutes % 60}


def _entries(rows: list[Interaction]) -> list[Entry]:
    return [
        Entry(
            i,
            kinds.ICONS.get(i.kind, "dot"),
            _duration(i.duration_seconds),
            _campaign_url(i.campaign_id),
        )
        for i in rows
    ]


def _kind_filter(raw: str | None) -> str:
    return raw if raw in InteractionKind.values else ""


def _urls(entity: str, pk: int) -> dict[str, str]:
    return {
        name: reverse(f"interactions:{entity}_{name}", args=[pk])
        for name in ("timeline", "more", "log")
    }


def _page(
    viewer: Any, record: Any, kind: str, before: tuple[dt.datetime, int] | None = None
) -> selectors.Timeline:
    entity = record._meta.model_name
    return selectors.timeline(
        viewer,
        contact=record if entity == "contact" else None,
        organisation=record if entity == "organisation" else None,
        kinds=[kind] if kind else None,
        before=before,
    )


def _blank(kind: str) -> LogForm:
    return LogForm(auto_id=f"{kind}-%s", initial={"kind": kind})


def kind_of(form: LogForm) -> str:
    return str(form.data.get("kind") or "") if form.is_bound else str(form.initial.get("kind"))


def _section(
    viewer: Any, record: Any, *, kind: str = "", form: LogForm | None = None, notice: str = ""
) -> dict[str, Any]:
    entity = record._meta.model_name
    page = _page(viewer, record, kind)
    outcome_labels = dict(InteractionOutcome.choices)
    return {
        "key": "timeline",
        "title": gettext_lazy("Timeline"),
        "template": "interactions/_section.html",
        "count": None,
        "record": record,
        "entity": entity,
        "entries": _entries(page.entries),
        "next_before": page.next_before,
        "kind": kind,
        "kinds": InteractionKind.choices,
        "urls": _urls(entity, record.pk),
        "can_log": access.can(viewer, "change", record),
        "call_outcomes": [(o, outcome_labels[o]) for o in kinds.CALL_OUTCOMES],
        "meeting_outcomes": [(o, outcome_labels[o]) for o in kinds.MEETING_OUTCOMES],
        "call_form": form if form is not None and kind_of(form) == "call" else _blank("call"),
        "meeting_form": form
        if form is not None and kind_of(form) == "meeting"
        else _blank("meeting"),
        "open": kind_of(form) if form is not None else "",
        "notice": notice,
    }


def contact_section(viewer: Any, contact: Contact) -> dict[str, Any] | None:
    """The Timeline tab of a contact page (registered with people.hooks)."""
    return _section(viewer, contact)


def organisation_section(viewer: Any, organisation: Organisation) -> dict[str, Any] | None:
    """The Timeline tab of an organisation page: its own touchpoints and its people's."""
    return _section(viewer, organisation)


def _record(request: HttpRequest, entity: str, pk: int) -> Any:
    model = MODELS[entity]
    record = access.visible(request.user, model.objects.all()).filter(pk=pk).first()
    if record is None:
        raise Http404(_("Not found, or not visible to you."))
    return record


def _render(request: HttpRequest, section: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, "interactions/_section.html", {"section": section}, status=status)


@login_required
@require_GET
def timeline_view(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    record = _record(request, entity, pk)
    kind = _kind_filter(request.GET.get("kind"))
    return _render(request, _section(request.user, record, kind=kind))


@login_required
@require_GET
def more_view(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """The next entries after (before, before_id), and the button for the ones after them."""
    record = _record(request, entity, pk)
    kind = _kind_filter(request.GET.get("kind"))
    try:
        moment = parse_datetime(request.GET.get("before") or "")
    except ValueError:  # well formed but impossible, e.g. month 13
        moment = None
    before_id = request.GET.get("before_id") or ""
    if moment is None or timezone.is_naive(moment) or not is_id(before_id):
        return HttpResponse(_("This link is not valid; reload the page."), status=400)
    before = (moment, int(before_id))
    page = _page(request.user, record, kind, before)
    context = {
        "section": {"entity": entity, "kind": kind, "urls": _urls(entity, pk)},
        "entries": _entries(page.entries),
        "next_before": page.next_before,
        "before": True,
    }
    return render(request, "interactions/_entries.html", context)


@login_required
@require_POST
def log_view(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """Save a call or a meeting at once (time: now, owner: you); the section comes back."""
    record = _record(request, entity, pk)
    kind = str(request.POST.get("kind") or "")
    form = LogForm(request.POST, auto_id=f"{kind if kind in ('call', 'meeting') else 'log'}-%s")
    # HTMX swaps only successful answers: a refused form comes back as a 200 to show its errors.
    invalid = 200 if request.htmx else 422  # type: ignore[attr-defined]
    if not form.is_valid():
        return _render(request, _section(request.user, record, form=form), status=invalid)
    try:
        interaction = services.interaction_log(
            record=record, actor=request.user, **form.service_arguments()
        )
    except PermissionDenied as refused:
        return HttpResponse(str(refused), status=403, content_type="text/plain; charset=utf-8")
    except CibleError as error:
        for problem in error.errors:
            name = problem.field if problem.field in form.fields else None
            if problem.field == "duration_seconds":
                name = "duration_minutes"
            form.add_error(name, problem.message)
        return _render(request, _section(request.user, record, form=form), status=invalid)
    notice = _("%(kind)s logged: %(outcome)s.") % {
        "kind": interaction.get_kind_display(),
        "outcome": interaction.get_outcome_display(),
    }
    return _render(request, _section(request.user, record, notice=notice))
