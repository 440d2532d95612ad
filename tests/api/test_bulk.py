"""Bulk upsert: up to 1,000 records per call, all or nothing, every refused item listed."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from cible.people.models import Contact, Organisation
from cible.people.services import contact_create, organisation_create
from cible.pipeline.models import Opportunity
from tests.api.conftest import assert_error_shape

pytestmark = pytest.mark.django_db


def test_creates_every_item_and_reports_ids(cast, api_for):
    items = [
        {"legal_name": f"Org {i}", "siren": s} for i, s in enumerate(["732829320", "552100554", ""])
    ]
    response = api_for(cast.ae).post("/organisations/bulk", {"items": items})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"]) == (3, 0)
    assert [i["index"] for i in body["items"]] == [0, 1, 2]
    stored = Organisation.objects.in_bulk([i["id"] for i in body["items"]])
    assert [stored[i["id"]].legal_name for i in body["items"]] == ["Org 0", "Org 1", "Org 2"]
    assert LogEntry.objects.filter(additional_data__channel="api").count() == 3


def test_one_bad_item_writes_nothing_and_names_its_index(cast, api_for):
    items = [
        {"legal_name": "Good"},
        {"legal_name": "Bad", "siren": "123"},
        {"legal_name": "Good too"},
        {"siren": "732829320"},
    ]
    body = assert_error_shape(api_for(cast.ae).post("/organisations/bulk", {"items": items}), 422)
    assert body["items"] == [
        {
            "index": 1,
            "errors": [{"field": "siren", "message": body["items"][0]["errors"][0]["message"]}],
        },
        {"index": 3, "errors": [{"field": "legal_name", "message": "is required"}]},
    ]
    assert {e["field"] for e in body["errors"]} == {"items.1.siren", "items.3.legal_name"}
    assert Organisation.objects.count() == 0


def test_a_shape_error_in_one_item_names_its_index(cast, api_for):
    items = [{"legal_name": "Good"}, {"legal_name": "Bad", "colour": "red"}]
    body = assert_error_shape(api_for(cast.ae).post("/organisations/bulk", {"items": items}), 422)
    assert body["items"] == [
        {"index": 1, "errors": [{"field": "colour", "message": "is not a field that can be set"}]}
    ]
    assert Organisation.objects.count() == 0


def test_upsert_by_siren_updates_instead_of_duplicating(cast, api_for):
    existing = organisation_create(
        actor=cast.ae, channel="ui", data={"legal_name": "Acme", "siren": "732829320"}
    )
    items = [
        {"legal_name": "Acme SAS", "siren": "732 829 320", "city": "Lyon"},
        {"legal_name": "Newco", "siren": "552100554"},
    ]
    body = api_for(cast.ae).post("/organisations/bulk?match=siren", {"items": items}).json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert body["items"][0] == {"index": 0, "id": existing.pk, "action": "updated"}
    existing.refresh_from_db()
    assert (existing.legal_name, existing.city, existing.version) == ("Acme SAS", "Lyon", 2)
    assert Organisation.objects.filter(siren="732829320").count() == 1


def test_upsert_by_domain(cast, api_for):
    existing = organisation_create(
        actor=cast.ae, channel="ui", data={"legal_name": "Acme", "website": "https://www.acme.fr"}
    )
    body = (
        api_for(cast.ae)
        .post(
            "/organisations/bulk?match=domain", {"items": [{"domain": "ACME.fr", "tier": "gold"}]}
        )
        .json()
    )
    assert body["items"] == [{"index": 0, "id": existing.pk, "action": "updated"}]


def test_upsert_by_id_with_a_stale_version_is_refused(cast, api_for):
    existing = organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Acme"})
    client = api_for(cast.ae)
    ok = client.post(
        "/organisations/bulk", {"items": [{"id": existing.pk, "city": "Lyon", "version": 1}]}
    )
    assert ok.json()["items"] == [{"index": 0, "id": existing.pk, "action": "updated"}]
    stale = client.post(
        "/organisations/bulk",
        {"items": [{"legal_name": "Newco"}, {"id": existing.pk, "city": "Nice", "version": 1}]},
    )
    body = assert_error_shape(stale, 422)
    assert body["items"][0]["index"] == 1
    assert body["items"][0]["errors"][0]["field"] == "version"
    existing.refresh_from_db()
    assert existing.city == "Lyon"
    assert not Organisation.objects.filter(legal_name="Newco").exists()


def test_an_unknown_match_key_is_a_422(cast, api_for):
    assert_error_shape(api_for(cast.ae).post("/organisations/bulk?match=name", {"items": []}), 422)


def test_more_than_1000_items_are_refused_with_the_limit(cast, api_for):
    items = [{"legal_name": f"Org {i}"} for i in range(1001)]
    body = assert_error_shape(api_for(cast.ae).post("/organisations/bulk", {"items": items}), 422)
    assert body["errors"] == [{"field": "items", "message": body["errors"][0]["message"]}]
    assert "1000" in body["errors"][0]["message"] and "1001" in body["errors"][0]["message"]
    assert Organisation.objects.count() == 0


def test_1000_items_are_accepted(cast, api_for):
    items = [{"last_name": f"Person {i}", "email": f"p{i}@example.fr"} for i in range(1000)]
    body = api_for(cast.ae).post("/contacts/bulk", {"items": items}).json()
    assert body["created"] == 1000
    assert Contact.objects.count() == 1000


def test_contacts_upsert_by_email(cast, api_for):
    existing = contact_create(
        actor=cast.ae, channel="ui", data={"last_name": "Dupont", "email": "jean@acme.fr"}
    )
    body = (
        api_for(cast.ae)
        .post(
            "/contacts/bulk?match=email",
            {
                "items": [
                    {"last_name": "Dupont", "email": "Jean@ACME.fr", "job_title": "DSI"},
                    {"last_name": "Martin", "email": "marie@acme.fr"},
                ]
            },
        )
        .json()
    )
    assert [i["action"] for i in body["items"]] == ["updated", "created"]
    existing.refresh_from_db()
    assert existing.job_title == "DSI"
    assert Contact.objects.count() == 2


def test_an_invisible_record_is_never_matched(cast, api_for, team_private):
    hidden = organisation_create(
        actor=cast.ae, channel="ui", data={"legal_name": "Acme", "siren": "732829320"}
    )
    outsider = api_for(cast.outsider)
    by_id = assert_error_shape(
        outsider.post("/organisations/bulk", {"items": [{"id": hidden.pk, "city": "Lyon"}]}), 422
    )
    assert by_id["items"][0]["errors"][0]["field"] == "id"
    by_siren = outsider.post(
        "/organisations/bulk?match=siren",
        {"items": [{"legal_name": "Acme Lyon", "siren": "732829320", "city": "Lyon"}]},
    ).json()
    assert by_siren["items"][0]["action"] == "created"
    hidden.refresh_from_db()
    assert (hidden.legal_name, hidden.city, hidden.version) == ("Acme", "", 1)


def test_opportunities_bulk(cast, api_for):
    acme = organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Acme"})
    client = api_for(cast.ae)
    body = client.post(
        "/opportunities/bulk",
        {
            "items": [
                {"name": "A", "organisation": acme.pk, "one_time_amount": "1 000"},
                {"name": "B", "organisation": acme.pk},
            ]
        },
    ).json()
    assert body["created"] == 2
    refused = client.post(
        "/opportunities/bulk",
        {
            "items": [
                {"id": body["items"][0]["id"], "stage": "won"},
                {"name": "C"},
            ]
        },
    )
    assert assert_error_shape(refused, 422)["items"][0]["index"] == 1
    assert Opportunity.objects.filter(stage="won").count() == 0
    assert Opportunity.objects.count() == 2


def test_marketing_bulk_is_refused_per_item(cast, api_for):
    acme = organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Acme"})
    body = assert_error_shape(
        api_for(cast.marketer).post(
            "/opportunities/bulk", {"items": [{"name": "A", "organisation": acme.pk}]}
        ),
        422,
    )
    assert body["items"][0]["index"] == 0
    assert not Opportunity.objects.exists()
