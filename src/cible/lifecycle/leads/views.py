"""Pages of leads: the list with its stage tabs, a lead's page (its road, BANT, the moves allowed
from where it stands, its history), the stage definitions, and the Leads tab of a contact.
Thin over `selectors` and `services`: a refused action re-renders the page with its reason."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.lifecycle.leads import hooks, selectors, services
from cible.lifecycle.leads.definitions import side_label, sides_of
from cible.lifecycle.leads.forms import (
    DISQUALIFY_REASONS,
    RECYCLE_REASONS,
    ConvertForm,
    DefinitionForm,
    MoveForm,
    OpenLeadForm,
    QualifyForm,
    RejectForm,
)
from cible.lifecycle.leads.models import Lead, StageDefinition
from cible.people.hooks import related_sections
from cible.people.models import Contact

PER_PAGE = 50


def _lead(request: HttpRequest, pk: int) -> Lead:
    try:
        return selectors.lead_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def lead_list_view(request: HttpRequest) -> HttpResponse:
    qs, query = selectors.lead_list(viewer=request.user, params=request.GET)
    page = CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    without_stage = request.GET.copy()
    for key in ("stage", "page"):
        without_stage.pop(key, None)
    context = {
        "page": page,
        "query": query,
        "tabs": selectors.stage_counts(viewer=request.user, params=request.GET),
        "filters": [f for f in selectors.LEAD_FILTERS if not f.hidden and f.param != "stage"],
        "get": request.GET,
        "current_stage": query.filters.get("stage", ""),
        "tab_params": without_stage.urlencode(),
    }
    return render(request, "leads/list.html", context)


def _detail(request: HttpRequest, lead: Lead, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    context = {
        "lead": lead,
        "road": selectors.lead_road(lead),
        "transitions": selectors.lead_history(lead),
        "next_rule": selectors.next_rule(lead),
        "targets": selectors.move_choices(lead),
        "may_change": access.can(user, "change", lead),
        "sales": access.role_of(user) in services.SALES_ROLES,
        "qualify_form": forms.get("qualify_form")
        or QualifyForm(
            initial={
                "version": lead.version,
                "budget": lead.budget,
                "authority": lead.authority,
                "need": lead.need,
                "timing": lead.timing,
                "notes": lead.qualification_notes,
            }
        ),
        "move_form": forms.get("move_form") or MoveForm(initial={"version": lead.version}),
        "reject_form": forms.get("reject_form") or RejectForm(initial={"version": lead.version}),
        "recycle_reasons": RECYCLE_REASONS,
        "disqualify_reasons": DISQUALIFY_REASONS,
        "error": forms.get("error"),
        "convertible": lead.stage in ("sql", "sal"),
        # Routing and service levels (higher apps) add their cards: people.hooks, on="lead".
        "sections": related_sections(user, lead),
    }
    return render(request, "leads/detail.html", context, status=status)


@login_required
@require_GET
def lead_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _lead(request, pk))


def _refused(request: HttpRequest, lead: Lead, error: CibleError, **forms: Any) -> HttpResponse:
    lead.refresh_from_db()
    for form in forms.values():
        show_errors(form, error)
    status = 409 if isinstance(error, ConflictError) else 422
    return _detail(request, lead, status=status, error=str(error), **forms)


def _done(request: HttpRequest, lead: Lead, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(reverse("leads:detail", args=[lead.pk]))


@login_required
@require_POST
def lead_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _detail(request, lead, status=422, move_form=form)
    data = form.cleaned_data
    try:
        services.move(
            lead=lead,
            to_stage=data["to_stage"],
            actor=request.user,
            channel=Channel.UI,
            reason=data["reason"],
            note=data["note"],
            requalify_on=data["requalify_on"],
            version=data["version"],
        )
    except CibleError as error:
        return _refused(request, lead, error, move_form=form)
    return _done(request, lead, _("Moved to %(stage)s.") % {"stage": lead.get_stage_display()})


@login_required
@require_POST
def lead_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    try:
        version = int(request.POST.get("version") or lead.version)
        services.accept(lead=lead, actor=request.user, channel=Channel.UI, version=version)
    except ValueError:
        raise Http404 from None
    except CibleError as error:
        return _refused(request, lead, error)
    return _done(request, lead, _("Accepted by Sales."))


@login_required
@require_POST
def lead_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, lead, status=422, reject_form=form)
    try:
        services.reject(
            lead=lead,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            requalify_on=form.cleaned_data["requalify_on"],
            version=form.cleaned_data["version"],
        )
    except CibleError as error:
        return _refused(request, lead, error, reject_form=form)
    return _done(request, lead, _("Rejected: the lead is back with Marketing."))


@login_required
@require_POST
def lead_qualify_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = QualifyForm(request.POST)
    if not form.is_valid():
        return _detail(request, lead, status=422, qualify_form=form)
    data = form.cleaned_data
    before = lead.stage
    try:
        services.qualify(
            lead=lead,
            actor=request.user,
            budget=data["budget"],
            authority=data["authority"],
            need=data["need"],
            timing=data["timing"],
            notes=data["notes"],
            version=data["version"],
        )
    except CibleError as error:
        return _refused(request, lead, error, qualify_form=form)
    if lead.stage != before:
        return _done(
            request,
            lead,
            _("Qualification saved; the agreed definition moved the lead to %(stage)s.")
            % {"stage": lead.get_stage_display()},
        )
    return _done(request, lead, _("Qualification saved."))


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert_view(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead(request, pk)
    form = ConvertForm(
        request.POST or None,
        initial={"version": lead.version, "name": f"{lead.organisation or ''} — {lead}"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = hooks.convert(
                lead=lead, actor=request.user, channel=Channel.UI, **form.cleaned_data
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("The lead is now an opportunity."))
            return HttpResponseRedirect(
                reverse("pipeline:opportunity_detail", args=[opportunity.pk])
            )
    return render(request, "leads/convert.html", {"lead": lead, "form": form})


@login_required
@require_POST
def lead_open_view(request: HttpRequest, contact_pk: int) -> HttpResponse:
    """Open a lead for a contact, from the contact's Leads tab."""
    contact = access.visible(request.user, Contact.objects.all()).filter(pk=contact_pk).first()
    if contact is None:
        raise Http404
    form = OpenLeadForm(request.POST)
    back = reverse("people:contact_detail", args=[contact.pk])
    if not form.is_valid():
        messages.error(request, _("Choose a source and a stage."))
        return HttpResponseRedirect(back)
    try:
        lead = services.open_lead(
            contact=contact, actor=request.user, channel=Channel.UI, **form.cleaned_data
        )
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(back)
    return _done(request, lead, _("Lead opened."))


# --- stage definitions ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def definitions_view(request: HttpRequest) -> HttpResponse:
    form = DefinitionForm(request.POST or None, initial={"stage": request.GET.get("stage")})
    if request.method == "POST" and form.is_valid():
        try:
            definition = services.write_definition(
                stage=form.cleaned_data["stage"],
                text=form.cleaned_data["text"],
                criteria=form.criteria(),
                actor=request.user,
                channel=Channel.UI,
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(
                request,
                _("%(definition)s written; it applies once Marketing and Sales approve it.")
                % {"definition": definition},
            )
            return HttpResponseRedirect(reverse("leads:definitions"))
    context = {
        "stages": selectors.definitions_page(),
        "form": form,
        "my_sides": [(side, side_label(side)) for side in sides_of(request.user)],
    }
    return render(request, "leads/definitions.html", context, status=422 if form.is_bound else 200)


@login_required
@require_POST
def definition_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    definition = StageDefinition.objects.filter(pk=pk).first()
    if definition is None:
        raise Http404
    try:
        services.approve_definition(
            definition=definition,
            actor=request.user,
            side=request.POST.get("side", ""),
            channel=Channel.UI,
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        definition.refresh_from_db()
        messages.success(request, _approved_message(definition))
    return HttpResponseRedirect(reverse("leads:definitions"))


def _approved_message(definition: StageDefinition) -> str:
    if definition.status == "agreed":
        return _("%(definition)s approved by both sides: it is agreed and applies.") % {
            "definition": definition
        }
    return _("%(definition)s approved; waiting for the other side.") % {"definition": definition}


# --- the Leads tab of a contact ---------------------------------------------------------------


def contact_section(viewer: Any, contact: Any) -> dict[str, Any] | None:
    """Registered with people.hooks: the contact's leads, and a form to open one."""
    leads = list(selectors.contact_leads(viewer=viewer, contact=contact)[:100])
    return {
        "key": "leads",
        "title": _("Leads"),
        "template": "leads/_contact_leads.html",
        "leads": leads,
        "count": len(leads),
        "has_live": any(lead.is_live for lead in leads),
        "open_form": OpenLeadForm(initial={"source": contact.source or "other"}),
        "may_open": access.can(viewer, "change", contact),
        "contact": contact,
    }
