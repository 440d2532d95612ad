"""The tasks and notifications API: create, list overdue first, complete; errors named."""

from __future__ import annotations

import pytest

from cible.engagement.tasks import services
from cible.engagement.tasks.models import Task
from tests.api.conftest import api_for, assert_error_shape  # noqa: F401

pytestmark = pytest.mark.django_db


def test_create_list_and_complete_a_task(cast, api_for):  # noqa: F811
    api = api_for(cast.ae)
    later = api.post(
        "/tasks",
        {"title": "Prepare the demo", "kind": "meeting", "due_at": "2030-01-10T09:00:00+01:00"},
    )
    assert later.status_code == 201, later.content
    late = api.post(
        "/tasks",
        {
            "title": "Call back Acme",
            "kind": "call",
            "due_at": "2020-01-10T09:00:00Z",
            "key": "acme-callback",
        },
    )
    assert late.json()["overdue"] is True and late.json()["assignee"] == cast.ae.pk
    again = api.post("/tasks", {"title": "Call back Acme", "key": "acme-callback"})
    assert again.status_code == 200 and again.json()["id"] == late.json()["id"]
    listed = api.get("/tasks", count="true").json()
    assert [t["title"] for t in listed["items"]] == ["Call back Acme", "Prepare the demo"]
    assert listed["count"] == 2
    done = api.post(f"/tasks/{late.json()['id']}/complete", {"outcome": "Left a message"})
    assert done.status_code == 200 and done.json()["outcome"] == "Left a message"
    assert done.json()["done_at"] is not None
    twice = api.post(f"/tasks/{late.json()['id']}/complete", {})
    assert twice.status_code == 409
    assert [t["title"] for t in api.get("/tasks", done="true").json()["items"]] == [
        "Call back Acme"
    ]


def test_bad_input_is_a_422_naming_each_field(cast, api_for):  # noqa: F811
    api = api_for(cast.ae)
    response = api.post(
        "/tasks", {"title": "", "kind": "fax", "assignee": 999999, "due_at": "2026-12-01T09:00:00"}
    )
    fields = {e["field"] for e in assert_error_shape(response, 422)["errors"]}
    assert fields == {"assignee"}  # references first: nothing is checked against a ghost
    response = api.post("/tasks", {"title": "", "kind": "fax", "due_at": "2026-12-01T09:00"})
    assert {e["field"] for e in response.json()["errors"]} == {"title", "kind", "due_at"}
    assert not Task.objects.exists()
    assert api.post("/notifications/read", {}).status_code == 422


def test_managers_reassign_and_people_read_their_notifications(cast, api_for):  # noqa: F811
    task = services.create_task(assignee=cast.ae, title="Qualify Acme", actor=None, channel="job")
    moved = api_for(cast.manager).post(f"/tasks/{task.pk}/reassign", {"assignee": cast.ae2.pk})
    assert moved.status_code == 200 and moved.json()["assignee"] == cast.ae2.pk
    api = api_for(cast.ae2)
    items = api.get("/notifications").json()["items"]
    assert [n["title"] for n in items] == ["Une tâche pour vous"]  # in Basile's language (fr)
    assert items[0]["body"] == "Qualify Acme (Sam Manager)" and items[0]["url"] == "/tasks/"
    assert api.get("/notifications/unread-count").json() == {"unread": 1}
    assert api.post("/notifications/read", {"all": True}).json() == {"marked": 1}
    assert api.get("/notifications", unread="true").json()["items"] == []
