"""The interactions API: lists, one interaction, bulk events; the one error shape."""

from __future__ import annotations

import pytest

from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.services import record_interaction
from tests.api.conftest import ApiClient, api_for, assert_error_shape, fields_of  # noqa: F401

pytestmark = pytest.mark.django_db


def _event(n: int, **fields):
    return {
        "event_id": f"e{n}",
        "source": "product",
        "kind": "product_usage",
        "occurred_at": "2026-01-05T10:00:00+01:00",
        "email": "jeanne.dupont@acme.example",
        **fields,
    }


def test_events_answer_accepted_duplicates_and_rejected(cast, jeanne, api_for):  # noqa: F811
    api = api_for(cast.marketer)
    first = api.post("/events", {"events": [_event(1), _event(2)]})
    assert first.status_code == 200, first.content
    assert first.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    again = api.post("/events", {"events": [_event(2), _event(3, kind="nap")]})
    body = again.json()
    assert (body["accepted"], body["duplicates"]) == (0, 1)
    assert body["rejected"][0]["index"] == 1
    assert body["rejected"][0]["event_id"] == "e3"
    assert body["rejected"][0]["field"] == "kind"
    assert "nap" in body["rejected"][0]["message"]


def test_ten_thousand_and_one_events_are_refused_with_a_clear_message(cast, api_for):  # noqa: F811
    api = api_for(cast.marketer)
    events = [{"event_id": str(n), "kind": "web_visit", "visitor_id": "v"} for n in range(10_001)]
    response = api.post("/events", {"events": events})
    body = assert_error_shape(response, 422)
    assert fields_of(body) == {"events"}
    assert "at most 10,000 events per call (got 10,001)" in body["errors"][0]["message"]
    assert Interaction.objects.count() == 0


def test_a_body_that_is_not_a_list_of_events_is_a_422(cast, api_for):  # noqa: F811
    api = api_for(cast.marketer)
    body = assert_error_shape(api.post("/events", {"events": "many"}), 422)
    assert fields_of(body) == {"events"}
    body = assert_error_shape(api.post("/events", {"evnts": []}), 422)
    assert "evnts" in fields_of(body)


def test_events_need_a_token(db):
    response = ApiClient(None).post("/events", {"events": [_event(1)]})
    assert_error_shape(response, 401)
    response = ApiClient("not-a-token").post("/events", {"events": [_event(1)]})
    assert_error_shape(response, 401)


def test_post_one_interaction_and_read_it_back_filtered(cast, jeanne, acme, api_for):  # noqa: F811
    api = api_for(cast.ae)
    response = api.post(
        "/interactions",
        {"kind": "meeting", "contact": jeanne.pk, "outcome": "held", "duration_seconds": "3600"},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["organisation"], created["owner"], created["duration_seconds"]) == (
        acme.pk,
        cast.ae.pk,
        3600,
    )
    record_interaction(kind="email_sent", contact=jeanne, channel="api", actor=cast.ae)
    listed = api.get("/interactions", organisation=acme.pk, kind="meeting", count="true").json()
    assert [i["id"] for i in listed["items"]] == [created["id"]]
    assert listed["count"] == 1


def test_bad_interactions_get_422_naming_each_field(cast, jeanne, api_for):  # noqa: F811
    api = api_for(cast.ae)
    response = api.post(
        "/interactions",
        {
            "kind": "call",
            "contact": jeanne.pk,
            "outcome": "held",
            "occurred_at": "2099-01-01T00:00Z",
        },
    )
    body = assert_error_shape(response, 422)
    assert fields_of(body) == {"outcome", "occurred_at"}
    body = assert_error_shape(api.get("/interactions", kind="fax", since="soon"), 422)
    assert fields_of(body) == {"kind", "since"}


def test_the_list_hides_team_private_accounts_from_outsiders(
    cast,
    jeanne,
    team_private,
    api_for,  # noqa: F811
):
    record_interaction(kind="call", contact=jeanne, channel="ui", actor=cast.ae)
    assert len(api_for(cast.ae2).get("/interactions").json()["items"]) == 1
    assert api_for(cast.outsider).get("/interactions", count="true").json()["count"] == 0
    refused = api_for(cast.outsider).post("/interactions", {"kind": "call", "contact": jeanne.pk})
    assert fields_of(assert_error_shape(refused, 422)) == {"contact"}
