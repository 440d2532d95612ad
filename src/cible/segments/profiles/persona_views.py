"""Pages of personas (seed 001: the people to address — function, seniority, buying role): the
list with each persona's count of matching contacts, the editor (a rule at contact level), and
the matching contacts a page at a time, over the contacts the viewer may see."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.segments.axes.builder import show_rule_errors
from cible.segments.profiles import selectors, services
from cible.segments.profiles.forms import PersonaForm
from cible.segments.profiles.models import Persona
from cible.segments.profiles.views import describe_rule, require_manager

CONTACTS_PER_PAGE = 50


def _persona(request: HttpRequest, code: str) -> Persona:
    persona = selectors.persona_list(viewer=request.user).filter(code=code).first()
    if persona is None:
        raise Http404
    return persona


@login_required
def persona_list_view(request: HttpRequest) -> HttpResponse:
    personas = [
        {"persona": p, "rule": describe_rule(p.rule, "contact")}
        for p in selectors.persona_list(viewer=request.user)
    ]
    return render(
        request,
        "profiles/persona_list.html",
        {"personas": personas, "may_manage": services.may_manage(request.user)},
    )


@login_required
@require_GET
def persona_count_view(request: HttpRequest, code: str) -> HttpResponse:
    """The count of a persona's contacts, asked by the list after it shows (capped like lists:
    a million-row count never holds the page)."""
    persona = _persona(request, code)
    try:
        contacts = selectors.persona_contacts(viewer=request.user, persona=persona)
    except CibleError:  # a rule on a field no longer registered: the page says so
        return render(request, "profiles/_persona_count.html", {"paginator": None})
    paginator = CappedPaginator(contacts.order_by("pk"), 1)
    return render(request, "profiles/_persona_count.html", {"paginator": paginator})


@login_required
def persona_detail_view(request: HttpRequest, code: str) -> HttpResponse:
    persona = _persona(request, code)
    try:
        contacts = selectors.persona_contacts(viewer=request.user, persona=persona)
    except CibleError as error:  # a rule on a field no longer registered
        messages.error(request, str(error))
        contacts = None
    page = None
    if contacts is not None:
        contacts = contacts.select_related("organisation").order_by("name_key", "pk")
        page = CappedPaginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "profiles/persona_detail.html",
        {
            "persona": persona,
            "rule": describe_rule(persona.rule, "contact"),
            "page": page,
            "may_manage": services.may_manage(request.user),
        },
    )


def _form_page(
    request: HttpRequest,
    form: PersonaForm,
    persona: Persona | None,
    *,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    return render(
        request,
        "profiles/persona_form.html",
        {"form": form, "persona": persona, "conflict": conflict},
        status=status,
    )


def _save(request: HttpRequest, persona: Persona | None) -> HttpResponse:
    form = PersonaForm(request.POST)
    conflict = False
    if form.is_valid():
        values = form.data_for_service()
        try:
            if persona is None:
                persona = services.persona_create(actor=request.user, channel=Channel.UI, **values)
                text = _("The persona “%(name)s” was created.") % {"name": persona}
            else:
                if not values["code"]:
                    values.pop("code")  # left empty while editing: keep the current code
                persona = services.persona_update(
                    persona=persona,
                    actor=request.user,
                    channel=Channel.UI,
                    expected_version=form.cleaned_data.get("version"),
                    **values,
                )
                text = _("The persona “%(name)s” was saved.") % {"name": persona}
        except ConflictError as error:
            conflict = True
            show_errors(form, error)
        except CibleError as error:
            show_rule_errors(form, error)
        else:
            messages.success(request, text)
            return HttpResponseRedirect(reverse("profiles:persona_detail", args=[persona.code]))
    return _form_page(request, form, persona, status=422, conflict=conflict)


@login_required
@require_http_methods(["GET", "POST"])
def persona_create_view(request: HttpRequest) -> HttpResponse:
    require_manager(request)
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, PersonaForm(initial=PersonaForm.initial_from(None)), None)


@login_required
@require_http_methods(["GET", "POST"])
def persona_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    require_manager(request)
    persona = _persona(request, code)
    if request.method == "POST":
        return _save(request, persona)
    return _form_page(request, PersonaForm(initial=PersonaForm.initial_from(persona)), persona)


@login_required
@require_POST
def persona_delete_view(request: HttpRequest, code: str) -> HttpResponse:
    require_manager(request)
    persona = _persona(request, code)
    services.persona_delete(persona=persona, actor=request.user, channel=Channel.UI)
    messages.success(request, _("The persona “%(name)s” was deleted.") % {"name": persona})
    return HttpResponseRedirect(reverse("profiles:persona_list"))
