"""A rule's SQL finds exactly the records its Python evaluation accepts (issue 5, "Bad input").

Random bases (organisations, contacts, installed products, opportunities, segment membership) are
written to the test database — SQLite or PostgreSQL, whichever the suite runs on — and random
valid rules are checked both ways: `Organisation.objects.filter(to_q(rule))` against
`matches(rule, record)` for each record as the incremental refresh reads it.
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cible.core.roles import Role
from cible.people.models import CompetitorProduct, Contact, Organisation
from cible.people.services import user_create
from cible.pipeline.models import Opportunity
from cible.segments import rules
from cible.segments.axes.models import Axis, Membership, Segment
from cible.segments.axes.records import organisation_records
from tests.segments.rules import strategies as s

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """Two owners, the product pool and two manual segments for the `segment` pseudo-field."""
    owners = [user_create(username=f"owner{i}", password=None, role=Role.AE).pk for i in (1, 2)]
    products = [
        CompetitorProduct.objects.create(name=name, category=category).pk
        for name, category in s.PRODUCTS
    ]
    axis = Axis.objects.create(code="property", name="Property", exclusive=False)
    segments = [
        Segment.objects.create(axis=axis, code=f"hand-{i}", name=f"Hand {i}", kind="manual").pk
        for i in (1, 2)
    ]
    return {"owners": owners, "products": products, "segments": segments, "axis": axis.pk}


def write(base: s.Base, world: dict[str, Any]) -> tuple[list[int], list[int]]:
    organisations = Organisation.objects.bulk_create(
        Organisation(**row) for row in base.organisations
    )
    org_ids = [o.pk for o in organisations]
    contacts = Contact.objects.bulk_create(
        Contact(
            **{k: v for k, v in row.items() if k != "organisation"},
            organisation_id=None if row["organisation"] is None else org_ids[row["organisation"]],
        )
        for row in base.contacts
    )
    through = Organisation.installed_products.through
    through.objects.bulk_create(
        through(organisation_id=org_ids[o], competitorproduct_id=world["products"][p])
        for o, p in base.products
    )
    Opportunity.objects.bulk_create(
        Opportunity(
            name="Deal",
            **{k: v for k, v in row.items() if k != "organisation"},
            organisation_id=org_ids[row["organisation"]],
        )
        for row in base.opportunities
    )
    Membership.objects.bulk_create(
        Membership(
            segment_id=world["segments"][segment],
            organisation_id=org_ids[o],
            axis_id=world["axis"],
            since=s.NOW,
        )
        for o, segment in base.memberships
    )
    return org_ids, [c.pk for c in contacts]


def contact_records(contact_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Contacts as `matches` reads them: own fields, and their organisation's record."""
    own = [f for f in rules.fields_for("contact") if not f.relation and f.kind != "segment"]
    org_fields = rules.fields_for("organisation")
    rows = Contact.objects.filter(pk__in=contact_ids).values(
        "pk", "organisation_id", *{f.lookup for f in own}
    )
    org_ids = {row["organisation_id"] for row in rows if row["organisation_id"]}
    organisations = organisation_records(org_ids, org_fields)
    return {
        row["pk"]: {
            **{f.name: row[f.lookup] for f in own},
            "organisation": organisations.get(row["organisation_id"]),
        }
        for row in rows
    }


def check(level: str, trees: list[dict[str, Any]], org_ids: list[int], contact_ids: list[int]):
    if level == "organisation":
        model: Any = Organisation
        records = organisation_records(org_ids, rules.fields_for("organisation"))
    else:
        model = Contact
        records = contact_records(contact_ids)
    for tree in trees:
        rule = rules.parse(tree, level=level)  # type: ignore[arg-type]
        expected = {pk for pk, record in records.items() if rules.matches(rule, record)}
        for correlated in (False, True):
            found = set(
                model.objects.filter(rules.to_q(rule, correlated=correlated)).values_list(
                    "pk", flat=True
                )
            )
            assert found == expected, (tree, correlated, rules.describe(rule))


@pytest.mark.parametrize("level", ["organisation", "contact"])
def test_sql_and_python_agree_on_random_rules_and_data(world: dict[str, Any], level: str) -> None:
    context = {"owners": world["owners"], "segments": world["segments"]}

    @PROPERTY
    @given(
        base=s.bases(world["owners"]),
        trees=st.lists(s.rule_trees(level, context), min_size=1, max_size=6),
    )
    def run(base: s.Base, trees: list[dict[str, Any]]) -> None:
        with time_machine.travel(s.NOW, tick=False), transaction.atomic():
            org_ids, contact_ids = write(base, world)
            check(level, trees, org_ids, contact_ids)
            transaction.set_rollback(True)

    run()
