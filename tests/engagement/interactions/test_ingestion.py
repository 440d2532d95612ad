"""Event ingestion: each event on its own, idempotent, never lost, set-based."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.engagement.campaigns.models import CampaignMember
from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.services import ingest_events
from cible.people.hooks import records_bulk_written
from cible.people.models import Contact
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)


def event(n: int, **fields: Any) -> dict[str, Any]:
    base = {
        "event_id": f"evt-{n}",
        "source": "website",
        "kind": "web_visit",
        "occurred_at": "2026-03-10T13:00:00+01:00",
        "email": "jeanne.dupont@acme.example",
        "properties": {"page": "/pricing"},
    }
    return {**base, **fields}


def test_events_are_stored_with_their_contact_and_organisation(cast, jeanne, acme):
    result = ingest_events(
        events=[event(1), event(2, kind="content_download")], actor=cast.marketer
    )
    assert (result.accepted, result.duplicates, result.rejected) == (2, 0, [])
    stored = Interaction.objects.order_by("event_id")
    assert [(i.contact_id, i.organisation_id, i.kind) for i in stored] == [
        (jeanne.pk, acme.pk, "web_visit"),
        (jeanne.pk, acme.pk, "content_download"),
    ]
    assert stored[0].occurred_at == dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    assert stored[0].properties == {"page": "/pricing"} and stored[0].channel == "events"


def test_the_same_event_sent_twice_counts_once(cast, jeanne):
    first = ingest_events(events=[event(1), event(2)], actor=cast.marketer)
    again = ingest_events(events=[event(1), event(2), event(3)], actor=cast.marketer)
    assert (first.accepted, again.accepted, again.duplicates) == (2, 1, 2)
    assert Interaction.objects.count() == 3


def test_a_repeat_inside_one_call_is_a_duplicate(cast, jeanne):
    result = ingest_events(events=[event(1), event(1), event(1, source="product")], actor=cast.ae)
    assert (result.accepted, result.duplicates) == (2, 1)  # another source is another event


@time_machine.travel(NOW, tick=False)
def test_bad_events_are_listed_and_the_good_ones_stored(cast, jeanne):
    events = [
        event(1),
        event(2, occurred_at="2026-03-10T15:10:00+00:00"),  # 70 min ahead
        event(3, occurred_at="1970-01-01T00:00:00Z"),
        event(4, occurred_at="2026-03-10T10:00:00"),  # no offset
        event(5, occurred_at="last tuesday"),
        event(6, kind="fax"),
        event(7, contact_id=999_999, email=None),
        event(8, email=None),
        event(9, email="not an email"),
        event(10, properties=["a"]),
        {"source": "website", "kind": "web_visit", "email": "a@b.example"},
        "not an object",
        event(13, colour="blue"),
        event(14, occurred_at="2026-03-10T14:04:00Z"),  # within the 5 minutes of tolerance
    ]
    result = ingest_events(events=events, actor=cast.marketer)
    assert result.accepted == 2
    by_index = {r.index: (r.event_id, r.field) for r in result.rejected}
    assert by_index == {
        1: ("evt-2", "occurred_at"),
        2: ("evt-3", "occurred_at"),
        3: ("evt-4", "occurred_at"),
        4: ("evt-5", "occurred_at"),
        5: ("evt-6", "kind"),
        6: ("evt-7", "contact_id"),
        7: ("evt-8", "email"),
        8: ("evt-9", "email"),
        9: ("evt-10", "properties"),
        10: ("", "event_id"),
        11: ("", ""),
        12: ("evt-13", "colour"),
    }
    messages = {r.index: r.message for r in result.rejected}
    assert "future" in messages[1]
    assert "before 2000-01-01" in messages[2]
    assert "offset" in messages[3]
    assert messages[6] == "no contact with id 999999"
    assert "web_visit" in messages[5]  # the message lists the kinds that exist


def test_an_event_for_an_unknown_person_is_kept_and_attached_when_they_appear(cast, acme):
    result = ingest_events(
        events=[
            event(1, email="Paul.Martin@Acme.example"),
            event(2, visitor_id="anon-42", email=None),
        ],
        actor=cast.marketer,
    )
    assert result.accepted == 2
    waiting = Interaction.objects.get(event_id="evt-1")
    assert (waiting.contact_id, waiting.visitor_key) == (None, "paul.martin@acme.example")
    paul = factories.contact(
        cast.ae,
        first_name="Paul",
        last_name="Martin",
        email="paul.martin@acme.example",
        organisation=acme.pk,
    )
    waiting.refresh_from_db()
    assert (waiting.contact_id, waiting.organisation_id) == (paul.pk, acme.pk)
    assert Interaction.objects.get(event_id="evt-2").contact_id is None  # anonymous stays so


def test_contacts_written_in_bulk_also_collect_their_events(cast):
    ingest_events(events=[event(1, email="bulk@import.example")], actor=cast.marketer)
    contact = Contact.objects.create(last_name="Bulk", name_key="bulk", email="bulk@import.example")
    Contact.objects.filter(pk=contact.pk).update(
        email_key="bulk@import.example"
    )  # as a bulk insert
    Interaction.objects.filter(event_id="evt-1").update(contact=None)
    records_bulk_written(model=Contact, ids={contact.pk}, actor=cast.admin, channel="import")
    assert Interaction.objects.get(event_id="evt-1").contact_id == contact.pk


def test_campaigns_are_found_by_utm_name_or_id_and_members_advance(cast, jeanne, webinar):
    result = ingest_events(
        events=[
            event(1, kind="email_opened", campaign="crm-webinar-2026"),
            event(2, kind="webinar", campaign=webinar.pk),
            event(3, kind="web_visit", campaign="spring-ads"),  # not set up: kept in properties
            event(4, kind="web_visit", campaign=424242),
        ],
        actor=cast.marketer,
    )
    assert result.accepted == 3
    assert [(r.index, r.field) for r in result.rejected] == [(3, "campaign")]
    stored = {i.event_id: i for i in Interaction.objects.all()}
    assert stored["evt-1"].campaign_id == webinar.pk == stored["evt-2"].campaign_id
    assert stored["evt-3"].campaign_id is None
    assert stored["evt-3"].properties["utm_campaign"] == "spring-ads"
    assert CampaignMember.objects.get(campaign=webinar, contact=jeanne).status == "attended"


def test_organisation_by_domain(cast, acme):
    ingest_events(
        events=[event(1, email=None, visitor_id="v1", domain="www.acme.example")], actor=cast.ae
    )
    assert Interaction.objects.get().organisation_id == acme.pk


def test_more_than_ten_thousand_events_are_refused_whole(cast):
    with pytest.raises(ValidationFailed) as refused:
        ingest_events(events=[event(n) for n in range(10_001)], actor=cast.ae)
    assert refused.value.errors[0].field == "events"
    assert "10,000" in refused.value.errors[0].message
    assert Interaction.objects.count() == 0


def test_anonymous_callers_are_refused():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        ingest_events(events=[event(1)], actor=AnonymousUser())


def test_a_batch_costs_the_same_queries_whatever_its_size(
    cast, jeanne, webinar, django_assert_max_num_queries
):
    small = [event(n, campaign="crm-webinar-2026", kind="email_clicked") for n in range(5)]
    large = [event(n, campaign="crm-webinar-2026", kind="email_clicked") for n in range(5, 505)]
    large += [event(n, email=f"p{n}@nowhere.example") for n in range(505, 705)]
    with django_assert_max_num_queries(20) as small_queries:
        ingest_events(events=small, actor=cast.marketer)
    # SQLite inserts at most 999 parameters per statement: 700 rows take a dozen INSERTs.
    with django_assert_max_num_queries(20 + 700 // 50) as large_queries:
        result = ingest_events(events=large, actor=cast.marketer)
    assert result.accepted == 700
    selects = [q for q in large_queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) <= len(
        [q for q in small_queries.captured_queries if q["sql"].startswith("SELECT")]
    )


def test_text_postgresql_cannot_store_is_refused_per_event(cast):
    result = ingest_events(
        events=[
            event(1, visitor_id="v", email=None, properties={"note": "a\x00b"}),
            event(2, visitor_id="v", email=None, properties={"note": "\ud800"}),
            event(3, visitor_id="v\x00", email=None),
            event(4, visitor_id="v", email=None),
        ],
        actor=cast.ae,
    )
    assert result.accepted == 1
    assert [(r.index, r.field) for r in result.rejected] == [
        (0, "properties"),
        (1, "properties"),
        (2, "visitor_id"),
    ]
