"""The people tables keep one index per lookup: the owner and organisation keys are served by the
composite indexes leading with them, not by a second index of their own that every write pays
for; and dropping those left the other apps' triggers on the tables in place."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def indexed_columns(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c["columns"] for c in found.values() if c["index"] and not c["primary_key"]]


def triggers_on(table: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        return {name for (name,) in cursor.fetchall()}


def test_owner_and_organisation_keys_are_served_by_one_composite_index_each() -> None:
    organisations = indexed_columns("people_organisation")
    assert ["owner_id", "name_key"] in organisations
    assert ["owner_id"] not in organisations
    contacts = indexed_columns("people_contact")
    assert ["organisation_id", "name_key"] in contacts
    assert ["owner_id", "name_key"] in contacts
    assert ["organisation_id"] not in contacts and ["owner_id"] not in contacts
    assert ["parent_id"] in organisations  # subsidiaries: no composite index covers it


def test_the_targets_change_log_still_watches_the_organisations() -> None:
    expected = {"targets_organisation_change_update", "targets_organisation_change_delete"}
    if connection.vendor == "postgresql":
        expected.add("targets_organisation_change_insert")
    assert triggers_on("people_organisation") == expected
