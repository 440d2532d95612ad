"""The registry of importable entities: what a file can bring in, and how rows find their record.

Each app that owns records registers them here (people registers organisations and contacts;
later apps register leads, interactions, opportunities and subscriptions). The wizard, the
`cible import` command and the API endpoint only ever talk to this registry, so a new entity gets
all three ways in at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise

from cible.core.cleaning import Normaliser
from cible.core.errors import FieldError


@dataclass(frozen=True)
class ImportField:
    """A column a file may fill.

    `synonyms` are header names people use for it, in French and English, compared after
    `core.normalisers.search_key` (lower case, no accents, no punctuation).
    A field is either a model field normalised by `entity.specs[name]`, or a *link* field
    (`link=True`) that the engine resolves itself, e.g. the SIREN of a contact's organisation.
    """

    name: str
    label: str | Promise
    synonyms: tuple[str, ...] = ()
    required: bool = False
    link: bool = False


@dataclass(frozen=True)
class MatchKey:
    """A way to find the existing record a row updates, chosen per import."""

    name: str  # "external_id", "siren", "siret", "email", "domain"
    label: str | Promise
    field: str  # the normalised value holding the key (e.g. "email" for contacts)
    # Where the key is looked up when it is not the entity's own column: a relation path
    # ("contact__email_key": a lead found by its contact's email).
    column: str = ""


@dataclass(frozen=True)
class Preset:
    """Column names of a typical export (Salesforce, HubSpot): header → field name.

    `others`: the field every column the preset does not name goes to (the entity's `extras`).
    `blanks`: literal cell values that mean "not filled in" in such a file ("Select"); they are
    read as empty cells whenever a file's headers are recognised as this preset's.
    """

    name: str
    label: str | Promise
    columns: Mapping[str, str]
    others: str = ""
    blanks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportableEntity:
    name: str  # "organisations", "contacts": used in URLs, the CLI and the API
    label: str | Promise
    model: type[models.Model]
    fields: tuple[ImportField, ...]
    keys: tuple[MatchKey, ...]
    specs: Mapping[str, Normaliser]  # the foundation's normaliser per model field
    blanks: Mapping[str, Any]  # what an empty value is stored as, per field
    derive: Callable[[dict[str, Any]], list[FieldError]]  # derived values + cross-field checks
    presets: tuple[Preset, ...] = field(default=())
    # Indexes the import reads through (match keys, links): kept while a very large run sets
    # the table's other secondary indexes aside (bulkload.IndexPlan) — but those on the
    # columns of match keys (and links to the table itself) that the run does not use.
    lookup_indexes: tuple[str, ...] = ()
    # A JSON field that keeps the columns mapped to it under their header, typed (`extras.py`):
    # the one field several columns may be mapped to.
    extras: str = ""
    # Called inside each batch's transaction once its records are written (`extras.Written`):
    # what an entity keeps beside its rows (a lead's stage history) is written with them.
    after_write: Callable[[Any], None] | None = None
    # Called on each batch's plan (dry run too): the rows a database rule would refuse
    # (decisions.Create and decisions.Update lists → row → reasons), rejected with the reason
    # instead of failing the batch.
    vet: Callable[[list[Any], list[Any]], dict[int, list[FieldError]]] | None = None

    def field(self, name: str) -> ImportField:
        return next(f for f in self.fields if f.name == name)


_REGISTRY: dict[str, ImportableEntity] = {}


def register(entity: ImportableEntity) -> None:
    _REGISTRY[entity.name] = entity


def entities() -> list[ImportableEntity]:
    return list(_REGISTRY.values())


def get(name: str) -> ImportableEntity | None:
    return _REGISTRY.get(name)
