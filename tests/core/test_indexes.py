"""Secondary indexes set aside for a bulk load come back, whatever happened to the load."""

from __future__ import annotations

import pytest
from django.core.management.sql import emit_pre_migrate_signal
from django.db import connection, transaction

from cible.core.indexes import restore_indexes, suspend_indexes
from cible.core.models import SuspendedIndex
from cible.people.models import Organisation

DECLARED = {index.name for index in Organisation._meta.indexes}


def present() -> set[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, Organisation._meta.db_table)
    return DECLARED & set(names)


@pytest.mark.django_db
def test_suspended_indexes_are_dropped_recorded_and_restored() -> None:
    dropped = suspend_indexes(Organisation, keep=("org_siren", "org_name"))

    assert set(dropped) == DECLARED - {"org_siren", "org_name"}
    assert present() == {"org_siren", "org_name"}
    assert set(SuspendedIndex.objects.values_list("name", flat=True)) == set(dropped)

    assert set(restore_indexes(Organisation)) == set(dropped)
    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()
    assert restore_indexes(Organisation) == []  # nothing left to do


@pytest.mark.django_db
def test_a_load_that_rolls_back_takes_its_suspension_with_it() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        suspend_indexes(Organisation)
        assert present() == set()
        raise RuntimeError("the batch failed")

    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()


@pytest.mark.django_db
def test_migrations_rebuild_what_a_killed_load_left_aside() -> None:
    suspend_indexes(Organisation, keep=("org_siren",))  # and then the process was killed

    emit_pre_migrate_signal(verbosity=0, interactive=False, db="default")

    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()
