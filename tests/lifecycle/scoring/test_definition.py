"""A scoring model's rules are checked before they are saved: every mistake is named where it is."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cible.core.errors import ValidationFailed
from cible.lifecycle.scoring.definition import BANT_CHOICES, KindRule, parse
from cible.lifecycle.scoring.engine import SOURCES, LeadFacts, codes, score

MODEL = {
    "fit": {
        "icp": {"profile": 1, "weight": 40},
        "personas": [{"persona": 7, "points": 20}],
        "segments": [{"segment": 3, "points": -10}],
        "sources": {"referral": 10},
    },
    "bant": {"budget": {"approved": 15, "none": -20}, "timing": {"within_quarter": 10}},
    "behaviour": {
        "half_life_days": 30,
        "kinds": {"web_visit": {"points": 2, "cap": 10}, "demo_request": {"points": 40, "cap": 40}},
    },
    "grades": {"profile": {"A": 70, "B": 40}, "engagement": {"1": 60, "2": 30}},
}


def errors_of(definition: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse(definition)
    return {e.field: e.message for e in caught.value.errors}


def test_a_valid_model_is_read_in_order() -> None:
    rules = parse(MODEL)
    assert rules.icp == 1 and rules.icp_weight == 40
    assert rules.personas == ((7, 20.0),)
    assert rules.segments == ((3, -10.0),)
    assert dict(rules.bant["budget"]) == {"approved": 15.0, "none": -20.0}
    assert list(rules.kinds) == ["web_visit", "demo_request"]
    assert rules.kinds["web_visit"] == KindRule(points=2, cap=10)


def test_contradictory_grade_bands_are_refused_where_they_are() -> None:
    bad = {**MODEL, "grades": {"profile": {"A": 40, "B": 70}}}
    assert errors_of(bad) == {"grades.profile.B": "“B” must start below “A” (70.0 ≥ 40.0)."}


def test_a_cap_below_one_interaction_is_refused() -> None:
    bad = {**MODEL, "behaviour": {"kinds": {"call": {"points": 15, "cap": 5}}}}
    assert errors_of(bad) == {
        "behaviour.kinds.call.cap": "The cap (5.0) is below the points of one interaction (15.0)."
    }


def test_every_mistake_is_listed_at_once() -> None:
    bad = {
        "fit": {"personas": [{"persona": 2, "points": 5}, {"persona": 2, "points": 9}]},
        "bant": {"budget": {"huge": 5}, "mood": {}},
        "behaviour": {"half_life_days": 0, "kinds": {"telepathy": {"points": 1}}},
        "colour": "blue",
    }
    found = errors_of(bad)
    assert found["fit.personas.1.persona"] == "Listed twice."
    assert found["bant.budget.huge"].startswith("“huge” is not one of: none, planned, approved")
    assert found["bant.mood"] == "Unknown entry “mood”."
    assert found["behaviour.half_life_days"] == "Enter a number from 0.5 to 3650."
    assert found["behaviour.kinds.telepathy"] == "“telepathy” is not a kind of interaction."
    assert found["colour"] == "Unknown entry “colour”."


@pytest.mark.parametrize("points", ["ten", True, float("nan"), 101, None])
def test_points_must_be_numbers_within_a_hundred(points: Any) -> None:
    bad = {"bant": {"need": {"critical": points}}}
    assert "bant.need.critical" in errors_of(bad)


def facts(**overrides: Any) -> LeadFacts:
    """One lead: fit 80, the persona, outside the segment, referral, budget approved, timing
    unknown, three web visits (today, one and two half-lives ago), a demo request one half-life
    ago."""
    values: dict[str, Any] = {
        "lead_ids": np.array([11]),
        "icp_fit": np.array([80.0]),
        "personas": np.array([[True]]),
        "segments": np.array([[False]]),
        "bant": {
            name: codes(["approved" if name == "budget" else ""], choices)
            for name, choices in BANT_CHOICES.items()
        },
        "source": codes(["referral"], SOURCES),
        "decayed": np.array([[1 + 0.5 + 0.25, 0.5]]),
    }
    values.update(overrides)
    return LeadFacts(**values)


def test_scores_add_up_from_their_parts() -> None:
    scores = score(facts(), parse(MODEL))
    # 80 × 40 % + persona 20 + referral 10 + budget 15 = 77 → A;
    # visits 2 × 1.75 = 3.5, demo 40 × 0.5 = 20 → 23.5 → 24 → 3.
    assert scores.row(0) == {
        "icp": 32.0,
        "persona:7": 20.0,
        "source": 10.0,
        "bant:budget": 15.0,
        "kind:web_visit": 3.5,
        "kind:demo_request": 20.0,
    }
    assert (int(scores.profile[0]), int(scores.engagement[0]), scores.grades[0]) == (77, 24, "A3")


def test_caps_and_clamps_bound_the_scores() -> None:
    busy = facts(
        decayed=np.array([[40.0, 3.0]]),  # forty fresh visits, three demo requests
        segments=np.array([[True]]),
        bant={n: codes(["none" if n == "budget" else ""], c) for n, c in BANT_CHOICES.items()},
    )
    scores = score(busy, parse(MODEL))
    row = scores.row(0)
    assert row["kind:web_visit"] == 10.0 and row["kind:demo_request"] == 40.0
    # 32 + 20 + 10 − 10 (segment) − 20 (no budget) = 32 → C; 50 → 2.
    assert (int(scores.profile[0]), int(scores.engagement[0]), scores.grades[0]) == (32, 50, "C2")


def test_an_empty_model_scores_zero() -> None:
    scores = score(facts(decayed=np.zeros((1, 0))), parse({}))
    assert scores.part_names == []
    assert (int(scores.profile[0]), int(scores.engagement[0]), scores.grades[0]) == (0, 0, "C3")
