"""The fit-score formula alone (no database): real numbers, and explanations that add up."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cible.segments.profiles.scoring import Criterion, explain, fit_score, fit_scores

SALESFORCE = Criterion(id=1, label="Salesforce installed", weight=3)
PME = Criterion(id=2, label="PME", weight=2)
NOT_LILLE = Criterion(id=3, label="not in Lille", weight=1)
CRITERIA = [SALESFORCE, PME, NOT_LILLE]


def test_weights_3_2_1_give_the_shares_of_six():
    assert explain(CRITERIA, {1, 2, 3}).score == 100
    assert explain(CRITERIA, {1, 2}).score == 83  # 5/6 = 83.3
    assert explain(CRITERIA, {1}).score == 50
    assert explain(CRITERIA, {2}).score == 33  # 2/6 = 33.3
    assert explain(CRITERIA, {3}).score == 17  # 1/6 = 16.7
    assert explain(CRITERIA, {2, 3}).score == 50
    assert explain(CRITERIA, set()).score == 0


def test_explanation_names_each_criterion_with_its_points():
    explanation = explain(CRITERIA, {1, 2})
    assert [(c.label, c.weight, c.matched, c.points) for c in explanation.contributions] == [
        ("Salesforce installed", 3, True, 50),
        ("PME", 2, True, 33),
        ("not in Lille", 1, False, 0),
    ]
    assert explanation.describe() == (
        "83/100 — Salesforce installed (+50), PME (+33), not in Lille (0)"
    )
    assert explanation.matched_weight == 5
    assert explanation.total_weight == 6
    assert [c.label for c in explanation.missed] == ["not in Lille"]
    assert round(explanation.contributions[2].worth, 1) == 16.7


def test_rounding_points_go_to_the_largest_remainder():
    # PME (33.3) and not in Lille (16.7) make 50: the lost point goes to the larger remainder.
    explanation = explain(CRITERIA, {2, 3})
    assert [c.points for c in explanation.contributions] == [0, 33, 17]
    # Three equal weights met: 33.3 each, 100 in all; the first listed takes the extra point.
    thirds = [Criterion(id=i, label=f"c{i}", weight=1) for i in (1, 2, 3)]
    assert [c.points for c in explain(thirds, {1, 2, 3}).contributions] == [34, 33, 33]


def test_half_points_round_up():
    assert fit_score(1, 8) == 13  # 12.5
    assert fit_score(3, 8) == 38  # 37.5
    assert fit_score(1, 200) == 1  # 0.5
    assert fit_score(0, 0) == 0


def test_array_formula_agrees_with_the_scalar_one():
    weights = np.arange(0, 201, dtype=np.int32)
    for total in (1, 6, 7, 8, 200):
        expected = [fit_score(int(w), total) for w in weights if w <= total]
        assert fit_scores(weights[weights <= total], total).tolist() == expected
    assert fit_scores(np.array([0, 0], dtype=np.int32), 0).tolist() == [0, 0]


@given(
    st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=20).flatmap(
        lambda weights: st.tuples(
            st.just(weights),
            st.sets(st.integers(min_value=0, max_value=len(weights) - 1)),
        )
    )
)
def test_contributions_always_add_up_to_the_score(case):
    weights, met = case
    criteria = [Criterion(id=i, label=f"c{i}", weight=w) for i, w in enumerate(weights)]
    explanation = explain(criteria, met)
    assert sum(c.points for c in explanation.contributions) == explanation.score
    assert 0 <= explanation.score <= 100
    assert explanation.score == fit_score(sum(weights[i] for i in met), sum(weights))
    assert all(c.points == 0 for c in explanation.contributions if not c.matched)
    # No criterion is shown more than one point away from its exact share.
    assert all(abs(c.points - c.worth) < 1 for c in explanation.contributions if c.matched)
    if len(met) == len(weights):
        assert explanation.score == 100
