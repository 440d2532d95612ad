"""Display helpers of the funnel page: durations in days to a tenth, localised ("3.5 d",
"3,5 j")."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

DASH = "—"


@register.filter
def tenth_days(value: Any) -> str:
    """A number of days to one decimal, localised; None → "—"."""
    if value is None or value == "":
        return DASH
    shown = number_format(round(float(value), 1), decimal_pos=1, use_l10n=True)
    return _("%(count)s d") % {"count": shown}
