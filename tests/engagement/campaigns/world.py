"""The campaigns tests' world: two organisations, six people, three targets.

| contact | organisation       | owner (team)      | email              | note                 |
|---------|--------------------|-------------------|--------------------|----------------------|
| Nora    | Nordis (Lille)     | Alice (AE Paris)  | nora@nordis.fr     |                      |
| Nadia   | Nordis (Lille)     | Alice (AE Paris)  | nadia@nordis.fr    | opted out of emails  |
| Noël    | Nordis (Lille)     | Alice (AE Paris)  | —                  | no email address     |
| Lucie   | Lugdunum (Lyon)    | Olivier (AE Lyon) | lucie@lugdunum.fr  |                      |
| Luc     | Lugdunum (Lyon)    | Olivier (AE Lyon) | luc@lugdunum.fr    |                      |
| Solène  | —                  | Ada (no team)     | solene@example.org |                      |

Targets (Marie's, shared): "Lille organisations" (organisation level: Nordis), "Everyone"
(contact level, no condition) and "All organisations" (organisation level, no condition).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cible.engagement.campaigns.services import campaign_create
from cible.people.services import contact_create
from cible.segments.targets.services import target_create
from tests import factories

LILLE = {"match": "all", "conditions": [{"field": "city", "op": "equals", "value": "Lille"}]}

NAMED = {"match": "all", "conditions": [{"field": "last_name", "op": "is_not_empty"}]}
IN_FRANCE = {"match": "all", "conditions": [{"field": "country", "op": "in", "value": ["FR"]}]}


@dataclass
class World:
    nordis: Any
    lugdunum: Any
    nora: Any
    nadia: Any
    noel: Any
    lucie: Any
    luc: Any
    solene: Any
    lille: Any  # organisation target
    everyone: Any  # contact target
    all_organisations: Any  # organisation target


def make_world(cast: Any) -> World:
    nordis = factories.organisation(cast.ae, legal_name="Nordis", city="Lille", country="FR")
    lugdunum = factories.organisation(
        cast.outsider, legal_name="Lugdunum", city="Lyon", country="FR"
    )

    def person(actor: Any, org: Any, first: str, email: str = "", **extra: Any) -> Any:
        data: dict[str, Any] = {"first_name": first, "last_name": "Testa", "email": email}
        if org is not None:
            data["organisation"] = org.pk
        return contact_create(actor=actor, channel="ui", data={**data, **extra})

    def target(name: str, level: str, definition: dict[str, Any]) -> Any:
        return target_create(
            actor=cast.marketer,
            channel="ui",
            data={"name": name, "level": level, "definition": definition, "shared": True},
        )

    return World(
        nordis=nordis,
        lugdunum=lugdunum,
        nora=person(cast.ae, nordis, "Nora", "nora@nordis.fr"),
        nadia=person(cast.ae, nordis, "Nadia", "nadia@nordis.fr", email_opt_out=True),
        noel=person(cast.ae, nordis, "Noël"),
        lucie=person(cast.outsider, lugdunum, "Lucie", "lucie@lugdunum.fr"),
        luc=person(cast.outsider, lugdunum, "Luc", "luc@lugdunum.fr"),
        solene=person(cast.admin, None, "Solène", "solene@example.org", owner=""),
        lille=target("Lille organisations", "organisation", {"organisation": LILLE}),
        everyone=target("Everyone", "contact", {"contact": NAMED}),
        all_organisations=target("All organisations", "organisation", {"organisation": IN_FRANCE}),
    )


def campaign(actor: Any, **data: Any) -> Any:
    data.setdefault("name", "Salon du CRM 2026")
    data.setdefault("type", "event")
    return campaign_create(actor=actor, channel="ui", data=data)
