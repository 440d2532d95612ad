"""Records made through the services, as a user would make them."""

from __future__ import annotations

from typing import Any

from cible.people.services import contact_create, organisation_create
from cible.pipeline.services import opportunity_create


def organisation(owner: Any, **data: Any) -> Any:
    data.setdefault("legal_name", "Acme SAS")
    return organisation_create(actor=owner, channel="ui", data=data)


def contact(owner: Any, **data: Any) -> Any:
    data.setdefault("last_name", "Dupont")
    return contact_create(actor=owner, channel="ui", data=data)


def opportunity(owner: Any, organisation_: Any, **data: Any) -> Any:
    data.setdefault("name", f"{organisation_} deal")
    data["organisation"] = organisation_.pk
    return opportunity_create(actor=owner, channel="ui", data=data)
