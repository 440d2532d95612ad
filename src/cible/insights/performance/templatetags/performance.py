"""Display helpers of the segment-performance pages: shares as localised percentages, days, and
any measure by its unit (`{{ cell.measures|measure:tab.measure }}`)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cible.core.templatetags.cible import money
from cible.insights.performance.measures import Measures, MeasureSpec, Unit

register = template.Library()

DASH = "—"


@register.filter
def percent(share: Any, decimals: int = 0) -> str:
    """0.3125 → "31 %" (localised); None → "—"."""
    if share is None or share == "":
        return DASH
    places = int(decimals)
    value = round(float(share) * 100, places)
    shown = number_format(value, decimal_pos=places, use_l10n=True)
    return _("%(value)s %%") % {"value": shown}


@register.filter
def days(value: Any) -> str:
    """A mean number of days, to the day ("31 d"); None → "—"."""
    if value is None or value == "":
        return DASH
    whole = round(float(value))
    return _("%(count)s d") % {"count": number_format(whole, use_l10n=True, force_grouping=True)}


def format_measure(measures: Measures, spec: MeasureSpec) -> str:
    """The value of `spec` in `measures`, localised by its unit; "—" when undefined or hidden."""
    value = measures.value(spec.code)
    if value is None:
        return DASH
    if spec.unit == Unit.PERCENT:
        return percent(value)
    if spec.unit == Unit.MONEY:
        return money(value)
    if spec.unit == Unit.DAYS:
        return days(value)
    return number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def measure(measures: Measures, spec: MeasureSpec) -> str:
    return format_measure(measures, spec)
