"""A handful of organisations with known values, and the seed-001 style profile over them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cible.people.models import CompetitorProduct
from cible.segments.profiles.services import profile_create
from tests import factories

SALESFORCE_INSTALLED = {
    "match": "all",
    "conditions": [{"field": "installed_products", "op": "any_of", "value": ["Salesforce"]}],
}
PME = {"match": "all", "conditions": [{"field": "size_class", "op": "in", "value": ["pme"]}]}
NOT_IN_LILLE = {
    "match": "all",
    "conditions": [{"field": "city", "op": "not_equals", "value": "Lille"}],
}
CRITERIA = [
    {"label": "Salesforce installed", "rule": SALESFORCE_INSTALLED, "weight": 3},
    {"label": "PME", "rule": PME, "weight": 2},
    {"label": "not in Lille", "rule": NOT_IN_LILLE, "weight": 1},
]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """`with committed(): …` runs what waits for the commit (the fit scores of the organisations
    a write changed, `receivers`) as the test's transaction never commits."""

    def run() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return run


@dataclass
class Base:
    acme: Any  # Salesforce, PME, Lille              -> 3 + 2     = 5/6 -> 83
    beta: Any  # HubSpot, TPE, Paris                 ->         1 = 1/6 -> 17
    gamma: Any  # Salesforce, ETI, Lyon              -> 3     + 1 = 4/6 -> 67
    delta: Any  # nothing installed, PME, Lille      ->     2     = 2/6 -> 33
    omega: Any  # Salesforce, PME, Marseille         -> 3 + 2 + 1 = 6/6 -> 100


@pytest.fixture
def products(db: Any) -> None:
    for name in ("Salesforce", "HubSpot", "Sage CRM"):
        CompetitorProduct.objects.get_or_create(name=name)


@pytest.fixture
def base(cast: Any, products: Any) -> Base:
    """Acme and Delta belong to Alice (AE Paris), Beta to Olivier (AE Lyon), Gamma to Basile
    (AE Paris), Omega to Olivier."""
    org = factories.organisation
    return Base(
        acme=org(
            cast.ae,
            legal_name="Acme",
            headcount=50,
            city="Lille",
            installed_products=["Salesforce"],
        ),
        beta=org(
            cast.outsider,
            legal_name="Beta",
            headcount=4,
            city="Paris",
            installed_products=["HubSpot"],
        ),
        gamma=org(
            cast.ae2,
            legal_name="Gamma",
            headcount=800,
            city="Lyon",
            installed_products=["Salesforce"],
        ),
        delta=org(cast.ae, legal_name="Delta", headcount=120, city="Lille"),
        omega=org(
            cast.outsider,
            legal_name="Omega",
            headcount=30,
            city="Marseille",
            installed_products=["Salesforce"],
        ),
    )


@pytest.fixture
def conquest(cast: Any, products: Any) -> Any:
    return profile_create(
        actor=cast.marketer,
        channel="ui",
        name="Conquest: CRM switchers",
        purpose="conquest",
        criteria=CRITERIA,
    )


def scores_by_name(profile: Any) -> dict[str, int]:
    return {
        str(s.organisation): s.score
        for s in profile.fit_scores.select_related("organisation").order_by("organisation_id")
    }


def fresh(user: Any) -> Any:
    """The user read again: the access policy is cached on a user object (once per request)."""
    return type(user).objects.get(pk=user.pk)
