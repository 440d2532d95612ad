"""Records shared by the interaction tests: an account of the Paris team and its people."""

from __future__ import annotations

from typing import Any

import pytest

from cible.engagement.campaigns.models import Campaign
from tests import factories


@pytest.fixture
def acme(cast: Any) -> Any:
    return factories.organisation(cast.ae, legal_name="Acme", website="https://acme.example")


@pytest.fixture
def jeanne(cast: Any, acme: Any) -> Any:
    return factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne.dupont@acme.example",
        organisation=acme.pk,
    )


@pytest.fixture
def webinar(cast: Any) -> Campaign:
    # Campaign services belong to another app; the row is all these tests need.
    return Campaign.objects.create(
        name="Webinar CRM 2026",
        type="webinar",
        utm_campaign="crm-webinar-2026",
        owner=cast.marketer,
    )
