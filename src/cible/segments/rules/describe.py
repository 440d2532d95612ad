"""A rule in words, in the active language: "headcount is between 10 and 249 and …"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cible.segments.rules.fields import resolver_for
from cible.segments.rules.operators import operator_label
from cible.segments.rules.tree import Condition, Group

SHOWN = 8  # values of a list named before "and N others"


def describe(group: Group) -> str:
    """The rule as one sentence; nested groups in parentheses. The first letter is a capital."""
    text = _group(group, top=True)
    return text[:1].upper() + text[1:]


def _group(group: Group, *, top: bool = False) -> str:
    joiner = f" {_('and')} " if group.match == "all" else f" {_('or')} "
    parts = [
        _group(node) if isinstance(node, Group) else _condition(node) for node in group.conditions
    ]
    text = joiner.join(parts)
    return text if top or len(parts) == 1 else f"({text})"


def _scalar(condition: Condition, value: Any) -> str:
    f = condition.field
    if f.kind == "segment":
        resolver = resolver_for("segment")
        return resolver.label(int(value)) if resolver is not None else f"#{value}"
    if f.kind == "choice":
        return f.choice_label(str(value))
    if f.kind == "reference":
        return f"#{value}"
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT", use_l10n=True)
    if isinstance(value, int | Decimal):
        return number_format(value, force_grouping=True, use_l10n=True)
    # Quoted the way the language quotes: “Paris” in English, « Paris » in French.
    return _("“%(value)s”") % {"value": value}


def _condition(condition: Condition) -> str:
    f, op, value = condition.field, condition.op, condition.value
    name = f.label_text
    label = operator_label(op)
    if value is None:
        return f"{name} {label}"
    if op == "between":
        low, high = value  # type: ignore[misc, str-unpack]
        return _("%(field)s is between %(low)s and %(high)s") % {
            "field": name,
            "low": _scalar(condition, low),
            "high": _scalar(condition, high),
        }
    if op in ("in_last_days", "not_in_last_days"):
        days = int(value)  # type: ignore[arg-type]
        phrase = ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
        return f"{name} {label} {phrase}"
    if isinstance(value, tuple):
        items = [_scalar(condition, v) for v in value[:SHOWN]]
        if len(items) == 1 and op in ("in", "not_in"):
            label = operator_label("equals" if op == "in" else "not_equals")
        elif len(items) == 1 and op in ("any_of", "none_of"):
            label = _("includes") if op == "any_of" else _("does not include")
        listed = ", ".join(items)
        if len(value) > SHOWN:
            more = len(value) - SHOWN
            listed += " " + ngettext("and %(count)s other", "and %(count)s others", more) % {
                "count": more
            }
        return f"{name} {label} {listed}"
    return f"{name} {label} {_scalar(condition, value)}"
