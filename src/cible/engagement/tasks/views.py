"""Pages of tasks and notifications: my tasks (or my team's), done in one click with an optional
outcome (HTMX swaps the task in place); the Tasks tab of contacts and organisations; the
notification list, each entry a link that marks it read on the way to what it is about."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError, NotFound
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.core.values import is_id
from cible.engagement.tasks import notifications, policy, selectors, services
from cible.engagement.tasks.forms import CompleteForm, TaskForm
from cible.engagement.tasks.models import Task
from cible.people.models import Contact, Organisation

PER_PAGE = 50
MODELS: dict[str, type[Contact] | type[Organisation]] = {
    "contact": Contact,
    "organisation": Organisation,
}


def _task_form(request: HttpRequest, data: Any = None) -> TaskForm:
    users = selectors.assignable_users(viewer=request.user)
    return TaskForm(data, users=users, me=request.user, auto_id="task-%s")


def _list(request: HttpRequest, form: TaskForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    manager = policy.is_manager(user)
    scope = "team" if manager and request.GET.get("scope") == "team" else "mine"
    done = request.GET.get("done") == "1"
    raw = request.GET.get("assignee") or ""
    assignee = int(raw) if scope == "team" and is_id(raw) else None
    qs = selectors.task_list(viewer=user, scope=scope, done=done, assignee=assignee)
    context = {
        "page": CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page")),
        "scope": scope,
        "done": done,
        "assignee": assignee,
        "manager": manager,
        "show_assignee": scope == "team",
        "members": selectors.team_members(viewer=user) if scope == "team" else [],
        "form": form or _task_form(request),
        "now": timezone.now(),
    }
    return render(request, "tasks/list.html", context, status=status)


@login_required
@require_GET
def task_list_view(request: HttpRequest) -> HttpResponse:
    return _list(request)


@login_required
@require_POST
def task_create_view(request: HttpRequest) -> HttpResponse:
    form = _task_form(request, request.POST)
    if form.is_valid():
        try:
            task = services.create_task(
                actor=request.user, channel=Channel.UI, source="manual", **form.service_arguments()
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            messages.success(request, _("Task “%(title)s” created.") % {"title": task.title})
            return HttpResponseRedirect(reverse("tasks:list"))
    return _list(request, form=form, status=422)


def _task(request: HttpRequest, pk: int) -> Task:
    try:
        return selectors.task_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def task_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Done: with HTMX the task comes back in its done state (or with the reason it is not)."""
    task = _task(request, pk)
    form = CompleteForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("The outcome is at most 2,000 characters.")
    else:
        try:
            services.complete_task(
                task=task,
                actor=request.user,
                channel=Channel.UI,
                outcome=form.cleaned_data["outcome"],
                happened=form.cleaned_data["happened"],
            )
        except CibleError as problem:
            error = str(problem)
            task.refresh_from_db()
    if request.htmx:  # type: ignore[attr-defined]
        context = {"task": task, "now": timezone.now(), "error": error, "show_assignee": True}
        return render(request, "tasks/_task.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Done: %(title)s.") % {"title": task.title})
    nxt = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("tasks:list")
    return HttpResponseRedirect(nxt)


# --- the Tasks tab of contacts and organisations ------------------------------------------------


def _section(
    viewer: Any, record: Any, *, form: TaskForm | None = None, notice: str = ""
) -> dict[str, Any]:
    entity = record._meta.model_name
    tasks = selectors.record_tasks(viewer=viewer, record=record)
    if form is None:
        users = selectors.assignable_users(viewer=viewer)
        form = TaskForm(users=users, me=viewer, auto_id=f"{entity}-task-%s")
    return {
        "key": "tasks",
        "title": gettext_lazy("Tasks"),
        "template": "tasks/_section.html",
        "count": len(tasks),
        "record": record,
        "tasks": tasks,
        "form": form,
        "create_url": reverse("tasks:record_create", args=[entity, record.pk]),
        "now": timezone.now(),
        "notice": notice,
    }


def contact_section(viewer: Any, contact: Contact) -> dict[str, Any] | None:
    return _section(viewer, contact)


def organisation_section(viewer: Any, organisation: Organisation) -> dict[str, Any] | None:
    return _section(viewer, organisation)


@login_required
@require_POST
def record_task_create_view(request: HttpRequest, entity: str, pk: int) -> HttpResponse:
    """A task about this contact or organisation; the section comes back (HTMX) refreshed."""
    model = MODELS.get(entity)
    record = (
        access.visible(request.user, model.objects.all()).filter(pk=pk).first() if model else None
    )
    if record is None:
        raise Http404(_("Not found, or not visible to you."))
    users = selectors.assignable_users(viewer=request.user)
    form: TaskForm | None = TaskForm(
        request.POST, users=users, me=request.user, auto_id=f"{entity}-task-%s"
    )
    notice = ""
    if form is not None and form.is_valid():
        try:
            task = services.create_task(
                actor=request.user,
                channel=Channel.UI,
                source="manual",
                contact=record if entity == "contact" else None,
                organisation=record if entity == "organisation" else None,
                **form.service_arguments(),
            )
        except CibleError as error:
            show_errors(form, error)
        else:
            notice = _("Task “%(title)s” created.") % {"title": task.title}
            form = None
    # HTMX swaps only successful answers: a refused form comes back as a 200 to show its errors.
    status = 200 if notice or request.htmx else 422  # type: ignore[attr-defined]
    section = _section(request.user, record, form=form, notice=notice)
    return render(request, "tasks/_section.html", {"section": section}, status=status)


# --- notifications ------------------------------------------------------------------------------


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    qs = selectors.notification_list(user=request.user, unread=unread)
    context = {
        "page": CappedPaginator(qs, PER_PAGE).get_page(request.GET.get("page")),
        "unread": unread,
    }
    return render(request, "tasks/notifications.html", context)


@login_required
@require_GET
def notification_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification: read from now on, then off to what it is about."""
    try:
        notification = selectors.notification_get(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    notifications.mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = reverse("tasks:notifications")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def notification_read_view(request: HttpRequest) -> HttpResponse:
    """Mark the notifications named by `id` (repeatable), or all with `all=1`, read."""
    ids = [int(raw) for raw in request.POST.getlist("id") if is_id(raw)]
    everything = request.POST.get("all") == "1"
    try:
        count = notifications.mark_read(user=request.user, ids=ids, all=everything)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("tasks:notifications"))
    message = ngettext(
        "%(count)s notification marked read.", "%(count)s notifications marked read.", count
    )
    messages.success(request, message % {"count": count})
    return HttpResponseRedirect(reverse("tasks:notifications"))
