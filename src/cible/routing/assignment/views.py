"""Pages of routing: the ordered rules, the rule editor with its simulator (HTMX), the rotations,
the assignment history, and the Routing card of a lead's page. Thin over selectors and services."""

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
from cible.core.errors import CibleError, ConflictError, NotFound, ValidationFailed
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.people.models import Team
from cible.routing.assignment import drafts, selectors, services, simulator
from cible.routing.assignment.forms import MemberForm, RuleForm, SettingsForm
from cible.routing.assignment.models import AssignmentMethod, RoutingRule, RoutingSettings

PER_PAGE = 50


def _rule(request: HttpRequest, pk: int) -> RoutingRule:
    try:
        return selectors.rule_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _back(request: HttpRequest, name: str, message: str = "") -> HttpResponse:
    if message:
        messages.success(request, message)
    return HttpResponseRedirect(reverse(name))


@login_required
@require_GET
def rules_view(request: HttpRequest) -> HttpResponse:
    current = RoutingSettings.current()
    context = {
        "rules": selectors.rule_list(viewer=request.user),
        "may_edit": services.may_edit(request.user),
        "settings_form": SettingsForm(
            initial={
                "trigger_stages": current.trigger_stages,
                "on_arrival": current.on_arrival,
                "account_matching": current.account_matching,
            }
        ),
    }
    return render(request, "routing/rules.html", context)


def _editor(
    request: HttpRequest, form: RuleForm, rule: RoutingRule | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "rule": rule, "may_edit": services.may_edit(request.user)}
    return render(request, "routing/rule_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = _rule(request, pk) if pk is not None else None
    if request.method == "GET":
        initial = RuleForm.initial_for(rule) if rule else {"active": True}
        return _editor(request, RuleForm(initial=initial), rule)
    form = RuleForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, rule, status=422)
    data, errors = form.rule_data()
    try:
        if errors:
            raise ValidationFailed(errors=errors)
        if rule is None:
            rule = services.rule_create(actor=request.user, channel=Channel.UI, data=data)
        else:
            version = int(request.POST.get("version") or rule.version)
            services.rule_update(
                rule=rule,
                actor=request.user,
                channel=Channel.UI,
                data=data,
                expected_version=version,
            )
    except CibleError as error:
        form.place_errors(error)
        return _editor(request, form, rule, status=409 if isinstance(error, ConflictError) else 422)
    return _back(request, "routing:rules", _("Rule “%(name)s” saved.") % {"name": rule.name})


@login_required
@require_POST
def simulate_view(request: HttpRequest) -> HttpResponse:
    """The editor's draft put in place of the rule it edits (or last, when new), simulated."""
    if not services.may_edit(request.user):
        return HttpResponse(status=403)
    form = RuleForm(request.POST)
    context: dict[str, Any] = {}
    if form.is_valid():
        data, errors = form.rule_data()
        pk = int(request.POST["rule"]) if request.POST.get("rule", "").isdigit() else None
        try:
            if errors:
                raise ValidationFailed(errors=errors)
            draft = drafts.clean(data, pk=pk)
            saved = list(RoutingRule.objects.order_by("position", "id"))
            rules: list[Any] = [draft if r.pk == pk else r for r in saved]
            if pk is None:
                rules.append(draft)
            context["simulation"] = simulator.simulate(viewer=request.user, drafts=rules)
        except CibleError as error:
            context["errors"] = error.errors
    else:
        context["errors"] = [
            f"{name}: {'; '.join(str(m) for m in messages_)}"
            for name, messages_ in form.errors.items()
        ]
    return render(request, "routing/_simulation.html", context)


@login_required
@require_POST
def rule_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    rule = _rule(request, pk)
    try:
        if action == "up" or action == "down":
            services.rule_move(rule=rule, direction=action, actor=request.user, channel=Channel.UI)
        elif action == "toggle":
            services.rule_update(
                rule=rule, actor=request.user, channel=Channel.UI, data={"active": not rule.active}
            )
        elif action == "delete":
            services.rule_delete(rule=rule, actor=request.user, channel=Channel.UI)
        else:
            raise Http404
    except CibleError as error:
        messages.error(request, str(error))
    return _back(request, "routing:rules")


@login_required
@require_POST
def settings_view(request: HttpRequest) -> HttpResponse:
    form = SettingsForm(request.POST)
    form.is_valid()
    try:
        services.settings_update(actor=request.user, channel=Channel.UI, data=form.cleaned_data)
    except CibleError as error:
        messages.error(request, str(error))
        return _back(request, "routing:rules")
    return _back(request, "routing:rules", _("Routing settings saved."))


@login_required
@require_http_methods(["GET", "POST"])
def members_view(request: HttpRequest) -> HttpResponse:
    form = MemberForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.member_save(
                team=Team.objects.get(pk=form.cleaned_data["team"]),
                user=services.user_named(form.cleaned_data["user"]),
                actor=request.user,
                channel=Channel.UI,
                data={
                    k: form.cleaned_data[k]
                    for k in ("capacity", "available", "away_from", "away_until")
                },
            )
            return _back(request, "routing:members", _("Rotation saved."))
        except CibleError as error:
            show_errors(form, error)
            status = 422
    elif request.method == "POST":
        status = 422
    context = {
        "rows": selectors.member_list(viewer=request.user),
        "form": form,
        "may_edit": services.may_edit(request.user),
    }
    return render(request, "routing/members.html", context, status=status)


@login_required
@require_POST
def member_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        member = selectors.member_get(viewer=request.user, pk=pk)
        if request.POST.get("remove"):
            services.member_remove(member=member, actor=request.user, channel=Channel.UI)
        else:
            fields = ("capacity", "away_from", "away_until")
            data: dict[str, Any] = {k: request.POST.get(k, "") for k in fields}
            data["available"] = bool(request.POST.get("available"))
            services.member_save(
                team=member.team,
                user=member.user,
                actor=request.user,
                channel=Channel.UI,
                data=data,
            )
    except CibleError as error:
        messages.error(request, str(error))
        return _back(request, "routing:members")
    return _back(request, "routing:members", _("Rotation saved."))


@login_required
@require_GET
def assignments_view(request: HttpRequest) -> HttpResponse:
    method = request.GET.get("method", "")
    qs = selectors.assignment_list(
        viewer=request.user, method=method if method in AssignmentMethod.values else ""
    )
    page = CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "methods": AssignmentMethod.choices, "method": method}
    return render(request, "routing/assignments.html", context)


def lead_section(viewer: Any, lead: Any) -> dict[str, Any] | None:
    """The Routing card of a lead's page (registered with people.hooks, on="lead")."""
    history = selectors.lead_assignments(viewer=viewer, lead=lead)
    if not history:
        return None
    return {
        "key": "routing",
        "title": _("Routing"),
        "template": "routing/_lead_section.html",
        "assignments": history,
    }
