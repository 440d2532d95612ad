"""The import wizard: upload → mapping → dry run → import, and the run's report afterwards.

Thin over `services` and `selectors`: each page parses its form, calls one service and renders.
While a background task works on a run, its page polls the status block with HTMX every second;
the block that comes back once the task has finished carries no trigger, so the polling stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, NotFound
from cible.core.forms import show_errors
from cible.quality.imports import registry, selectors, services
from cible.quality.imports.forms import MappingForm, UploadForm, title
from cible.quality.imports.models import ImportRun
from cible.quality.imports.registry import ImportableEntity

REJECTIONS_SHOWN = 100
SAMPLES_SHOWN = 3
RUNS_PER_PAGE = 50
Status = ImportRun.Status


def _importable(user: Any) -> list[ImportableEntity]:
    return [e for e in registry.entities() if services.may_import(user, e)]


def _run(request: HttpRequest, pk: int) -> ImportRun:
    try:
        return selectors.get_run(request.user, pk)
    except NotFound:
        raise Http404(_("Not found, or not visible to you.")) from None


def _to_detail(run: ImportRun) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("imports:detail", args=[run.pk]))


def _remappable(run: ImportRun) -> bool:
    """The mapping may change until the first batch has gone in."""
    return run.status in services.MAPPABLE and not services.committed_rows(run)


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """The runs the user may see, newest first."""
    runs = selectors.run_list(request.user)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "may_import": bool(_importable(request.user))}
    return render(request, "imports/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Step 1: what the file holds, where it comes from, the file itself."""
    entities = _importable(request.user)
    if not entities:
        raise Forbidden(_("You may not import records."))
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, entities=entities)
        if form.is_valid():
            file = form.cleaned_data["file"]
            try:
                run = services.upload(
                    actor=request.user,
                    entity=form.cleaned_data["entity"],
                    source=form.cleaned_data["source"],
                    file=file,
                    filename=file.name,
                    channel=Channel.UI,
                )
            except CibleError as error:
                show_errors(form, error)
            else:
                return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
    else:
        initial = {k: request.GET[k] for k in ("entity", "source") if request.GET.get(k)}
        form = UploadForm(entities=entities, initial=initial)
    context = {"form": form, "sources": selectors.sources(request.user)}
    return render(request, "imports/upload.html", context, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: a field per column, the match key and the policy; saving starts the dry run."""
    run = _run(request, pk)
    entity = registry.get(run.entity)
    if entity is None or not _remappable(run):
        return _to_detail(run)
    options: dict[str, Any] = {
        "entity": entity,
        "columns": run.columns,
        "policies": ImportRun.Policy.choices,
    }
    if request.method == "POST":
        form = MappingForm(request.POST, **options)
        if form.is_valid():
            try:
                services.configure(
                    run,
                    actor=request.user,
                    mapping=form.mapping(),
                    key=form.cleaned_data["key"],
                    policy=form.cleaned_data["policy"],
                )
                services.check(run, actor=request.user)
            except CibleError as error:
                form.show_errors(error)
            else:
                return _to_detail(run)
    else:
        form = MappingForm(initial=MappingForm.initial_for(run, entity), **options)
    samples = selectors.samples(run, limit=SAMPLES_SHOWN)
    context = {
        "run": run,
        "entity": entity,
        "form": form,
        "rows": [(column, field, samples.get(column, [])) for column, field in form.rows()],
        "suggestion": selectors.suggestion_origin(run),
        "required": [f.label for f in entity.fields if f.required],
    }
    return render(request, "imports/mapping.html", context, status=422 if form.errors else 200)


def _records_url(entity: ImportableEntity | None, run: ImportRun) -> str:
    """The list of the imported kind of record, newest first, from the day the run started."""
    if entity is None:
        return ""
    meta = entity.model._meta
    try:
        url = reverse(f"{meta.app_label}:{meta.model_name}_list")
    except NoReverseMatch:
        return ""
    if run.started_at is not None:
        url += f"?created_at_min={timezone.localdate(run.started_at).isoformat()}"
    return url


def _chart(counts: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    """The four outcomes as one stacked bar (drawn by imports.js)."""
    outcomes = [
        ("created", _("Would be created") if dry_run else pgettext("rows", "Created"), "#198754"),
        ("updated", _("Would be updated") if dry_run else pgettext("rows", "Updated"), "#0d6efd"),
        ("unchanged", _("Would stay unchanged") if dry_run else _("Unchanged"), "#adb5bd"),
        ("rejected", _("Would be rejected") if dry_run else _("Rejected"), "#dc3545"),
    ]
    series = [
        {"name": str(label), "value": int(counts.get(key) or 0), "color": color}
        for key, label, color in outcomes
    ]
    return {"series": series}


def _actions(run: ImportRun, dry_run: bool) -> set[str]:
    """The buttons under the report, by the run's state."""
    actions: set[str] = set()
    if run.status == Status.CHECKED:
        actions.add("start")
    elif run.status == Status.MAPPED or (dry_run and run.status == Status.FAILED):
        actions.add("check")
    elif run.status in (Status.FAILED, Status.CANCELLED):
        actions.add("start" if dry_run else "resume")
    elif run.status == Status.DONE:
        actions.update({"records", "another"})
    if not dry_run and run.rows_done:
        actions.add("records")
    if not run.is_active and _remappable(run):
        actions.add("remap")
    return actions


def _status_context(run: ImportRun) -> dict[str, Any]:
    entity = registry.get(run.entity)
    # The real run sets started_at; before it, the page is about the dry run.
    dry_run = run.status in (Status.MAPPED, Status.CHECKING, Status.CHECKED) or (
        run.started_at is None
    )
    counts = (run.dry_run_counts if dry_run else run.counts) or {}
    rejected = int(counts.get("rejected") or 0)
    rejections = list(selectors.rejections(run, dry_run=dry_run, limit=REJECTIONS_SHOWN))
    labels = {f.name: title(f.label) for f in entity.fields} if entity else {}
    return {
        "run": run,
        "entity": entity,
        "dry_run": dry_run,
        "counts": counts,
        "rejected": rejected,
        "rejections": rejections,
        "more_rejections": max(rejected - len(rejections), 0),
        "changes": [
            {"field": name, "label": labels.get(name, name), **change}
            for name, change in selectors.changes(run).items()
        ],
        "actions": _actions(run, dry_run),
        "records_url": _records_url(entity, run),
        "chart": _chart(counts, dry_run),
        "chart_id": f"import-chart-{run.pk}",
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Steps 3 and 4 while they run, and the run's report afterwards."""
    run = _run(request, pk)
    if run.status == Status.UPLOADED:
        return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
    return render(request, "imports/detail.html", _status_context(run))


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's status block, polled every second while a task works on the run."""
    run = _run(request, pk)
    return render(request, "imports/_status.html", _status_context(run))


def _act(request: HttpRequest, pk: int, action: Callable[..., Any]) -> HttpResponse:
    run = _run(request, pk)
    try:
        action(run, actor=request.user)
    except CibleError as error:
        messages.error(request, str(error))
    return _to_detail(run)


@login_required
@require_POST
def check(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the dry run (again)."""
    return _act(request, pk, services.check)


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    """The real import, or its resumption after a failure or a cancel."""
    return _act(request, pk, services.start)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop after the current batch; what went in stays in."""
    return _act(request, pk, services.cancel)


@login_required
@require_GET
def error_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected rows with their original columns plus the reason, to fix and import again."""
    run = _run(request, pk)
    filename, content = services.error_file(run, dry_run=request.GET.get("dry_run") == "1")
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
