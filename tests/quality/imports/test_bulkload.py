"""A very large run builds the secondary indexes once at the end instead of row by row; a
re-import, a small file or a big table keep them; a crash or a kill never leaves them away."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from cible.core.indexes import suspend_indexes
from cible.core.models import SuspendedForeignKey, SuspendedIndex
from cible.people.models import Organisation
from cible.quality.imports import committing, services
from tests.factories import organisation
from tests.quality.imports.engine_support import upload, var_dir  # noqa: F401
from tests.quality.imports.test_resume import mapped_run

DECLARED = {index.name for index in Organisation._meta.indexes}
LOOKUPS = {"org_siren", "org_siret", "org_domain"}


def present() -> set[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, Organisation._meta.db_table)
    return DECLARED & set(names)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The indexes present each time a batch inserts its rows."""
    observed: list[set[str]] = []
    real_insert = committing.insert_creates

    def observe(*args: Any, **kwargs: Any) -> int:
        observed.append(present())
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(committing, "insert_creates", observe)
    return observed


@pytest.fixture
def big(settings: Any) -> None:
    settings.IMPORT_BATCH_ROWS = 3
    settings.IMPORT_REBUILD_INDEXES_FROM = 8  # "very large", at the scale of the test


@pytest.mark.django_db
def test_a_very_large_run_into_a_small_table_loads_without_secondary_indexes(
    cast: Any, big: None, seen: list[set[str]]
) -> None:
    run = services.start(mapped_run(cast.ae, 10), actor=cast.ae)

    assert run.status == "done", run.error_message
    assert run.counts["created"] == 10
    assert seen == [{"org_siren"}] * 4  # every batch, the index of the key it matches by only
    assert present() == DECLARED  # all built again at the end
    assert "indexes" in run.timings
    assert not SuspendedIndex.objects.exists()


def foreign_keys() -> dict[str, bool]:
    """The organisation table's foreign keys (PostgreSQL): name -> validated."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated FROM pg_constraint "
            "WHERE conrelid = 'people_organisation'::regclass AND contype = 'f'"
        )
        return dict(cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps its keys")
def test_a_very_large_run_checks_the_foreign_keys_once_at_the_end(
    cast: Any, big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL checked every new row's owner at each batch's commit (3 s a million rows);
    # the keys are validated in one pass each instead.
    declared = foreign_keys()
    during: list[dict[str, bool]] = []
    real_insert = committing.insert_creates

    def observe(*args: Any, **kwargs: Any) -> int:
        during.append(foreign_keys())
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(committing, "insert_creates", observe)
    run = services.start(mapped_run(cast.ae, 10), actor=cast.ae)

    assert run.status == "done", run.error_message
    assert len(declared) == 2 and all(declared.values())  # owner and parent
    assert during == [{}] * 4
    assert foreign_keys() == declared  # back, and validated
    assert not SuspendedForeignKey.objects.exists()
    assert set(Organisation.objects.values_list("owner_id", flat=True)) == {cast.ae.pk}


@pytest.mark.django_db
def test_a_reimport_a_small_file_or_a_large_table_keeps_the_indexes(
    cast: Any, big: None, seen: list[set[str]]
) -> None:
    services.start(mapped_run(cast.ae, 10), actor=cast.ae)
    seen.clear()

    again = services.start(mapped_run(cast.ae, 10), actor=cast.ae)  # every row unchanged
    small = services.start(mapped_run(cast.ae, 5), actor=cast.ae)  # under the threshold
    assert (again.counts["unchanged"], small.counts["unchanged"]) == (10, 5)
    more = services.start(mapped_run(cast.ae, 12), actor=cast.ae)  # first batch: all known

    assert more.counts["created"] == 2
    assert all(names == DECLARED for names in seen)
    assert "indexes" not in more.timings


@pytest.mark.django_db
def test_a_large_file_into_a_larger_table_keeps_the_indexes(
    cast: Any, big: None, seen: list[set[str]]
) -> None:
    for number in range(11):
        organisation(cast.ae, legal_name=f"Déjà là {number}")

    run = services.start(mapped_run(cast.ae, 10), actor=cast.ae)

    assert run.counts["created"] == 10
    assert all(names == DECLARED for names in seen)


@pytest.mark.django_db
def test_a_crash_in_the_middle_still_builds_the_indexes_again(
    cast: Any, big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = committing.insert_creates
    calls = {"n": 0}

    def crash_on_second(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(committing, "insert_creates", crash_on_second)
    run = services.start(mapped_run(cast.ae, 10), actor=cast.ae)

    assert run.status == "failed"
    assert Organisation.objects.count() == 3  # the first batch
    assert present() == DECLARED
    assert not SuspendedIndex.objects.exists()
    assert not SuspendedForeignKey.objects.exists()  # PostgreSQL's keys back as well


@pytest.mark.django_db
def test_the_next_run_builds_what_a_killed_run_left_aside(
    cast: Any, settings: Any, seen: list[set[str]]
) -> None:
    suspend_indexes(Organisation, keep=LOOKUPS)  # a run killed by kill -9 leaves this

    run = services.start(mapped_run(cast.ae, 4), actor=cast.ae)

    assert run.status == "done", run.error_message
    assert seen == [DECLARED]  # rebuilt before its first batch
    assert not SuspendedIndex.objects.exists()


@pytest.mark.django_db
def test_a_large_run_matching_by_domain_keeps_the_domain_index_only(
    cast: Any, big: None, seen: list[set[str]]
) -> None:
    table = [["Raison sociale", "Site web"]] + [
        [f"Entreprise {i}", f"https://entreprise-{i}.fr"] for i in range(1, 11)
    ]
    run = services.configure(
        upload(cast.ae, table),
        actor=cast.ae,
        mapping={"Raison sociale": "legal_name", "Site web": "website"},
        key="domain",
        policy="fill_empty",
    )
    run = services.start(run, actor=cast.ae)

    assert run.status == "done", run.error_message
    assert run.counts["created"] == 10
    assert seen == [{"org_domain"}] * 4
    assert present() == DECLARED
    again = services.start(
        services.configure(
            upload(cast.ae, table),
            actor=cast.ae,
            mapping={"Raison sociale": "legal_name", "Site web": "website"},
            key="domain",
            policy="fill_empty",
        ),
        actor=cast.ae,
    )
    assert again.counts["unchanged"] == 10  # found by domain: no duplicate
