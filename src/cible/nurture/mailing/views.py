"""Pages of the mailing app: templates and their editor (live syntax check, preview against a
real contact, a test sent to oneself), the outbox and one message, the sending policy.
The public tracking and unsubscribe links are in `public.py`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.nurture.mailing import merge, selectors, services, templating
from cible.nurture.mailing.forms import STATUS_CHOICES, PolicyForm, TemplateForm
from cible.nurture.mailing.models import EmailTemplate, SendPolicy

PER_PAGE = 50
TEXT_FIELDS = merge.TEXT_FIELDS


def _template(request: HttpRequest, pk: int) -> EmailTemplate:
    try:
        return selectors.template_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def template_list_view(request: HttpRequest) -> HttpResponse:
    context = {
        "templates": selectors.template_list(viewer=request.user),
        "may_edit": services.may_edit_templates(request.user),
    }
    return render(request, "mailing/template_list.html", context)


def _editor(
    request: HttpRequest, form: TemplateForm, template: EmailTemplate | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "template": template,
        "may_edit": services.may_edit_templates(request.user),
        "fields": templating.merge_field_names(merge.axis_keys()),
    }
    return render(request, "mailing/template_form.html", context, status=status)


def _save(request: HttpRequest, form: TemplateForm, template: EmailTemplate | None) -> Any:
    data = {
        name: form.cleaned_data.get(name) or "" for name in ("name", "description", *TEXT_FIELDS)
    }
    if template is None:
        return services.template_create(actor=request.user, channel=Channel.UI, data=data)
    return services.template_update(
        template=template,
        actor=request.user,
        channel=Channel.UI,
        data=data,
        expected_version=form.cleaned_data.get("version") or template.version,
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    template = _template(request, pk) if pk is not None else None
    if request.method == "GET":
        initial = (
            {n: getattr(template, n) for n in ("name", "description", *TEXT_FIELDS)}
            if template
            else {}
        )
        if template:
            initial["version"] = template.version
        return _editor(request, TemplateForm(initial=initial), template)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            saved = _save(request, form, template)
        except ConflictError as error:
            form.add_error(None, str(error))
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
            return HttpResponseRedirect(reverse("mailing:template_edit", args=[saved.pk]))
    return _editor(request, form, template, status=422)


@login_required
@require_POST
def template_check_view(request: HttpRequest) -> HttpResponse:
    """HTMX: the syntax errors and unknown fields of one field, as the author types."""
    field = request.POST.get("field", "")
    if field not in TEXT_FIELDS:
        return HttpResponse(status=400)
    errors = templating.check(request.POST.get(field, ""), field=field)
    return render(request, "mailing/_check.html", {"errors": errors, "field": field})


@login_required
@require_GET
def contact_search_view(request: HttpRequest) -> HttpResponse:
    found = selectors.contact_search(viewer=request.user, q=request.GET.get("q", ""))
    return render(request, "mailing/_contact_options.html", {"contacts": found})


@login_required
@require_POST
def template_preview_view(request: HttpRequest) -> HttpResponse:
    """HTMX: the editor's current text rendered for the chosen contact."""
    try:
        contact = selectors.contact_get(viewer=request.user, pk=request.POST.get("contact", ""))
        result = selectors.preview(
            viewer=request.user,
            values={name: request.POST.get(name, "") for name in TEXT_FIELDS},
            contact=contact,
            language=request.POST.get("language", ""),
        )
    except CibleError as error:
        return render(request, "mailing/_preview.html", {"problem": str(error)})
    return render(request, "mailing/_preview.html", {"preview": result, "contact": contact})


@login_required
@require_POST
def template_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(request, pk)
    try:
        contact = selectors.contact_get(viewer=request.user, pk=request.POST.get("contact", ""))
        services.send_test(
            template=template, contact=contact, actor=request.user, channel=Channel.UI
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Test sent to %(email)s, rendered for %(contact)s.")
            % {"email": request.user.email, "contact": contact},  # type: ignore[union-attr]
        )
    return HttpResponseRedirect(reverse("mailing:template_edit", args=[template.pk]))


@login_required
@require_POST
def template_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template(request, pk)
    try:
        services.template_delete(template=template, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("mailing:template_edit", args=[template.pk]))
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
    return HttpResponseRedirect(reverse("mailing:template_list"))


def _tabs(counts: dict[str, int]) -> list[tuple[str, str, int | None]]:
    total = sum(counts.values())
    return [
        (value, str(label), counts.get(value, 0) if value else total)
        for value, label in STATUS_CHOICES
    ]


@login_required
@require_GET
def outbox_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = selectors.message_list(
        viewer=request.user, status=status, template=request.GET.get("template")
    )
    page = CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "tabs": _tabs(selectors.status_counts(viewer=request.user)),
    }
    return render(request, "mailing/outbox.html", context)


@login_required
@require_GET
def message_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = selectors.message_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    context = {"message": message, "events": selectors.message_events(message)}
    return render(request, "mailing/message_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def policy_view(request: HttpRequest) -> HttpResponse:
    policy = SendPolicy.current()
    if request.method == "GET":
        # The form's fields are named after the policy's; only the days change shape.
        initial = {name: getattr(policy, name) for name in PolicyForm.base_fields}
        form = PolicyForm(initial={**initial, "days": list(policy.days)})
        status = 200
    else:
        form = PolicyForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                services.policy_update(
                    actor=request.user, channel=Channel.UI, data=form.cleaned_data
                )
            except CibleError as error:
                show_errors(form, error)
            else:
                messages.success(request, _("Sending rules saved."))
                return HttpResponseRedirect(reverse("mailing:policy"))
    context = {
        "form": form,
        "may_edit": services.may_edit_templates(request.user),
        "mailboxes": selectors.mailbox_statuses(),
    }
    return render(request, "mailing/policy.html", context, status=status)


def contact_section(viewer: Any, contact: Any) -> dict[str, Any] | None:
    """Registered with people.hooks: the emails sent to a contact, newest first."""
    sent = list(selectors.contact_messages(viewer=viewer, contact=contact)[:50])
    return {
        "key": "emails",
        "title": _("Emails"),
        "template": "mailing/_contact_messages.html",
        "messages": sent,
        "count": len(sent),
    }
