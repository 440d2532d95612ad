"""Consent per channel and purpose: history kept, the latest word wins, the contact's summary
fields follow, and every send can ask `may_contact` (one person) or `contactable` (a list)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.people.models import Contact
from cible.people.services import contact_update
from cible.quality.privacy.models import ConsentEvent
from cible.quality.privacy.selectors import (
    contact_permission,
    contactable,
    current_consents,
    may_contact,
)
from cible.quality.privacy.services import consent_record
from tests import factories

pytestmark = pytest.mark.django_db


def record(contact, actor, channel, purpose, status, **kwargs):
    return consent_record(
        contact=contact,
        actor=actor,
        channel="ui",
        contact_channel=channel,
        purpose=purpose,
        status=status,
        **kwargs,
    )


@pytest.fixture
def jean(cast):
    return factories.contact(cast.ae, first_name="Jean", last_name="Martin", email="jm@acme.fr")


def current(contact):
    return {
        (e.channel, e.purpose.code if e.purpose else "all"): e.status
        for e in current_consents(contact).values()
    }


def test_history_is_kept_and_the_latest_word_is_the_current_state(cast, jean):
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)):
        record(jean, cast.ae, "email", "marketing", "granted", proof={"form": "Salon CRM"})
    with time_machine.travel(dt.datetime(2026, 2, 3, 9, tzinfo=dt.UTC)):
        record(jean, cast.ae, "email", "marketing", "withdrawn", source="email_unsubscribe")
        record(jean, cast.ae, "phone", "sales_follow_up", "refused", proof={"note": "by phone"})

    events = list(ConsentEvent.objects.filter(contact=jean).order_by("occurred_at", "id"))
    assert [(e.channel, e.status, e.source) for e in events] == [
        ("email", "granted", "ui"),
        ("email", "withdrawn", "email_unsubscribe"),
        ("phone", "refused", "ui"),
    ]
    assert events[0].proof_form == "Salon CRM" and events[0].recorded_by == cast.ae
    assert current(jean) == {
        ("email", "marketing"): "withdrawn",
        ("phone", "sales_follow_up"): "refused",
    }


def test_a_back_dated_event_joins_the_history_without_overriding_a_newer_word(cast, jean):
    record(jean, cast.ae, "email", "events", "withdrawn")
    record(
        jean,
        cast.ae,
        "email",
        "events",
        "granted",
        source="import",
        occurred_at="2024-05-01T10:00:00+02:00",
        proof={"import_run": 12, "import_row": 345},
    )
    assert current(jean) == {("email", "events"): "withdrawn"}
    old = ConsentEvent.objects.get(contact=jean, status="granted")
    assert (old.import_run, old.import_row, old.occurred_at.year) == (12, 345, 2024)


def test_events_are_append_only(cast, jean):
    event = record(jean, cast.ae, "email", "marketing", "granted")
    event.status = "withdrawn"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_summary_fields_follow_so_lists_and_filters_stay_right(cast, jean):
    record(jean, cast.ae, "email", "marketing", "granted")
    jean.refresh_from_db()
    assert (jean.email_consent, jean.email_opt_out) == ("granted", False)

    record(jean, cast.ae, "email", None, "withdrawn", source="email_unsubscribe")  # all emails
    jean.refresh_from_db()
    assert (jean.email_consent, jean.email_opt_out) == ("withdrawn", True)
    assert jean.opted_out_at is not None
    assert Contact.objects.filter(email_opt_out=True).get() == jean

    record(jean, cast.ae, "email", "events", "granted")  # asked for invitations again
    jean.refresh_from_db()
    assert (jean.email_consent, jean.email_opt_out) == ("granted", False)
    assert jean.opted_out_at is None

    record(jean, cast.ae, "phone", None, "refused")
    jean.refresh_from_db()
    assert jean.phone_opt_out is True


def test_may_contact_follows_the_latest_word_per_channel_and_purpose(cast, jean):
    # Nothing recorded: opt-out purposes are allowed, the opt-in newsletter is not.
    assert may_contact(jean, "email", "product_news") is True
    assert may_contact(jean, "email", "marketing") is False
    assert "explicit consent" in contact_permission(jean, "email", "marketing").reason

    record(jean, cast.ae, "email", "marketing", "granted")
    assert may_contact(jean, "email", "marketing") is True

    record(jean, cast.ae, "email", None, "withdrawn")  # unsubscribe from everything
    jean.refresh_from_db()
    assert may_contact(jean, "email", "marketing") is False
    assert may_contact(jean, "email", "events") is False
    assert may_contact(jean, "phone", "events") is True  # another channel

    record(jean, cast.ae, "email", "events", "granted")  # newer than the unsubscribe
    jean.refresh_from_db()
    assert may_contact(jean, "email", "events") is True
    assert may_contact(jean, "email", "marketing") is False


def test_an_opt_out_ticked_on_the_contact_form_is_recorded_and_honoured(cast, jean):
    contact_update(contact=jean, actor=cast.ae2, channel="ui", data={"email_opt_out": "oui"})
    jean.refresh_from_db()
    event = ConsentEvent.objects.get(contact=jean)
    assert (event.channel, event.purpose, event.status, event.source) == (
        "email",
        None,
        "withdrawn",
        "ui",
    )
    assert event.recorded_by == cast.ae2 and event.proof_reference.startswith("audit entry #")
    assert may_contact(jean, "email", "product_news") is False
    assert contact_permission(jean, "email", "product_news").reason.startswith("opted out")


def test_a_legacy_blanket_email_consent_counts_until_a_word_per_purpose_exists(cast):
    contact = factories.contact(cast.ae, last_name="Legacy", email_consent="granted")
    ConsentEvent.objects.filter(contact=contact).delete()  # as bulk-loaded data: no history
    assert may_contact(contact, "email", "marketing") is True


def test_contactable_selects_in_sql_exactly_whom_may_contact_allows(cast):
    people = [factories.contact(cast.ae, last_name=f"P{i}") for i in range(6)]
    record(people[0], cast.ae, "email", "marketing", "granted")
    record(people[1], cast.ae, "email", "marketing", "granted")
    record(people[1], cast.ae, "email", None, "withdrawn")
    record(people[2], cast.ae, "email", None, "withdrawn")
    record(people[2], cast.ae, "email", "marketing", "granted")
    record(people[3], cast.ae, "email", "events", "refused")
    contact_update(contact=people[4], actor=cast.ae, channel="ui", data={"email_opt_out": True})
    Contact.objects.filter(pk=people[5].pk).update(anonymised_at=dt.datetime.now(dt.UTC))

    everyone = Contact.objects.filter(pk__in=[p.pk for p in people])
    for purpose in ("marketing", "events", "product_news"):
        by_sql = set(contactable(everyone, "email", purpose).values_list("pk", flat=True))
        one_by_one = {c.pk for c in everyone if may_contact(c, "email", purpose)}
        assert by_sql == one_by_one, purpose
    assert set(contactable(everyone, "email", "marketing")) == {people[0], people[2]}
    assert set(contactable(everyone, "email", "events")) == {people[0]}


def test_unknown_channel_purpose_status_are_named_and_nothing_is_written(cast, jean):
    with pytest.raises(ValidationFailed) as failure:
        record(jean, cast.ae, "fax", "lottery", "maybe", proof={"ip": "not-an-ip"})
    messages = {e.field: e.message for e in failure.value.errors}
    assert "“fax”" in messages["channel"] and "email, phone, sms, post" in messages["channel"]
    assert "“lottery”" in messages["purpose"] and "marketing" in messages["purpose"]
    assert "“maybe”" in messages["status"]
    assert "not an IP address" in messages["proof_ip"]
    assert not ConsentEvent.objects.filter(contact=jean).exists()
    with pytest.raises(ValidationFailed) as failure:
        may_contact(jean, "pigeon", "marketing")
    assert failure.value.errors[0].field == "channel"


def test_only_those_who_may_change_the_contact_record_consents(cast, team_private):
    theirs = factories.contact(cast.outsider, last_name="Lyonnais")
    with pytest.raises(PermissionDenied):
        record(theirs, cast.ae, "email", "marketing", "granted")
    record(theirs, cast.admin, "email", "marketing", "granted")
    assert ConsentEvent.objects.filter(contact=theirs).count() == 1


def test_events_moved_onto_a_merged_contact_give_the_right_current_state(cast, jean):
    twin = factories.contact(cast.ae, first_name="J.", last_name="Martin")
    with time_machine.travel(dt.datetime(2026, 1, 5, tzinfo=dt.UTC)):
        record(jean, cast.ae, "email", "marketing", "granted")
    with time_machine.travel(dt.datetime(2026, 2, 5, tzinfo=dt.UTC)):
        record(twin, cast.ae, "email", "marketing", "withdrawn")
        record(twin, cast.ae, "sms", "events", "granted")
    # What the duplicates app's merge does with every row pointing at the loser.
    ConsentEvent.objects.filter(contact=twin).update(contact=jean)
    assert current(jean) == {("email", "marketing"): "withdrawn", ("sms", "events"): "granted"}
    assert may_contact(jean, "email", "marketing") is False
