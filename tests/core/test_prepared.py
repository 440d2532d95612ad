"""`core.prepared`: a query compiled once returns, for other ids, what the ORM returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cible.core.prepared import Prepared
from cible.people.models import Organisation
from tests import factories
from tests.cast import Cast

pytestmark = pytest.mark.django_db

COLUMNS = ("id", "legal_name", "annual_revenue", "last_verified_at", "owner__username")


def _organisations(ids: Any) -> Any:
    return Organisation.objects.filter(pk__in=ids).order_by("pk").values_list(*COLUMNS, named=True)


@pytest.fixture
def three(cast: Cast) -> list[Any]:
    verified = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 30))
    made = [
        factories.organisation(cast.ae, legal_name="Acme SAS", annual_revenue="1250000.50"),
        factories.organisation(cast.ae2, legal_name="Bolt SARL"),
        factories.organisation(cast.ae, legal_name="Cèdre SA", annual_revenue="90.00"),
    ]
    Organisation.objects.filter(pk=made[0].pk).update(last_verified_at=verified)
    return made


def test_rows_are_the_orms_with_their_types(three: list[Any]) -> None:
    prepared = Prepared(_organisations)
    for ids in ([three[0].pk], [three[2].pk, three[0].pk], [o.pk for o in three]):
        rows = prepared.rows(ids)
        assert rows == list(_organisations(ids))
    first = prepared.rows([three[0].pk])[0]
    # Converted as the ORM converts them (SQLite hands back text for both).
    assert first.annual_revenue == Decimal("1250000.50")
    assert first.last_verified_at == timezone.make_aware(dt.datetime(2026, 3, 2, 9, 30))
    assert first.legal_name == "Acme SAS" and first.owner__username == "alice"


def test_a_second_call_runs_one_query_and_builds_nothing(three: list[Any]) -> None:
    built: list[int] = []

    def build(ids: Any) -> Any:
        built.append(len(ids))
        return _organisations(ids)

    prepared = Prepared(build)
    prepared.rows([three[0].pk])
    with CaptureQueriesContext(connection) as queries:
        rows = prepared.rows([three[1].pk])
    assert [r.legal_name for r in rows] == ["Bolt SARL"]
    assert len(queries) == 1
    assert built == [1]  # compiled once for one id; the second call only ran it
    prepared.rows([three[1].pk, three[2].pk])
    assert built == [1, 2]


def test_unknown_ids_give_no_rows(three: list[Any]) -> None:
    assert Prepared(_organisations).rows([10**9]) == []


def test_ids_used_twice_fall_back_to_the_orm(three: list[Any]) -> None:
    """A query naming each id twice cannot be filled in by position: it is built every time."""

    def twice(ids: Any) -> Any:
        return (
            Organisation.objects.filter(pk__in=ids)
            .filter(pk__in=ids)
            .annotate(doubled=F("id") * 2)
            .values_list("legal_name", "doubled", named=True)
        )

    prepared = Prepared(twice)
    for _again in range(2):
        rows = prepared.rows([three[2].pk])
        assert [(r.legal_name, r.doubled) for r in rows] == [("Cèdre SA", three[2].pk * 2)]


def test_row_locks_return_the_keys_in_key_order(three: list[Any], cast: Cast) -> None:
    from django.db import transaction

    from cible.core.prepared import row_locks

    locks = row_locks(Organisation, "owner_id")
    with transaction.atomic():
        locked = locks.rows([cast.ae.pk])
    assert [row.pk for row in locked] == sorted([three[0].pk, three[2].pk])  # Alice's two


def test_no_ids_give_no_rows_without_a_query(three: list[Any]) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert Prepared(_organisations).rows([]) == []
    assert len(queries) == 0
