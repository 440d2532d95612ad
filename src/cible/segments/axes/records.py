"""Organisations as the records `rules.matches` tests, read in a handful of queries.

One query for the organisations' own columns, one per to-many relation the fields go through
(contacts, opportunities, installed products) and one for their current segments — however many
rules test them. This is how an incremental refresh evaluates every rule segment for a few
organisations in a few milliseconds (`refresh.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from cible.people.models import Organisation
from cible.segments.axes.models import Membership
from cible.segments.rules import RuleField
from cible.segments.rules.sql import relation_path


def organisation_records(
    ids: Collection[int], fields: Iterable[RuleField], *, segments: bool = True
) -> dict[int, dict[str, Any]]:
    """id -> record for the organisations of `ids` that exist, with the values of `fields`
    (organisation-level fields) and, if `segments`, the ids of the segments each one is in."""
    fields = list(fields)
    own = {f.name: f.lookup for f in fields if not f.relation and f.kind != "segment"}
    columns = sorted(set(own.values()))
    records: dict[int, dict[str, Any]] = {}
    for row in Organisation.objects.filter(pk__in=list(ids)).values("pk", *columns):
        records[row["pk"]] = {name: row[lookup] for name, lookup in own.items()}
    if not records:
        return records
    found = list(records)
    by_relation: dict[str, list[RuleField]] = {}
    for f in fields:
        if f.relation and f.relation != "organisation":
            by_relation.setdefault(f.relation, []).append(f)
            for record in records.values():
                record[f.name] = []
    for related_fields in by_relation.values():
        model, back, _lookup = relation_path(related_fields[0])
        lookups = [relation_path(f)[2] for f in related_fields]
        unique = sorted(set(lookups))
        rows = model._default_manager.filter(**{f"{back}__in": found}).values_list(back, *unique)
        positions = [unique.index(lookup) + 1 for lookup in lookups]
        for row in rows:
            record = records[row[0]]
            for f, position in zip(related_fields, positions, strict=True):
                record[f.name].append(row[position])
    if segments:
        for record in records.values():
            record["segment"] = []
        for organisation_id, segment_id in Membership.of_organisations(found).values_list(
            "organisation_id", "segment_id"
        ):
            records[organisation_id]["segment"].append(segment_id)
    return records
