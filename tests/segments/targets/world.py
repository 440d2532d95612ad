"""The targets tests' world: six organisations in known seed-002 segments, five contacts.

Seed 002's target: "equipped with Salesforce, sales team 11–20 or > 20, in Lille or Paris" —
Nordis and Parisia are in it; the others each miss one part.

| organisation  | owner (team)        | place          | CRM        | sales team | size |
|---------------|---------------------|----------------|------------|------------|------|
| Nordis        | Alice (AE Paris)    | Lille 59000    | Salesforce | 15         | PME  |
| Parisia       | Olivier (AE Lyon)   | Paris 75008    | Salesforce | 25         | ETI  |
| Lugdunum      | Basile (AE Paris)   | Lyon 69002     | Salesforce | 15         | PME  |
| Petit Lille   | Alice (AE Paris)    | Lille 59800    | Salesforce | 2          | TPE  |
| Hubert        | Alice (AE Paris)    | Paris 75011    | HubSpot    | 30         | PME  |
| Roubaix Sage  | Olivier (AE Lyon)   | Roubaix 59100  | Sage CRM   | 12         | PME  |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cible.people.models import CompetitorProduct
from cible.segments.axes.models import Segment
from tests import factories


@dataclass
class Base:
    nordis: Any
    parisia: Any
    lugdunum: Any
    petit_lille: Any
    hubert: Any
    roubaix: Any
    # contacts
    nora: Any  # sales director at Nordis (Alice's)
    paul: Any  # sales director at Parisia (Olivier's)
    pierre: Any  # IT manager at Parisia (Olivier's)
    lucie: Any  # sales director at Lugdunum (Lyon: not in the target)
    nadia: Any  # sales manager at Nordis (a manager, not a director)


def segment(axis: str, code: str) -> int:
    return Segment.objects.get(axis__code=axis, code=code).pk


def seed_002_definition() -> dict[str, Any]:
    """Salesforce, sales team 11–20 or > 20, in Lille or Paris."""
    return {
        "segments": {
            "installed-crm": [segment("installed-crm", "salesforce")],
            "sales-team": [segment("sales-team", "11-20"), segment("sales-team", "over-20")],
            "geography": [segment("geography", "lille"), segment("geography", "paris")],
        }
    }


SALES_DIRECTORS = {
    "match": "all",
    "conditions": [
        {"field": "function", "op": "in", "value": ["sales"]},
        {"field": "seniority", "op": "in", "value": ["director", "executive"]},
    ],
}


def make_products() -> None:
    for name, category in (("Salesforce", "CRM"), ("HubSpot", "CRM"), ("Sage CRM", "CRM")):
        CompetitorProduct.objects.update_or_create(name=name, defaults={"category": category})


def _org(
    owner: Any, name: str, postal_code: str, city: str, crm: str, team: int, heads: int
) -> Any:
    return factories.organisation(
        owner,
        legal_name=name,
        postal_code=postal_code,
        city=city,
        country="FR",
        installed_products=[crm],
        sales_team_size=team,
        headcount=heads,
    )


def make_base(cast: Any) -> Base:
    make_products()
    nordis = _org(cast.ae, "Nordis", "59000", "Lille", "Salesforce", 15, 120)
    parisia = _org(cast.outsider, "Parisia", "75008", "Paris", "Salesforce", 25, 600)
    lugdunum = _org(cast.ae2, "Lugdunum", "69002", "Lyon", "Salesforce", 15, 80)
    petit_lille = _org(cast.ae, "Petit Lille", "59800", "Lille", "Salesforce", 2, 6)
    hubert = _org(cast.ae, "Hubert", "75011", "Paris", "HubSpot", 30, 200)
    roubaix = _org(cast.outsider, "Roubaix Sage", "59100", "Roubaix", "Sage CRM", 12, 90)

    def person(owner: Any, org: Any, last: str, function: str, seniority: str) -> Any:
        return factories.contact(
            owner,
            last_name=last,
            organisation=org.pk,
            function=function,
            seniority=seniority,
        )

    return Base(
        nordis=nordis,
        parisia=parisia,
        lugdunum=lugdunum,
        petit_lille=petit_lille,
        hubert=hubert,
        roubaix=roubaix,
        nora=person(cast.ae, nordis, "Nora", "sales", "director"),
        paul=person(cast.outsider, parisia, "Paul", "sales", "director"),
        pierre=person(cast.outsider, parisia, "Pierre", "it", "manager"),
        lucie=person(cast.ae2, lugdunum, "Lucie", "sales", "director"),
        nadia=person(cast.ae, nordis, "Nadia", "sales", "manager"),
    )


def fresh(user: Any) -> Any:
    """The user read again: the access policy is cached on a user object (once per request)."""
    return type(user).objects.get(pk=user.pk)
