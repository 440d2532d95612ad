"""Operators by kind of field, their labels and the shape of the value each expects."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext_lazy as _

ValueShape = Literal["none", "one", "many", "pair", "days"]

# operator -> (label, shape of its value)
OPERATOR_INFO: dict[str, tuple[object, ValueShape]] = {
    "equals": (_("is"), "one"),
    "not_equals": (_("is not"), "one"),
    "in": (_("is one of"), "many"),
    "not_in": (_("is none of"), "many"),
    "contains": (_("contains"), "one"),
    "not_contains": (_("does not contain"), "one"),
    "starts_with": (_("starts with"), "one"),
    "is_empty": (_("is empty"), "none"),
    "is_not_empty": (_("is not empty"), "none"),
    "lt": (_("is less than"), "one"),
    "lte": (_("is at most"), "one"),
    "gt": (_("is more than"), "one"),
    "gte": (_("is at least"), "one"),
    "between": (_("is between"), "pair"),
    "before": (_("is before"), "one"),
    "after": (_("is after"), "one"),
    "in_last_days": (_("is in the last"), "days"),
    "not_in_last_days": (_("is not in the last"), "days"),
    "is_true": (_("is yes"), "none"),
    "is_false": (_("is no"), "none"),
    "any_of": (_("includes any of"), "many"),
    "none_of": (_("includes none of"), "many"),
}

_EMPTINESS = ("is_empty", "is_not_empty")

OPERATORS: dict[str, tuple[str, ...]] = {
    "text": (
        "equals",
        "not_equals",
        "in",
        "not_in",
        "contains",
        "not_contains",
        "starts_with",
        *_EMPTINESS,
    ),
    "number": ("equals", "not_equals", "lt", "lte", "gt", "gte", "between", *_EMPTINESS),
    "date": ("before", "after", "between", "in_last_days", "not_in_last_days", *_EMPTINESS),
    "datetime": ("before", "after", "between", "in_last_days", "not_in_last_days", *_EMPTINESS),
    "choice": ("in", "not_in", *_EMPTINESS),
    "boolean": ("is_true", "is_false"),
    "reference": ("in", "not_in", *_EMPTINESS),
    "list": ("any_of", "none_of", *_EMPTINESS),
    "segment": ("in", "not_in"),
}

# Negated operators: true exactly when their positive twin is false (a missing value included).
NEGATIONS: dict[str, str] = {
    "not_equals": "equals",
    "not_in": "in",
    "not_contains": "contains",
    "not_in_last_days": "in_last_days",
    "is_not_empty": "is_empty",
    "none_of": "any_of",
}

MAX_DEPTH = 5
MAX_VALUES = 1000  # values in one `in` list
MAX_DAYS = 36_500


def operator_label(op: str) -> str:
    return str(OPERATOR_INFO[op][0])


def shape_of(op: str) -> ValueShape:
    return OPERATOR_INFO[op][1]
