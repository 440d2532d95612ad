"""`core.bulk.bulk_insert`: what the raw path stores, on both databases."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from cible.core import bulk
from cible.core.bulk import bulk_insert
from cible.people.models import Contact
from tests import factories
from tests.cast import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(cast: Cast) -> Any:
    return factories.organisation(cast.ae, legal_name="Acme")


def test_omitted_columns_get_their_default_and_one_now_for_the_call(
    cast: Cast, organisation: Any
) -> None:
    # PostgreSQL's COPY gets the omitted columns as text dumped once per call: the stored
    # values must be those the ORM would store, with their types.
    before = timezone.now()
    written = bulk_insert(
        Contact,
        ["last_name", "name_key", "organisation_id", "owner_id"],
        [("Martin", "martin", organisation.pk, cast.ae.pk), ("Petit", "petit", None, None)],
    )
    after = timezone.now()
    assert written == 2
    martin, petit = Contact.objects.filter(last_name__in=["Martin", "Petit"]).order_by("last_name")
    assert before <= martin.created_at <= after and before <= martin.updated_at <= after
    assert (martin.created_at, martin.updated_at) == (petit.created_at, petit.updated_at)
    assert martin.created_at.tzinfo is not None
    assert (martin.email_opt_out, martin.has_left, martin.version) == (False, False, 1)
    assert (martin.organisation_id, petit.organisation_id) == (organisation.pk, None)
    assert martin.email == "" and martin.first_name == ""


def test_datetimes_given_row_by_row_are_stored_as_the_orm_stores_them(cast: Any) -> None:
    verified = timezone.now().replace(microsecond=123456)
    bulk_insert(
        Contact,
        ["last_name", "name_key", "last_verified_at"],
        [("Martin", "martin", verified), ("Petit", "petit", None), ("Roux", "roux", verified)],
    )
    stored = dict(
        Contact.objects.filter(last_name__in=["Martin", "Petit", "Roux"]).values_list(
            "last_name", "last_verified_at"
        )
    )
    assert stored == {"Martin": verified, "Petit": None, "Roux": verified}
    assert Contact.objects.filter(last_verified_at__lte=verified).count() == 2


@contextlib.contextmanager
def sqlite_inserts() -> Iterator[list[str]]:
    """The INSERT statements SQLite runs meanwhile: the bulk path goes through the driver's own
    cursor, which Django's query log does not see."""
    statements: list[str] = []
    connection.ensure_connection()
    connection.connection.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        connection.connection.set_trace_callback(None)
    statements[:] = [sql for sql in statements if sql.startswith("INSERT")]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's multi-row statements")
def test_sqlite_writes_many_rows_per_statement_within_its_parameter_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seven rows at three a statement: two full INSERTs and one of a single row, each row with
    its own values; then a parameter limit that holds fewer rows than that sets the size."""
    monkeypatch.setattr(bulk, "SQLITE_ROWS_PER_STATEMENT", 3)
    names = [f"Name {i}" for i in range(7)]
    with sqlite_inserts() as inserts:
        assert bulk_insert(Contact, ["last_name", "name_key"], [(n, n.lower()) for n in names]) == 7
    assert [sql.count("), (") + 1 for sql in inserts] == [3, 3, 1]
    stored = Contact.objects.filter(last_name__in=names).order_by("pk")
    assert [(c.last_name, c.name_key) for c in stored] == [(n, n.lower()) for n in names]

    # The omitted columns are bound once per statement, the two given ones on each row.
    omitted = len([f for f in Contact._meta.concrete_fields if not f.primary_key]) - 2
    sqlite = connection.connection
    before = sqlite.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    sqlite.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, omitted + 2 * 2 + 1)  # two rows
    try:
        with sqlite_inserts() as inserts:
            bulk_insert(Contact, ["last_name", "name_key"], [("Roux", "roux")] * 5)
    finally:
        sqlite.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, before)
    assert [sql.count("), (") + 1 for sql in inserts] == [2, 2, 1]
    assert Contact.objects.filter(last_name="Roux").count() == 5


def test_constant_columns_are_given_once_and_stored_on_every_row(cast: Cast) -> None:
    verified = timezone.now().replace(microsecond=0)
    written = bulk_insert(
        Contact,
        ["last_name", "name_key", "owner_id"],
        [("Martin", "martin", cast.ae.pk), ("Petit", "petit", None)],
        constants={"job_title": "DAF", "last_verified_at": verified, "organisation_id": None},
    )
    assert written == 2
    stored = Contact.objects.filter(last_name__in=["Martin", "Petit"]).order_by("last_name")
    assert [
        (c.last_name, c.owner_id, c.job_title, c.last_verified_at, c.organisation_id, c.version)
        for c in stored
    ] == [
        ("Martin", cast.ae.pk, "DAF", verified, None, 1),
        ("Petit", None, "DAF", verified, None, 1),
    ]
    with pytest.raises(ValueError, match="named twice"):
        bulk_insert(Contact, ["last_name"], [("Roux",)], constants={"last_name": "Roux"})
