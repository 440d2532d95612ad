"""Making and changing profiles and personas: validation messages that name the problem, who may
do it, the audit trail, and the recomputation queued by a change of criteria."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.core.errors import ConflictError, PermissionDenied, ValidationFailed
from cible.segments.profiles.compute import fit_scores_compute
from cible.segments.profiles.models import FitScore, IdealCustomerProfile, Persona
from cible.segments.profiles.services import (
    persona_create,
    persona_delete,
    persona_update,
    profile_create,
    profile_delete,
    profile_update,
)
from tests.segments.profiles.conftest import CRITERIA, PME, SALESFORCE_INSTALLED, scores_by_name

pytestmark = pytest.mark.django_db


def errors_of(raised: Any) -> dict[str, str]:
    return {e.field: e.message for e in raised.value.errors}


def create(actor: Any, **fields: Any) -> IdealCustomerProfile:
    fields.setdefault("name", "Conquest")
    fields.setdefault("criteria", CRITERIA)
    return profile_create(actor=actor, channel="ui", **fields)


def test_a_profile_is_created_with_its_criteria_in_order(cast: Any, products: Any) -> None:
    profile = create(cast.marketer, name="Conquête : PME équipées", purpose="conquest")

    assert profile.code == "conquete-pme-equipees"
    assert [(c.label, c.weight, c.position) for c in profile.criteria.all()] == [
        ("Salesforce installed", 3, 0),
        ("PME", 2, 1),
        ("not in Lille", 1, 2),
    ]
    assert profile.scored_at is None
    entry = LogEntry.objects.get_for_object(profile).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.additional_data["channel"] == "ui"
    assert entry.actor == cast.marketer


def test_a_profile_needs_at_least_one_criterion(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create(cast.admin, criteria=[])
    assert errors_of(raised) == {"criteria": "a profile needs at least one criterion"}


def test_weights_must_be_positive_whole_numbers(cast: Any, products: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create(
            cast.admin,
            criteria=[
                {"label": "PME", "rule": PME, "weight": 0},
                {"label": "Salesforce", "rule": SALESFORCE_INSTALLED, "weight": "a lot"},
                {"label": "PME again", "rule": PME, "weight": -2},
            ],
        )
    assert errors_of(raised) == {
        "criteria.0.weight": "must be between 1 and 100",
        "criteria.1.weight": "must be a whole number",
        "criteria.2.weight": "must be between 1 and 100",
    }
    assert not IdealCustomerProfile.objects.exists()


def test_an_invalid_rule_is_reported_at_its_place(cast: Any) -> None:
    bad = {"match": "all", "conditions": [{"field": "shoe_size", "op": "equals", "value": 42}]}
    with pytest.raises(ValidationFailed) as raised:
        create(
            cast.admin,
            criteria=[
                {"label": "PME", "rule": PME, "weight": 1},
                {"label": "Shoes", "rule": bad, "weight": 1},
                {"label": "", "rule": {"match": "all", "conditions": []}, "weight": 1},
            ],
        )
    errors = errors_of(raised)
    assert set(errors) >= {"criteria.1.rule.conditions.0.field", "criteria.2.label"}
    assert "shoe_size" in errors["criteria.1.rule.conditions.0.field"]
    assert errors["criteria.2.label"] == "is required"
    assert any(field.startswith("criteria.2.rule") for field in errors)
    assert not IdealCustomerProfile.objects.exists()


def test_name_code_and_purpose_are_checked(cast: Any, products: Any) -> None:
    create(cast.admin, name="Conquest", code="conquest")
    with pytest.raises(ValidationFailed) as raised:
        create(cast.admin, name="  ", code="conquest", purpose="world domination")
    assert errors_of(raised) == {
        "name": "is required",
        "code": "“conquest” is already used",
        "purpose": "must be one of: conquest, retention, other",
    }
    with pytest.raises(ValidationFailed) as raised:
        create(cast.admin, name="Other", code="Not A Slug!")
    assert errors_of(raised) == {
        "code": "use only lower-case letters, digits and hyphens (at most 50 characters)"
    }
    assert create(cast.admin, name="Conquest").code == "conquest-2"


def test_only_managers_shape_profiles(cast: Any, products: Any) -> None:
    with pytest.raises(PermissionDenied):
        create(cast.ae)
    with pytest.raises(PermissionDenied):
        create(cast.sdr)
    profile = create(cast.manager)
    with pytest.raises(PermissionDenied):
        profile_update(profile=profile, actor=cast.csm, channel="ui", name="Mine now")
    with pytest.raises(PermissionDenied):
        profile_delete(profile=profile, actor=cast.outsider, channel="ui")


def test_changing_criteria_keeps_ids_and_queues_a_recomputation(
    base: Any, conquest: Any, cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fit_scores_compute(profile=conquest)
    salesforce, pme, _lille = conquest.criteria.all()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        profile_update(
            profile=conquest,
            actor=cast.marketer,
            channel="ui",
            criteria=[
                {
                    "id": salesforce.pk,
                    "label": "Salesforce installed",
                    "rule": SALESFORCE_INSTALLED,
                    "weight": 1,
                },
                {"id": pme.pk, "label": "PME", "rule": PME, "weight": 1},
            ],
        )

    assert len(callbacks) == 1  # the recomputation, run inline by the test task queue
    run_entry = LogEntry.objects.get_for_model(FitScore).order_by("-pk").first()
    assert run_entry.actor == cast.marketer
    assert run_entry.additional_data["channel"] == "job"
    assert [c.pk for c in conquest.criteria.all()] == [salesforce.pk, pme.pk]
    conquest.refresh_from_db()
    assert conquest.scored_at is not None
    assert conquest.version == 2
    assert scores_by_name(conquest) == {
        "Acme": 100,
        "Beta": 0,
        "Gamma": 50,
        "Delta": 50,
        "Omega": 100,
    }


def test_renaming_does_not_recompute(
    base: Any, conquest: Any, cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fit_scores_compute(profile=conquest)
    with django_capture_on_commit_callbacks() as callbacks:
        profile_update(profile=conquest, actor=cast.admin, channel="api", name="Conquest 2026")
    assert callbacks == []
    conquest.refresh_from_db()
    assert conquest.name == "Conquest 2026" and conquest.scored_at is not None
    entry = LogEntry.objects.get_for_object(conquest).order_by("-pk").first()
    assert entry.changes["name"] == ["Conquest: CRM switchers", "Conquest 2026"]
    assert entry.additional_data["channel"] == "api"


def test_an_update_based_on_an_old_version_is_refused(conquest: Any, cast: Any) -> None:
    profile_update(profile=conquest, actor=cast.admin, channel="ui", name="First")
    stale = IdealCustomerProfile.objects.get(pk=conquest.pk)
    with pytest.raises(ConflictError):
        profile_update(
            profile=stale, actor=cast.admin, channel="ui", name="Second", expected_version=1
        )


def test_unknown_fields_and_foreign_criteria_are_named(conquest: Any, cast: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        profile_update(
            profile=conquest,
            actor=cast.admin,
            channel="ui",
            colour="blue",
            criteria=[{"id": 999999, "label": "PME", "rule": PME, "weight": 1, "boost": 2}],
        )
    assert errors_of(raised) == {
        "colour": "is not a field of a profile",
        "criteria.0.boost": "is not a field of a criterion",
        "criteria.0.id": "is not a criterion of this profile",
    }


def test_deleting_a_profile_deletes_its_scores(base: Any, conquest: Any, cast: Any) -> None:
    fit_scores_compute(profile=conquest)

    profile_delete(profile=conquest, actor=cast.marketer, channel="ui")

    assert not FitScore.objects.exists()
    assert not IdealCustomerProfile.objects.exists()


# --- personas ------------------------------------------------------------------------------------

SALES_DIRECTOR = {
    "match": "all",
    "conditions": [
        {"field": "function", "op": "in", "value": ["sales"]},
        {"field": "seniority", "op": "in", "value": ["director"]},
    ],
}


def test_a_persona_is_created_changed_and_deleted(cast: Any) -> None:
    persona = persona_create(
        actor=cast.marketer, channel="ui", name="Directeur commercial", rule=SALES_DIRECTOR
    )
    assert (persona.code, persona.position) == ("directeur-commercial", 0)

    persona_update(persona=persona, actor=cast.marketer, channel="ui", description="Signs.")
    persona.refresh_from_db()
    assert (persona.description, persona.version) == ("Signs.", 2)

    persona_delete(persona=persona, actor=cast.marketer, channel="ui")
    assert not Persona.objects.exists()
    actions = [e.action for e in LogEntry.objects.filter(object_repr="Directeur commercial")]
    assert sorted(actions) == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    ]


def test_a_persona_rule_is_a_contact_rule(cast: Any) -> None:
    organisation_rule = {
        "match": "all",
        "conditions": [{"field": "headcount", "op": "gt", "value": 10}],
    }
    with pytest.raises(ValidationFailed) as raised:
        persona_create(actor=cast.marketer, channel="ui", name="Big", rule=organisation_rule)
    assert "rule.conditions.0.field" in errors_of(raised)
    with pytest.raises(ValidationFailed) as raised:
        persona_create(actor=cast.marketer, channel="ui", name="", rule=None)
    assert errors_of(raised) == {"name": "is required", "rule": "is required"}


def test_only_managers_shape_personas(cast: Any) -> None:
    with pytest.raises(PermissionDenied):
        persona_create(actor=cast.ae, channel="ui", name="Mine", rule=SALES_DIRECTOR)
