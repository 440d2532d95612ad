"""Run a record's fields through their normalisers, collecting every problem at once.

Apps declare a `FieldSpec` per writable field; forms, the API, imports and the demo generator
all pass raw values through `clean_fields`, so a phone typed in a form, posted to the API or read
from a spreadsheet ends up stored the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.core.normalisers import NormalisationError

Normaliser = Callable[[Any], Any]


@dataclass(frozen=True)
class Change:
    """A value the normalisers rewrote, e.g. a phone reformatted: shown in import reports."""

    field: str
    before: Any
    after: Any


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def add_errors(self, errors: list[FieldError]) -> None:
        """Add errors found later (derived fields), keeping the first problem named per field."""
        named = {error.field for error in self.errors}
        self.errors.extend(error for error in errors if error.field not in named)

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(errors=self.errors)


def significant_change(before: Any, after: Any) -> bool:
    """Whether a person would see `after` as a rewrite of `before` (import reports count these).

    Spacing is not a change, nor is reading "12" as 12 or "2024-01-28" as that midnight."""
    if isinstance(before, str) and isinstance(after, str):
        return " ".join(before.split()) != after
    if isinstance(before, str) and _same_reading(before.strip(), after):
        return False
    return before != after and not (before in (None, "") and after in (None, ""))


def _same_reading(text: str, value: Any) -> bool:
    if isinstance(value, bool) or not text:
        return False
    if isinstance(value, int | Decimal):
        try:
            return Decimal(text) == value
        except InvalidOperation:
            return False
    if isinstance(value, dt.datetime):
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return False
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)) == value
    return False


def clean_fields(
    data: Mapping[str, Any], specs: Mapping[str, Normaliser], *, blank: Mapping[str, Any]
) -> Cleaned:
    """Normalise the fields of `data` that `specs` knows; unknown keys are errors.

    `blank` gives, per field, what an empty value is stored as ("" for text, None otherwise).
    """
    result = Cleaned()
    for name, raw in data.items():
        spec = specs.get(name)
        if spec is None:
            result.errors.append(FieldError(name, _("is not a field that can be set")))
            continue
        try:
            value = spec(raw)
        except NormalisationError as error:
            result.errors.append(FieldError(name, error.message))
            continue
        if value is None:
            value = blank.get(name)
        result.values[name] = value
        if raw not in (None, "") and significant_change(raw, value):
            result.changes.append(Change(name, raw, value))
    return result
