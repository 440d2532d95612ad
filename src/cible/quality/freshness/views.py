"""Pages of the data-quality dashboard, the stale lists and the verification tasks: thin over
the selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.core.values import is_id
from cible.people.selectors import user_choices
from cible.quality.freshness import charts, selectors, services, tally, tasks
from cible.quality.freshness.forms import PolicyForm
from cible.quality.freshness.models import FreshnessPolicy
from cible.quality.freshness.rules import Entity, Reason


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    status = tally.tally_catch_up(request_background=tasks.request_figures_refresh)
    if request.htmx and request.GET.get("status") and not status.pending:  # type: ignore[attr-defined]
        response = HttpResponse()
        response["HX-Refresh"] = "true"  # the recomputation is over: show the new figures
        return response
    if request.htmx and request.GET.get("status"):  # type: ignore[attr-defined]
        return render(request, "freshness/_status.html", {"board": {"status": status}})
    board = selectors.dashboard(viewer=request.user)
    points = selectors.trend(viewer=request.user, current=board)
    context = {
        "board": board,
        "charts": charts.dashboard_charts(board, points),
        "my_open_tasks": selectors.open_task_count(viewer=request.user),
        "is_admin": access.is_admin(request.user),
        "entities": Entity,
    }
    return render(request, "freshness/dashboard.html", context)


@login_required
@require_POST
def refresh_view(request: HttpRequest) -> HttpResponse:
    tasks.request_figures_refresh()
    messages.info(request, _("The figures are being recomputed; they update when it is done."))
    return HttpResponseRedirect(reverse("freshness:dashboard"))


@login_required
@require_POST
def snapshot_view(request: HttpRequest) -> HttpResponse:
    if not access.is_admin(request.user):
        raise Http404
    result = services.snapshot_take()
    messages.success(
        request,
        _("Today's snapshot was taken (%(rows)s rows).") % {"rows": result.rows},
    )
    return HttpResponseRedirect(reverse("freshness:dashboard"))


class KnownCountPaginator(Paginator):
    """Pages of a list whose length the tally already knows: no COUNT over a million rows."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _entity(raw: str) -> str:
    if raw not in Entity.values:
        raise Http404
    return raw


@login_required
def stale_list_view(request: HttpRequest, entity: str) -> HttpResponse:
    entity = _entity(entity)
    owner = request.GET.get("owner", "")
    reason = request.GET.get("reason", "")
    tally.tally_catch_up(request_background=tasks.request_figures_refresh)
    try:
        qs = selectors.stale_records(viewer=request.user, entity=entity, reason=reason, owner=owner)
        figures = selectors.owner_figures(viewer=request.user, entity=entity, owner=owner)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("freshness:stale", args=[entity]))
    related = ("organisation", "owner") if entity == "contact" else ("owner",)
    count = (
        next((r.count for r in figures.reasons if r.code == reason), 0) if reason else figures.stale
    )
    page = KnownCountPaginator(qs.select_related(*related), 50, count).get_page(
        request.GET.get("page")
    )
    for record in page:
        record.reason_codes = selectors.reasons_of(record)
    owner_name = ""
    if owner == selectors.NO_OWNER:
        owner_name = _("Unowned")
    elif owner:
        owner_name = dict(user_choices()).get(int(owner) if is_id(owner) else -1, "")
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "freshness/stale_list.html",
        {
            "entity": entity,
            "entity_label": Entity(entity).label,
            "page": page,
            "figures": figures,
            "owner": owner,
            "owner_name": owner_name,
            "reason": reason,
            "reason_labels": dict(Reason.choices),
            "params": params.urlencode(),
            "next": request.get_full_path(),
            "users": user_choices(),
        },
    )


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return HttpResponseRedirect(target)


@login_required
@require_POST
def stale_verify_view(request: HttpRequest, entity: str) -> HttpResponse:
    entity = _entity(entity)
    try:
        result = services.records_mark_verified(
            actor=request.user, channel=Channel.UI, entity=entity, ids=request.POST.getlist("ids")
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        text = ngettext(
            "%(count)s record marked as verified today.",
            "%(count)s records marked as verified today.",
            result.verified,
        ) % {"count": result.verified}
        if result.refused:
            text += " " + _("%(count)s could not be changed by you.") % {"count": result.refused}
        messages.success(request, text)
    return _back(request, reverse("freshness:stale", args=[entity]))


@login_required
@require_POST
def tasks_create_view(request: HttpRequest, entity: str) -> HttpResponse:
    entity = _entity(entity)
    ids = request.POST.getlist("ids") if request.POST.get("scope") != "owner" else None
    owner = request.POST.get("owner") if ids is None else None
    assignee = None
    raw_assignee = request.POST.get("assignee", "")
    if is_id(raw_assignee):
        assignee = selectors.User.objects.filter(pk=int(raw_assignee), is_active=True).first()
    try:
        batch = services.verification_tasks_create(
            actor=request.user,
            channel=Channel.UI,
            entity=entity,
            ids=ids,
            owner=owner,
            assignee=assignee,
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _describe_batch(batch))
    return _back(request, reverse("freshness:stale", args=[entity]))


def _describe_batch(batch: services.TaskBatch) -> str:
    if not batch.created:
        text = _("No task was created.")
    else:
        text = ngettext(
            "%(count)s verification task created",
            "%(count)s verification tasks created",
            batch.created,
        ) % {"count": batch.created}
        text += " (" + ", ".join(f"{name}: {n}" for name, n in batch.by_owner.items()) + ")."
    notes = []
    if batch.already_open:
        notes.append(_("%(count)s already had an open task") % {"count": batch.already_open})
    if batch.unowned:
        notes.append(
            _("%(count)s have no owner (choose who receives them)") % {"count": batch.unowned}
        )
    if batch.skipped:
        notes.append(_("%(count)s are not stale or not yours to change") % {"count": batch.skipped})
    if batch.truncated:
        notes.append(
            _("only the first %(max)s were taken; ask again for the rest")
            % {"max": services.MAX_TASKS_PER_CALL}
        )
    return " ".join([text, *(f"{n[0].upper()}{n[1:]}." for n in notes)])


@login_required
def my_tasks_view(request: HttpRequest) -> HttpResponse:
    done = request.GET.get("done") == "1"
    page = CappedPaginator(selectors.my_tasks(viewer=request.user, done=done), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "freshness/tasks.html",
        {
            "page": page,
            "done": done,
            "today": timezone.localdate(),
            "open_count": selectors.open_task_count(viewer=request.user),
        },
    )


@login_required
@require_POST
def task_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        task = selectors.get_task(viewer=request.user, pk=pk)
        task = services.verification_task_resolve(
            actor=request.user, channel=Channel.UI, task=task, action=action
        )
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(record)s: %(outcome)s.")
            % {"record": task.record, "outcome": task.get_outcome_display().lower()},
        )
    return _back(request, reverse("freshness:my_tasks"))


@login_required
@require_http_methods(["GET", "POST"])
def policy_view(request: HttpRequest) -> HttpResponse:
    if not access.is_admin(request.user):
        raise Http404
    policy = FreshnessPolicy.current()
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_from(policy))
    status = 200
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = dict(form.cleaned_data)
        try:
            services.freshness_policy_update(actor=request.user, channel=Channel.UI, data=data)
        except CibleError as error:
            show_errors(form, error)
            status = 422
        else:
            messages.success(
                request, _("The staleness rules were saved; the figures are being recomputed.")
            )
            return HttpResponseRedirect(reverse("freshness:dashboard"))
    elif request.method == "POST":
        status = 422
    return render(request, "freshness/policy.html", {"form": form}, status=status)
