"""Erasure anonymises the person everywhere — record, history, audit, consent proofs — while
counts, pipeline and won revenue stay exactly as they were."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Sum
from django.urls import reverse

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.people.models import Contact
from cible.people.services import contact_update
from cible.pipeline.models import Opportunity
from cible.pipeline.services import opportunity_update
from cible.quality.privacy.erasure import contact_erase
from cible.quality.privacy.export import contact_export
from cible.quality.privacy.models import ConsentEvent, PrivacyRequest
from cible.quality.privacy.selectors import current_consents, may_contact
from tests import factories
from tests.api.conftest import assert_error_shape
from tests.quality.privacy.conftest import GWEN, NEW_EMAIL, personal_values, rows_mentioning

pytestmark = pytest.mark.django_db


def _won_revenue() -> Decimal:
    won = Opportunity.objects.filter(stage="won").aggregate(
        total=Sum(F("one_time_amount") + 12 * F("recurring_amount"))
    )
    return won["total"] or Decimal(0)


@pytest.fixture
def deals(cast, account):
    won = factories.opportunity(cast.ae, account, one_time_amount="18 000", recurring_amount="450")
    opportunity_update(opportunity=won, actor=cast.ae, channel="ui", data={"stage": "won"})
    factories.opportunity(cast.ae, account, name="Extension 2027", one_time_amount="9 000")
    return account


def test_nothing_personal_is_left_in_any_table_and_counts_are_unchanged(
    cast, gwen, deals, client_for, meeting_model
):
    # Her traces beyond her record: the audit entry of a related record, labelled with her name,
    # and an export of the contact list filtered by her email (kept in the export's audit entry).
    meeting = meeting_model.objects.create(
        contact=gwen, subject="Visite usine", held_at=dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)
    )
    LogEntry.objects.log_create(meeting, action=LogEntry.Action.CREATE, changes={})
    assert GWEN["last_name"] in LogEntry.objects.get_for_object(meeting).get().object_repr
    listing = client_for(cast.admin).get(reverse("people:contact_export"), {"email": NEW_EMAIL})
    assert listing.status_code == 200 and b"".join(listing.streaming_content)
    contact_export(contact=gwen, actor=cast.admin, channel="ui")
    bystander = factories.contact(cast.ae, first_name="Yann", last_name="Le Gall", email="y@k.fr")
    assert rows_mentioning(personal_values())  # she is all over the database before

    before = (Contact.objects.count(), Opportunity.objects.count(), _won_revenue())
    assert before[2] == Decimal("23400.00")

    request = contact_erase(
        contact=gwen,
        actor=cast.admin,
        channel="ui",
        reason=f"Demande de {GWEN['first_name']} par courriel, ticket 4521",
    )

    assert rows_mentioning(personal_values()) == []
    assert (Contact.objects.count(), Opportunity.objects.count(), _won_revenue()) == before
    gwen.refresh_from_db()
    assert gwen.full_name == f"Anonymised contact #{gwen.pk}"
    assert (gwen.email, gwen.phone, gwen.mobile, gwen.job_title, gwen.linkedin_url) == ("",) * 5
    assert (gwen.name_key, gwen.email_key) == ("", "")
    assert gwen.anonymised_at is not None and gwen.organisation == deals  # statistics keep it
    bystander.refresh_from_db()
    assert (bystander.first_name, bystander.email) == ("Yann", "y@k.fr")
    assert request.reason == "Demande de [redacted] par courriel, ticket 4521"
    meeting.refresh_from_db()
    assert meeting.subject == "Visite usine"  # related records stay
    entry = LogEntry.objects.get_for_object(meeting).get()
    assert entry.object_repr == "Visite usine ([redacted])"


def test_consent_facts_remain_without_their_personal_proof(cast, gwen):
    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")
    event = ConsentEvent.objects.get(contact=gwen, source="form")
    assert (event.status, event.channel, event.purpose.code) == ("granted", "email", "marketing")
    assert (event.proof_ip, event.proof_email) == (None, "")
    assert event.proof_form == "Livre blanc CRM 2026"
    assert len(current_consents(gwen)) == 2
    gwen.refresh_from_db()
    assert may_contact(gwen, "email", "marketing") is False  # nobody writes to an erased person
    assert (gwen.email_opt_out, gwen.phone_opt_out) == (True, True)


def test_the_audit_trail_is_redacted_and_the_erasure_audited_without_personal_data(cast, gwen):
    contact_erase(contact=gwen, actor=cast.admin, channel="api", reason="Ticket 4521")
    entries = LogEntry.objects.get_for_object(gwen).order_by("timestamp", "pk")
    assert all(e.object_repr == f"Anonymised contact #{gwen.pk}" for e in entries)
    created = entries.first()
    assert created.changes["first_name"] == ["None", "[redacted]"]
    assert created.changes["lifecycle_stage"] == ["None", "suspect"]  # nothing personal: kept
    email_change = next(
        e for e in entries if e.action == LogEntry.Action.UPDATE and "email" in (e.changes or {})
    )
    assert email_change.changes["email"] == ["[redacted]", "[redacted]"]
    last = entries.last()
    assert last.actor == cast.admin
    assert last.additional_data["channel"] == "api"
    assert last.additional_data["privacy"]["action"] == "erasure"
    request = PrivacyRequest.objects.get(kind="erasure")
    assert (request.contact_ref, request.actor, request.channel) == (gwen.pk, cast.admin, "api")
    assert request.details["contacts"] == 1 and request.details["audit_entries"] >= 3


def test_an_anonymised_contact_cannot_be_edited_back(cast, gwen, client_for):
    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")
    gwen.refresh_from_db()
    with pytest.raises(ValidationFailed, match="anonymised"):
        contact_update(contact=gwen, actor=cast.admin, channel="ui", data={"first_name": "Gwen"})
    response = client_for(cast.admin).post(
        reverse("people:contact_edit", args=[gwen.pk]),
        {"last_name": "Quesnel", "first_name": "Gwen", "version": gwen.version},
    )
    assert response.status_code == 422
    assert "can no longer be changed" in response.content.decode()
    gwen.refresh_from_db()
    assert gwen.first_name == ""
    with pytest.raises(ValidationFailed, match="no consent can be recorded"):
        from cible.quality.privacy.services import consent_record

        consent_record(
            contact=gwen,
            actor=cast.admin,
            channel="ui",
            contact_channel="email",
            purpose="marketing",
            status="granted",
            proof={"email": NEW_EMAIL},
        )


def test_lists_show_the_contact_as_anonymised(cast, gwen, client_for):
    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")
    page = client_for(cast.ae).get(reverse("people:contact_list")).content.decode()
    assert f"Anonymised contact #{gwen.pk}" in page and GWEN["last_name"] not in page
    detail = client_for(cast.ae).get(reverse("people:contact_detail", args=[gwen.pk]))
    assert 'id="anonymised-banner"' in detail.content.decode()


def test_erasing_twice_says_it_was_already_done(cast, gwen, api_for):
    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")
    gwen.refresh_from_db()
    with pytest.raises(ValidationFailed, match="already anonymised"):
        contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Again")
    body = assert_error_shape(
        api_for(cast.admin).post(f"/privacy/contacts/{gwen.pk}/erase", {"reason": "Again"}), 422
    )
    assert f"Contact #{gwen.pk} was already anonymised" in body["detail"]
    assert PrivacyRequest.objects.filter(kind="erasure").count() == 1


def test_only_administrators_erase(cast, gwen, client_for, api_for):
    for user in (cast.ae, cast.manager, cast.marketer):
        with pytest.raises(PermissionDenied):
            contact_erase(contact=gwen, actor=user, channel="ui", reason="x")
    assert (
        client_for(cast.ae).get(reverse("privacy:contact_erase", args=[gwen.pk])).status_code == 404
    )
    assert_error_shape(
        api_for(cast.ae).post(f"/privacy/contacts/{gwen.pk}/erase", {"reason": "x"}), 403
    )
    gwen.refresh_from_db()
    assert gwen.anonymised_at is None and gwen.last_name == GWEN["last_name"]


def test_the_erase_page_asks_for_the_number_and_a_reason(cast, gwen, client_for):
    client = client_for(cast.admin)
    url = reverse("privacy:contact_erase", args=[gwen.pk])
    assert GWEN["last_name"] in client.get(url).content.decode()
    refused = client.post(url, {"reason": "", "confirm": "999"})
    assert refused.status_code == 422
    assert f"Type {gwen.pk} to confirm" in refused.content.decode()
    done = client.post(url, {"reason": "Ticket 4521", "confirm": str(gwen.pk)})
    assert done.status_code == 302
    gwen.refresh_from_db()
    assert gwen.anonymised_at is not None
    assert PrivacyRequest.objects.get(kind="erasure").reason == "Ticket 4521"


def test_the_history_of_a_duplicate_merged_into_the_person_goes_too(cast, gwen):
    from cible.people.services import contact_delete

    twin = factories.contact(
        cast.ae, first_name="Gwenaelle", last_name="Quesnel Barbier", email="gqb@webmail.fr"
    )
    twin_pk = twin.pk
    contact_delete(contact=twin, actor=cast.ae, channel="ui")
    # What the duplicates app leaves when it merges one record into another.
    contact_type = ContentType.objects.get_for_model(Contact)
    twin_entries = LogEntry.objects.filter(content_type=contact_type, object_pk=str(twin_pk))
    twin_entries.filter(action=LogEntry.Action.DELETE).update(
        additional_data={"channel": "ui", "merge": {"id": 1}, "merged_into": gwen.pk}
    )
    assert rows_mentioning(["gqb@webmail.fr", "Quesnel Barbier"])

    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")

    assert rows_mentioning(["gqb@webmail.fr", "Quesnel Barbier", "Gwenaelle"]) == []
    assert {e.object_repr for e in twin_entries} == {f"Anonymised contact #{twin_pk}"}
