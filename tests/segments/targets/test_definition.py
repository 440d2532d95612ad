"""A target's definition is checked before anything is counted or saved: every problem is named
by its path, in words a person can act on."""

from __future__ import annotations

from typing import Any

import pytest

from cible.segments.targets import definition as definitions
from cible.segments.targets.definition import DefinitionInvalid
from tests.segments.targets.world import SALES_DIRECTORS, seed_002_definition, segment

pytestmark = pytest.mark.django_db


def problems(data: Any, level: str = "organisation", **options: Any) -> dict[str, str]:
    with pytest.raises(DefinitionInvalid) as caught:
        definitions.parse(data, level=level, **options)
    return {e.field: e.message for e in caught.value.errors}


def test_seed_002_definition_is_kept_by_axis_with_sorted_ids() -> None:
    parsed = definitions.parse(seed_002_definition(), level="organisation")
    lille, paris = segment("geography", "lille"), segment("geography", "paris")
    assert dict(parsed.segments)["geography"] == tuple(sorted((lille, paris)))
    assert parsed.to_json()["segments"]["installed-crm"] == [segment("installed-crm", "salesforce")]
    assert parsed.to_json()["organisation"] is None and parsed.to_json()["contact"] is None


def test_a_flat_list_of_segment_ids_is_grouped_by_axis() -> None:
    ids = [segment("geography", "lille"), segment("size", "pme"), segment("geography", "paris")]
    parsed = definitions.parse({"segments": ids}, level="organisation")
    assert dict(parsed.segments) == {
        "geography": tuple(sorted(ids[::2])),
        "size": (segment("size", "pme"),),
    }


def test_unknown_segment_and_axis_are_named_by_their_path() -> None:
    found = problems({"segments": {"geography": [999_999], "colour": [segment("size", "pme")]}})
    assert found == {
        "definition.segments.geography.0": "no segment has the id 999999",
        "definition.segments.colour": "no axis has the code “colour”",
    }


def test_a_segment_of_another_axis_is_refused_with_both_axes_named() -> None:
    pme = segment("size", "pme")
    found = problems({"segments": {"geography": [segment("geography", "lille"), pme]}})
    assert found == {
        "definition.segments.geography.1": (
            f"segment {pme} (“PME (10–249)”) is on the axis “Size”, not on “Geography”"
        )
    }


def test_an_axis_without_segments_and_a_bad_id_are_refused() -> None:
    found = problems({"segments": {"geography": [], "size": ["pme"]}})
    assert set(found) == {"definition.segments.geography", "definition.segments.size.0"}
    assert "at least one" in found["definition.segments.geography"]
    assert "“pme” is not one" in found["definition.segments.size.0"]


def test_an_empty_definition_is_refused_for_a_target_but_counts_while_editing() -> None:
    assert problems({}) == {"definition": "a target needs at least one segment or one condition"}
    assert problems({"segments": {}, "organisation": None}) == {
        "definition": "a target needs at least one segment or one condition"
    }
    assert definitions.parse({}, level="contact", allow_empty=True).empty


def test_rule_problems_carry_the_path_inside_the_rule() -> None:
    found = problems(
        {
            "organisation": {
                "match": "all",
                "conditions": [
                    {"field": "headcount", "op": "gt", "value": "many"},
                    {"field": "colour", "op": "in", "value": ["red"]},
                ],
            }
        }
    )
    assert set(found) == {
        "definition.organisation.conditions.0.value",
        "definition.organisation.conditions.1.field",
    }
    assert "text compared with a number" in found["definition.organisation.conditions.0.value"]


def test_a_contact_rule_needs_a_contact_target() -> None:
    found = problems({"contact": SALES_DIRECTORS}, level="organisation")
    assert list(found) == ["definition.contact"]
    assert "contact-level target" in found["definition.contact"]
    parsed = definitions.parse({"contact": SALES_DIRECTORS}, level="contact")
    assert parsed.contact is not None and parsed.organisation_part_empty


def test_unknown_parts_wrong_shapes_and_bad_json_are_refused() -> None:
    assert problems({"segment": [1]}) == {
        "definition.segment": (
            "“segment” is not part of a definition (segments, organisation, contact)"
        )
    }
    assert "not a list" in problems(["x"])["definition"]
    assert problems("{not json") == {"definition": "the definition is not valid JSON"}
    assert "not valid JSON" not in problems({"segments": "geography"})["definition.segments"]


def test_a_stored_definition_keeps_a_deleted_segment_which_then_matches_nobody() -> None:
    parsed = definitions.parse(
        {"segments": {"geography": [999_999]}}, level="organisation", resolve=False
    )
    assert parsed.segments == (("geography", (999_999,)),)


def test_described_in_words() -> None:
    parsed = definitions.parse(
        {**seed_002_definition(), "contact": SALES_DIRECTORS}, level="contact"
    )
    lines = {p.label: p.text for p in definitions.describe(parsed)}
    assert lines["Installed CRM"] == "Salesforce"
    assert lines["Sales-team size"] == "11–20 or More than 20"
    assert lines["Geography"] == "Paris / Île-de-France or Lille"
    assert "Sales" in lines["Contacts"] and "Director / VP" in lines["Contacts"]
