"""Look-alike records for the duplicates tests, made through the people services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cible.people.models import CompetitorProduct
from cible.quality.duplicates.detect import run_detection
from cible.quality.duplicates.models import DuplicatePair
from tests import factories


@dataclass
class Twins:
    """Two records of one company (a fuller, older one and a newer one), with what hangs on
    them, plus a namesake in another city that is another company."""

    older: Any
    newer: Any
    namesake: Any
    older_contact: Any
    newer_contact: Any
    subsidiary: Any
    opportunity: Any


@pytest.fixture
def twins(cast: Any) -> Twins:
    for name in ("Salesforce", "HubSpot"):
        CompetitorProduct.objects.get_or_create(name=name)
    older = factories.organisation(
        cast.ae,
        legal_name="Dupont Conseil SAS",
        siren="732 829 320",
        website="https://www.dupont-conseil.fr",
        phone="01 44 55 66 77",
        street="12 rue de la Paix",
        postal_code="75002",
        city="Paris",
        headcount="40",
        installed_products="Salesforce",
    )
    newer = factories.organisation(
        cast.ae2,
        legal_name="DUPONT CONSEIL",
        siren="732829320",
        phone="+33 1 44 55 66 77",
        postal_code="75002",
        city="Paris",
        naf_code="70.22Z",
        installed_products="HubSpot",
    )
    namesake = factories.organisation(
        cast.ae,
        legal_name="Dupont Conseil SARL",
        siren="552 100 554",
        postal_code="69003",
        city="Lyon",
        phone="04 72 00 00 00",
    )
    older_contact = factories.contact(
        cast.ae,
        first_name="Jean",
        last_name="Martin",
        email="jean.martin@dupont-conseil.fr",
        organisation=older.pk,
    )
    newer_contact = factories.contact(
        cast.ae2,
        first_name="Paul",
        last_name="Durand",
        email="p.durand@dupont-conseil.fr",
        organisation=newer.pk,
    )
    subsidiary = factories.organisation(cast.ae2, legal_name="Dupont Services SAS", parent=newer.pk)
    opportunity = factories.opportunity(cast.ae2, newer, name="Renouvellement Dupont")
    return Twins(older, newer, namesake, older_contact, newer_contact, subsidiary, opportunity)


@pytest.fixture
def detected(twins: Twins) -> DuplicatePair:
    run_detection(entity="organisation")
    return DuplicatePair.objects.get(
        entity="organisation",
        record_a=min(twins.older.pk, twins.newer.pk),
        record_b=max(twins.older.pk, twins.newer.pk),
    )


from tests.api.conftest import api_for  # noqa: E402,F401 - the API client fixture, shared
