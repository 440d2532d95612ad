"""Foreign keys set aside for a fill from empty (`core.foreign_keys`): dropped with a record,
added back and validated; a key that rows break stays NOT VALID (still enforced) and recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from cible.core.foreign_keys import restore_foreign_keys, suspend_foreign_keys
from cible.core.models import SuspendedForeignKey
from cible.segments.axes.models import Membership, Segment
from tests import factories

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps its keys (nothing is set aside)"
)


def keys() -> dict[str, bool]:
    """The membership table's foreign keys: name -> validated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated FROM pg_constraint "
            "WHERE conrelid = 'segments_membership'::regclass AND contype = 'f'"
        )
        return dict(cursor.fetchall())


@postgresql_only
def test_keys_come_back_validated_and_their_records_go() -> None:
    before = keys()
    assert len(before) == 3 and all(before.values())
    dropped = suspend_foreign_keys(Membership)
    assert sorted(dropped) == sorted(before) and keys() == {}
    assert SuspendedForeignKey.objects.count() == 3
    assert sorted(restore_foreign_keys(Membership)) == sorted(before)
    assert keys() == before
    assert not SuspendedForeignKey.objects.exists()
    assert restore_foreign_keys(Membership) == []  # idempotent


@postgresql_only
def test_a_key_that_rows_break_stays_not_valid_but_enforced(cast: Any) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", postal_code="59000")
    suspend_foreign_keys(Membership)
    pme = Segment.objects.get(axis__code="size", code="pme")
    Membership.objects.filter(organisation=acme).delete()
    with connection.cursor() as cursor:  # a row for an organisation that does not exist
        cursor.execute(
            "INSERT INTO segments_membership (segment_id, organisation_id, axis_id, since) "
            "VALUES (%s, %s, %s, now())",
            [pme.pk, 999_999, pme.axis_id],
        )
    restored = restore_foreign_keys(Membership)
    broken = {name for name, valid in keys().items() if not valid}
    assert len(broken) == 1 and broken.isdisjoint(restored)
    assert SuspendedForeignKey.objects.filter(name__in=broken).exists()
    # Enforced for new rows.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segments_membership (segment_id, organisation_id, axis_id, since) "
            "VALUES (%s, %s, %s, now())",
            [pme.pk, 888_888, pme.axis_id],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Membership.objects.filter(organisation_id=999_999).delete()
    assert restore_foreign_keys(Membership) == sorted(broken)
    assert all(keys().values()) and not SuspendedForeignKey.objects.exists()


def test_nothing_is_set_aside_on_sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert suspend_foreign_keys(Membership) == []
    assert not SuspendedForeignKey.objects.exists()
