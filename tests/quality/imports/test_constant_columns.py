"""The columns an import writes once per statement instead of on every row: only those every
record of the batch holds at its default, checked on the records themselves."""

from __future__ import annotations

import pytest

from cible.people.models import Organisation
from cible.quality.imports.decisions import Create
from cible.quality.imports.writing import _constant_columns, insert_creates

DEFAULTS = {"region": "", "tier": "", "source": "import", "headcount": None, "city": ""}
NAMES = ["legal_name", "region", "tier", "source", "headcount"]


def create(row: int, **values: object) -> Create:
    return Create(row, {"legal_name": f"Org {row}", **DEFAULTS, **values})


def test_columns_every_record_holds_at_its_default_are_constant() -> None:
    creates = [create(1), create(2)]
    assert _constant_columns(NAMES, creates, DEFAULTS) == {
        "region": "",
        "tier": "",
        "source": "import",
        "headcount": None,
    }


def test_a_value_that_differs_in_one_record_keeps_its_column_per_row() -> None:
    # The region derived from a postal code in one row; a 0 where the default is empty; an
    # empty text where the default is None: none of them is the default.
    creates = [create(1), create(2, region="Bretagne", headcount=0), create(3, tier=None)]
    assert _constant_columns(NAMES, creates, DEFAULTS) == {"source": "import"}
    assert _constant_columns(NAMES, [], DEFAULTS) == {}
    assert _constant_columns(["legal_name"], creates, {"legal_name": 3}) == {}  # not text


@pytest.mark.django_db
def test_the_records_are_stored_with_their_own_values_and_the_constants() -> None:
    creates = [create(1), create(2, region="Bretagne", headcount=12)]
    columns = ["id", *NAMES, "name_key"]
    for c in creates:
        c.values["name_key"] = c.values["legal_name"].lower()
    assert insert_creates(Organisation, columns, creates, [901, 902], defaults=DEFAULTS) == 2
    stored = Organisation.objects.filter(pk__in=[901, 902]).order_by("pk")
    assert [(o.legal_name, o.region, o.tier, o.source, o.headcount) for o in stored] == [
        ("Org 1", "", "", "import", None),
        ("Org 2", "Bretagne", "", "import", 12),
    ]


@pytest.mark.django_db
def test_records_that_differ_only_by_their_id_are_written_too() -> None:
    # Every column but the id at its default: the rows hold the id alone.
    defaults = {"legal_name": "", "name_key": ""}
    creates = [Create(1, dict(defaults)), Create(2, dict(defaults))]
    columns = ["id", "legal_name", "name_key"]
    assert insert_creates(Organisation, columns, creates, [911, 912], defaults=defaults) == 2
    assert list(Organisation.objects.filter(pk__in=[911, 912]).values_list("pk", "legal_name")) == [
        (911, ""),
        (912, ""),
    ]
