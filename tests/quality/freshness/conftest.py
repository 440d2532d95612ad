"""Records of known age and state for the freshness tests (dates relative to a fixed today)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from cible.people.models import Contact, Organisation
from tests import factories
from tests.api.conftest import api_for  # noqa: F401 (the API tests' fixture)

# Noon in Paris on a fixed day, so that "days ago" never straddles a time-zone edge.
TODAY = dt.date(2026, 6, 15)
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def backdate(record: Any, *, created: int, verified: int | None = None, **fields: Any) -> Any:
    """Set a record's creation (and verification) `created`/`verified` days before NOW, without
    the services (which stamp "now"); the tally is told, as any bulk writer would tell it."""
    from cible.quality.freshness.tally import entity_of, tally_invalidate

    values = {"created_at": days_ago(created), **fields}
    if verified is not None:
        values["last_verified_at"] = days_ago(verified)
    type(record).objects.filter(pk=record.pk).update(**values)
    tally_invalidate(entity=entity_of(type(record)), ids=[record.pk])
    record.refresh_from_db()
    return record


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    """Duplicate counts are cached a minute (per process): each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        assert timezone.localdate() == TODAY
        yield traveller


@dataclass
class Base:
    """Alice's (AE Paris) and Olivier's (AE Lyon) records, in every state that matters."""

    fresh_org: Organisation  # verified 10 days ago, complete
    old_org: Organisation  # verified 400 days ago
    never_org: Organisation  # created 200 days ago, never verified
    new_org: Organisation  # created 5 days ago, never verified: not yet stale
    closed_org: Organisation  # verified 20 days ago, closed
    lyon_org: Organisation  # Olivier's, verified 500 days ago
    fresh_contact: Contact
    bounced_contact: Contact  # bounced 5 days ago, verified 30 days ago
    rechecked_contact: Contact  # bounced 60 days ago, verified again 10 days ago
    left_contact: Contact
    closed_contact: Contact  # works at the closed organisation, verified yesterday
    lyon_contact: Contact  # Olivier's, never verified, created 300 days ago


COMPLETE_ORG = {
    "siren": "732829320",
    "website": "https://www.acme.fr",
    "phone": "01 42 68 53 00",
    "street": "10 rue de la Paix",
    "postal_code": "75002",
    "city": "Paris",
    "country": "FR",
    "naf_code": "62.01Z",
    "headcount": "120",
}


@pytest.fixture
def base(cast: Any, frozen: Any) -> Base:
    ae, lyon = cast.ae, cast.outsider
    fresh_org = backdate(
        factories.organisation(ae, legal_name="Fraîche SAS", **COMPLETE_ORG),
        created=300,
        verified=10,
    )
    old_org = backdate(
        factories.organisation(ae, legal_name="Ancienne SARL", city="Lyon"),
        created=900,
        verified=400,
    )
    never_org = backdate(factories.organisation(ae, legal_name="Jamais SA"), created=200)
    new_org = backdate(factories.organisation(ae, legal_name="Nouvelle SAS"), created=5)
    closed_org = backdate(
        factories.organisation(ae, legal_name="Fermée SAS", status="closed"),
        created=500,
        verified=20,
    )
    lyon_org = backdate(
        factories.organisation(lyon, legal_name="Lyonnaise SA", country="FR"),
        created=800,
        verified=500,
    )
    fresh_contact = backdate(
        factories.contact(
            ae,
            first_name="Paul",
            last_name="Frais",
            email="paul.frais@acme.fr",
            phone="01 42 68 53 01",
            job_title="Directeur commercial",
            function="sales",
            organisation=fresh_org.pk,
        ),
        created=300,
        verified=10,
    )
    bounced_contact = backdate(
        factories.contact(ae, last_name="Rebond", email="rebond@acme.fr"),
        created=300,
        verified=30,
        email_bounced_at=days_ago(5),
    )
    rechecked_contact = backdate(
        factories.contact(ae, last_name="Revu", email="revu@acme.fr"),
        created=300,
        verified=10,
        email_bounced_at=days_ago(60),
    )
    left_contact = backdate(
        factories.contact(ae, last_name="Parti", has_left="yes"), created=300, verified=10
    )
    closed_contact = backdate(
        factories.contact(ae, last_name="Ferme", organisation=closed_org.pk),
        created=300,
        verified=1,
    )
    lyon_contact = backdate(factories.contact(lyon, last_name="Lyonnais"), created=300)
    return Base(
        fresh_org,
        old_org,
        never_org,
        new_org,
        closed_org,
        lyon_org,
        fresh_contact,
        bounced_contact,
        rechecked_contact,
        left_contact,
        closed_contact,
        lyon_contact,
    )
