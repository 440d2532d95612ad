"""Contacts through the API."""

from __future__ import annotations

import pytest

from cible.people.models import Contact
from cible.people.services import contact_create, organisation_create
from tests.api.conftest import assert_error_shape, fields_of

pytestmark = pytest.mark.django_db

JEAN = {
    "first_name": "jean",
    "last_name": "DUPONT",
    "email": "Jean.Dupont@Acme.fr",
    "phone": "01 23 45 67 89",
}


def test_create_normalises(cast, api_for):
    organisation = organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Acme"})
    response = api_for(cast.ae).post(
        "/contacts", {**JEAN, "organisation": organisation.pk, "email_opt_out": "oui"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["first_name"], body["last_name"], body["full_name"]) == (
        "Jean",
        "Dupont",
        "Jean Dupont",
    )
    assert body["email"] == "jean.dupont@acme.fr"
    assert body["phone"] == "+33123456789"
    assert body["organisation"] == organisation.pk
    assert body["email_opt_out"] is True
    assert Contact.objects.get(pk=body["id"]).phone == "+33123456789"


def test_bad_email_and_missing_last_name_are_named(cast, api_for):
    body = assert_error_shape(api_for(cast.ae).post("/contacts", {"email": "not-an-email"}), 422)
    assert fields_of(body) == {"email", "last_name"}
    assert Contact.objects.count() == 0


def test_unknown_field_and_wrong_type(cast, api_for):
    body = assert_error_shape(
        api_for(cast.ae).post("/contacts", {**JEAN, "nickname": "JD", "has_left": {"no": 1}}), 422
    )
    assert fields_of(body) == {"nickname", "has_left"}


def test_an_invisible_organisation_cannot_be_referenced(cast, api_for, team_private):
    organisation = organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Acme"})
    body = assert_error_shape(
        api_for(cast.outsider).post("/contacts", {**JEAN, "organisation": organisation.pk}), 422
    )
    assert fields_of(body) == {"organisation"}


def test_patch_and_conflict(cast, api_for):
    contact = contact_create(actor=cast.ae, channel="ui", data=JEAN)
    client = api_for(cast.ae)
    response = client.patch(f"/contacts/{contact.pk}", {"job_title": "DSI", "version": 1})
    assert response.status_code == 200
    assert response.json()["job_title"] == "DSI"
    assert_error_shape(
        client.patch(f"/contacts/{contact.pk}", {"job_title": "CEO", "version": 1}), 409
    )
    contact.refresh_from_db()
    assert (contact.job_title, contact.version) == ("DSI", 2)


def test_delete(cast, api_for):
    contact = contact_create(actor=cast.ae, channel="ui", data=JEAN)
    assert api_for(cast.ae).delete(f"/contacts/{contact.pk}").status_code == 204
    assert not Contact.objects.exists()


def test_list_filter_and_pages(cast, api_for):
    for i in range(12):
        contact_create(
            actor=cast.ae,
            channel="ui",
            data={"last_name": f"Name{i:02}", "email": f"p{i}@example.fr"},
        )
    client = api_for(cast.ae)
    assert [
        c["last_name"] for c in client.get("/contacts", email="P3@example.fr").json()["items"]
    ] == ["Name03"]
    seen, cursor = [], None
    while True:
        body = client.get("/contacts", limit=5, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["last_name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Name{i:02}" for i in range(12)]


def test_team_private_contacts_are_invisible(cast, api_for, team_private):
    contact = contact_create(actor=cast.ae, channel="ui", data=JEAN)
    outsider = api_for(cast.outsider)
    assert outsider.get("/contacts", count="true").json()["count"] == 0
    assert_error_shape(outsider.get(f"/contacts/{contact.pk}"), 404)


def test_buying_role_is_written_read_and_filtered(cast, api_for):
    client = api_for(cast.ae)
    created = client.post("/contacts", {**JEAN, "buying_role": "Decision maker"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["buying_role"] == "decision_maker"  # a label is stored as its code
    client.post("/contacts", {"last_name": "Leroy", "email": "leroy@acme.fr"})

    assert client.get(f"/contacts/{body['id']}").json()["buying_role"] == "decision_maker"
    deciders = client.get("/contacts", buying_role="decision_maker").json()["items"]
    assert [c["last_name"] for c in deciders] == ["Dupont"]
    unknown = client.get("/contacts").json()["items"]
    assert {c["last_name"]: c["buying_role"] for c in unknown}["Leroy"] == ""

    patched = client.patch(
        f"/contacts/{body['id']}", {"buying_role": "economic_buyer", "version": body["version"]}
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["buying_role"] == "economic_buyer"
    assert Contact.objects.get(pk=body["id"]).buying_role == "economic_buyer"


def test_a_buying_role_that_does_not_exist_is_named(cast, api_for):
    body = assert_error_shape(
        api_for(cast.ae).post("/contacts", {**JEAN, "buying_role": "sponsor"}), 422
    )
    assert body["errors"] == [
        {
            "field": "buying_role",
            "message": "“sponsor” is not one of: decision_maker, economic_buyer, influencer, "
            "recommender, evaluator, user, purchasing, legal",
        }
    ]
    assert Contact.objects.count() == 0
