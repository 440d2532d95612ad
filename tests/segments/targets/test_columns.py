"""Target counts with the organisation conditions tested on columns held in memory
(`targets.columns`), kept current by the database's change log (`targets.changelog`): every
count equals the database's, after every kind of write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cible.core.bulk import bulk_insert
from cible.people.models import Organisation
from cible.people.services import organisation_delete, organisation_update
from cible.segments.axes import bitsets
from cible.segments.targets import columns, selectors
from tests import factories
from tests.segments.targets.world import Base, fresh, seed_002_definition, segment


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[columns.Store]:
    """The store used and kept between counts, as in autocommit mode (a test runs inside a
    transaction, whose own writes the log shows it)."""
    columns.forget()
    bitsets.forget()
    monkeypatch.setattr(columns, "_may_use", lambda: True)
    monkeypatch.setattr(bitsets, "_may_keep", lambda: True)
    yield columns._store
    columns.forget()
    bitsets.forget()


def rule(*conditions: dict[str, Any], match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


def counted(viewer: Any, organisation: dict[str, Any] | None, **segments: Any) -> int | None:
    definition = {**(segments or {}), "organisation": organisation}
    return selectors.target_count(viewer=viewer, definition=definition).count


def in_database(viewer: Any, organisation: dict[str, Any] | None, **segments: Any) -> int:
    definition = {**(segments or {}), "organisation": organisation}
    return selectors.target_queryset(viewer=viewer, definition=definition).count()


SUSPECTS_OF_20 = rule(
    {"field": "status", "op": "in", "value": ["suspect", "prospect"]},
    {"field": "headcount", "op": "gte", "value": 20},
)


def test_a_count_tests_its_conditions_in_memory_and_agrees_with_the_database(
    cast: Any, base: Base, kept: columns.Store
) -> None:
    definition = {**seed_002_definition(), "organisation": SUSPECTS_OF_20}
    # Nordis (120 people, Lille) and Parisia (600, Paris); Petit Lille has 2 salespeople.
    assert selectors.target_count(viewer=cast.admin, definition=definition).count == 2
    assert set(kept._columns) == {"status", "headcount"}
    assert selectors.target_queryset(viewer=cast.admin, definition=definition).count() == 2


def test_the_count_follows_every_kind_of_write(cast: Any, base: Base, kept: columns.Store) -> None:
    lille_big = rule(
        {"field": "city", "op": "equals", "value": "lille"},
        {"field": "headcount", "op": "gte", "value": 100},
    )
    assert counted(cast.admin, lille_big) == 1  # Nordis
    # A save through the service.
    organisation_update(
        organisation=base.petit_lille, actor=cast.admin, channel="ui", data={"headcount": 150}
    )
    assert counted(cast.admin, lille_big) == 2
    # A QuerySet.update, which sends no signal.
    Organisation.objects.filter(pk=base.nordis.pk).update(headcount=50)
    assert counted(cast.admin, lille_big) == 1
    # Raw SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE people_organisation SET city = 'Lille' WHERE id = %s", [base.hubert.pk]
        )
    assert counted(cast.admin, lille_big) == 2  # Hubert has 200 people
    # A new organisation, by the ORM and by the raw bulk path.
    factories.organisation(cast.ae, legal_name="Lilloise", city="Lille", headcount=300)
    assert counted(cast.admin, lille_big) == 3
    template = Organisation.objects.get(pk=base.roubaix.pk)
    names = [f.attname for f in Organisation._meta.concrete_fields if f.attname != "id"]
    row = tuple(getattr(template, n) for n in names)
    changed = {
        "city": "Lille",
        "legal_name": "Bulk Lille",
        "name_key": "bulk lille",
        "headcount": 999,
    }
    bulk_insert(
        Organisation, names, [tuple(changed.get(n, v) for n, v in zip(names, row, strict=True))]
    )
    assert counted(cast.admin, lille_big) == 4
    # A deletion.
    organisation_delete(organisation=base.hubert, actor=cast.admin, channel="ui")
    assert counted(cast.admin, lille_big) == 3
    assert counted(cast.admin, lille_big) == in_database(cast.admin, lille_big)


def test_conditions_the_columns_cannot_test_go_to_the_database(
    cast: Any, base: Base, kept: columns.Store
) -> None:
    # The legal name is free text: not kept; the status is. Nordis and Lugdunum have 15
    # salespeople; only Lugdunum's name starts with "Lug".
    mixed = rule(
        {"field": "sales_team_size", "op": "equals", "value": 15},
        {"field": "legal_name", "op": "starts_with", "value": "lug"},
    )
    assert counted(cast.admin, mixed) == 1
    assert set(kept._columns) == {"status", "sales_team_size"}
    # In an "any" group, one untestable alternative sends the whole group to the database.
    either = rule(
        {"field": "sales_team_size", "op": "equals", "value": 2},
        {"field": "legal_name", "op": "starts_with", "value": "lug"},
        match="any",
    )
    assert counted(cast.admin, either) == 2 == in_database(cast.admin, either)


def test_segments_named_in_a_rule_are_tested_from_the_member_sets(
    cast: Any, base: Base, kept: columns.Store
) -> None:
    outside_paris = rule(
        {"field": "segment", "op": "not_in", "value": [segment("geography", "paris")]},
        {"field": "sales_team_size", "op": "gte", "value": 12},
    )
    # Nordis, Lugdunum, Roubaix (Parisia and Hubert are in Paris, Petit Lille has 2).
    assert counted(cast.admin, outside_paris) == 3 == in_database(cast.admin, outside_paris)


def test_a_viewer_who_sees_part_of_the_base_counts_their_part(
    cast: Any, base: Base, team_private: Any, kept: columns.Store
) -> None:
    definition = {**seed_002_definition(), "organisation": SUSPECTS_OF_20}
    admin = selectors.target_count(viewer=fresh(cast.admin), definition=definition).count
    ae = selectors.target_count(viewer=fresh(cast.ae), definition=definition).count
    assert (admin, ae) == (2, 1)  # Parisia is the outsider's, in another team
    assert ae == selectors.target_queryset(viewer=fresh(cast.ae), definition=definition).count()


def test_a_column_with_too_many_values_is_not_kept(
    cast: Any, base: Base, kept: columns.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(columns, "MAX_DISTINCT", 3)
    in_lille = rule({"field": "city", "op": "equals", "value": "lille"})
    assert counted(cast.admin, in_lille) == 2
    assert "city" in kept._varied and "city" not in kept._columns


def test_outside_autocommit_the_store_is_left_alone(cast: Any, base: Base) -> None:
    columns.forget()
    assert counted(cast.admin, SUSPECTS_OF_20, **seed_002_definition()) == 2
    assert not columns._store._columns


def test_the_sqlite_trigger_watches_exactly_the_kept_columns() -> None:
    from importlib import import_module

    migration = import_module("cible.segments.targets.migrations.0002_organisation_changes")
    assert migration.SQLITE_WATCHED == columns.KEPT_COLUMNS


CONDITIONS = st.sampled_from(
    [
        {"field": "status", "op": "in", "value": ["suspect", "prospect"]},
        {"field": "status", "op": "not_in", "value": ["customer"]},
        {"field": "headcount", "op": "between", "value": [50, 300]},
        {"field": "headcount", "op": "is_empty"},
        {"field": "sales_team_size", "op": "not_equals", "value": 15},
        {"field": "city", "op": "contains", "value": "ll"},
        {"field": "city", "op": "is_not_empty"},
        {"field": "postal_code", "op": "starts_with", "value": "59"},
        {"field": "country", "op": "in", "value": ["FR"]},
        {"field": "owner", "op": "is_empty"},
        {"field": "region", "op": "not_in", "value": ["FR-IDF"]},
        {"field": "legal_name", "op": "contains", "value": "i"},
    ]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_count_through_the_columns_equals_the_databases_count(
    cast: Any, base: Base, kept: columns.Store, data: Any
) -> None:
    """Random groups of random conditions (nested, "all" or "any"), with or without segments:
    the count equals the count of the records the database lists."""

    def group(depth: int) -> dict[str, Any]:
        nodes = data.draw(
            st.lists(
                CONDITIONS if depth else st.one_of(CONDITIONS, st.just(None)),
                min_size=1,
                max_size=3,
            )
        )
        conditions = [node if node is not None else group(depth + 1) for node in nodes]
        return rule(*conditions, match=data.draw(st.sampled_from(["all", "any"])))

    segments = {}
    if data.draw(st.booleans()):
        paris, lille = segment("geography", "paris"), segment("geography", "lille")
        segments = {
            "segments": {"geography": data.draw(st.sampled_from([[paris], [paris, lille]]))}
        }
    organisation = group(0)
    assert counted(cast.admin, organisation, **segments) == in_database(
        cast.admin, organisation, **segments
    ), organisation
    # An edit, counted again, then undone (the next example starts from the same base).
    pk = data.draw(st.sampled_from([base.nordis.pk, base.roubaix.pk, base.hubert.pk]))
    before = Organisation.objects.filter(pk=pk).values("headcount", "city").get()
    Organisation.objects.filter(pk=pk).update(
        headcount=data.draw(st.sampled_from([None, 60, 1000])),
        city=data.draw(st.sampled_from(["Lille", "Villeneuve", ""])),
    )
    assert counted(cast.admin, organisation, **segments) == in_database(
        cast.admin, organisation, **segments
    ), organisation
    Organisation.objects.filter(pk=pk).update(**before)
