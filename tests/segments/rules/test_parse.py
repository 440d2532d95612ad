"""Bad rules get a clear message naming the problem and where it is (issue 5, "Bad input")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cible.segments import rules
from cible.segments.rules import RuleInvalid


def problems(data: Any, level: str = "organisation") -> dict[str, str]:
    with pytest.raises(RuleInvalid) as caught:
        rules.parse(data, level=level)  # type: ignore[arg-type]
    assert caught.value.status_code == 422
    return {error.field: error.message for error in caught.value.errors}


def rule(*conditions: Any, match: str = "all") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


def test_unknown_field_is_named_with_a_suggestion() -> None:
    assert problems(rule({"field": "headcont", "op": "gt", "value": 10})) == {
        "conditions.0.field": "unknown field “headcont”: did you mean headcount?"
    }


def test_contact_field_at_organisation_level_points_to_its_contacts() -> None:
    found = problems(rule({"field": "seniority", "op": "in", "value": ["director"]}))
    assert found == {
        "conditions.0.field": "unknown field “seniority”: did you mean contacts.seniority?"
    }


def test_text_compared_with_a_number() -> None:
    found = problems(rule({"field": "headcount", "op": "gt", "value": "ten"}))
    assert found == {
        "conditions.0.value": "headcount is a number: “ten” is text (text compared with a number)"
    }


def test_number_given_for_a_text_field() -> None:
    found = problems(rule({"field": "postal_code", "op": "equals", "value": 6000}))
    assert found == {
        "conditions.0.value": "postal code is text: “6000” is a number, give it as text"
    }


def test_operator_that_does_not_apply_to_the_kind() -> None:
    found = problems(rule({"field": "headcount", "op": "contains", "value": "1"}))
    assert found == {
        "conditions.0.op": "“contains” does not apply to headcount (a number): use equals, "
        "not_equals, lt, lte, gt, gte, between, is_empty, is_not_empty"
    }


def test_empty_group_at_the_top_and_nested() -> None:
    assert problems({"match": "all", "conditions": []}) == {
        "conditions": "this group has no condition: add one or remove the group"
    }
    nested = rule(
        {"field": "headcount", "op": "gt", "value": 1}, {"match": "any", "conditions": []}
    )
    assert problems(nested) == {
        "conditions.1.conditions": "this group has no condition: add one or remove the group"
    }


def test_groups_nest_five_levels_at_most() -> None:
    leaf: dict[str, Any] = {"field": "headcount", "op": "gt", "value": 1}
    tree: dict[str, Any] = leaf
    for _ in range(5):
        tree = rule(tree)
    rules.parse(tree, level="organisation")  # five levels: fine
    deeper = rule(tree)
    path = ".".join(["conditions.0"] * 5)
    assert problems(deeper) == {path: "groups nest at most 5 levels deep"}


def test_unknown_choice_lists_the_choices() -> None:
    found = problems(rule({"field": "status", "op": "in", "value": ["sleeping"]}))
    assert found == {
        "conditions.0.value": "“sleeping” is not a choice of status (suspect, prospect, "
        "customer, former_customer, partner, closed)"
    }


def test_choice_found_by_label_or_case() -> None:
    group = rules.parse(
        rule({"field": "status", "op": "in", "value": ["Customer", "PROSPECT"]}),
        level="organisation",
    )
    assert group.conditions[0].value == ("customer", "prospect")  # type: ignore[union-attr]


def test_each_problem_is_reported_at_once() -> None:
    found = problems(
        rule(
            {"field": "headcount", "op": "between", "value": [250, 10]},
            {"field": "created_at", "op": "before", "value": "31/02/2026"},
            {"field": "sales_team_size", "op": "gt", "value": 2.5},
            {"field": "annual_revenue", "op": "gt", "value": "10.125"},
            {"field": "country", "op": "in", "value": ["Atlantis"]},
            {"nonsense": True},
            match="any",
        )
    )
    country = found.pop("conditions.4.value")
    assert country.startswith("“Atlantis” is not a choice of country (AF, ")
    assert found == {
        "conditions.0.value": "the low end 250 is above the high end 10",
        "conditions.1.value": "created is a date: “31/02/2026” is not one (use YYYY-MM-DD)",
        "conditions.2.value": "sales team size takes whole numbers: “2.5” is not one",
        "conditions.3.value": "annual revenue has at most 2 decimal places: “10.125”",
        "conditions.5": "expected a condition (an object with “field”, “op” and “value”) or a "
        "group (“match” and “conditions”), not an object",
    }


def test_bad_match_and_bad_shapes() -> None:
    assert problems({"match": "xor", "conditions": [{"field": "city", "op": "is_empty"}]}) == {
        "match": "“xor” is not a way to combine conditions: use all or any"
    }
    assert problems("headcount > 10") == {
        "": "a group is an object with “match” (all or any) and “conditions”, not text"
    }
    assert problems(rule({"field": "city", "op": "is_empty", "value": "Lille"})) == {
        "conditions.0.value": "“is_empty” takes no value (got “Lille”)"
    }
    assert problems(rule({"field": "city", "op": "equals", "value": "  "})) == {
        "conditions.0.value": "the value is empty: to test for no value, use “is empty”"
    }
    assert problems(rule({"field": "created_at", "op": "in_last_days", "value": -3})) == {
        "conditions.0.value": "a number of days from 0 to 36500, not -3"
    }


def test_normalised_fields_explain_a_value_that_cannot_be_one() -> None:
    found = problems(rule({"field": "naf_code", "op": "equals", "value": "00.00"}))
    assert found == {
        "conditions.0.value": "“00.00” is not a NAF/NACE code: division 00 does not exist"
    }


def test_values_are_typed_and_normalised() -> None:
    group = rules.parse(
        rule(
            {"field": "headcount", "op": "between", "value": ["10", 249]},
            {"field": "annual_revenue", "op": "gte", "value": 1000.5},
            {"field": "country", "op": "in", "value": ["Allemagne", "fr"]},
            {"field": "naf_code", "op": "in", "value": ["6201z"]},
            {"field": "domain", "op": "equals", "value": "https://www.Acme.fr/contact"},
            {"field": "region", "op": "in", "value": ["Île-de-France"]},
            {"field": "last_verified_at", "op": "before", "value": "2026-01-31"},
        ),
        level="organisation",
    )
    values = [c.value for c in group.conditions]  # type: ignore[union-attr]
    assert values == [
        (10, 249),
        Decimal("1000.5"),
        ("DE", "FR"),
        ("62.01Z",),
        "acme.fr",
        ("FR-IDF",),
        dt.date(2026, 1, 31),
    ]
    assert group.to_json()["conditions"][1] == {
        "field": "annual_revenue",
        "op": "gte",
        "value": "1000.5",
    }
    assert rules.parse(group.to_json(), level="organisation") == group


@pytest.mark.django_db
def test_unknown_segment_id_is_refused_through_the_resolver() -> None:
    found = problems(rule({"field": "segment", "op": "in", "value": [987654]}))
    assert found == {"conditions.0.value": "no segment has the id 987654"}


def test_contact_level_fields_and_organisation_fields() -> None:
    group = rules.parse(
        rule(
            {"field": "function", "op": "in", "value": ["sales"]},
            {"field": "organisation.sales_team_size", "op": "gt", "value": 10},
        ),
        level="contact",
    )
    assert [c.field.name for c in group.conditions] == [  # type: ignore[union-attr]
        "function",
        "organisation.sales_team_size",
    ]
    assert problems(rule({"field": "organisation.nope", "op": "is_empty"}), "contact") == {
        "conditions.0.field": "unknown field “organisation.nope”: did you mean organisation.name?"
    }
