"""Pages of campaigns: the list with figures, a campaign's page (KPIs, member funnel, members,
adding from a target, UTM links), the create/edit form. Thin over `selectors` and `services`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError, NotFound, PermissionDenied
from cible.core.forms import LookupWidget, StyledForm, record_form
from cible.core.normalisers import NormalisationError
from cible.core.records import CappedPaginator, RecordPages, TableColumn
from cible.core.templatetags.cible import display, money
from cible.engagement.campaigns import selectors, services, utm
from cible.engagement.campaigns.models import Campaign, CampaignStatus, MemberStatus
from cible.engagement.campaigns.normalise import CAMPAIGN_SPECS
from cible.engagement.campaigns.templatetags.campaigns import rate, unit_cost
from cible.people.models import Contact
from cible.people.selectors import user_choices
from cible.segments.targets.models import Target
from cible.segments.targets.selectors import target_get, target_list

MEMBERS_PER_PAGE = 50
FIELDS = [
    "name",
    "type",
    "goal",
    "status",
    "starts_on",
    "ends_on",
    "budget",
    "actual_cost",
    "currency",
    "target",
    "owner",
    *utm.UTM_FIELDS,
    "description",
]


def _any_target() -> list[tuple[Any, str]]:
    """Every target, so that the form accepts an id; the choices shown are the viewer's own
    (`CampaignPages._form_page`) and the service refuses a target the actor may not see."""
    return [(t.pk, t.name) for t in Target.objects.order_by("name", "id")]


def _target_choices(viewer: Any) -> list[tuple[str, str]]:
    return [(str(t.pk), t.name) for t in target_list(viewer=viewer)]


CampaignForm = record_form(
    Campaign,
    FIELDS,
    required=["name", "type"],
    choices={"owner": user_choices, "target": _any_target},
    validate_url=reverse_lazy("campaigns:campaign_validate"),
    validated=["budget", "actual_cost", "currency", "starts_on", "ends_on", *utm.UTM_FIELDS],
)


def _initial(campaign: Campaign) -> dict[str, Any]:
    initial = {n: getattr(campaign, n) for n in FIELDS if n not in ("target", "owner")}
    initial.update(target=campaign.target_id or "", owner=campaign.owner_id or "")
    return {k: ("" if v is None else v) for k, v in initial.items()}


@dataclass(frozen=True)
class CampaignPages(RecordPages):
    """The shared record pages, with the target choices narrowed to the viewer's targets."""

    def _form_page(
        self,
        request: HttpRequest,
        form: forms.Form,
        record: Any,
        conflict: bool = False,
        panel: Any = None,
    ) -> HttpResponse:
        form.fields["target"].choices = [("", "—"), *_target_choices(request.user)]  # type: ignore[attr-defined]
        if record is None and not form.is_bound:
            form.initial.setdefault("owner", request.user.pk)
        return super()._form_page(request, form, record, conflict=conflict, panel=panel)


def _money(campaign: Campaign, value: Any) -> str:
    return money(value, campaign.currency)


CAMPAIGN_PAGES = CampaignPages(
    model=Campaign,
    namespace="campaigns",
    prefix="campaign",
    title=gettext_lazy("Campaigns"),
    list_selector=selectors.campaign_list,
    filters=selectors.filters_for,
    columns=[
        TableColumn("name", gettext_lazy("Name"), lambda c: c.name, sort="name", link=True),
        TableColumn("type", gettext_lazy("Type"), lambda c: c.get_type_display()),
        TableColumn("goal", gettext_lazy("Goal"), lambda c: c.get_goal_display()),
        TableColumn("status", gettext_lazy("Status"), lambda c: c.get_status_display()),
        TableColumn("start", gettext_lazy("Start"), lambda c: c.starts_on, sort="start"),
        TableColumn("end", gettext_lazy("End"), lambda c: c.ends_on, sort="end"),
        TableColumn("budget", gettext_lazy("Budget"), lambda c: _money(c, c.budget), sort="budget"),
        TableColumn(
            "cost", gettext_lazy("Actual cost"), lambda c: _money(c, c.actual_cost), sort="cost"
        ),
        TableColumn(
            "members", gettext_lazy("Members"), lambda c: display(c.member_count), sort="members"
        ),
        TableColumn(
            "responses",
            gettext_lazy("Responses"),
            lambda c: display(c.response_count),
            sort="responses",
        ),
        TableColumn(
            "response_rate", gettext_lazy("Response rate"), lambda c: rate(c.response_rate)
        ),
        TableColumn("leads", gettext_lazy("Leads"), lambda c: display(c.lead_count)),
        TableColumn(
            "cost_per_lead",
            gettext_lazy("Cost per lead"),
            lambda c: unit_cost(c.cost_per_lead, c.currency),
        ),
    ],
    form_class=CampaignForm,
    form_fields=FIELDS,
    create=services.campaign_create,
    update=services.campaign_update,
    delete=services.campaign_delete,
    detail_context=lambda viewer, record: {},
    initial=_initial,
    detail_template="campaigns/detail.html",
    export_name="campaigns",
    specs=CAMPAIGN_SPECS,
)


# --- a campaign's page --------------------------------------------------------------------------


class AddContactForm(StyledForm):
    contact = forms.CharField(
        label=gettext_lazy("Contact"), widget=LookupWidget("people:contact_lookup", Contact)
    )


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    try:
        return selectors.campaign_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404(_("Not found, or not visible to you.")) from None


def _members_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    status = request.GET.get("status", "")
    status = status if status in MemberStatus.values else ""
    search = request.GET.get("q", "")[:200]
    members = selectors.member_list(
        viewer=request.user, campaign=campaign, status=status, search=search
    )
    params = urlencode([(k, v) for k, v in (("status", status), ("q", search)) if v])
    return {
        "record": campaign,
        "page": CappedPaginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page")),
        "status": status,
        "search": search,
        "statuses": MemberStatus.choices,
        "params": params,
        "can_change": access.can(request.user, "change", campaign),
    }


def _funnel_chart(figures: selectors.CampaignFigures) -> dict[str, Any]:
    return {
        "labels": [step.label for step in figures.funnel],
        "values": [step.count for step in figures.funnel],
        "name": _("Members who reached at least this status"),
    }


@login_required
@require_GET
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    figures = selectors.campaign_figures(viewer=request.user, campaign=campaign)
    utm_values = {name: getattr(campaign, name) for name in utm.UTM_FIELDS}
    return render(
        request,
        "campaigns/detail.html",
        {
            **_members_context(request, campaign),
            "pages": CAMPAIGN_PAGES,
            "figures": figures,
            "chart": _funnel_chart(figures),
            "targets": target_list(viewer=request.user),
            "add_form": AddContactForm(),
            "utm_values": utm_values,
            "utm_missing": utm.missing_for_link(utm_values),
            "can_delete": access.can(request.user, "delete", campaign),
            "closed": campaign.status in services.CLOSED,
            "next_statuses": [
                (value, label)
                for value, label in CampaignStatus.choices
                if value in services.TRANSITIONS.get(campaign.status, ())
            ],
        },
    )


@login_required
@require_GET
def members_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The members table alone (filters, search and pages swap it in place)."""
    campaign = _campaign(request, pk)
    return render(request, "campaigns/_members.html", _members_context(request, campaign))


@login_required
@require_GET
def members_export_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    campaign = _campaign(request, pk)
    status = request.GET.get("status", "")
    try:
        return selectors.member_export(
            viewer=request.user,
            campaign=campaign,
            status=status if status in MemberStatus.values else "",
            search=request.GET.get("q", "")[:200],
            channel=Channel.UI,
        )
    except PermissionDenied as error:
        raise DjangoPermissionDenied(str(error)) from None


def _target_of(request: HttpRequest) -> Target | None:
    try:
        return target_get(viewer=request.user, pk=request.POST.get("target", ""))
    except NotFound:
        return None


@login_required
@require_POST
def target_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """How many contacts of the chosen target would be added, and who would be skipped, before
    the person confirms."""
    campaign = _campaign(request, pk)
    target = _target_of(request)
    context: dict[str, Any] = {"record": campaign, "target": target}
    if target is not None:
        context["split"] = selectors.target_preview(
            viewer=request.user, campaign=campaign, target=target
        )
    return render(request, "campaigns/_target_preview.html", context)


def _back(campaign: Campaign, anchor: str = "members") -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("campaigns:campaign_detail", args=[campaign.pk]) + f"#{anchor}"
    )


@login_required
@require_POST
def add_from_target_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    target = _target_of(request)
    if target is None:
        messages.error(request, _("Choose a target you see."))
        return _back(campaign)
    try:
        result = services.add_members_from_target(
            campaign=campaign, target=target, actor=request.user, channel=Channel.UI
        )
    except CibleError as error:
        messages.error(request, str(error))
        return _back(campaign)
    messages.success(request, added_message(result))
    return _back(campaign)


def added_message(result: services.MembersAdded) -> str:
    parts = [
        _("%(count)s contacts added.") % {"count": result.added},
    ]
    if result.already_members:
        parts.append(_("%(count)s were already members.") % {"count": result.already_members})
    if result.opted_out:
        parts.append(_("%(count)s opted out of emails.") % {"count": result.opted_out})
    if result.no_email:
        parts.append(_("%(count)s have no email address.") % {"count": result.no_email})
    return " ".join(parts)


@login_required
@require_POST
def add_contact_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        member = services.add_member(
            campaign=campaign,
            contact=request.POST.get("contact", ""),
            actor=request.user,
            channel=Channel.UI,
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s was added.") % {"name": member.contact})
    return _back(campaign)


@login_required
@require_POST
def remove_member_view(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        services.remove_member(
            campaign=campaign, contact=contact_id, actor=request.user, channel=Channel.UI
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The contact was removed from the campaign."))
    return _back(campaign)


@login_required
@require_POST
def status_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the campaign on (start, complete, cancel, reopen) from its page."""
    campaign = _campaign(request, pk)
    version = request.POST.get("version", "")
    try:
        services.campaign_set_status(
            campaign=campaign,
            status=request.POST.get("status", ""),
            actor=request.user,
            channel=Channel.UI,
            expected_version=int(version) if version.isdigit() else campaign.version,
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The campaign is now %(status)s.") % {"status": campaign.get_status_display()},
        )
    return _back(campaign, "kpis")


@login_required
@require_POST
def member_status_view(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        services.set_member_status(
            campaign=campaign,
            contact=contact_id,
            status=request.POST.get("status", ""),
            actor=request.user,
            channel=Channel.UI,
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The member's status was saved."))
    return _back(campaign)


@login_required
@require_POST
def utm_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The landing page address tagged with the campaign's UTM values (content and term may be
    set for this one link), to copy into an ad, an email or a post."""
    campaign = _campaign(request, pk)
    values = {name: getattr(campaign, name) for name in utm.UTM_FIELDS}
    context: dict[str, Any] = {"record": campaign, "missing": utm.missing_for_link(values)}
    try:
        url = utm.landing_url(request.POST.get("url", ""), field="url")
        for name in ("utm_content", "utm_term"):
            given = utm.utm_value(request.POST.get(name, ""), field=name)
            if given:
                values[name] = given
    except NormalisationError as error:
        context["error"] = error.message
    else:
        context["link"] = utm.tagged_url(url, values)
    return render(request, "campaigns/_utm_link.html", context)


def contact_section(viewer: Any, contact: Contact) -> dict[str, Any] | None:
    """The Campaigns tab of a contact page (registered with people.hooks)."""
    memberships = list(selectors.contact_memberships(viewer=viewer, contact=contact)[:200])
    return {
        "key": "campaigns",
        "title": _("Campaigns"),
        "template": "campaigns/_contact_section.html",
        "memberships": memberships,
        "count": len(memberships),
    }


def urls() -> list[Any]:
    shared = [p for p in CAMPAIGN_PAGES.urls() if p.name != "campaign_detail"]
    return [
        path("<int:pk>/", campaign_detail_view, name="campaign_detail"),
        path("<int:pk>/members/", members_view, name="members"),
        path("<int:pk>/members/export.csv", members_export_view, name="members_export"),
        path("<int:pk>/members/preview/", target_preview_view, name="target_preview"),
        path("<int:pk>/members/from-target/", add_from_target_view, name="add_from_target"),
        path("<int:pk>/members/add/", add_contact_view, name="add_contact"),
        path("<int:pk>/members/<int:contact_id>/remove/", remove_member_view, name="remove_member"),
        path("<int:pk>/members/<int:contact_id>/status/", member_status_view, name="member_status"),
        path("<int:pk>/utm/", utm_link_view, name="utm_link"),
        path("<int:pk>/status/", status_view, name="status"),
        *shared,
    ]
