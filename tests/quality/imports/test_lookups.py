"""`lookups.among`: a batch's values in one parameter, whatever they hold."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people.models import Organisation
from cible.quality.imports.lookups import among, by_column
from tests.factories import organisation

pytestmark = pytest.mark.django_db


def test_values_come_back_whatever_characters_they_hold(cast: Any) -> None:
    # PostgreSQL sends the values as one string split by the server on the unit separator; a
    # value holding it (or an empty one) goes as an array instead.
    names = ["acme", "a\x1fb", "", 'l\'équipe, "unie"', "x" * 100]
    records = [organisation(cast.ae, legal_name=f"Org {i}") for i in range(len(names))]
    for record, name in zip(records, names, strict=True):  # stored as is, past the normalisers
        Organisation.objects.filter(pk=record.pk).update(city=name)
    everyone = Organisation.objects.all()

    found = by_column(everyone, "city", set(names))

    assert found == {name: [record.pk] for name, record in zip(names, records, strict=True)}
    assert by_column(everyone, "city", {"acme", "nowhere"}) == {"acme": [records[0].pk]}
    assert by_column(everyone, "city", {""}) == {"": [records[2].pk]}
    ids = [records[1].pk, records[3].pk, 10**12]
    assert sorted(among(everyone, "id", ids, "bigint").values_list("id", flat=True)) == ids[:2]
    assert not among(everyone, "id", [], "bigint").exists()
