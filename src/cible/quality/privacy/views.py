"""Privacy pages: the Privacy tab of a contact, the export download, the erasure, and the
privacy home for administrators (retention rules, purposes, the journal of requests)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.forms import show_errors
from cible.people.models import Contact
from cible.quality.privacy import erasure, export, permissions, retention, selectors, services
from cible.quality.privacy.forms import ConsentForm, EraseForm, PurposeForm, RetentionRuleForm
from cible.quality.privacy.models import PrivacyRequest, Purpose, RequestKind, RetentionRule

HISTORY_ROWS = 200


def _contact(request: HttpRequest, pk: int) -> Contact:
    try:
        return access.visible(request.user, Contact.objects.select_related("organisation")).get(
            pk=pk
        )
    except Contact.DoesNotExist:
        raise Http404(_("Not found, or not visible to you.")) from None


def _section_context(
    viewer: Any, contact: Contact, form: ConsentForm | None = None
) -> dict[str, Any]:
    can_record = permissions.may_record(viewer, contact, Channel.UI) and not contact.anonymised_at
    return {
        "key": "privacy",
        "title": gettext_lazy("Privacy"),
        "template": "privacy/_contact_section.html",
        "count": None,
        "contact": contact,
        "grid": selectors.consent_grid(viewer=viewer, contact=contact),
        "purposes": list(selectors.purposes(viewer=viewer, active_only=True)),
        "history": list(selectors.consent_history(viewer=viewer, contact=contact)[:HISTORY_ROWS]),
        "requests": list(selectors.contact_requests(viewer=viewer, contact=contact)[:20]),
        "can_record": can_record,
        "can_export": permissions.may_export(viewer, contact),
        "can_erase": permissions.may_administer(viewer) and not contact.anonymised_at,
        "form": form if form is not None else (ConsentForm() if can_record else None),
    }


def contact_section(viewer: Any, contact: Contact) -> dict[str, Any] | None:
    """The Privacy tab of a contact page (registered with people.hooks)."""
    if not permissions.may_view(viewer, contact):
        return None
    return _section_context(viewer, contact)


def _render_section(
    request: HttpRequest,
    contact: Contact,
    form: ConsentForm | None = None,
    status: int = 200,
    notice: str = "",
) -> HttpResponse:
    contact.refresh_from_db()
    section = {**_section_context(request.user, contact, form), "notice": notice}
    return render(
        request,
        "privacy/_contact_section.html",
        {"section": section, "record": contact},
        status=status,
    )


@login_required
def section_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_section(request, _contact(request, pk))


@login_required
@require_POST
def consent_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(
                contact=contact,
                actor=request.user,
                channel=Channel.UI,
                contact_channel=form.cleaned_data["channel"],
                purpose=form.cleaned_data["purpose"],
                status=form.cleaned_data["status"],
                source=form.cleaned_data["source"],
                occurred_at=form.cleaned_data["occurred_at"] or None,
                proof=form.proof(),
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, _("The consent was recorded."))
                return HttpResponseRedirect(reverse("people:contact_detail", args=[pk]))
            return _render_section(request, contact, notice=_("The consent was recorded."))
    # HTMX swaps only successful answers: the form comes back with its errors in a 200.
    status = 200 if request.htmx else 422  # type: ignore[attr-defined]
    return _render_section(request, contact, form, status=status)


@login_required
def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    try:
        result = export.contact_export(contact=contact, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("people:contact_detail", args=[pk]))
    response = HttpResponse(result.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    if not permissions.may_administer(request.user):
        raise Http404(_("Not found, or not visible to you."))
    form = EraseForm(request.POST or None, contact_id=contact.pk)
    if request.method == "POST" and form.is_valid():
        try:
            erasure.contact_erase(
                contact=contact,
                actor=request.user,
                channel=Channel.UI,
                reason=form.cleaned_data["reason"],
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Contact #%(id)s was anonymised.") % {"id": contact.pk})
            return HttpResponseRedirect(reverse("people:contact_detail", args=[pk]))
    status = 422 if form.errors else 200
    return render(request, "privacy/erase.html", {"contact": contact, "form": form}, status=status)


# --- administrators -----------------------------------------------------------------------------


def _require_admin(request: HttpRequest) -> None:
    if not permissions.may_administer(request.user):
        raise Http404(_("Not found, or not visible to you."))


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(
        request,
        "privacy/home.html",
        {
            "rules": selectors.retention_rules(viewer=request.user),
            "requests": selectors.recent_requests(viewer=request.user, limit=50),
            "purposes": selectors.purposes(viewer=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    rule = RetentionRule.objects.filter(pk=pk).first() if pk else None
    if pk and rule is None:
        raise Http404(_("Not found, or not visible to you."))
    initial = (
        {
            "name": rule.name,
            "consent": rule.consent,
            "inactive_months": rule.inactive_months,
            "exclude_customers": rule.exclude_customers,
            "is_active": rule.is_active,
        }
        if rule
        else {"inactive_months": 36, "exclude_customers": True}
    )
    form = RetentionRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.retention_rule_save(
                actor=request.user, channel=Channel.UI, data=form.cleaned_data, rule=rule
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(
                request, _("The retention rule “%(name)s” was saved.") % {"name": saved.name}
            )
            return HttpResponseRedirect(reverse("privacy:home"))
    status = 422 if form.errors else 200
    return render(request, "privacy/rule_form.html", {"form": form, "rule": rule}, status=status)


@login_required
@require_POST
def rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    rule = RetentionRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404(_("Not found, or not visible to you."))
    services.retention_rule_delete(actor=request.user, channel=Channel.UI, rule=rule)
    messages.success(request, _("The retention rule was deleted."))
    return HttpResponseRedirect(reverse("privacy:home"))


def _rule(request: HttpRequest, pk: int) -> RetentionRule:
    _require_admin(request)
    rule = RetentionRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404(_("Not found, or not visible to you."))
    return rule


@login_required
@require_POST
def rule_dry_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    done = retention.retention_dry_run(rule=rule, actor=request.user, channel=Channel.UI)
    return HttpResponseRedirect(reverse("privacy:request_detail", args=[done.pk]))


@login_required
@require_POST
def rule_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    started = retention.retention_run_start(rule=rule, actor=request.user, channel=Channel.UI)
    messages.info(request, _("The retention run was started; this page follows its progress."))
    return HttpResponseRedirect(reverse("privacy:request_detail", args=[started.pk]))


@login_required
def request_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    item = PrivacyRequest.objects.select_related("actor", "rule").filter(pk=pk).first()
    if item is None:
        raise Http404(_("Not found, or not visible to you."))
    context = {
        "item": item,
        "sample": retention.sample(item) if item.dry_run else [],
        "is_retention": item.kind == RequestKind.RETENTION,
    }
    template = "privacy/_request_status.html" if request.htmx else "privacy/request_detail.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def purposes_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    purpose = Purpose.objects.filter(pk=pk).first() if pk else None
    if pk and purpose is None:
        raise Http404(_("Not found, or not visible to you."))
    initial = (
        {
            "name": purpose.name,
            "description": purpose.description,
            "requires_consent": purpose.requires_consent,
            "is_active": purpose.is_active,
            "position": purpose.position,
        }
        if purpose
        else {"is_active": True}
    )
    form = PurposeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.purpose_save(
                actor=request.user, channel=Channel.UI, data=form.cleaned_data, purpose=purpose
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("The purpose was saved."))
            return HttpResponseRedirect(reverse("privacy:purposes"))
    status = 422 if form.errors else 200
    return render(
        request,
        "privacy/purposes.html",
        {"form": form, "purpose": purpose, "purposes": selectors.purposes(viewer=request.user)},
        status=status,
    )
