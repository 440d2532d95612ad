"""The move graph, table by table (pure: no database)."""

from __future__ import annotations

import pytest

from cible.lifecycle.leads.moves import Via, allowed_targets, check_move, rule_target

ALLOWED = [
    ("suspect", "prospect", Via.HAND),
    ("suspect", "mql", Via.HAND),  # a hot lead skips ahead
    ("prospect", "sql", Via.HAND),
    ("mql", "sal", Via.HAND),
    ("sal", "sql", Via.HAND),
    ("mql", "recycled", Via.HAND),  # rejected by Sales
    ("sql", "recycled", Via.HAND),
    ("suspect", "disqualified", Via.HAND),
    ("recycled", "prospect", Via.HAND),
    ("recycled", "mql", Via.HAND),
    ("recycled", "disqualified", Via.HAND),
    ("disqualified", "prospect", Via.HAND),
    ("sql", "opportunity", Via.CONVERSION),
    ("sal", "opportunity", Via.CONVERSION),
    ("opportunity", "customer", Via.CLOSING),
    ("opportunity", "recycled", Via.CLOSING),
]
REFUSED = [
    ("sql", "mql", Via.HAND, "the way back is Recycled"),
    ("sal", "prospect", Via.HAND, "the way back is Recycled"),
    ("mql", "mql", Via.HAND, "already there"),
    ("sql", "opportunity", Via.HAND, "convert it"),
    ("mql", "opportunity", Via.CONVERSION, "only a SQL"),
    ("opportunity", "customer", Via.HAND, "close its opportunity"),
    ("opportunity", "disqualified", Via.HAND, "close its opportunity"),
    ("sql", "customer", Via.HAND, "only a won opportunity"),
    ("customer", "prospect", Via.HAND, "a customer's lead is over"),
    ("customer", "recycled", Via.HAND, "a customer's lead is over"),
    ("recycled", "sql", Via.HAND, "comes back as Prospect or MQL"),
    ("disqualified", "mql", Via.HAND, "reopens as Prospect"),
    ("disqualified", "recycled", Via.HAND, "only a lead on the road"),
    ("opportunity", "sql", Via.CLOSING, "a closed deal makes"),
]


@pytest.mark.parametrize(("source", "target", "via"), ALLOWED)
def test_allowed_moves(source: str, target: str, via: str) -> None:
    assert check_move(source, target, via=via).allowed


@pytest.mark.parametrize(("source", "target", "via", "why"), REFUSED)
def test_refused_moves_name_both_stages_and_why(source, target, via, why) -> None:
    check = check_move(source, target, via=via)
    assert not check.allowed
    assert why in check.message
    labels = {"sql": "Sales qualified lead (SQL)", "mql": "Marketing qualified lead (MQL)"}
    for stage in (source, target):
        assert labels.get(stage, stage.capitalize()) in check.message


def test_what_each_aside_move_needs() -> None:
    recycle = check_move("mql", "recycled")
    assert (recycle.needs_reason, recycle.needs_date) == (True, True)
    disqualify = check_move("sal", "disqualified")
    assert (disqualify.needs_reason, disqualify.needs_date) == (True, False)
    assert check_move("disqualified", "prospect").needs_note


def test_an_unknown_stage_is_named() -> None:
    check = check_move("mql", "lukewarm")
    assert not check.allowed and "lukewarm is not a stage" in check.message


def test_the_page_offers_what_the_graph_allows() -> None:
    assert allowed_targets("mql") == ["sal", "sql", "recycled", "disqualified"]
    assert allowed_targets("opportunity") == []
    assert allowed_targets("customer") == []
    assert allowed_targets("recycled") == ["prospect", "mql", "disqualified"]


@pytest.mark.parametrize(
    ("stage", "ruled", "gates", "expected"),
    [
        ("prospect", {"mql", "sql"}, {"sal"}, "mql"),
        ("suspect", {"mql"}, set(), "mql"),  # Prospect has no definition: skipped
        ("mql", {"sql"}, {"sal"}, None),  # Sales accepts; no rule does it for them
        ("sal", {"sql"}, {"sal"}, "sql"),
        ("sql", {"mql", "sql"}, set(), None),  # conversion is a deal, not a rule
        ("recycled", {"mql"}, set(), "mql"),
        ("recycled", {"sql"}, set(), None),
        ("disqualified", {"prospect"}, set(), None),
    ],
)
def test_rule_targets(stage, ruled, gates, expected) -> None:
    assert rule_target(stage, ruled, gates) == expected
