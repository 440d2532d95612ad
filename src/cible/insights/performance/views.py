"""Pages of segment performance and the cross-tab explorer (SPEC C3, seed 002: "if you lose 100 %
of the deals in a segment…"): thin over `selectors`, with the chart JSON that
`static/cible/charts.js` draws.

Both pages are GET forms: the choices live in the address, so a finding can be bookmarked and
sent to a colleague — who sees it over the records they may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cible.core.errors import CibleError, FieldError, NotFound, ValidationFailed
from cible.core.forms import show_errors
from cible.core.records import CappedPaginator
from cible.insights.performance.charts import chart_value, heatmap_chart
from cible.insights.performance.forms import (
    CrossTabForm,
    PeriodFields,
    SegmentPerformanceForm,
    axis_choices,
)
from cible.insights.performance.measures import DEFAULT_MEASURE, Unit
from cible.insights.performance.periods import DEFAULT_PRESET, Period, period_from_params
from cible.insights.performance.selectors import (
    AxisPerformance,
    Cell,
    CrossTab,
    crosstab,
    crosstab_accounts,
    segment_performance,
)
from cible.insights.performance.stats import FlagKind
from cible.insights.performance.templatetags.performance import format_measure, percent
from cible.segments.axes.models import Axis, Segment
from cible.segments.axes.selectors import axis_by_code, segment_get

ACCOUNTS_PER_PAGE = 20
UNSEGMENTED = "none"  # the `sa`/`sb` parameter of the accounts in no segment of the axis
BLUE = "#0d6efd"
# Heatmap colour scales, low to high: a low win rate is bad news, a high share lost too.
RED_TO_GREEN = ["#ea868f", "#fff3cd", "#75b798"]
SCALES = {"win_rate": RED_TO_GREEN, "lost_share": RED_TO_GREEN[::-1]}


def _with_defaults(params: QueryDict, **defaults: str) -> QueryDict:
    data = params.copy()
    for name, value in defaults.items():
        if not data.get(name):
            data[name] = value
    return data


def _period(params: Mapping[str, Any], form: PeriodFields) -> Period:
    """The chosen period, or the default one with the problem shown next to its field."""
    today = timezone.localdate()
    try:
        return period_from_params(params, today=today)
    except ValidationFailed as error:
        show_errors(form, error)
        return Period.of(DEFAULT_PRESET, today=today)


def _axis(viewer: Any, form: PeriodFields, name: str, fallback: str) -> Axis | None:
    code = form.cleaned_data.get(name) or fallback
    try:
        return axis_by_code(viewer=viewer, code=code) if code else None
    except NotFound:
        return None


def _page_url(name: str, period: Period, **params: Any) -> str:
    """The address of the other performance page, keeping the period."""
    wanted = {k: v for k, v in params.items() if v} | period.as_params()
    return f"{reverse(name)}?{urlencode(wanted)}"


def _accounts_url(**params: Any) -> str:
    wanted = {k: (UNSEGMENTED if v is None else v) for k, v in params.items()}
    return f"{reverse('performance:accounts')}?{urlencode(wanted)}"


# --- one axis --------------------------------------------------------------------------------


def _win_rate_chart(result: AxisPerformance) -> dict[str, Any]:
    """Win rate per segment as bars (flagged ones in the flag's colour), the overall rate as a
    dashed line; a click lists the segment's accounts under the chart."""
    rows = [r for r in result.rows if not r.segment.unsegmented or not r.measures.is_empty]
    colours = {FlagKind.UNDER: "#dc3545", FlagKind.OVER: "#198754"}
    tooltips = []
    for row in rows:
        lines = [
            row.segment.name,
            _("Win rate: %(rate)s") % {"rate": percent(row.measures.win_rate)},
            _deals_line(row.measures.won, row.measures.lost),
        ]
        if row.flag is not None:
            lines.append(row.flag.sentence)
        tooltips.append(lines)
    overall = result.overall_win_rate
    return {
        "kind": "bars",
        "name": str(_("Win rate")),
        "labels": [r.segment.name for r in rows],
        "values": [chart_value(r.measures, "win_rate", Unit.PERCENT) for r in rows],
        "colours": [colours[r.flag.kind] if r.flag else BLUE for r in rows],
        "suffix": " %",
        "max": 100,
        "reference": None
        if overall is None
        else {"name": str(_("Overall")), "value": round(overall * 100, 1)},
        "tooltips": tooltips,
        "links": [_accounts_url(a=result.axis.code, sa=r.segment.id) for r in rows],
        "link_target": "#segment-accounts",
    }


def _deals_line(won: int, lost: int) -> str:
    return ngettext(
        "%(closed)s deal closed: %(won)s won, %(lost)s lost",
        "%(closed)s deals closed: %(won)s won, %(lost)s lost",
        won + lost,
    ) % {"closed": won + lost, "won": won, "lost": lost}


@login_required
def segments_view(request: HttpRequest) -> HttpResponse:
    axes = axis_choices()
    first = axes[0][0] if axes else ""
    data = _with_defaults(request.GET, axis=first, period=DEFAULT_PRESET.value)
    form = SegmentPerformanceForm(data)
    form.is_valid()
    period = _period(data, form)
    axis = _axis(request.user, form, "axis", first)
    result = segment_performance(viewer=request.user, axis=axis, period=period) if axis else None
    context = {
        "form": form,
        "axis": axis,
        "period": period,
        "result": result,
        "chart": _win_rate_chart(result) if result else None,
        "crosstab_url": _page_url("performance:crosstab", period, a=axis.code if axis else None),
    }
    return render(request, "performance/segments.html", context)


# --- the cross-tab -----------------------------------------------------------------------------


def _cell_tooltip(tab: CrossTab, cell: Cell) -> list[str]:
    spec = tab.measure
    lines = [
        f"{cell.row.name} × {cell.column.name}",
        f"{spec.label}: {format_measure(cell.measures, spec)}",
        _deals_line(cell.measures.won, cell.measures.lost),
    ]
    if cell.measures.accounts is not None:
        lines.append(
            ngettext("%(count)s account", "%(count)s accounts", cell.measures.accounts)
            % {"count": cell.measures.accounts}
        )
    if cell.flag is not None:
        lines.append(cell.flag.sentence)
    lines.append(_("Click to list its accounts."))
    return lines


def _cell_url(tab: CrossTab, cell: Cell) -> str:
    return _accounts_url(a=tab.axis_a.code, sa=cell.row.id, b=tab.axis_b.code, sb=cell.column.id)


def _heatmap(tab: CrossTab) -> dict[str, Any]:
    chart = heatmap_chart(tab)
    unit = tab.measure.unit
    if unit == Unit.MONEY:
        chart["suffix"] = "\u00a0€"
    elif unit == Unit.DAYS:
        chart["suffix"] = "\u00a0" + _("d")
    chart["scale"] = SCALES.get(tab.measure.code)
    cells = [cell for line in tab.cells for cell in line]  # the order of heatmap_chart's data
    chart["links"] = [_cell_url(tab, cell) for cell in cells]
    chart["tooltips"] = [_cell_tooltip(tab, cell) for cell in cells]
    chart["link_target"] = "#cell-accounts"
    return chart


def _table(tab: CrossTab) -> dict[str, Any]:
    """The cross-tab as table rows with their links (the heatmap's accessible twin)."""
    a, b = tab.axis_a.code, tab.axis_b.code
    return {
        "lines": [
            {
                "row": row,
                "cells": [(cell, _cell_url(tab, cell)) for cell in cells],
                "total": (total, _accounts_url(a=a, sa=row.id)),
            }
            for row, cells, total in zip(tab.rows, tab.cells, tab.row_totals, strict=True)
        ],
        "column_totals": [
            (cell, _accounts_url(a=b, sa=cell.column.id)) for cell in tab.column_totals
        ],
        "flagged": [(cell, _cell_url(tab, cell)) for cell in tab.flagged],
    }


AXIS_FIELDS = {"axis_a": "a", "axis_b": "b", "segment_a": "sa", "segment_b": "sb"}


def _renamed(error: CibleError) -> CibleError:
    """The selectors' field names as the page's parameters (axis_b → b)."""
    errors = [FieldError(AXIS_FIELDS.get(e.field, e.field), e.message) for e in error.errors]
    return type(error)(errors=errors)


@login_required
def crosstab_view(request: HttpRequest) -> HttpResponse:
    axes = axis_choices()
    first = axes[0][0] if axes else ""
    second = axes[1][0] if len(axes) > 1 else first
    data = _with_defaults(
        request.GET, a=first, b=second, measure=DEFAULT_MEASURE, period=DEFAULT_PRESET.value
    )
    form = CrossTabForm(data, viewer=request.user)
    form.is_valid()
    period = _period(data, form)
    axis_a, axis_b = _axis(request.user, form, "a", first), _axis(request.user, form, "b", second)
    tab = None
    if axis_a is not None and axis_b is not None:
        measure = form.cleaned_data.get("measure") or DEFAULT_MEASURE
        try:
            tab = crosstab(
                viewer=request.user, axis_a=axis_a, axis_b=axis_b, period=period, measure=measure
            )
        except CibleError as error:
            show_errors(form, _renamed(error))
    context = {
        "form": form,
        "period": period,
        "tab": tab,
        "table": _table(tab) if tab else None,
        "chart": _heatmap(tab) if tab else None,
        "enough_axes": len(axes) > 1,
        "segments_url": _page_url(
            "performance:segments", period, axis=axis_a.code if axis_a else None
        ),
    }
    return render(request, "performance/crosstab.html", context)


# --- the accounts of a segment or a cell ------------------------------------------------------


def _segment(viewer: Any, raw: str | None, field: str) -> Segment | None:
    if raw in (None, "", UNSEGMENTED):
        return None
    try:
        return segment_get(viewer=viewer, pk=raw)
    except NotFound as error:
        raise NotFound(errors=[FieldError(field, error.errors[0].message)]) from None


@login_required
def accounts_view(request: HttpRequest) -> HttpResponse:
    """The accounts of a segment (`a`, `sa`) or of a cell (`a`, `sa`, `b`, `sb`) the viewer may
    see, a page at a time; `sa=none` means the accounts in no segment of axis A."""
    params, viewer = request.GET, request.user
    template = "performance/_accounts.html" if request.htmx else "performance/accounts.html"  # type: ignore[attr-defined]
    try:
        axis_a = axis_by_code(viewer=viewer, code=params.get("a", ""))
        segment_a = _segment(viewer, params.get("sa"), "sa")
        axis_b = axis_by_code(viewer=viewer, code=params["b"]) if params.get("b") else None
        segment_b = _segment(viewer, params.get("sb"), "sb") if axis_b else None
        accounts = crosstab_accounts(
            viewer=viewer, axis_a=axis_a, segment_a=segment_a, axis_b=axis_b, segment_b=segment_b
        )
    except CibleError as error:
        # HTMX swaps only successful answers: the panel shows the problem in place.
        status = 200 if request.htmx else error.status_code  # type: ignore[attr-defined]
        return render(request, template, {"error": _renamed(error)}, status=status)
    page = CappedPaginator(accounts.select_related("owner"), ACCOUNTS_PER_PAGE).get_page(
        params.get("page")
    )
    sides = [(axis_a, segment_a)] + ([(axis_b, segment_b)] if axis_b else [])
    context = {
        "page": page,
        "sides": [
            {"axis": axis, "name": segment.display_name if segment else _("Unsegmented")}
            for axis, segment in sides
        ],
        "params": params.urlencode(),
    }
    return render(request, template, context)
