"""Shared helpers of the axes tests: the installed-product list and where an organisation sits."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people.models import CompetitorProduct
from cible.segments.axes.models import Segment

# (name, vendor, category), as the demo's reference list has them.
PRODUCTS = (
    ("Salesforce", "Salesforce", "CRM"),
    ("SugarCRM", "SugarCRM", "CRM"),
    ("Sage CRM", "Sage", "CRM"),
    ("HubSpot", "HubSpot", "CRM"),
    ("Pipedrive", "Pipedrive", "CRM"),
    ("Mailchimp", "Intuit", "Marketing automation"),
)


@pytest.fixture
def products(db: Any) -> dict[str, CompetitorProduct]:
    return {
        name: CompetitorProduct.objects.create(name=name, vendor=vendor, category=category)
        for name, vendor, category in PRODUCTS
    }


def placed(organisation: Any) -> dict[str, str]:
    """axis code -> segment code, for every segment the organisation is in."""
    return dict(
        Segment.objects.filter(memberships__organisation=organisation).values_list(
            "axis__code", "code"
        )
    )


def segment(axis: str, code: str) -> Segment:
    return Segment.objects.select_related("axis").get(axis__code=axis, code=code)
