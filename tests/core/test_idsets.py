"""`core.idsets`: whole numbers between the database and numpy, on both databases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.db import connection

from cible.core.idsets import InIds, fetch_packed, ids_of, packed_ints
from cible.people.models import Organisation
from tests import factories
from tests.cast import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisations(cast: Cast) -> list[Any]:
    return [factories.organisation(cast.ae, legal_name=f"Org {i}") for i in range(3)]


def test_packed_columns_come_back_whole_nulls_left_out(organisations: list[Any]) -> None:
    table = connection.ops.quote_name(Organisation._meta.db_table)
    vendor = connection.vendor
    big = 2**40 + 7  # beyond 32 bits, as the funnel's packed entry hours are
    columns = [
        packed_ints("id", vendor),
        packed_ints(f"id * {big} - 5", vendor),
        packed_ints("CASE WHEN legal_name = 'Org 1' THEN -3 END", vendor),
    ]
    ids, scaled, only = fetch_packed(
        f"SELECT {', '.join(columns)} FROM {table} WHERE legal_name LIKE %s", ["Org %"]
    )
    expected = sorted(o.pk for o in organisations)
    assert sorted(ids.tolist()) == expected
    assert sorted(scaled.tolist()) == [pk * big - 5 for pk in expected]
    assert only.tolist() == [-3]
    assert ids.dtype == np.int64


def test_nothing_found_is_an_empty_array(organisations: list[Any]) -> None:
    table = connection.ops.quote_name(Organisation._meta.db_table)
    (found,) = fetch_packed(
        f"SELECT {packed_ints('id', connection.vendor)} FROM {table} WHERE id < %s", [0]
    )
    assert found.tolist() == []


def test_ids_of_and_in_ids_round_trip(organisations: list[Any]) -> None:
    chosen = [organisations[0].pk, organisations[2].pk]
    found = ids_of(Organisation.objects.filter(InIds("pk", chosen)))
    assert sorted(found.tolist()) == sorted(chosen)
