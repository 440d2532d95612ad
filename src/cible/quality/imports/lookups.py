"""The database side of matching: one query per kind of key per batch, and link fields.

Every lookup takes the batch's distinct values as one parameter (`among`), so a batch of 50,000
rows costs a handful of queries whatever the database, and no value is ever put in the SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError
from cible.quality.imports import registry
from cible.quality.imports.models import ExternalKey
from cible.quality.imports.registry import ImportableEntity, MatchKey

CHUNK = 50_000  # values per lookup query (one parameter: see `among`)
EXTERNAL_ID = "external_id"
OWNER_EMAIL = "owner_email"


@dataclass(frozen=True)
class Link:
    """A link field resolved to a foreign key: `organisation_siren` -> organisation_id."""

    field: str
    attname: str  # "organisation_id"
    target: type[models.Model]
    lookup: str  # column of the target ("siren", "name_key"), or "" for its external id
    target_entity: str  # registry name of the target, for external ids


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def among(
    queryset: models.QuerySet[Any], column: str, values: Iterable[Any], kind: str = "text"
) -> models.QuerySet[Any]:
    """`queryset` where `column` is one of `values`, with one parameter however many values:
    a JSON array on SQLite, a typed array on PostgreSQL. A batch costs one query, not 50,000
    parameters for Django to process one by one. On PostgreSQL `= ANY(array)` (hashed), not
    `IN (SELECT unnest(…))`: just after a bulk load the planner believes the table empty and
    would scan it once per value."""
    items = list(values)
    if connection.vendor == "postgresql" and "__" in column:
        # A relation path (MatchKey.column): the ORM joins; a chunk is under 65,535 parameters.
        return queryset.filter(**{f"{column}__in": items})
    if connection.vendor == "postgresql":
        model = queryset.model
        field = model._meta.get_field(column)
        quote = connection.ops.quote_name
        target = f"{quote(model._meta.db_table)}.{quote(field.column)}"  # type: ignore[union-attr]
        assert kind in ("text", "bigint")
        # Identifiers come from the model, quoted; the values go as one parameter.
        joined = _joined(items, kind)
        param: list[Any]
        if joined is None:  # a value the split would not give back: an array, dumped by psycopg
            sql, param = f"{target} = ANY(%s::{kind}[])", [items]
        else:
            sql, param = f"{target} = ANY({_SPLIT[kind]})", [joined]
        condition = RawSQL(sql, param, output_field=BooleanField())  # noqa: S611
        return queryset.filter(condition)
    subquery = RawSQL("SELECT value FROM json_each(%s)", (json.dumps(items),))
    return queryset.filter(**{f"{column}__in": subquery})


# The values as one string split by the server: psycopg dumps a list into an array literal
# element by element in Python (0.9 s of the interpreter per million keys), a join is one C call.
# The planner folds the split of a literal into a constant array, so `= ANY` stays hashed.
_SEPARATOR = "\x1f"  # the ASCII unit separator; never in a normalised key, checked anyway
_SPLIT = {
    "text": "string_to_array(%s, chr(31))",
    "bigint": "string_to_array(%s, ',')::bigint[]",
}


def _joined(items: list[Any], kind: str) -> str | None:
    """`items` joined for `_SPLIT[kind]`, or None where the split would not give them back."""
    if not items:
        return None
    if kind == "bigint":
        return ",".join(map(str, items))
    joined = _SEPARATOR.join(items)
    if joined.count(_SEPARATOR) != len(items) - 1 or not joined:
        return None  # a value holding the separator, or one empty value
    return joined


def concrete_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def derived_fields(entity: ImportableEntity) -> list[str]:
    """Model columns that `entity.derive` computes from the others (name_key, size_class…)."""
    sample = dict(entity.blanks)
    entity.derive(sample)
    names = concrete_names(entity.model)
    return [name for name in sample if name not in entity.specs and name in names]


def key_column(entity: ImportableEntity, key: MatchKey) -> str | None:
    """The column a key is looked up in: `email_key` for an email, None for an external id."""
    if key.name == EXTERNAL_ID:
        return None
    if key.column:
        return key.column
    names = concrete_names(entity.model)
    lowered = f"{key.field}_key"
    return lowered if lowered in names else key.field


def links_of(entity: ImportableEntity) -> list[Link]:
    """Link fields named `<foreign key>_<lookup>`, in the order the entity declares them."""
    model = entity.model
    links = []
    for item in entity.fields:
        if not item.link or item.name in (EXTERNAL_ID, OWNER_EMAIL):
            continue
        for fk in model._meta.concrete_fields:
            if not fk.is_relation or not item.name.startswith(f"{fk.name}_"):
                continue
            target: Any = fk.related_model
            lookup = item.name[len(fk.name) + 1 :]
            target_names = concrete_names(target)
            if lookup == EXTERNAL_ID:
                lookup = ""
            elif lookup == "name" and "name_key" in target_names:
                lookup = "name_key"
            elif lookup not in target_names:
                continue
            target_entity = next(
                (e.name for e in registry.entities() if e.model is target), target.__name__
            )
            links.append(Link(item.name, fk.attname, target, lookup, target_entity))
            break
    return links


def by_column(
    queryset: models.QuerySet[Any], column: str, values: set[str]
) -> dict[str, list[int]]:
    """Value -> ids of the records of `queryset` whose `column` holds it."""
    found: dict[str, list[int]] = {}
    for chunk in _chunks(sorted(values)):
        for value, pk in among(queryset, column, chunk).values_list(column, "id"):
            found.setdefault(value, []).append(pk)
    return found


def external_ids(
    entity_name: str, source: str, model: type[models.Model], values: set[str]
) -> tuple[dict[str, int], set[str]]:
    """External id -> record id for this source, and the ids whose record was deleted."""
    pairs: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        keys = ExternalKey.objects.filter(entity=entity_name, source=source)
        pairs.update(among(keys, "external_id", chunk).values_list("external_id", "object_id"))
    alive: set[int] = set()
    for chunk in _chunks(sorted(set(pairs.values()))):
        records = among(model._default_manager.all(), "id", chunk, "bigint")
        alive.update(records.values_list("id", flat=True))
    stale = {ext for ext, pk in pairs.items() if pk not in alive}
    return {ext: pk for ext, pk in pairs.items() if pk in alive}, stale


def stored_rows(
    model: type[models.Model], ids: Sequence[int], columns: list[str], *, lock: bool
) -> dict[int, tuple]:
    """Id -> the values of `columns`, converted as the ORM does (Decimal, aware datetimes).
    With `lock` on PostgreSQL the rows stay locked until the batch commits."""
    stored: dict[int, tuple] = {}
    queryset = model._default_manager.all()
    if lock and connection.vendor == "postgresql":
        queryset = queryset.select_for_update()
    for chunk in _chunks(sorted(ids)):
        for row in among(queryset, "id", chunk, "bigint").values_list("id", *columns):
            stored[row[0]] = row[1:]
    return stored


# --- links (contact -> organisation) --------------------------------------------------------


def resolve_links(
    actor: Any, source: str, links: Sequence[Link], values: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, list[int]]]:
    """Per link field: value -> ids of the target records the actor can see."""
    maps: dict[str, dict[str, list[int]]] = {}
    for link in links:
        wanted = {_text(v.get(link.field)) for v in values} - {""}
        if not wanted:
            maps[link.field] = {}
            continue
        visible = access.visible(actor, link.target._default_manager.all())
        if link.lookup:
            maps[link.field] = by_column(visible, link.lookup, wanted)
            continue
        pairs, _stale = external_ids(link.target_entity, source, link.target, wanted)
        seen: set[int] = set()
        for chunk in _chunks(sorted(set(pairs.values()))):
            seen.update(among(visible, "id", chunk, "bigint").values_list("id", flat=True))
        maps[link.field] = {ext: [pk] for ext, pk in pairs.items() if pk in seen}
    return maps


def link_row(
    links: Sequence[Link],
    attnames: Sequence[str],
    values: Mapping[str, Any],
    maps: Mapping[str, Mapping[str, list[int]]],
    out: dict[str, Any],
) -> list[FieldError]:
    """Fill `out[attname]`: the first link field that finds exactly one record wins, in the
    order the entity declares them; an ambiguous or unknown value is an error."""
    errors: list[FieldError] = []
    for attname in attnames:
        tried: list[Link] = []
        for link in links:
            if link.attname != attname:
                continue
            value = _text(values.get(link.field))
            if not value:
                continue
            ids = maps[link.field].get(value, [])
            if len(ids) == 1:
                out[attname] = ids[0]
                tried = []
                break
            if len(ids) > 1:
                errors.append(_ambiguous(link, value, ids))
                tried = []
                break
            tried.append(link)
        if tried:
            first = tried[0]
            errors.append(
                FieldError(
                    first.field,
                    _(
                        "no %(record)s you can see matches %(value)s: import it first, or "
                        "empty the cell to import the row without it"
                    )
                    % {
                        "record": first.target._meta.verbose_name,
                        "value": _text(values.get(first.field)),
                    },
                )
            )
    return errors


def _ambiguous(link: Link, value: str, ids: list[int]) -> FieldError:
    return FieldError(
        link.field,
        _(
            "%(count)s %(records)s match %(value)s (ids %(ids)s): give a value that "
            "designates only one"
        )
        % {
            "count": len(ids),
            "records": link.target._meta.verbose_name_plural,
            "value": value,
            "ids": ", ".join(str(i) for i in sorted(ids)[:5]),
        },
    )
