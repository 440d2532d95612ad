"""Targets by buying role: seed 002's accounts (Salesforce, sales team 11–20 or > 20, Lille or
Paris), and in them the people who decide — over the world of `world.py`, with roles given."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people.services import contact_update
from cible.segments.targets import selectors
from cible.segments.targets.services import target_create
from tests.segments.targets.world import Base, fresh, seed_002_definition

pytestmark = pytest.mark.django_db

DECIDERS = {
    "match": "all",
    "conditions": [
        {"field": "buying_role", "op": "in", "value": ["decision_maker", "economic_buyer"]}
    ],
}
ROLE_KNOWN = {"match": "all", "conditions": [{"field": "buying_role", "op": "is_not_empty"}]}


@pytest.fixture
def roles(cast: Any, base: Base) -> Base:
    """Nora (Nordis) decides, Paul (Parisia) influences, Pierre (Parisia, IT) evaluates, Lucie
    (Lyon: outside the seed-002 accounts) decides; Nadia's role is unknown."""
    for contact, role in (
        (base.nora, "decision_maker"),
        (base.paul, "influencer"),
        (base.pierre, "evaluator"),
        (base.lucie, "decision_maker"),
    ):
        contact_update(contact=contact, actor=cast.admin, channel="ui", data={"buying_role": role})
    return base


def names(records: Any) -> list[str]:
    return sorted(str(r.legal_name if hasattr(r, "legal_name") else r.last_name) for r in records)


def test_a_contact_target_counts_the_deciders_of_the_seed_002_accounts(
    cast: Any, roles: Base
) -> None:
    target = target_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Seed 002 deciders",
            "level": "contact",
            "definition": {**seed_002_definition(), "contact": DECIDERS},
        },
    )

    counted = selectors.target_count(viewer=cast.admin, target=target)

    assert (counted.count, counted.level, counted.finished) == (1, "contact", True)
    assert names(selectors.target_resolve(target=target)) == ["Nora"]


def test_without_accounts_every_decider_counts(cast: Any, roles: Base) -> None:
    definition = {"contact": DECIDERS}

    counted = selectors.target_count(viewer=cast.admin, definition=definition, level="contact")

    assert counted.count == 2
    found = selectors.target_queryset(viewer=cast.admin, definition=definition, level="contact")
    assert names(found) == ["Lucie", "Nora"]


def test_a_known_role_is_not_empty(cast: Any, roles: Base) -> None:
    definition = {**seed_002_definition(), "contact": ROLE_KNOWN}

    found = selectors.target_queryset(viewer=cast.admin, definition=definition, level="contact")

    assert names(found) == ["Nora", "Paul", "Pierre"]  # not Nadia, whose role is unknown


def test_an_organisation_target_finds_accounts_with_an_evaluator(cast: Any, roles: Base) -> None:
    definition = {
        **seed_002_definition(),
        "organisation": {
            "match": "all",
            "conditions": [{"field": "contacts.buying_role", "op": "in", "value": ["evaluator"]}],
        },
    }

    counted = selectors.target_count(viewer=cast.admin, definition=definition)

    assert counted.count == 1
    assert names(selectors.target_queryset(viewer=cast.admin, definition=definition)) == ["Parisia"]


def test_an_ae_counts_only_the_deciders_they_may_see(
    cast: Any, roles: Base, team_private: Any
) -> None:
    """Parisia and Paul belong to Olivier (AE Lyon), Lucie to Basile (AE Paris, Alice's team)."""
    definition = {"contact": ROLE_KNOWN}
    alice = fresh(cast.ae)

    assert selectors.target_count(viewer=alice, definition=definition, level="contact").count == 2
    found = selectors.target_queryset(viewer=alice, definition=definition, level="contact")
    assert names(found) == ["Lucie", "Nora"]
