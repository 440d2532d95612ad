"""Small display helpers for templates: query strings, sorting links, localised money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format

register = template.Library()


@register.filter
def param(querydict: Any, name: str) -> str:
    return querydict.get(name, "") if querydict is not None else ""


@register.filter
def param_min(querydict: Any, name: str) -> str:
    return param(querydict, f"{name}_min")


@register.filter
def param_max(querydict: Any, name: str) -> str:
    return param(querydict, f"{name}_max")


@register.simple_tag
def query_with(params: str, **changes: Any) -> str:
    """The current query string with some parameters replaced (and the page reset on change)."""
    pairs = [(k, v) for k, v in parse_qsl(params, keep_blank_values=False) if k not in changes]
    if "page" not in changes:
        pairs = [(k, v) for k, v in pairs if k != "page"]
    pairs.extend((k, str(v)) for k, v in changes.items() if v not in (None, ""))
    return urlencode(pairs)


@register.filter
def sort_toggle(column: str, current: str) -> str:
    return f"-{column}" if current == column else column


@register.filter
def column(record: Any, spec: Any) -> Any:
    return spec.value(record)


@register.filter
def money(value: Any, currency: str = "EUR") -> str:
    if value is None or value == "":
        return "—"
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency)
    return f"{number_format(Decimal(value), decimal_pos=0, force_grouping=True)}\u00a0{symbol}"


@register.filter
def display(value: Any) -> Any:
    """Dates and numbers in the viewer's locale; empty values as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return number_format(value, force_grouping=True)
    return value


@register.filter
def change_value(value: Any) -> str:
    """A value as the audit log stored it; empty ones ("None", "") shown as ∅."""
    return "∅" if value in (None, "", "None") else str(value)
