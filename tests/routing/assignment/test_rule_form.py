"""The rule editor's lists of values: one per line, or separated by commas on a line, unless the
whole line is one value (a country name or a target's name may hold a comma); empty items and
duplicates dropped; a value the condition does not know refused by name, next to its row."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from cible.people.services import profile_set_language
from cible.routing.assignment.forms import RuleForm
from cible.routing.assignment.models import RoutingRule
from cible.segments.targets.services import target_create
from tests.cast import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(cast: Cast) -> Iterator[None]:
    """Country names are read in the viewer's language: these tests write them in English."""
    profile_set_language(user=cast.manager, language="en")
    with translation.override("en"):
        yield


def north_target(cast: Cast, name: str) -> Any:
    return target_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": name,
            "level": "organisation",
            "shared": True,
            "definition": {
                "organisation": {
                    "conditions": [{"field": "region", "op": "in", "value": ["FR-HDF"]}]
                }
            },
        },
    )


def rule_post(cast: Cast, **rows: str) -> dict[str, str]:
    """The editor's fields for a rule giving leads to Sophie, with `rows` (field_0, value_0 …)."""
    data = {
        "name": "Abroad",
        "active": "on",
        "action": "assign_user",
        "method": "round_robin",
        "user": str(cast.sdr.pk),
        "match": "all",
    }
    return {**data, **rows}


def written(cast: Cast, field: str, value: str, op: str = "in") -> tuple[Any, list[str]]:
    """The value list the form hands to the services for one condition, and its problems."""
    form = RuleForm(rule_post(cast, field_0=field, op_0=op, value_0=value))
    assert form.is_valid(), form.errors
    data, errors = form.rule_data()
    return data["conditions"]["conditions"][0]["value"], [f"{e.field}: {e.message}" for e in errors]


def test_values_one_per_line_or_separated_by_commas_without_empties_or_duplicates(
    cast: Cast,
) -> None:
    typed = "FR, BE,\n\n  DE  \n,fr,\nFrance\nBelgium"
    assert written(cast, "country", typed) == (["FR", "BE", "DE"], [])
    assert written(cast, "grade", "A1,A2, ,A1") == (["A1", "A2"], [])
    assert written(cast, "campaign", "12, 13\n12") == ([12, 13], [])


def test_a_country_whose_name_holds_a_comma_is_one_value(cast: Cast) -> None:
    assert written(cast, "country", "Korea, Republic of") == (["KR"], [])
    assert written(cast, "country", "Korea, Republic of\nFR, BE") == (["KR", "FR", "BE"], [])
    assert written(cast, "country", "Virgin Islands, British\nKR", op="not_in") == (
        ["VG", "KR"],
        [],
    )


def test_a_whole_line_naming_a_target_wins_over_its_pieces(cast: Cast) -> None:
    both = north_target(cast, "Paris, Lyon")
    paris, lyon = north_target(cast, "Paris"), north_target(cast, "Lyon")
    assert written(cast, "target", "paris, lyon") == ([both.pk], [])
    assert written(cast, "target", "Paris\nLyon\nParis, Lyon") == ([paris.pk, lyon.pk, both.pk], [])
    assert written(cast, "target", f"{paris.pk}, Lyon") == ([paris.pk, lyon.pk], [])


def test_a_value_the_condition_does_not_know_is_refused_by_name(cast: Cast) -> None:
    north_target(cast, "Paris")
    _value, errors = written(cast, "country", "FR, Narnia")
    assert len(errors) == 1
    assert errors[0].startswith("value_0: “Narnia” is not a country (")
    assert written(cast, "target", "Paris\nAtlantis")[1] == [
        "value_0: no target is named “Atlantis”"
    ]
    assert written(cast, "grade", "A1, Z9")[1][0].startswith("value_0: “Z9” is not a grade (")


def test_a_saved_rule_reads_back_one_value_per_line_and_saves_unchanged(cast: Cast) -> None:
    conditions = {"match": "all", "conditions": [{"field": "country", "op": "in", "value": ["KR"]}]}
    rule = RoutingRule(name="Abroad", action="assign_user", conditions=conditions)
    conditions["conditions"][0]["value"] = ["KR", "FR"]
    initial = RuleForm.initial_for(rule)
    assert initial["value_0"] == "KR\nFR"
    assert written(cast, "country", initial["value_0"]) == (["KR", "FR"], [])


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr class="condition">(.*?)</tr>', page, flags=re.S)


def test_the_editor_saves_a_country_with_a_comma_and_shows_one_per_line(
    cast: Cast, client_for: Any
) -> None:
    client = client_for(cast.manager)
    typed = "Korea, Republic of\nFR, BE\n\nfr"
    saved = client.post("/routing/rules/new/", rule_post(cast, field_0="country", value_0=typed))
    assert saved.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.conditions["conditions"] == [
        {"field": "country", "op": "in", "value": ["KR", "FR", "BE"]}
    ]
    editor = client.get(f"/routing/rules/{rule.pk}/").content.decode()
    assert '">\nKR\nFR\nBE</textarea>' in rows_of(editor)[0]
    assert "Several values: one per line." in editor
    assert "“Korea, Republic of”" in editor


def test_the_editor_refuses_an_unknown_value_next_to_its_row(cast: Cast, client_for: Any) -> None:
    client = client_for(cast.manager)
    post = rule_post(
        cast, field_1="country", value_1="FR, Narnia", field_2="target", value_2="999999"
    )
    page = client.post("/routing/rules/new/", post)
    assert page.status_code == 422
    rows = rows_of(page.content.decode())
    assert "“Narnia” is not a country (" in rows[1]
    assert not RoutingRule.objects.exists()
    # A value only the services can check (a target's id) is shown on its row too.
    post["value_1"] = "FR"
    rows = rows_of(client.post("/routing/rules/new/", post).content.decode())
    assert "no target has the id 999999" in rows[2]
    assert "no target has the id" not in rows[1] + rows[3]
    assert not RoutingRule.objects.exists()


def test_a_saved_rule_shows_its_targets_and_segments_by_name(cast: Cast) -> None:
    """By name when the name reads back as the same record; by id when it would not (a name
    two segments share, a name that is a number, a target deleted since)."""
    from cible.segments.axes.models import Axis, Segment

    paris, numbered = north_target(cast, "Paris, Lyon"), north_target(cast, "2024")
    first = Axis.objects.create(code="one", name="One")
    second = Axis.objects.create(code="two", name="Two")

    def by_hand(axis: Any, code: str, name: str) -> Any:
        return Segment.objects.create(axis=axis, code=code, name=name, kind="manual")

    north, other_a = by_hand(first, "north", "North key accounts"), by_hand(first, "other", "Other")
    by_hand(second, "other", "other")
    conditions = {
        "match": "all",
        "conditions": [
            {"field": "target", "op": "in", "value": [paris.pk, numbered.pk, 999999]},
            {"field": "segment", "op": "not_in", "value": [north.pk, other_a.pk]},
        ],
    }
    initial = RuleForm.initial_for(RoutingRule(name="North", conditions=conditions))
    assert initial["value_0"] == f"Paris, Lyon\n{numbered.pk}\n999999"
    assert initial["value_1"] == f"North key accounts\n{other_a.pk}"
    # Saved again as shown, the rule names the same records.
    assert written(cast, "target", f"Paris, Lyon\n{numbered.pk}") == ([paris.pk, numbered.pk], [])
    assert written(cast, "segment", initial["value_1"], op="not_in") == (
        [north.pk, other_a.pk],
        [],
    )


def test_a_name_made_of_superscript_digits_is_a_name_not_an_id(cast: Cast) -> None:
    squared = north_target(cast, "²")
    assert written(cast, "target", "²") == ([squared.pk], [])
