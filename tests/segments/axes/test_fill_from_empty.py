"""A full rebuild into an empty membership table of a large base writes without the table's
secondary index and foreign keys, and puts them back — even when it fails half-way."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from cible.core.models import SuspendedForeignKey, SuspendedIndex
from cible.segments.axes import rebuild as rebuilder
from cible.segments.axes import services
from cible.segments.axes.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three organisations count as a large base."""
    monkeypatch.setattr(rebuilder, "FILL_FROM_EMPTY_FROM", 3)


def rows() -> set[tuple[int, int, int]]:
    return set(Membership.objects.values_list("segment_id", "organisation_id", "axis_id"))


def indexes() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, Membership._meta.db_table))


@pytest.fixture
def base(cast: Any) -> list[Any]:
    return [
        factories.organisation(cast.ae, legal_name=name, postal_code=code, headcount=heads)
        for name, code, heads in (
            ("Nordis", "59000", 15),
            ("Lugdunum", "69002", 300),
            ("Marseille Pro", "13001", 4),
        )
    ]


def test_a_fill_from_empty_writes_what_a_rebuild_writes(large: None, base: Any) -> None:
    expected, shape = rows(), indexes()
    assert len(expected) >= 6 and "membership_axis_org" in shape
    seen: list[set[str]] = []
    original = rebuilder.rebuild

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(indexes())
        return original(*args, **kwargs)

    Membership.objects.all().delete()
    rebuilder.rebuild = watching  # type: ignore[assignment]
    try:
        services.membership_rebuild()
    finally:
        rebuilder.rebuild = original  # type: ignore[assignment]
    assert "membership_axis_org" not in seen[0], "the index was set aside during the fill"
    assert rows() == expected
    assert indexes() == shape
    assert not SuspendedIndex.objects.exists() and not SuspendedForeignKey.objects.exists()


def test_a_failed_fill_still_puts_the_index_and_keys_back(
    large: None, base: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shape = indexes()
    Membership.objects.all().delete()

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(rebuilder, "rebuild", failing)
    with pytest.raises(RuntimeError):
        services.membership_rebuild()
    assert indexes() == shape
    assert not SuspendedIndex.objects.exists() and not SuspendedForeignKey.objects.exists()


def test_a_small_base_or_a_filled_table_is_rebuilt_in_place(base: Any) -> None:
    shape = indexes()
    Membership.objects.all().delete()
    seen: list[set[str]] = []
    original = rebuilder.rebuild

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(indexes())
        return original(*args, **kwargs)

    rebuilder.rebuild = watching  # type: ignore[assignment]
    try:
        services.membership_rebuild()  # three organisations: below the threshold
    finally:
        rebuilder.rebuild = original  # type: ignore[assignment]
    assert seen == [shape]
