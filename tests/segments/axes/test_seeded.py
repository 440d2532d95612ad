"""Seed 002's axes come with every Cible, and put real organisations where a person expects."""

from __future__ import annotations

from typing import Any

import pytest

from cible.segments import rules
from cible.segments.axes import selectors, services
from cible.segments.axes.models import Axis, Segment
from tests import factories
from tests.segments.axes.conftest import placed

pytestmark = pytest.mark.django_db


def test_seed_002_axes_exist_with_their_segments_in_order() -> None:
    axes = {
        axis.code: [s.code for s in axis.segments.order_by("position")]
        for axis in Axis.objects.order_by("position")
    }
    assert axes == {
        "geography": ["paca", "paris", "lyon", "lille", "other-france", "europe", "world"],
        "size": ["tpe", "pme", "eti", "large-group"],
        "sales-team": ["up-to-3", "4-10", "11-20", "over-20"],
        "installed-crm": ["salesforce", "sugarcrm", "sage-crm", "hubspot", "other-crm", "no-crm"],
        "target-sectors": ["software", "consulting", "engineering", "training", "industry"],
    }
    assert all(axis.exclusive for axis in Axis.objects.all())
    assert Segment.objects.filter(kind="rule").count() == 26


def test_seeded_rules_are_valid_and_read_well(cast: Any) -> None:
    for segment in Segment.objects.all():
        rules.parse(segment.rule, level="organisation")
    size = {s.segment.code: s for a in selectors.axis_list(viewer=cast.admin) for s in a.segments}
    assert size["pme"].description == "Size is SME (PME, 10–249)"
    assert size["4-10"].description == "Sales team size is between 4 and 10"
    assert size["lille"].description == (
        "Region is Hauts-de-France and postal code starts with “59”"
    )
    assert size["no-crm"].description == "Installed product categories does not include “CRM”"


def test_seeded_names_are_shown_in_the_users_language() -> None:
    from django.utils import translation

    axis = Axis.objects.get(code="sales-team")
    with translation.override("en"):
        assert axis.display_name == "Sales-team size"
    assert axis.name == "Sales-team size"  # stored in English, translated when shown


def test_real_organisations_land_in_the_segments_a_person_expects(cast: Any, products: Any) -> None:
    def org(name: str, **data: Any) -> Any:
        return factories.organisation(cast.ae, legal_name=name, **data)

    acme = org(
        "Acme",
        postal_code="59000",
        city="Lille",
        headcount=42,
        sales_team_size=12,
        naf_code="62.01Z",
        installed_products=["Salesforce", "HubSpot"],
    )
    calanques = org(
        "Calanques Conseil",
        postal_code="13002",
        city="Marseille",
        headcount=8,
        sales_team_size=3,
        naf_code="70.22Z",
        installed_products=["Pipedrive", "Mailchimp"],
    )
    gones = org(
        "Gones Formation", postal_code="69003", city="Lyon", headcount=300, naf_code="85.59A"
    )
    alpes = org(
        "Alpes Usinage", postal_code="38000", city="Grenoble", headcount=5200, naf_code="25.62B"
    )
    berlin = org(
        "Berliner Software", country="DE", postal_code="10115", city="Berlin", sales_team_size=21
    )
    boston = org("Boston Data", country="US", city="Boston", installed_products=["Mailchimp"])

    assert placed(acme) == {
        "geography": "lille",
        "size": "pme",
        "sales-team": "11-20",
        "installed-crm": "salesforce",  # exclusive: Salesforce comes before HubSpot
        "target-sectors": "software",
    }
    assert placed(calanques) == {
        "geography": "paca",
        "size": "tpe",
        "sales-team": "up-to-3",  # 3 itself: "3 or fewer"
        "installed-crm": "other-crm",
        "target-sectors": "consulting",
    }
    assert placed(gones) == {
        "geography": "lyon",
        "size": "eti",
        "installed-crm": "no-crm",
        "target-sectors": "training",
    }
    assert placed(alpes) == {
        "geography": "other-france",  # in Auvergne-Rhône-Alpes, but not in the Rhône
        "size": "large-group",
        "installed-crm": "no-crm",
        "target-sectors": "industry",
    }
    assert placed(berlin) == {
        "geography": "europe",
        "sales-team": "over-20",
        "installed-crm": "no-crm",
    }
    assert placed(boston) == {"geography": "world", "installed-crm": "no-crm"}

    # A full rebuild finds the same, and keeps the counts.
    run = services.membership_rebuild(channel="cli")
    assert run.status == "done" and run.segments_done == 26
    assert run.rows_added == run.rows_removed == 0
    assert placed(acme)["installed-crm"] == "salesforce"
    assert Segment.objects.get(code="no-crm").member_count == 4
