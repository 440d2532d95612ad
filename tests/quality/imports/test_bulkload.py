"""A very large run builds the secondary indexes once at the end instead of row by row; a
re-import, a small file or a big table keep them; a crash or a kill never leaves them away."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from cible.core.indexes import suspend_indexes
from cible.core.models import SuspendedIndex
from cible.people.models import Organisation
from cible.quality.imports import bulkload, committing, services
from tests.factories import organisation
from tests.quality.imports.engine_support import upload, var_dir  # noqa: F401
from tests.quality.imports.test_resume import MAPPING, mapped_run, rows, sirens

DECLARED = {index.name for index in Organisation._meta.indexes}
LOOKUPS = {"org_name", "org_siren", "org_siret", "org_domain"}


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
    # Into a nearly empty table even the match keys' indexes go (bulkload.LOOKUP_SCAN_ROWS).
    assert seen == [set()] * 4
    assert present() == DECLARED  # all built again at the end
    assert "indexes" in run.timings
    assert not SuspendedIndex.objects.exists()


@pytest.mark.django_db
def test_into_a_table_too_large_to_read_without_them_the_match_indexes_stay(
    cast: Any, big: None, seen: list[set[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulkload, "LOOKUP_SCAN_ROWS", 1)
    organisation(cast.ae, legal_name="Déjà là 1")
    organisation(cast.ae, legal_name="Déjà là 2")

    run = services.start(mapped_run(cast.ae, 10), actor=cast.ae)

    assert run.counts["created"] == 10
    assert seen == [LOOKUPS] * 4  # every batch, the match keys' indexes only
    assert present() == DECLARED


@pytest.mark.django_db
def test_without_its_match_indexes_a_run_still_finds_what_others_write_meanwhile(
    cast: Any, big: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone creates the company of the file's ninth row while the run loads its second
    batch: the ninth row updates that record instead of creating a duplicate."""
    before = organisation(cast.ae, legal_name="Déjà là", siren=next(sirens(1, 20_000_000)))
    ninth = list(sirens(10))[8]
    real_insert = committing.insert_creates
    calls = {"n": 0}

    def someone_else_meanwhile(*args: Any, **kwargs: Any) -> int:
        written = real_insert(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            organisation(cast.ae2, legal_name="Entreprise neuf", siren=ninth)
        return written

    monkeypatch.setattr(committing, "insert_creates", someone_else_meanwhile)
    run = services.start(mapped_run(cast.ae, 10), actor=cast.ae)

    assert run.status == "done", run.error_message
    assert run.counts["created"] == 9
    assert run.counts["updated"] + run.counts["unchanged"] == 1
    assert Organisation.objects.filter(siren=ninth).count() == 1
    assert Organisation.objects.count() == 1 + 10  # the one before, the file's ten
    assert Organisation.objects.filter(pk=before.pk).exists()


@pytest.mark.django_db
def test_without_its_match_indexes_a_run_still_tells_a_row_repeating_an_earlier_one(
    cast: Any, big: None
) -> None:
    """Rows 2 and 9 carry the same SIREN, three batches apart: the second is refused."""
    table = rows(10)
    table[9][1] = table[2][1]
    run = services.configure(
        upload(cast.ae, table), actor=cast.ae, mapping=MAPPING, key="siren", policy="fill_empty"
    )
    run = services.start(run, actor=cast.ae)

    assert run.status == "done", run.error_message
    assert (run.counts["created"], run.counts["rejected"]) == (9, 1)
    assert Organisation.objects.filter(siren=table[2][1]).count() == 1


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


@pytest.mark.django_db
def test_the_next_run_builds_what_a_killed_run_left_aside(
    cast: Any, settings: Any, seen: list[set[str]]
) -> None:
    suspend_indexes(Organisation, keep=LOOKUPS)  # a run killed by kill -9 leaves this

    run = services.start(mapped_run(cast.ae, 4), actor=cast.ae)

    assert run.status == "done", run.error_message
    assert seen == [DECLARED]  # rebuilt before its first batch
    assert not SuspendedIndex.objects.exists()
