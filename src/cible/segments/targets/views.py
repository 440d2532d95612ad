"""Pages of targets: the list (mine and shared), the editor with its live count, a target's page
with its members and export. Thin over `selectors` and `services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound, PermissionDenied
from cible.core.records import CappedPaginator
from cible.segments.axes import builder
from cible.segments.axes import selectors as axes_selectors
from cible.segments.targets import definition as definitions
from cible.segments.targets import selectors, services
from cible.segments.targets.definition import Definition, DefinitionInvalid
from cible.segments.targets.forms import (
    TargetForm,
    definition_from_post,
    editor_errors,
)
from cible.segments.targets.models import Target, TargetLevel

MEMBERS_PER_PAGE = 50
PARTS = {
    "organisation": gettext_lazy("Organisation conditions"),
    "contact": gettext_lazy("Contact conditions"),
    "segments": gettext_lazy("Segments"),
}


def _target(request: HttpRequest, pk: int) -> Target:
    try:
        return selectors.target_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _changeable(request: HttpRequest, pk: int) -> Target:
    target = _target(request, pk)
    if not selectors.may_change(request.user, target):
        raise DjangoPermissionDenied(
            _("Only the owner of this target or an administrator may change it.")
        )
    return target


# --- list -----------------------------------------------------------------------------------------


def _list_descriptions(targets: list[Target]) -> dict[int, str]:
    """Each target's definition in one line, for the whole list with two queries."""
    readable: dict[int, Definition] = {}
    described: dict[int, str] = {}
    for target in targets:
        try:
            readable[target.pk] = definitions.from_stored(target.definition, target.level)
        except DefinitionInvalid:
            described[target.pk] = _("a definition that can no longer be used")
    texts = definitions.describe_texts(list(readable.values()))
    return described | dict(zip(readable, texts, strict=True))


@login_required
@require_GET
def target_list_view(request: HttpRequest) -> HttpResponse:
    targets = list(selectors.target_list(viewer=request.user))
    described = _list_descriptions(targets)
    rows = [(t, described[t.pk], t.owner_id == request.user.pk) for t in targets]
    return render(request, "targets/list.html", {"rows": rows})


@login_required
@require_GET
def target_saved_count_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved target's count, fetched by its row once the list is shown."""
    target = _target(request, pk)
    result = selectors.target_count(viewer=request.user, target=target)
    return render(request, "targets/_count_badge.html", {"result": result})


# --- the editor -----------------------------------------------------------------------------------


def _editor(
    request: HttpRequest,
    form: TargetForm,
    target: Target | None,
    *,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    return render(
        request,
        "targets/form.html",
        {
            "form": form,
            "target": target,
            "axes": axes_selectors.axis_list(viewer=request.user),
            "chosen": form.chosen_segments(),
            "conflict": conflict,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def target_create_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _editor(request, TargetForm(initial=TargetForm.initial_from(None)), None)
    form = TargetForm(request.POST)
    if form.is_valid():
        try:
            target = services.target_create(
                actor=request.user, channel=Channel.UI, data=form.data_for_service()
            )
        except CibleError as error:
            builder.show_rule_errors(form, editor_errors(error))
        else:
            messages.success(request, _("The target “%(name)s” was saved.") % {"name": target})
            return HttpResponseRedirect(reverse("targets:detail", args=[target.pk]))
    return _editor(request, form, None, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def target_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    target = _changeable(request, pk)
    if request.method != "POST":
        return _editor(request, TargetForm(initial=TargetForm.initial_from(target)), target)
    form = TargetForm(request.POST)
    conflict = False
    if form.is_valid():
        try:
            services.target_update(
                target=target,
                actor=request.user,
                channel=Channel.UI,
                data=form.data_for_service(),
                expected_version=form.cleaned_data.get("version") or target.version,
            )
        except ConflictError as error:
            conflict = True
            builder.show_rule_errors(form, error)
        except CibleError as error:
            builder.show_rule_errors(form, editor_errors(error))
        else:
            messages.success(request, _("Your changes were saved."))
            return HttpResponseRedirect(reverse("targets:detail", args=[target.pk]))
    return _editor(request, form, target, status=409 if conflict else 422, conflict=conflict)


def _problems(error: CibleError) -> list[tuple[str, str]]:
    """(where, message) of each problem of a definition, said to a person."""
    problems = []
    for item in editor_errors(error).errors:
        part, _dot, rest = (item.field or "").partition(".")
        label = str(PARTS.get(part, ""))
        place = builder.where(rest) if part in ("organisation", "contact") else ""
        problems.append((" — ".join(p for p in (label, place) if p), item.message))
    return problems


@login_required
@require_POST
def target_count_view(request: HttpRequest) -> HttpResponse:
    """The live count of the definition being edited (the editor posts it as it changes; a newer
    request replaces an older one, and the count itself gives up after a moment)."""
    level, definition = definition_from_post(request.POST)
    context: dict[str, Any] = {"level": level, "empty": not any(definition.values())}
    try:
        context["result"] = selectors.target_count(
            viewer=request.user, definition=definition, level=level
        )
    except (definitions.DefinitionInvalid, PermissionDenied) as error:
        context["problems"] = _problems(error)
    return render(request, "targets/_count.html", context)


# --- a target -------------------------------------------------------------------------------------


@login_required
@require_GET
def target_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    definition = selectors.target_definition(target)
    members = selectors.target_members(viewer=request.user, target=target)
    return render(
        request,
        "targets/detail.html",
        {
            "target": target,
            "parts": definitions.describe(definition),
            "result": selectors.target_count(viewer=request.user, target=target),
            "page": CappedPaginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page")),
            "contacts": target.level == TargetLevel.CONTACT,
            "can_change": selectors.may_change(request.user, target),
        },
    )


@login_required
@require_GET
def target_export_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    target = _target(request, pk)
    try:
        return selectors.target_export(viewer=request.user, target=target, channel=Channel.UI)
    except PermissionDenied as error:
        raise DjangoPermissionDenied(str(error)) from None


@login_required
@require_POST
def target_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    try:
        copy = services.target_duplicate(target=target, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("targets:detail", args=[pk]))
    messages.success(request, _("“%(name)s” is your copy: change it as you like.") % {"name": copy})
    return HttpResponseRedirect(reverse("targets:edit", args=[copy.pk]))


@login_required
@require_POST
def target_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    target = _changeable(request, pk)
    name = str(target)
    try:
        services.target_delete(target=target, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("targets:detail", args=[pk]))
    messages.success(request, _("The target “%(name)s” was deleted.") % {"name": name})
    return HttpResponseRedirect(reverse("targets:list"))
