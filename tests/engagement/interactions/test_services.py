"""One interaction at a time: validation with field names, access, idempotency, what follows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.engagement.campaigns.models import CampaignMember
from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.services import (
    interaction_create,
    interaction_log,
    record_interaction,
)
from cible.engagement.interactions.signals import interactions_recorded

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)


def _fields(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.message for e in error.errors}


@time_machine.travel(NOW, tick=False)
def test_a_call_takes_the_contacts_organisation_and_the_caller_as_owner(cast, jeanne, acme):
    call = record_interaction(
        kind="call",
        contact=jeanne,
        outcome="connected",
        duration_seconds=420,
        channel="ui",
        actor=cast.ae,
    )
    call.refresh_from_db()
    assert (call.organisation_id, call.owner_id, call.occurred_at) == (acme.pk, cast.ae.pk, NOW)
    assert (call.outcome, call.duration_seconds, call.channel) == ("connected", 420, "ui")


@time_machine.travel(NOW, tick=False)
def test_bad_values_are_named_field_by_field_and_nothing_is_stored(cast, jeanne):
    with pytest.raises(ValidationFailed) as refused:
        record_interaction(
            kind="fax",
            contact=jeanne,
            occurred_at=NOW + dt.timedelta(hours=1),
            duration_seconds=90_000,
            outcome="held",
            channel="pigeon",
            properties=["not", "an", "object"],  # type: ignore[arg-type]
            actor=cast.ae,
        )
    fields = _fields(refused.value)
    assert set(fields) == {
        "kind",
        "occurred_at",
        "duration_seconds",
        "outcome",
        "channel",
        "properties",
    }
    assert "future" in fields["occurred_at"]
    assert Interaction.objects.count() == 0


def test_a_call_cannot_end_as_a_no_show(cast, jeanne):
    with pytest.raises(ValidationFailed) as refused:
        record_interaction(
            kind="call", contact=jeanne, outcome="no_show", channel="ui", actor=cast.ae
        )
    assert "no_show" in _fields(refused.value)["outcome"]


def test_timestamps_from_1970_are_refused(cast, jeanne):
    with pytest.raises(ValidationFailed) as refused:
        record_interaction(
            kind="web_visit",
            contact=jeanne,
            occurred_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
            channel="api",
            actor=cast.ae,
        )
    assert _fields(refused.value) == {"occurred_at": "is before 2000-01-01"}


def test_someone_or_something_must_be_named(cast):
    with pytest.raises(ValidationFailed) as refused:
        record_interaction(kind="web_visit", channel="api", actor=cast.ae)
    assert "contact" in _fields(refused.value)


def test_an_outsider_cannot_record_on_a_team_private_contact(cast, jeanne, team_private):
    with pytest.raises(PermissionDenied):
        record_interaction(kind="call", contact=jeanne, channel="ui", actor=cast.outsider)
    assert Interaction.objects.count() == 0


def test_a_marketer_may_read_but_not_log_a_call_on_a_team_private_contact(
    cast, jeanne, team_private
):
    with pytest.raises(PermissionDenied):
        interaction_log(record=jeanne, kind="call", outcome="connected", actor=cast.marketer)
    # Reading is enough to record what the contact did (an email opened, say).
    opened = record_interaction(
        kind="email_opened", contact=jeanne, channel="api", actor=cast.marketer
    )
    assert opened.contact_id == jeanne.pk


def test_the_same_event_recorded_twice_is_stored_once(cast, jeanne):
    first = record_interaction(
        kind="web_visit",
        contact=jeanne,
        channel="api",
        source="website",
        event_id="e-1",
        actor=cast.ae,
    )
    again = record_interaction(
        kind="web_visit",
        contact=jeanne,
        channel="api",
        source="website",
        event_id="e-1",
        actor=cast.ae,
    )
    assert again.pk == first.pk
    assert Interaction.objects.count() == 1


def test_the_signal_goes_after_commit_with_the_stored_row(
    cast, jeanne, django_capture_on_commit_callbacks
):
    received: list[list[Interaction]] = []

    def listener(sender, interactions, **kwargs):
        received.append(interactions)

    interactions_recorded.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            call = record_interaction(kind="call", contact=jeanne, channel="ui", actor=cast.ae)
            assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        interactions_recorded.disconnect(listener)
    assert [[i.pk for i in batch] for batch in received] == [[call.pk]]


def test_a_webinar_attended_makes_the_contact_an_attending_member(cast, jeanne, webinar):
    record_interaction(
        kind="webinar", contact=jeanne, campaign=webinar, channel="api", actor=cast.ae
    )
    member = CampaignMember.objects.get(campaign=webinar, contact=jeanne)
    assert member.status == "attended" and member.responded_at is not None


def test_the_api_service_names_unknown_references(cast):
    with pytest.raises(ValidationFailed) as refused:
        interaction_create(
            actor=cast.ae,
            channel="api",
            data={"kind": "call", "contact": 999_999, "campaign": 888, "occurred_at": "hier"},
        )
    fields = _fields(refused.value)
    assert fields["contact"] == "no contact with id 999999"
    assert fields["campaign"] == "no campaign with id 888"
    assert "occurred_at" in fields
