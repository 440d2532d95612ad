"""The rule language's vocabulary: fields by level, folding, and rules said in words."""

from __future__ import annotations

import pytest

from cible.segments import rules


def test_fold_ignores_case_and_western_accents_only() -> None:
    assert rules.fold("Île-de-France") == "ile-de-france"
    assert rules.fold("SAINT-ÉTIENNE") == rules.fold("saint-étienne") == "saint-etienne"
    assert rules.fold("Œuvre") == "œuvre"
    assert rules.fold("Straße") == "straße"  # one character for one: ß stays
    assert rules.fold(None) == ""


def test_fields_by_level_include_relations_and_registered_ones() -> None:
    organisation = {f.name: f for f in rules.fields_for("organisation")}
    assert organisation["headcount"].kind == "number"
    assert organisation["installed_products"].kind == "list"
    assert organisation["contacts.function"].many
    assert str(organisation["contacts.function"].label) == "contact: function"
    # Registered by the pipeline app from its ready(): segments never import it.
    assert organisation["opportunities.stage"].kind == "choice"
    assert "won" in organisation["opportunities.stage"].choice_values()
    assert organisation["segment"].kind == "segment"
    contact = {f.name: f for f in rules.fields_for("contact")}
    assert contact["organisation.region"].relation == "organisation"
    assert "contacts.function" not in contact


def test_register_field_adds_a_field_to_its_level() -> None:
    extra = rules.RuleField(
        name="contacts.nickname_for_test",
        label="nickname",
        kind="text",
        level="organisation",
        lookup="contacts__first_name",
        relation="contacts",
    )
    rules.register_field(extra)
    try:
        assert rules.field_for("organisation", "contacts.nickname_for_test") == extra
        assert rules.field_for("contact", "contacts.nickname_for_test") is None
    finally:
        from cible.segments.rules import fields

        del fields._registry.extra["organisation:contacts.nickname_for_test"]
        fields._cached_fields.clear()


def test_describe_says_the_rule_in_words() -> None:
    group = rules.parse(
        {
            "match": "all",
            "conditions": [
                {"field": "headcount", "op": "between", "value": [10, 249]},
                {
                    "match": "any",
                    "conditions": [
                        {"field": "installed_products", "op": "any_of", "value": ["Salesforce"]},
                        {"field": "contacts.function", "op": "in", "value": ["sales"]},
                    ],
                },
                {"field": "last_verified_at", "op": "not_in_last_days", "value": 365},
                {"field": "city", "op": "is_empty"},
            ],
        },
        level="organisation",
    )
    assert rules.describe(group) == (
        "Headcount is between 10 and 249 and (installed products includes “Salesforce” or "
        "contact: function is Sales) and last verified is not in the last 365 days and city is "
        "empty"
    )


@pytest.mark.parametrize(
    ("level", "name"),
    [("organisation", "headcount"), ("contact", "function"), ("contact", "organisation.city")],
)
def test_every_kind_has_operators(level: str, name: str) -> None:
    field = rules.field_for(level, name)  # type: ignore[arg-type]
    assert field is not None
    assert rules.OPERATORS[field.kind]
