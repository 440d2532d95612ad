"""Conditions: checked with errors named by path, compiled into predicates over plain values."""

from __future__ import annotations

import pytest

from cible.routing.assignment import conditions
from cible.routing.assignment.conditions import LeadFacts


def test_every_problem_is_named_by_its_path() -> None:
    rule = {
        "match": "all",
        "conditions": [
            {"field": "sorce", "op": "in", "value": ["website"]},
            {"field": "grade", "op": "in", "value": ["A1", "Z9"]},
            {"field": "profile_score", "op": "gte", "value": 140},
            {"field": "stage", "op": "gte", "value": "mql"},
            {"match": "any", "conditions": []},
            {"field": "probability", "op": "between", "value": [60, 20]},
            {"field": "target", "op": "in", "value": ["abc"]},
        ],
    }
    with pytest.raises(conditions.ConditionsInvalid) as caught:
        conditions.parse(rule)
    errors = {e.field: e.message for e in caught.value.errors}
    assert errors["conditions.conditions.0.field"].startswith("unknown field “sorce”: use source")
    assert "“Z9” is not a grade" in errors["conditions.conditions.1.value"]
    assert errors["conditions.conditions.2.value"] == "profile score runs from 0 to 100, not 140"
    assert "“gte” does not apply to stage" in errors["conditions.conditions.3.op"]
    assert "no condition" in errors["conditions.conditions.4.conditions"]
    assert "low end 60.0 is above the high end" in errors["conditions.conditions.5.value"]
    assert "“abc” is not one" in errors["conditions.conditions.6.value"]
    assert len(errors) == 7


def test_compiled_rule_gives_the_expected_answer_for_each_lead() -> None:
    # Paris inbound: (website or event) and grade A*, and (score ≥ 60 or in target 7), not Lyon.
    group = conditions.parse(
        {
            "match": "all",
            "conditions": [
                {"field": "source", "op": "in", "value": ["Website", "event"]},
                {"field": "grade", "op": "in", "value": ["A1", "A2"]},
                {
                    "match": "any",
                    "conditions": [
                        {"field": "profile_score", "op": "gte", "value": "60"},
                        {"field": "target", "op": "in", "value": [7]},
                    ],
                },
                {"field": "region", "op": "not_in", "value": ["FR-ARA"]},
            ],
        }
    )
    match = conditions.compile_rule(group)
    hot = LeadFacts(id=1, source="website", grade="A1", profile_score=75, region="FR-IDF")
    targeted = LeadFacts(
        id=2, source="event", grade="A2", profile_score=None, targets=frozenset({7})
    )
    lyon = LeadFacts(id=3, source="website", grade="A1", profile_score=90, region="FR-ARA")
    cold = LeadFacts(id=4, source="website", grade="A1", profile_score=59)
    referral = LeadFacts(id=5, source="referral", grade="A1", profile_score=90)
    assert [match(f) for f in (hot, targeted, lyon, cold, referral)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert conditions.describe(group, names={("target", 7): "Lille Salesforce 11–20"}) == (
        "source is one of Website, Event or trade show and grade is one of A1, A2 and "
        "(profile score is at least 60 or target is one of Lille Salesforce 11–20) and "
        "region is none of Auvergne-Rhône-Alpes"
    )


def test_an_empty_rule_matches_every_lead_and_is_empty_tests_missing_values() -> None:
    assert conditions.compile_rule(conditions.parse({}))(LeadFacts(id=1))
    unscored = conditions.compile_rule(
        conditions.parse({"conditions": [{"field": "engagement_score", "op": "is_empty"}]})
    )
    assert unscored(LeadFacts(id=1)) and not unscored(LeadFacts(id=2, engagement_score=0))
