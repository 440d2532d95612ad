"""Display helpers of campaign pages: rates and per-unit costs in the viewer's locale."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@register.filter
def rate(value: Any) -> str:
    """0.1234 → "12.3 %" (or "12,3 %"); unknown → "—"."""
    if value is None or value == "":
        return "—"
    # Rounded here: number_format truncates (1/6 would read 16.6 %).
    shown = (Decimal(value) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{number_format(shown, decimal_pos=1)}\u00a0%"


@register.filter
def unit_cost(value: Any, currency: str = "EUR") -> str:
    """A cost per lead or per response, to the cent: these are small amounts."""
    if value is None or value == "":
        return "—"
    cents = Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    shown = number_format(cents, decimal_pos=2, force_grouping=True)
    return f"{shown}\u00a0{SYMBOLS.get(currency, currency)}"
