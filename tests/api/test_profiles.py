"""/api/v1/profiles and /api/v1/organisations/{pk}/fit: ICP scores, explained."""

from __future__ import annotations

from typing import Any

import pytest

from cible.segments.profiles.compute import fit_scores_compute
from cible.segments.profiles.services import profile_create
from tests.api.conftest import assert_error_shape
from tests.segments.targets.world import Base, make_base

SALESFORCE = {
    "match": "all",
    "conditions": [{"field": "installed_products", "op": "any_of", "value": ["Salesforce"]}],
}
BIG_SALES_TEAM = {
    "match": "all",
    "conditions": [{"field": "sales_team_size", "op": "gt", "value": 10}],
}
IN_LILLE = {"match": "all", "conditions": [{"field": "city", "op": "equals", "value": "Lille"}]}


@pytest.fixture
def base(cast: Any) -> Base:
    return make_base(cast)


@pytest.fixture
def conquest(cast: Any, base: Base) -> Any:
    profile = profile_create(
        actor=cast.marketer,
        channel="ui",
        name="Conquest",
        code="conquest",
        criteria=[
            {"label": "Salesforce installed", "rule": SALESFORCE, "weight": 3},
            {"label": "Sales team over 10", "rule": BIG_SALES_TEAM, "weight": 2},
            {"label": "In Lille", "rule": IN_LILLE, "weight": 1},
        ],
    )
    fit_scores_compute(profile=profile)
    return profile


def test_profiles_with_their_criteria(api_for: Any, cast: Any, conquest: Any) -> None:
    profiles = api_for(cast.ae).get("/profiles").json()
    assert [(p["code"], p["purpose"], p["is_active"]) for p in profiles] == [
        ("conquest", "conquest", True)
    ]
    criteria = profiles[0]["criteria"]
    assert [(c["label"], c["weight"]) for c in criteria] == [
        ("Salesforce installed", 3),
        ("Sales team over 10", 2),
        ("In Lille", 1),
    ]
    assert "Salesforce" in criteria[0]["rule_text"]
    assert api_for(cast.ae).get(f"/profiles/{conquest.pk}").json()["name"] == "Conquest"
    assert_error_shape(api_for(cast.ae).get("/profiles/999999"), 404)


def test_scores_best_first_and_paged(api_for: Any, cast: Any, base: Base, conquest: Any) -> None:
    api = api_for(cast.admin)
    first = api.get(f"/profiles/{conquest.pk}/scores", limit=3, count="true").json()
    # Nordis meets all three (100); Parisia and Lugdunum Salesforce and the team (83), oldest
    # first on a tie; Petit Lille Salesforce and Lille (67); Roubaix and Hubert the team (33).
    assert [(s["organisation_name"], s["score"]) for s in first["items"]] == [
        ("Nordis", 100),
        ("Parisia", 83),
        ("Lugdunum", 83),
    ]
    assert first["count"] == 6
    rest = api.get(f"/profiles/{conquest.pk}/scores", limit=3, cursor=first["next_cursor"]).json()
    assert [(s["organisation_name"], s["score"]) for s in rest["items"]] == [
        ("Petit Lille", 67),
        ("Hubert", 33),
        ("Roubaix Sage", 33),
    ]
    high = api.get(f"/profiles/{conquest.pk}/scores", min_score=80).json()
    assert len(high["items"]) == 3
    assert_error_shape(api.get(f"/profiles/{conquest.pk}/scores", cursor="forged"), 422)


def test_scores_of_other_teams_private_organisations_are_not_listed(
    api_for: Any, cast: Any, base: Base, conquest: Any, team_private: Any
) -> None:
    items = api_for(cast.outsider).get(f"/profiles/{conquest.pk}/scores").json()["items"]
    assert [s["organisation_name"] for s in items] == ["Parisia", "Roubaix Sage"]


def test_the_fit_of_an_organisation_explains_itself(
    api_for: Any, cast: Any, base: Base, conquest: Any
) -> None:
    body = api_for(cast.ae).get(f"/organisations/{base.roubaix.pk}/fit").json()
    assert body["organisation"] == base.roubaix.pk
    (fit,) = body["profiles"]
    assert fit["profile"]["code"] == "conquest"
    assert (fit["score"], fit["stored_score"]) == (33, 33)
    assert [(c["label"], c["matched"], c["points"]) for c in fit["contributions"]] == [
        ("Salesforce installed", False, 0),
        ("Sales team over 10", True, 33),
        ("In Lille", False, 0),
    ]
    assert fit["text"].startswith("33/100")


def test_the_fit_of_a_hidden_organisation_is_a_404(
    api_for: Any, cast: Any, base: Base, conquest: Any, team_private: Any
) -> None:
    assert_error_shape(api_for(cast.ae).get(f"/organisations/{base.parisia.pk}/fit"), 404)
