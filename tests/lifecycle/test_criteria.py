"""The rule part of a definition: its shape, and what a lead misses (Python and SQL agree)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cible.core.errors import ValidationFailed
from cible.lifecycle.leads import criteria
from cible.lifecycle.leads.models import Lead

SQL = {
    "bant": {
        "budget": ["planned", "approved"],
        "authority": ["decision_maker", "influencer"],
        "need": ["identified", "critical"],
        "timing": ["within_quarter", "within_half"],
    }
}


def fields(**values):
    base = dict(
        profile_score=None,
        engagement_score=None,
        grade="",
        budget="",
        authority="",
        need="",
        timing="",
    )
    return SimpleNamespace(**{**base, **values})


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"min_profile_score": 120}, "criteria.min_profile_score", "from 0 to 100"),
        ({"min_profile_score": "60"}, "criteria.min_profile_score", "whole number"),
        ({"min_engagement_score": True}, "criteria.min_engagement_score", "whole number"),
        ({"colour": "red"}, "criteria.colour", "unknown key"),
        ({"grades": []}, "criteria.grades", "can never hold"),
        ({"grades": ["A1", "A1"]}, "criteria.grades", "twice"),
        ({"grades": ["top"]}, "criteria.grades", "top: a grade is"),
        ({"bant": {"mood": ["good"]}}, "criteria.bant.mood", "unknown"),
        ({"bant": {"budget": ["huge"]}}, "criteria.bant.budget", "huge: not a value"),
        ({"bant": {"budget": []}}, "criteria.bant.budget", "can never hold"),
        ({"bant": ["budget"]}, "criteria.bant", "object"),
        (["min_profile_score"], "criteria", "JSON object"),
    ],
)
def test_bad_criteria_name_the_key(raw, field, words) -> None:
    with pytest.raises(ValidationFailed) as caught:
        criteria.validate(raw)
    assert any(e.field == field and words in e.message for e in caught.value.errors), (
        caught.value.errors
    )


def test_good_criteria_pass_through() -> None:
    rule = {"min_profile_score": 60, "min_engagement_score": 40, "grades": ["A1", "B2"], **SQL}
    assert criteria.validate(rule) == rule
    assert criteria.validate(None) == {}


def test_missing_lists_each_gap_with_the_current_value() -> None:
    rule = {"min_profile_score": 60, "min_engagement_score": 40, "grades": ["A1"]}
    gaps = criteria.missing(rule, fields(profile_score=45, grade="B2"))
    assert gaps == [
        "profile score 60 or more (now 45)",
        "engagement score 40 or more (not scored yet)",
        "grade A1 (now B2)",
    ]
    gaps = criteria.missing(SQL, fields(budget="approved", authority="none", need="critical"))
    assert gaps == [
        "authority: Decides or signs, Influences the decision (now No say in the decision)",
        "timing: Within 3 months, 3 to 6 months (now Unknown)",
    ]
    assert criteria.missing({}, fields()) == []


@pytest.mark.django_db
def test_the_sql_filter_agrees_with_the_python_verdict() -> None:
    rule = {"min_profile_score": 60, "grades": ["A1", "A2"], "bant": {"budget": ["approved"]}}
    samples = [
        dict(profile_score=70, grade="A1", budget="approved"),
        dict(profile_score=59, grade="A1", budget="approved"),
        dict(profile_score=None, grade="A2", budget="approved"),
        dict(profile_score=90, grade="B1", budget="approved"),
        dict(profile_score=90, grade="A2", budget="planned"),
        dict(profile_score=60, grade="A2", budget="approved"),
    ]
    leads = Lead.objects.bulk_create(Lead(source="import", **values) for values in samples)
    by_sql = set(Lead.objects.filter(criteria.as_q(rule)).values_list("pk", flat=True))
    by_python = {lead.pk for lead in leads if not criteria.missing(rule, lead)}
    assert by_sql == by_python == {leads[0].pk, leads[5].pk}
