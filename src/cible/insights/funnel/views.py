"""The funnel page (issue 6 item 8): thin over `selectors.funnel_report`, with the JSON of the
ECharts funnel. A GET form: the filters live in the address (bookmarkable); a changed filter
refreshes the report in place with HTMX and updates the address.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cible.core.errors import ValidationFailed
from cible.insights.funnel.forms import FunnelForm
from cible.insights.funnel.selectors import (
    FunnelFilters,
    FunnelReport,
    filters_from_params,
    funnel_report,
)
from cible.insights.performance.periods import DEFAULT_PRESET, Period
from cible.insights.performance.templatetags.performance import percent


def _chart(report: FunnelReport) -> dict[str, Any]:
    """Reached per stage, top to bottom, with each stage's conversions in its tooltip."""
    tooltips = []
    for row in report.stages:
        lines = [
            row.label,
            _("Reached: %(count)s") % {"count": number_format(row.reached, force_grouping=True)},
            _("From the first stage: %(share)s") % {"share": percent(row.from_first, 1)},
        ]
        if row.to_next is not None:
            lines.append(_("On to the next stage: %(share)s") % {"share": percent(row.to_next, 1)})
        tooltips.append(lines)
    return {
        "name": _("Leads"),
        "labels": [row.label for row in report.stages],
        "values": [row.reached for row in report.stages],
        "tooltips": tooltips,
    }


def _fields(form: FunnelForm, error: ValidationFailed | None) -> list[tuple[Any, list[str]]]:
    """Each filter with the problems `filters_from_params` found in its value."""
    problems: dict[str, list[str]] = {}
    for item in error.errors if error else []:
        problems.setdefault(item.field, []).append(item.message)
    return [(field, problems.get(field.name, [])) for field in form.visible_fields()]


@login_required
def funnel_view(request: HttpRequest) -> HttpResponse:
    """The report for the filters in the address; bad values are named next to their filter
    (and above the report on an HTMX refresh), and the default report is shown meanwhile."""
    data = request.GET.copy()
    if not data.get("period") and not (data.get("start") or data.get("end")):
        data["period"] = DEFAULT_PRESET.value
    form = FunnelForm(data)
    today = timezone.localdate()
    error = None
    try:
        filters = filters_from_params(params=data, today=today)
    except ValidationFailed as problem:
        error = problem
        filters = FunnelFilters(Period.of(DEFAULT_PRESET, today=today))
    report = funnel_report(viewer=request.user, filters=filters)
    context = {
        "form": form,
        "fields": _fields(form, error),
        "errors": error.errors if error else [],
        "custom": data.get("period") == "custom",
        "report": report,
        "chart": _chart(report),
    }
    htmx = getattr(request, "htmx", False)
    return render(request, "funnel/_report.html" if htmx else "funnel/funnel.html", context)
