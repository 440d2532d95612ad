"""Each staleness rule, as a query and as a Python predicate, and the two always agree."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import F

from cible.people.models import Contact, Organisation
from cible.quality.freshness import rules
from cible.quality.freshness.rules import CONTACT, ORGANISATION, Rules
from cible.quality.freshness.tally import closed_organisations
from tests.quality.freshness.conftest import TODAY, Base

pytestmark = pytest.mark.django_db

POLICIES = {
    "default": Rules(),
    "strict": Rules(
        organisation_max_age_days=30, contact_max_age_days=7, never_verified_grace_days=0
    ),
    "lenient": Rules(
        organisation_max_age_days=1000,
        contact_max_age_days=1000,
        never_verified_grace_days=365,
        email_bounced=False,
        contact_left=False,
        organisation_closed=False,
    ),
}


def stale_by_query(
    entity: str, policy: Rules, as_of: dt.date, closed: Any = None
) -> dict[str, set[int]]:
    model = Organisation if entity == ORGANISATION else Contact
    return {
        reason: set(model.objects.filter(condition).values_list("pk", flat=True))
        for reason, condition in rules.reason_conditions(policy, entity, as_of, closed).items()
    }


def stale_by_predicate(entity: str, policy: Rules, as_of: dt.date) -> dict[str, set[int]]:
    if entity == ORGANISATION:
        rows: Any = Organisation.objects.values()
    else:
        rows = Contact.objects.annotate(organisation_status=F("organisation__status")).values()
    found: dict[str, set[int]] = {r: set() for r in policy.active_reasons(entity)}
    for row in rows:
        for reason in rules.reasons_of(policy, entity, as_of, row):
            found[reason].add(row["id"])
    return found


def names(model: type[Any], pks: set[int]) -> set[str]:
    return {str(r) for r in model.objects.filter(pk__in=pks)}


def test_each_reason_finds_the_records_it_describes(base: Base) -> None:
    orgs = stale_by_query(ORGANISATION, Rules(), TODAY)
    assert names(Organisation, orgs["age"]) == {"Ancienne SARL", "Lyonnaise SA"}
    assert names(Organisation, orgs["never"]) == {"Jamais SA"}  # not "Nouvelle SAS": 5 days old
    assert names(Organisation, orgs["closed"]) == {"Fermée SAS"}
    contacts = stale_by_query(CONTACT, Rules(), TODAY)
    assert names(Contact, contacts["age"]) == set()
    assert names(Contact, contacts["never"]) == {"Lyonnais"}
    # Bounced after its last check; the other one was checked again after its bounce.
    assert names(Contact, contacts["bounced"]) == {"Rebond"}
    assert names(Contact, contacts["left"]) == {"Parti"}
    assert names(Contact, contacts["closed"]) == {"Ferme"}  # works at a closed organisation


def test_switched_off_reasons_are_not_applied(base: Base) -> None:
    lenient = POLICIES["lenient"]
    assert lenient.active_reasons(CONTACT) == ("age", "never")
    contacts = stale_by_query(CONTACT, lenient, TODAY)
    assert set(contacts) == {"age", "never"}
    assert names(Contact, contacts["never"]) == set()  # 300 days old, grace of 365
    assert rules.reason_conditions(lenient, ORGANISATION, TODAY).keys() == {"age", "never"}


@pytest.mark.parametrize("policy_name", list(POLICIES))
@pytest.mark.parametrize("entity", [ORGANISATION, CONTACT])
@pytest.mark.parametrize("days_back", [0, 15, 250])
def test_query_and_predicate_agree(
    base: Base, policy_name: str, entity: str, days_back: int
) -> None:
    policy = POLICIES[policy_name]
    as_of = TODAY - dt.timedelta(days=days_back)
    expected = stale_by_predicate(entity, policy, as_of)
    assert stale_by_query(entity, policy, as_of) == expected
    # The same with closed organisations given as a subquery (what the tally uses).
    assert stale_by_query(entity, policy, as_of, closed_organisations()) == expected


def test_a_past_day_ignores_later_checks_and_bounces(base: Base) -> None:
    fifteen_days_ago = TODAY - dt.timedelta(days=15)
    contacts = stale_by_query(CONTACT, Rules(), fifteen_days_ago)
    # Rebond's bounce (5 days ago) had not happened yet; Revu's re-check (10 days ago) had not
    # happened either, so its bounce of 60 days ago still counted then.
    assert names(Contact, contacts["bounced"]) == {"Revu"}
    orgs = stale_by_query(ORGANISATION, Rules(), fifteen_days_ago)
    # Fraîche (verified 10 days ago) counted as never verified on that day.
    assert "Fraîche SAS" in names(Organisation, orgs["never"])


def test_completeness_query_and_predicate_agree(base: Base) -> None:
    for entity, model in ((ORGANISATION, Organisation), (CONTACT, Contact)):
        by_query = set(
            model.objects.filter(rules.incomplete_condition(entity)).values_list("pk", flat=True)
        )
        by_predicate = {
            row["id"] for row in model.objects.values() if rules.missing_fields(entity, row)
        }
        assert by_query == by_predicate
    fresh = Organisation.objects.values().get(pk=base.fresh_org.pk)
    assert rules.missing_fields(ORGANISATION, fresh) == []
    foreign = {**fresh, "country": "BE", "siren": ""}
    assert rules.missing_fields(ORGANISATION, foreign) == []  # a SIREN is for French ones
    assert rules.missing_fields(ORGANISATION, {**fresh, "siren": ""}) == ["siren"]


def test_moments_count_whole_days_in_local_time() -> None:
    m = rules.moments(Rules(organisation_max_age_days=365), ORGANISATION, dt.date(2026, 6, 15))
    assert m.horizon.isoformat() == "2026-06-16T00:00:00+02:00"
    assert m.age_cutoff.isoformat() == "2025-06-15T00:00:00+02:00"
    assert m.never_cutoff.isoformat() == "2026-03-17T00:00:00+01:00"
