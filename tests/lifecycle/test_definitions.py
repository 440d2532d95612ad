"""Stage definitions: written, approved by both sides, agreed, superseded; the seed command."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import translation

from cible.core.errors import ConflictError, PermissionDenied, ValidationFailed
from cible.lifecycle.leads import services
from cible.lifecycle.leads.models import StageDefinition
from tests.lifecycle.conftest import agree

pytestmark = pytest.mark.django_db
MQL = {"min_profile_score": 60, "min_engagement_score": 40}


def test_both_sides_approving_makes_a_version_agreed(cast):
    draft = services.write_definition(
        stage="mql", text="Fits and engages.", criteria=MQL, actor=cast.marketer
    )
    assert (draft.version, draft.status, draft.written_by) == (1, "draft", cast.marketer)
    services.approve_definition(definition=draft, actor=cast.marketer, side="marketing")
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.agreed_at is None
    services.approve_definition(definition=draft, actor=cast.sdr, side="sales")
    draft.refresh_from_db()
    assert draft.status == "agreed" and draft.agreed_at is not None
    sides = {(a.side, a.approver.username) for a in draft.approvals.all()}
    assert sides == {("marketing", "marie"), ("sales", "sophie")}


def test_a_new_agreed_version_supersedes_the_old_one(cast):
    first = agree("mql", "Fits and engages.", MQL, cast)
    second = agree("mql", "Fits well and engages.", {**MQL, "min_profile_score": 70}, cast)
    first.refresh_from_db()
    assert (first.status, second.status, second.version) == ("superseded", "agreed", 2)
    assert StageDefinition.objects.filter(stage="mql", status="agreed").get() == second


def test_each_side_approves_for_itself_and_once(cast):
    draft = services.write_definition(stage="sql", text="BANT.", criteria={}, actor=cast.manager)
    with pytest.raises(PermissionDenied):
        services.approve_definition(definition=draft, actor=cast.marketer, side="sales")
    with pytest.raises(PermissionDenied):
        services.approve_definition(definition=draft, actor=cast.ae, side="marketing")
    with pytest.raises(ValidationFailed):
        services.approve_definition(definition=draft, actor=cast.ae, side="legal")
    services.approve_definition(definition=draft, actor=cast.ae, side="sales")
    with pytest.raises(ConflictError):
        services.approve_definition(definition=draft, actor=cast.manager, side="sales")


def test_one_person_cannot_stand_for_both_sides(cast):
    draft = services.write_definition(stage="sal", text="Accepted.", criteria={}, actor=cast.admin)
    services.approve_definition(definition=draft, actor=cast.admin, side="marketing")
    with pytest.raises(ValidationFailed) as caught:
        services.approve_definition(definition=draft, actor=cast.admin, side="sales")
    assert "someone else must approve it for Sales" in str(caught.value)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_an_older_draft_cannot_overtake_the_agreed_version(cast):
    old = services.write_definition(stage="mql", text="Old.", criteria=MQL, actor=cast.marketer)
    agree("mql", "New.", MQL, cast)
    with pytest.raises(ValidationFailed) as caught:
        services.approve_definition(definition=old, actor=cast.marketer, side="marketing")
    assert "Version 2 is already agreed" in str(caught.value)


def test_a_definition_with_bad_criteria_is_refused_naming_the_key(cast):
    with pytest.raises(ValidationFailed) as caught:
        services.write_definition(
            stage="mql",
            text="x",
            criteria={"min_profile_score": 150, "mood": "happy"},
            actor=cast.marketer,
        )
    assert {e.field for e in caught.value.errors} == {
        "criteria.min_profile_score",
        "criteria.mood",
    }
    assert not StageDefinition.objects.exists()


def test_definitions_are_for_the_stages_people_agree_on(cast):
    with pytest.raises(ValidationFailed) as caught:
        services.write_definition(stage="customer", text="Paid.", criteria={}, actor=cast.manager)
    assert caught.value.errors[0].field == "stage"
    with pytest.raises(PermissionDenied):
        services.write_definition(stage="mql", text="x", criteria={}, actor=cast.csm)


def test_the_seed_command_writes_drafts_in_the_chosen_language_once(capsys):
    call_command("lifecycle", "seed-definitions", "--language", "en")
    drafts = {d.stage: d for d in StageDefinition.objects.all()}
    assert set(drafts) == {"mql", "sal", "sql"}
    assert all(d.status == "draft" for d in drafts.values())
    assert drafts["mql"].criteria == MQL
    assert drafts["mql"].text.startswith("A marketing qualified lead fits our target")
    assert drafts["sql"].criteria["bant"]["timing"] == ["within_quarter", "within_half"]
    call_command("lifecycle", "seed-definitions")
    assert StageDefinition.objects.count() == 3
    assert "nothing written" in capsys.readouterr().out


def test_an_agreed_mql_rule_holds_back_a_hand_move_until_met(cast, lead):
    with translation.override("en"):
        agree("mql", "Fits and engages.", MQL, cast)
    with pytest.raises(ValidationFailed):
        services.move(lead=lead, to_stage="mql", actor=cast.ae, channel="ui")
