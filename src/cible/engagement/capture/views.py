"""The form builder's pages (Marketing and administrators): the list of forms, a form's page
(public link, embeddable snippet, preview, submissions with their outcome) and its editor.
Thin over `selectors` and `services`; the public side is in `public.py`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError
from cible.engagement.capture import selectors, services
from cible.engagement.capture.forms import WebFormForm, initial_for
from cible.engagement.capture.models import SubmissionOutcome, WebForm
from cible.engagement.capture.public import page_context

SUBMISSIONS_PER_PAGE = 50


def _builder(request: HttpRequest) -> None:
    if not services.may_build(request.user):
        raise DjangoPermissionDenied(_("Only Marketing and administrators build web forms."))


def _form_or_404(request: HttpRequest, pk: int) -> WebForm:
    form = selectors.form_get(viewer=request.user, pk=pk)
    if form is None:
        raise Http404(_("No such form."))
    return form


@login_required
@require_GET
def form_list_view(request: HttpRequest) -> HttpResponse:
    _builder(request)
    forms = list(selectors.form_list(viewer=request.user))
    return render(request, "capture/list.html", {"forms": forms})


def _editor(request: HttpRequest, form: WebForm | None) -> HttpResponse:
    campaigns = selectors.campaign_choices(viewer=request.user)
    conflict = False
    if request.method == "POST":
        editor = WebFormForm(request.POST, campaigns=campaigns, initial=initial_for(form))
        if editor.is_valid():
            try:
                if form is None:
                    form = services.webform_create(
                        actor=request.user, channel=Channel.UI, data=editor.service_data()
                    )
                    messages.success(request, _("Form created."))
                else:
                    services.webform_update(
                        form=form,
                        actor=request.user,
                        channel=Channel.UI,
                        data=editor.service_data(),
                        expected_version=editor.cleaned_data.get("version"),
                    )
                    messages.success(request, _("Form saved."))
                return HttpResponseRedirect(reverse("capture:detail", args=[form.pk]))
            except ConflictError as error:
                conflict = True
                editor.add_error(None, str(error))
            except CibleError as error:
                for problem in error.errors:
                    name = problem.field if problem.field in editor.fields else None
                    editor.add_error(name, problem.message)
    else:
        editor = WebFormForm(campaigns=campaigns, initial=initial_for(form))
    return render(
        request,
        "capture/edit.html",
        {"editor": editor, "record": form, "conflict": conflict},
        status=422 if editor.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def form_create_view(request: HttpRequest) -> HttpResponse:
    _builder(request)
    return _editor(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def form_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _builder(request)
    return _editor(request, _form_or_404(request, pk))


def snippet(request: HttpRequest, form: WebForm, language: str) -> str:
    """The HTML a website pastes: the form posting to Cible, and a few lines of script that
    fetch a fresh token and carry the page's UTM parameters."""
    context = page_context(
        form,
        language,
        token="",
        utm={},
        action=request.build_absolute_uri(reverse("capture_public:submit", args=[form.key])),
    )
    context["json_url"] = request.build_absolute_uri(
        reverse("capture_public:json", args=[form.key])
    )
    context["snippet"] = True
    return render_to_string("capture/_snippet.html", context).strip()


@login_required
@require_GET
def form_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _builder(request)
    form = _form_or_404(request, pk)
    outcome = request.GET.get("outcome", "")
    submissions = selectors.submission_list(viewer=request.user, form=form, outcome=outcome)
    page = Paginator(submissions, SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    language = "en" if request.GET.get("lang") == "en" else "fr"
    counts = selectors.outcome_counts(viewer=request.user, form=form)
    rows = [
        {
            "submission": s,
            "contact_visible": s.contact is not None
            and access.can(request.user, "view", s.contact),
        }
        for s in page
    ]
    context: dict[str, Any] = {
        "record": form,
        "page": page,
        "rows": rows,
        "outcome": outcome,
        "outcomes": [
            {"value": value, "label": label, "count": counts.get(value, 0)}
            for value, label in SubmissionOutcome.choices
        ],
        "public_url": request.build_absolute_uri(reverse("capture_public:page", args=[form.key])),
        "json_url": request.build_absolute_uri(reverse("capture_public:json", args=[form.key])),
        "snippet_html": snippet(request, form, language),
        "preview": page_context(form, language, token="", utm={}),
        "preview_language": language,
    }
    return render(request, "capture/detail.html", context)
