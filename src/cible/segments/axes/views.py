"""Pages of axes and segments: the parallel axes with their segments and counts, the forms to
change them, a segment's members (by hand or by rule), the full rebuild with its progress, and
the rule builder's redraw endpoint. Thin over `selectors` and `services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.core import access, audit, csv_export
from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound
from cible.core.records import CappedPaginator
from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.axes import builder, permissions, selectors, services
from cible.segments.axes.forms import AXIS_FIELDS, AxisForm, MemberAddForm, SegmentForm
from cible.segments.axes.models import Axis, RebuildRun, RebuildStatus, Segment, SegmentKind

MEMBERS_PER_PAGE = 50


def _axis(request: HttpRequest, pk: int) -> Axis:
    try:
        return selectors.axis_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _segment(request: HttpRequest, pk: int) -> Segment:
    try:
        return selectors.segment_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _require_manager(request: HttpRequest) -> None:
    if not permissions.may_manage(request.user):
        raise DjangoPermissionDenied(
            _("Only administrators, Marketing and sales managers may change segmentation.")
        )


def _running_run() -> RebuildRun | None:
    run = selectors.rebuild_run_latest()
    return run if run is not None and run.status == RebuildStatus.RUNNING else None


def _rebuild_busy() -> bool:
    return _running_run() is not None


# --- the axes page --------------------------------------------------------------------------------


def _axis_chart(summary: selectors.AxisSummary) -> dict[str, Any]:
    """Members per segment of one axis, as `static/cible/charts.js` draws bars."""
    return {
        "kind": "bars",
        "name": _("Members"),
        "labels": [s.name for s in summary.segments],
        "values": [s.count for s in summary.segments],
        "links": [reverse("segments:segment_detail", args=[s.id]) for s in summary.segments],
    }


@login_required
@require_GET
def axes_view(request: HttpRequest) -> HttpResponse:
    manager = permissions.may_manage(request.user)
    axes = selectors.axis_list(viewer=request.user, include_inactive=manager)
    return render(
        request,
        "segments/axes.html",
        {
            "boards": [
                (summary, _axis_chart(summary), 30 + 26 * len(summary.segments)) for summary in axes
            ],
            "can_manage": manager,
            "run": selectors.rebuild_run_latest(),
        },
    )


def _axis_form_page(
    request: HttpRequest, form: AxisForm, axis: Axis | None, status: int = 200
) -> HttpResponse:
    return render(request, "segments/axis_form.html", {"form": form, "axis": axis}, status=status)


def _axis_data(form: AxisForm) -> dict[str, Any]:
    data = {name: form.cleaned_data.get(name) for name in AXIS_FIELDS}
    return {k: v for k, v in data.items() if not (k in ("code", "position") and v in (None, ""))}


@login_required
@require_http_methods(["GET", "POST"])
def axis_create_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method != "POST":
        return _axis_form_page(request, AxisForm(initial=AxisForm.initial_from(None)), None)
    form = AxisForm(request.POST)
    if form.is_valid():
        try:
            axis = services.axis_create(
                actor=request.user, channel=Channel.UI, data=_axis_data(form)
            )
        except CibleError as error:
            builder.show_rule_errors(form, error)
        else:
            messages.success(request, _("The axis “%(name)s” was created.") % {"name": axis})
            return HttpResponseRedirect(f"{reverse('segments:axes')}#axis-{axis.pk}")
    return _axis_form_page(request, form, None, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def axis_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    axis = _axis(request, pk)
    if request.method != "POST":
        return _axis_form_page(request, AxisForm(initial=AxisForm.initial_from(axis)), axis)
    form = AxisForm(request.POST)
    if form.is_valid():
        try:
            services.axis_update(
                axis=axis,
                actor=request.user,
                channel=Channel.UI,
                data=_axis_data(form),
                background=selectors.base_is_large(),
            )
        except CibleError as error:
            builder.show_rule_errors(form, error)
        else:
            messages.success(request, _("Your changes were saved."))
            return HttpResponseRedirect(f"{reverse('segments:axes')}#axis-{axis.pk}")
    return _axis_form_page(request, form, axis, status=422)


@login_required
@require_POST
def axis_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    axis = _axis(request, pk)
    name = str(axis)
    try:
        services.axis_delete(axis=axis, actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The axis “%(name)s” was deleted.") % {"name": name})
    return HttpResponseRedirect(reverse("segments:axes"))


# --- segments -------------------------------------------------------------------------------------


def _segment_form_page(
    request: HttpRequest,
    form: SegmentForm,
    axis: Axis,
    segment: Segment | None,
    *,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    return render(
        request,
        "segments/segment_form.html",
        {"form": form, "axis": axis, "segment": segment, "conflict": conflict},
        status=status,
    )


def _saved(request: HttpRequest, segment: Segment, text: str, background: bool) -> HttpResponse:
    if background:
        text += " " + _("Its members are being recomputed in the background.")
    messages.success(request, text)
    return HttpResponseRedirect(reverse("segments:segment_detail", args=[segment.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def segment_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    axis = _axis(request, pk)
    if request.method != "POST":
        return _segment_form_page(
            request, SegmentForm(initial=SegmentForm.initial_from(None)), axis, None
        )
    form = SegmentForm(request.POST)
    if form.is_valid():
        background = selectors.base_is_large()
        try:
            if background and _rebuild_busy():
                raise ConflictError(
                    _("A rebuild of the segments is running; save again once it has finished.")
                )
            segment = services.segment_create(
                actor=request.user,
                channel=Channel.UI,
                axis=axis,
                data=form.data_for_service(),
                background=background,
            )
        except CibleError as error:
            builder.show_rule_errors(form, error)
        else:
            text = _("The segment “%(name)s” was created.") % {"name": segment}
            return _saved(request, segment, text, background)
    return _segment_form_page(request, form, axis, None, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    segment = _segment(request, pk)
    if request.method != "POST":
        form = SegmentForm(initial=SegmentForm.initial_from(segment))
        return _segment_form_page(request, form, segment.axis, segment)
    form = SegmentForm(request.POST)
    conflict = False
    if form.is_valid():
        background = selectors.base_is_large()
        try:
            if background and _rebuild_busy():
                raise ConflictError(
                    _("A rebuild of the segments is running; save again once it has finished.")
                )
            services.segment_update(
                segment=segment,
                actor=request.user,
                channel=Channel.UI,
                data=form.data_for_service(),
                expected_version=form.cleaned_data.get("version") or segment.version,
                background=background,
            )
        except ConflictError as error:
            conflict = True
            builder.show_rule_errors(form, error)
        except CibleError as error:
            builder.show_rule_errors(form, error)
        else:
            return _saved(request, segment, _("Your changes were saved."), background)
    status = 409 if conflict else 422
    return _segment_form_page(
        request, form, segment.axis, segment, status=status, conflict=conflict
    )


@login_required
@require_POST
def segment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    segment = _segment(request, pk)
    name = str(segment)
    try:
        services.segment_delete(
            segment=segment,
            actor=request.user,
            channel=Channel.UI,
            background=selectors.base_is_large(),
        )
    except CibleError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("segments:segment_detail", args=[pk]))
    messages.success(request, _("The segment “%(name)s” was deleted.") % {"name": name})
    return HttpResponseRedirect(reverse("segments:axes"))


@login_required
@require_GET
def segment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    members = selectors.segment_members(viewer=request.user, segment=segment)
    page = CappedPaginator(
        members.select_related("owner").order_by("name_key", "pk"), MEMBERS_PER_PAGE
    ).get_page(request.GET.get("page"))
    manager = permissions.may_manage(request.user)
    return render(
        request,
        "segments/segment_detail.html",
        {
            "segment": segment,
            "axis": segment.axis,
            "description": selectors.segment_description(segment),
            "count": selectors.segment_count(viewer=request.user, segment=segment),
            "page": page,
            "can_manage": manager,
            "manual": segment.kind == SegmentKind.MANUAL,
            "add_form": MemberAddForm() if manager else None,
            "run": _running_run(),
        },
    )


def _member_ids(request: HttpRequest) -> list[str]:
    return [value for value in request.POST.getlist("organisation") if value.strip()]


@login_required
@require_POST
def segment_members_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Put organisations in a segment by hand, or take them out."""
    if action not in ("add", "remove"):
        raise Http404
    _require_manager(request)
    segment = _segment(request, pk)
    ids = _member_ids(request)
    back = HttpResponseRedirect(reverse("segments:segment_detail", args=[pk]))
    if not ids:
        messages.error(request, _("Choose an organisation first."))
        return back
    change = services.segment_add_members if action == "add" else services.segment_remove_members
    try:
        diff = change(segment=segment, actor=request.user, channel=Channel.UI, organisation_ids=ids)
    except CibleError as error:
        messages.error(request, str(error))
        return back
    changed = len(diff.added.get(segment.pk, ())) + len(diff.removed.get(segment.pk, ()))
    if action == "add":
        text = ngettext(
            "%(count)s organisation added.", "%(count)s organisations added.", changed
        ) % {"count": changed}
    else:
        text = ngettext(
            "%(count)s organisation taken out.", "%(count)s organisations taken out.", changed
        ) % {"count": changed}
    messages.success(request, text)
    return back


EXPORT_COLUMNS = [
    csv_export.Column("id", lambda o: o.pk),
    csv_export.Column("name", lambda o: o.display_name),
    csv_export.Column("legal_name", lambda o: o.legal_name),
    csv_export.Column("siren", lambda o: o.siren),
    csv_export.Column("postal_code", lambda o: o.postal_code),
    csv_export.Column("city", lambda o: o.city),
    csv_export.Column("region", lambda o: o.region),
    csv_export.Column("country", lambda o: o.country),
    csv_export.Column("headcount", lambda o: o.headcount),
    csv_export.Column("size_class", lambda o: o.size_class),
    csv_export.Column("sales_team_size", lambda o: o.sales_team_size),
    csv_export.Column("domain", lambda o: o.domain),
    csv_export.Column("owner", lambda o: o.owner.get_full_name() if o.owner else ""),
]


@login_required
@require_GET
def segment_export_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    segment = _segment(request, pk)
    if not access.can(request.user, "export"):
        raise DjangoPermissionDenied
    members = selectors.segment_members(viewer=request.user, segment=segment)
    audit.log_export(
        actor=request.user,
        channel=Channel.UI,
        model=Organisation,
        rows=members.count(),
        query=f"segment {segment.pk}: {segment.axis.display_name} › {segment.display_name}",
    )
    return csv_export.response(
        f"segment-{segment.axis.code}-{segment.code}",
        EXPORT_COLUMNS,
        members.select_related("owner").order_by("name_key", "pk").iterator(chunk_size=2000),
    )


# --- rebuild --------------------------------------------------------------------------------------


@login_required
@require_POST
def rebuild_start_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    try:
        services.membership_rebuild_start(actor=request.user, channel=Channel.UI)
    except CibleError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(f"{reverse('segments:axes')}#rebuild")


@login_required
@require_GET
def rebuild_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        run = selectors.rebuild_run_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None
    if request.htmx and run.status != RebuildStatus.RUNNING and request.GET.get("poll"):  # type: ignore[attr-defined]
        response = HttpResponse()
        response["HX-Refresh"] = "true"  # finished: show the new counts
        return response
    return render(request, "segments/_rebuild.html", {"run": run})


# --- the rule builder -----------------------------------------------------------------------------


@login_required
@require_POST
def rule_builder_view(request: HttpRequest) -> HttpResponse:
    """The builder redrawn after one structural edit (see `builder`)."""
    name = request.POST.get("_builder", "")
    level = request.POST.get("_level", "")
    html_id = request.POST.get("_id", "") or f"id_{name}"
    action = request.POST.get("_action", "refresh")
    if (
        not builder.valid_name(name)
        or not builder.valid_name(html_id)
        or level not in rules.LEVELS
        or action not in builder.ACTIONS
    ):
        return HttpResponseBadRequest(_("This is not a request of the rule builder."))
    draft = builder.edit(
        builder.draft_from(request.POST.get(name)),
        action=action,
        at=request.POST.get("_at", ""),
        level=level,  # type: ignore[arg-type]
    )
    widget = builder.RuleBuilderWidget(level=level)  # type: ignore[arg-type]
    return HttpResponse(widget.render(name, draft, attrs={"id": html_id}))
