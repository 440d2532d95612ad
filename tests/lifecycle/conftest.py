"""Leads for the lifecycle tests: Dupont at Acme (owned by Alice, an AE on "AE Paris") and the
agreed definitions a team would start from (seed 004 §2–3)."""

from __future__ import annotations

from typing import Any

import pytest

from cible.lifecycle.leads import services
from cible.lifecycle.leads.definitions import seed_texts
from tests import factories
from tests.api.conftest import api_for  # noqa: F401  (the API tests' client, per user)


def agree(stage: str, text: str, criteria: dict[str, Any], cast: Any) -> Any:
    """Write a version and have Marie (Marketing) and Sam (Sales) approve it."""
    definition = services.write_definition(
        stage=stage, text=text, criteria=criteria, actor=cast.marketer
    )
    services.approve_definition(definition=definition, actor=cast.marketer, side="marketing")
    return services.approve_definition(definition=definition, actor=cast.manager, side="sales")


@pytest.fixture
def agreed(cast: Any) -> dict[str, Any]:
    """The seed's MQL, SAL and SQL definitions, agreed by both sides."""
    return {stage: agree(stage, text, rule, cast) for stage, text, rule in seed_texts()}


@pytest.fixture
def acme(cast: Any) -> Any:
    return factories.organisation(cast.ae, legal_name="Acme Industrie")


@pytest.fixture
def dupont(cast: Any, acme: Any) -> Any:
    return factories.contact(cast.ae, first_name="Jeanne", last_name="Dupont", organisation=acme.pk)


@pytest.fixture
def lead(cast: Any, dupont: Any) -> Any:
    return services.open_lead(
        contact=dupont, source="website", stage="prospect", actor=cast.ae, channel="ui"
    )


def scored(lead: Any, profile: int | None, engagement: int | None, grade: str = "") -> Any:
    """Scores as the scoring app would have written them."""
    type(lead).objects.filter(pk=lead.pk).update(
        profile_score=profile, engagement_score=engagement, grade=grade
    )
    lead.refresh_from_db()
    return lead
