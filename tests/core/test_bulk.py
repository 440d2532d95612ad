"""`core.bulk.bulk_insert`: what the raw path stores, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

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
