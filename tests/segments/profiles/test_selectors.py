"""Top fits, the histogram, explanations and personas — each for a viewer, through the access
policy: with organisations private to the owner's team, an AE never sees another team's."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.errors import NotFound
from cible.segments.profiles import selectors
from cible.segments.profiles.compute import fit_scores_compute
from cible.segments.profiles.services import persona_create
from tests import factories
from tests.segments.profiles.conftest import fresh

pytestmark = pytest.mark.django_db


def names(fits: list[Any]) -> list[tuple[str, int]]:
    return [(str(f.organisation), f.score) for f in fits]


def test_top_fits_are_best_first(base: Any, conquest: Any, cast: Any) -> None:
    fit_scores_compute(profile=conquest)

    assert names(selectors.top_fits(viewer=cast.admin, profile=conquest, limit=3)) == [
        ("Omega", 100),
        ("Acme", 83),
        ("Gamma", 67),
    ]


def test_an_ae_s_top_fits_omit_organisations_of_other_teams(
    base: Any, conquest: Any, cast: Any, team_private: Any
) -> None:
    fit_scores_compute(profile=conquest)

    # Alice (AE Paris) sees her team's Acme, Delta and Gamma; Olivier's Omega and Beta are not hers.
    assert names(selectors.top_fits(viewer=fresh(cast.ae), profile=conquest, limit=10)) == [
        ("Acme", 83),
        ("Gamma", 67),
        ("Delta", 33),
    ]
    assert names(selectors.top_fits(viewer=fresh(cast.outsider), profile=conquest)) == [
        ("Omega", 100),
        ("Beta", 17),
    ]
    assert len(selectors.top_fits(viewer=fresh(cast.marketer), profile=conquest)) == 5


def test_histogram_counts_per_ten_point_band(base: Any, conquest: Any, cast: Any) -> None:
    fit_scores_compute(profile=conquest)

    bands = selectors.fit_distribution(viewer=cast.admin, profile=conquest)

    assert [b.label for b in bands][:2] == ["0–9", "10–19"]
    assert bands[-1].label == "90–100"
    assert {b.label: b.count for b in bands if b.count} == {
        "10–19": 1,  # Beta 17
        "30–39": 1,  # Delta 33
        "60–69": 1,  # Gamma 67
        "80–89": 1,  # Acme 83
        "90–100": 1,  # Omega 100
    }


def test_histogram_counts_only_what_the_viewer_may_see(
    base: Any, conquest: Any, cast: Any, team_private: Any
) -> None:
    fit_scores_compute(profile=conquest)

    bands = selectors.fit_distribution(viewer=fresh(cast.outsider), profile=conquest)

    assert {b.label: b.count for b in bands if b.count} == {"10–19": 1, "90–100": 1}


def test_explanation_of_a_hidden_organisation_is_refused(
    base: Any, conquest: Any, cast: Any, team_private: Any
) -> None:
    alice = fresh(cast.ae)
    with pytest.raises(NotFound):
        selectors.fit_explanation(viewer=alice, profile=conquest, organisation=base.omega)
    assert selectors.fit_score_of(viewer=alice, profile=conquest, organisation=base.omega) is None


def test_explanation_follows_the_current_record(base: Any, conquest: Any, cast: Any) -> None:
    explanation = selectors.fit_explanation(
        viewer=cast.ae, profile=conquest, organisation=base.gamma
    )

    assert explanation.describe() == (
        "67/100 — Salesforce installed (+50), PME (0), not in Lille (+17)"
    )


def test_organisation_fits_lists_each_active_profile(base: Any, conquest: Any, cast: Any) -> None:
    fit_scores_compute(profile=conquest)

    fits = selectors.organisation_fits(viewer=cast.ae, organisation=base.acme)

    assert [(f.profile.name, f.score) for f in fits] == [("Conquest: CRM switchers", 83)]


# --- personas ------------------------------------------------------------------------------------

SALES_DIRECTOR = {
    "match": "all",
    "conditions": [
        {"field": "function", "op": "in", "value": ["sales"]},
        {"field": "seniority", "op": "in", "value": ["director", "executive"]},
    ],
}
IT_IN_PME = {
    "match": "all",
    "conditions": [
        {"field": "function", "op": "in", "value": ["it"]},
        {"field": "organisation.size_class", "op": "in", "value": ["pme"]},
    ],
}


@pytest.fixture
def personas(cast: Any) -> tuple[Any, Any]:
    return (
        persona_create(
            actor=cast.marketer, channel="ui", name="Sales director", rule=SALES_DIRECTOR
        ),
        persona_create(actor=cast.marketer, channel="ui", name="IT lead in a PME", rule=IT_IN_PME),
    )


@pytest.fixture
def people(base: Any, cast: Any) -> dict[str, Any]:
    contact = factories.contact
    return {
        "Durand": contact(
            cast.ae,
            last_name="Durand",
            function="sales",
            seniority="director",
            organisation=base.acme.pk,
        ),
        "Roux": contact(
            cast.outsider,
            last_name="Roux",
            function="sales",
            seniority="executive",
            organisation=base.beta.pk,
        ),
        "Petit": contact(
            cast.ae,
            last_name="Petit",
            function="it",
            seniority="manager",
            organisation=base.delta.pk,
        ),
        "Leroy": contact(
            cast.outsider,
            last_name="Leroy",
            function="it",
            seniority="manager",
            organisation=base.beta.pk,  # Beta is a TPE
        ),
    }


def test_persona_contacts_match_the_rule(personas: Any, people: Any, cast: Any) -> None:
    sales_director, it_lead = personas

    found = selectors.persona_contacts(viewer=cast.admin, persona=sales_director)
    assert sorted(c.last_name for c in found) == ["Durand", "Roux"]
    found = selectors.persona_contacts(viewer=cast.admin, persona=it_lead)
    assert [c.last_name for c in found] == ["Petit"]


def test_persona_contacts_omit_contacts_the_viewer_may_not_see(
    personas: Any, people: Any, cast: Any, team_private: Any
) -> None:
    sales_director, _ = personas

    found = selectors.persona_contacts(viewer=fresh(cast.ae), persona=sales_director)

    assert [c.last_name for c in found] == ["Durand"]


def test_contact_personas_names_what_a_contact_matches(personas: Any, people: Any) -> None:
    assert [p.name for p in selectors.contact_personas(people["Durand"])] == ["Sales director"]
    assert [p.name for p in selectors.contact_personas(people["Petit"])] == ["IT lead in a PME"]
    assert selectors.contact_personas(people["Leroy"]) == []
