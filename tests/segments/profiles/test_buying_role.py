"""Personas by buying role (issue 5, SPEC C3: "function, seniority, buying role"): "sales decision
makers" finds the sales directors who decide or hold the budget — not the ones who only
influence, nor those whose role nobody knows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from cible.people.services import contact_update
from cible.segments.profiles import selectors
from cible.segments.profiles.services import persona_create
from tests import factories
from tests.segments.profiles.conftest import fresh

pytestmark = pytest.mark.django_db

SALES_DECISION_MAKERS = {
    "match": "all",
    "conditions": [
        {"field": "function", "op": "in", "value": ["sales"]},
        {"field": "seniority", "op": "in", "value": ["director", "executive"]},
        {"field": "buying_role", "op": "in", "value": ["decision_maker", "economic_buyer"]},
    ],
}
ROLE_UNKNOWN = {
    "match": "all",
    "conditions": [{"field": "buying_role", "op": "is_empty"}],
}


@pytest.fixture
def people(base: Any, cast: Any) -> dict[str, Any]:
    """Sales directors and executives in every buying role, and an IT decision maker."""

    def person(owner: Any, last: str, function: str, seniority: str, role: str, org: Any) -> Any:
        return factories.contact(
            owner,
            last_name=last,
            function=function,
            seniority=seniority,
            buying_role=role,
            organisation=org.pk,
        )

    return {
        "Durand": person(cast.ae, "Durand", "sales", "director", "decision_maker", base.acme),
        "Roux": person(cast.outsider, "Roux", "sales", "executive", "economic_buyer", base.beta),
        "Moreau": person(cast.ae, "Moreau", "sales", "director", "influencer", base.acme),
        "Fabre": person(cast.ae, "Fabre", "sales", "director", "", base.delta),
        "Blanc": person(cast.ae, "Blanc", "sales", "manager", "decision_maker", base.delta),
        "Petit": person(cast.ae, "Petit", "it", "director", "decision_maker", base.acme),
    }


@pytest.fixture
def deciders(cast: Any) -> Any:
    return persona_create(
        actor=cast.marketer,
        channel="ui",
        name="Sales decision makers",
        rule=SALES_DECISION_MAKERS,
    )


def last_names(contacts: Any) -> list[str]:
    return sorted(c.last_name for c in contacts)


def test_sales_decision_makers_are_exactly_the_deciders_and_budget_holders(
    deciders: Any, people: Any, cast: Any
) -> None:
    found = selectors.persona_contacts(viewer=cast.admin, persona=deciders)

    # Moreau only influences, Fabre's role is unknown, Blanc is a manager, Petit is in IT.
    assert last_names(found) == ["Durand", "Roux"]


def test_an_unknown_buying_role_is_empty(people: Any, cast: Any) -> None:
    unknown = persona_create(
        actor=cast.marketer, channel="ui", name="Role unknown", rule=ROLE_UNKNOWN
    )

    found = selectors.persona_contacts(viewer=cast.admin, persona=unknown)

    assert last_names(found) == ["Fabre"]


def test_a_contact_whose_role_changes_joins_the_persona(
    deciders: Any, people: Any, cast: Any
) -> None:
    moreau = people["Moreau"]
    assert selectors.contact_personas(moreau) == []

    contact_update(
        contact=moreau,
        actor=cast.ae,
        channel="ui",
        data={"buying_role": "economic_buyer"},
        expected_version=moreau.version,
    )

    assert [p.name for p in selectors.contact_personas(moreau)] == ["Sales decision makers"]
    found = selectors.persona_contacts(viewer=cast.admin, persona=deciders)
    assert last_names(found) == ["Durand", "Moreau", "Roux"]


def test_an_ae_sees_only_the_deciders_of_their_team(
    deciders: Any, people: Any, cast: Any, team_private: Any
) -> None:
    found = selectors.persona_contacts(viewer=fresh(cast.ae), persona=deciders)

    assert last_names(found) == ["Durand"]  # Roux belongs to Olivier's Beta


def test_the_persona_page_names_the_roles_and_shows_each_contact_s_role(
    client_for: Any, deciders: Any, people: Any, cast: Any
) -> None:
    html = (
        client_for(cast.marketer)
        .get(reverse("profiles:persona_detail", args=[deciders.code]))
        .content.decode()
    )

    assert (
        'id="persona-rule">Function is Sales and seniority is one of Director / VP, Executive '
        "(C-level, owner) and buying role is one of Decision maker, Economic buyer</span>"
    ) in html
    assert re.search(r'id="persona-count">2<', html)
    rows = re.findall(r'<tr data-contact="\d+">(.*?)</tr>', html)
    roles = {
        re.findall(r">([^<]*)</a>", row)[0]: re.findall(r"<td>([^<]*)</td>", row) for row in rows
    }
    assert roles["Durand"][-1] == "Decision maker"
    assert roles["Roux"][-1] == "Economic buyer"
