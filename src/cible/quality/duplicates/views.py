"""Pages of the duplicates app: the review queue, the side-by-side comparison, merges and their
undo, detection and bulk merge runs. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cible.core import access
from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound
from cible.people.selectors import user_choices
from cible.quality.duplicates import merge, scoring, selectors, services
from cible.quality.duplicates.entities import ENTITIES, spec_for
from cible.quality.duplicates.forms import MergeForm
from cible.quality.duplicates.models import Entity, PairStatus

PER_PAGE = 25


def _pair(request: HttpRequest, pk: int) -> Any:
    try:
        return selectors.pair_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404(_("Not found, or not visible to you.")) from None


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Open pairs by score, with filters, detection and bulk merge beside them."""
    filters = selectors.parse_filters(request.GET)
    pairs = selectors.pair_list(viewer=request.user, filters=filters)
    page = Paginator(pairs, PER_PAGE).get_page(request.GET.get("page"))
    records = selectors.records_of(filters.entity, list(page.object_list))
    rows = [
        {
            "pair": pair,
            "a": records.get(pair.record_a),
            "b": records.get(pair.record_b),
            "reasons": [(scoring.describe(r), scoring.is_for(r)) for r in pair.reasons[:4]],
        }
        for pair in page.object_list
    ]
    params = filters.as_params()
    params.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "entities": [(name, spec.label_plural) for name, spec in ENTITIES.items()],
        "counts": selectors.open_counts(viewer=request.user),
        "bands": selectors.BAND_LABELS,
        "statuses": PairStatus.choices,
        "owners": user_choices(),
        "detection": selectors.latest_detection(filters.entity),
        "may_change": access.can(request.user, "change"),
        "threshold": scoring.DEFAULT_THRESHOLD,
        "bulk_threshold": services.BULK_THRESHOLD,
        "params": urlencode(params),
    }
    return render(request, "duplicates/queue.html", context)


@login_required
@require_POST
def detect_view(request: HttpRequest) -> HttpResponse:
    entity = request.POST.get("entity", Entity.ORGANISATION)
    try:
        services.detection_start(entity=entity, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.info(request, _("Duplicate detection has started; this page shows its progress."))
    return HttpResponseRedirect(f"{reverse('duplicates:queue')}?entity={entity}")


@login_required
def detection_status(request: HttpRequest, entity: str) -> HttpResponse:
    if entity not in ENTITIES:
        raise Http404
    run = selectors.latest_detection(entity)
    return render(request, "duplicates/_detection.html", {"detection": run, "entity": entity})


@login_required
def pair_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    return _compare_page(request, pair, None)


def _compare_page(
    request: HttpRequest, pair: Any, form: MergeForm | None, status: int = 200
) -> HttpResponse:
    try:
        compared = selectors.comparison(viewer=request.user, pair=pair)
    except NotFound as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("duplicates:queue") + f"?entity={pair.entity}")
    if form is None:
        initial: dict[str, Any] = {
            "survivor": compared.survivor,
            "version_a": compared.a.version,  # type: ignore[attr-defined]
            "version_b": compared.b.version,  # type: ignore[attr-defined]
        }
        initial.update({f"choice_{row.name}": row.default for row in compared.rows})
        form = MergeForm(initial=initial, spec=compared.spec)
    rows = [(row, form[f"choice_{row.name}"].value()) for row in compared.rows]
    context = {
        "compared": compared,
        "pair": pair,
        "form": form,
        "rows": rows,
        "survivor": form["survivor"].value(),
        "next": request.GET.get("next") or request.POST.get("next") or "",
    }
    return render(request, "duplicates/compare.html", context, status=status)


@login_required
@require_POST
def pair_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    spec = spec_for(pair.entity)
    form = MergeForm(request.POST, spec=spec)
    if not form.is_valid():
        return _compare_page(request, pair, form, status=422)
    try:
        record = merge.pair_merge(
            pair=pair,
            actor=request.user,
            channel=Channel.UI,
            **form.merge_arguments(pair.record_a, pair.record_b),
        )
    except CibleError as error:
        form.add_error(None, str(error))
        status = 409 if isinstance(error, ConflictError) else error.status_code
        return _compare_page(request, pair, form, status=status)
    messages.success(
        request,
        format_html(
            '{} <a class="alert-link" href="{}" id="merge-link">{}</a>',
            _("%(loser)s was merged into %(survivor)s.")
            % {"loser": record.loser_label, "survivor": record.survivor_label},
            reverse("duplicates:merge", args=[record.pk]),
            _("See the merge or undo it"),
        ),
    )
    return HttpResponseRedirect(reverse(spec.detail_url, args=[record.survivor_id]))


@login_required
@require_POST
def pair_not_duplicate_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair(request, pk)
    try:
        merge.pair_mark_not_duplicate(pair=pair, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Marked as not a duplicate: this pair will not be proposed again.")
        )
    return HttpResponseRedirect(
        _back(request, f"{reverse('duplicates:queue')}?entity={pair.entity}")
    )


@login_required
@require_POST
def pair_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        pair = selectors.pair_get(viewer=request.user, pk=pk, status=PairStatus.NOT_DUPLICATE)
        merge.pair_reopen(pair=pair, actor=request.user, channel=Channel.UI)
    except NotFound:
        raise Http404 from None
    except CibleError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("duplicates:pair", args=[pk]))


@login_required
def merges_view(request: HttpRequest) -> HttpResponse:
    entity = request.GET.get("entity") if request.GET.get("entity") in ENTITIES else None
    merges = selectors.merge_queryset(viewer=request.user, entity=entity).order_by("-merged_at")
    page = Paginator(merges, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "duplicates/merges.html",
        {"page": page, "entity": entity or "", "entities": ENTITIES},
    )


@login_required
def merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        record = selectors.merge_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404(_("Not found, or not visible to you.")) from None
    spec = spec_for(record.entity)
    survivor = spec.model._default_manager.filter(pk=record.survivor_id).first()
    erased = getattr(survivor, "anonymised_at", None) is not None
    context = {
        "merge": record,
        "spec": spec,
        "survivor": survivor,
        "rows": selectors.snapshot_rows(record, request.user),
        "moved": selectors.moved_rows(record),
        "entries": list(selectors.loser_history(record)[:200]),
        "may_undo": record.undone_at is None
        and survivor is not None
        and not erased
        and access.can(request.user, "change", survivor),
        "erased": (
            merge.erased_message(record.survivor_id) if erased and not record.undone_at else ""
        ),
        "changed_since": survivor is not None and survivor.version != record.survivor_version,  # type: ignore[attr-defined]
    }
    return render(request, "duplicates/merge_detail.html", context)


@login_required
@require_POST
def merge_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        record = selectors.merge_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404(_("Not found, or not visible to you.")) from None
    try:
        loser = merge.merge_undo(merge=record, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("duplicates:merge", args=[pk]))
    messages.success(
        request,
        _("The merge was undone: %(loser)s is back, with its related records.") % {"loser": loser},
    )
    return HttpResponseRedirect(reverse(spec_for(record.entity).detail_url, args=[loser.pk]))


@login_required
def bulk_preview(request: HttpRequest) -> HttpResponse:
    entity = request.GET.get("entity", Entity.ORGANISATION)
    context: dict[str, Any] = {"entity": entity}
    try:
        if entity not in ENTITIES:
            raise CibleError(_("Unknown kind of record."))
        threshold = services.check_threshold(request.GET.get("threshold"))
    except CibleError as error:
        context["error"] = "; ".join(e.message for e in error.errors) or str(error)
    else:
        context["threshold"] = threshold
        context["count"] = len(
            selectors.bulk_candidates(viewer=request.user, entity=entity, threshold=threshold)
        )
        context["background"] = context["count"] > services.FOREGROUND_LIMIT
    return render(request, "duplicates/_bulk_preview.html", context)


@login_required
@require_POST
def bulk_merge_view(request: HttpRequest) -> HttpResponse:
    entity = request.POST.get("entity", Entity.ORGANISATION)
    try:
        run = services.bulk_merge_start(
            entity=entity,
            threshold=request.POST.get("threshold"),
            actor=request.user,
            channel=Channel.UI,
        )
    except CibleError as error:
        messages.error(request, "; ".join(e.message for e in error.errors) or str(error))
        return HttpResponseRedirect(f"{reverse('duplicates:queue')}?entity={entity}")
    return HttpResponseRedirect(reverse("duplicates:bulk_run", args=[run.pk]))


@login_required
def bulk_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        run = selectors.bulk_run_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404(_("Not found, or not visible to you.")) from None
    template = (
        "duplicates/_bulk_progress.html"
        if getattr(request, "htmx", False)
        else "duplicates/bulk_run.html"
    )
    return render(request, template, {"run": run, "running": not run.finished})


@login_required
@require_POST
def bulk_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        run = selectors.bulk_run_get(viewer=request.user, pk=pk)
        services.bulk_merge_cancel(run=run, actor=request.user)
    except NotFound:
        raise Http404 from None
    except CibleError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(reverse("duplicates:bulk_run", args=[pk]))
