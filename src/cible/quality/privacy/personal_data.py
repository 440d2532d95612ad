"""Where a person's data lives, found generically, and how to take it out of text.

Nothing here names another app's model: the contact's own personal fields are its free-text
columns, and its related records are whatever `Contact._meta.related_objects` lists today
(opportunities where they are a contact, interactions … as later issues add them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models

from cible.people.models import Contact

REDACTED = "[redacted]"
# Shorter fragments ("Al", "Li") would blank unrelated text; the fields that hold them are
# redacted by name instead.
MIN_SCRUB_LENGTH = 3

# Models of this app that the privacy code handles itself (consents, their state).
OWN_APP = "privacy"


def personal_fields() -> list[str]:
    """The contact's columns that say who the person is: every free-text column (names,
    emails, phones, job title, LinkedIn, search keys, and any such field added later)."""
    names = []
    for field in Contact._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField) and not field.choices:
            names.append(field.name)
    return names


def personal_links() -> list[str]:
    """The contact's links to other people (reports_to): cut by an erasure."""
    return [
        f.name
        for f in Contact._meta.concrete_fields
        if f.is_relation and f.related_model is Contact
    ]


@dataclass(frozen=True)
class Relation:
    """Records of `model` that point at a contact through `field` (a foreign key or a
    many-to-many field), e.g. opportunities through their `contacts`."""

    model: type[models.Model]
    field: str
    many: bool

    @property
    def label(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}"

    def rows(self, contact_ids: Iterable[int]) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(**{f"{self.field}__in": list(contact_ids)})


def relations(*, include_own: bool = False) -> list[Relation]:
    """Every relation into Contact, except other contacts (reports) and, unless asked, this
    app's own consent tables."""
    found = []
    for rel in Contact._meta.related_objects:
        model = rel.related_model
        if model is Contact or not isinstance(model, type):
            continue
        if model._meta.app_label == OWN_APP and not include_own:
            continue
        if model._meta.auto_created:  # the through table of a many-to-many field
            continue
        found.append(Relation(model=model, field=rel.field.name, many=rel.many_to_many))
    return found


def date_fields(model: type[models.Model]) -> list[str]:
    """The dates that show activity on a related record: `updated_at` when it has one (it moves
    with every change), else every date and datetime column."""
    names = [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField)  # DateTimeField is a DateField
    ]
    return ["updated_at"] if "updated_at" in names else names


# --- scrubbing ----------------------------------------------------------------------------------


def variants(values: Iterable[str]) -> list[str]:
    """The strings to remove, as typed and as JSON stores them (é → \\u00e9), longest first so
    that "Jean Dupont" goes before "Jean"."""
    found: set[str] = set()
    for value in values:
        value = (value or "").strip()
        if len(value) < MIN_SCRUB_LENGTH:
            continue
        found.add(value)
        escaped = json.dumps(value)[1:-1]
        if escaped != value:
            found.add(escaped)
    return sorted(found, key=len, reverse=True)


class Scrubber:
    """Replaces a person's values in text and JSON; fields named in `keys` are redacted whole.

    Text is first searched with plain substring tests (fast, whatever the number of values), and
    a pattern is compiled only for the values actually found: a batch of a retention run knows
    thousands of values, and one alternation of all of them takes a second to compile.
    """

    def __init__(
        self, strings: Iterable[str], keys: Iterable[str] = (), identifying: Iterable[str] = ()
    ) -> None:
        self.strings = variants(strings)
        self._lowered = [(s, s.lower()) for s in self.strings]
        self.keys = frozenset(keys)
        # The values that name the person on their own (emails, phones, full names, LinkedIn
        # profile, consent proofs), as stored: erasers of other apps match records on them.
        self.identifying = tuple(
            sorted(
                {v.strip() for v in identifying if len((v or "").strip()) >= MIN_SCRUB_LENGTH},
                key=len,
                reverse=True,
            )
        )

    def _found(self, value: str) -> list[str]:
        lowered = value.lower()
        return [s for s, low in self._lowered if low in lowered]

    def text(self, value: str) -> str:
        if not value or not self._lowered:
            return value
        found = self._found(value)
        if not found:
            return value
        pattern = re.compile("|".join(re.escape(s) for s in found), re.IGNORECASE)
        return pattern.sub(REDACTED, value)

    def json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: self._redact_whole(v) if k in self.keys else self.json(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _redact_whole(self, value: Any) -> Any:
        if isinstance(value, list | tuple):  # auditlog's [old, new]
            return [self._redact_whole(v) for v in value]
        if isinstance(value, dict):
            return {k: self._redact_whole(v) for k, v in value.items()}
        if value in (None, "", "None"):
            return value
        return REDACTED

    def mentions(self, value: Any) -> bool:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return bool(self._lowered) and bool(self._found(text))


def history_values(changes: Any, fields: Iterable[str]) -> Iterator[str]:
    """Every value `fields` ever had according to auditlog `changes` ({field: [old, new]})."""
    if not isinstance(changes, dict):
        return
    for name in fields:
        pair = changes.get(name)
        if isinstance(pair, list | tuple):
            for value in pair:
                if isinstance(value, str) and value not in ("", "None"):
                    yield value
        elif isinstance(pair, str) and pair:
            yield pair
