"""Whose tasks a person sees: their own; a manager their team's; an admin everyone's. Olivier,
of the Lyon team, sees no Paris task in any list, count or answer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cible.engagement.tasks import notifications, selectors, services
from tests.api.conftest import api_for  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


@pytest.fixture
def paris_tasks(cast):
    return [
        services.create_task(
            assignee=user, title=f"Task of {user.first_name}", actor=None, channel="job"
        )
        for user in (cast.ae, cast.ae2, cast.sdr)
    ]


def _titles(qs):
    return sorted(t.title for t in qs)


def test_each_sees_whose_tasks_the_policy_allows(cast, paris_tasks):
    assert _titles(selectors.task_list(viewer=cast.ae, scope="team")) == ["Task of Alice"]
    assert _titles(selectors.task_list(viewer=cast.manager, scope="team")) == [
        "Task of Alice",
        "Task of Basile",
        "Task of Sophie",
    ]
    assert _titles(selectors.task_list(viewer=cast.manager, scope="mine")) == []
    assert len(selectors.task_list(viewer=cast.admin, scope="team")) == 3
    assert list(selectors.task_list(viewer=cast.outsider, scope="team")) == []
    assert selectors.open_count(viewer=cast.outsider) == 0
    assert selectors.open_count(viewer=cast.ae) == 1


def test_olivier_cannot_reach_paris_tasks_in_pages_or_api(
    cast,
    paris_tasks,
    client_for,
    api_for,  # noqa: F811
):
    alices = paris_tasks[0]
    client = client_for(cast.outsider)
    page = client.get(reverse("tasks:list"), {"scope": "team"})
    assert page.status_code == 200 and "Task of Alice" not in page.content.decode()
    done = client.post(reverse("tasks:complete", args=[alices.pk]))
    assert done.status_code == 404
    api = api_for(cast.outsider)
    listed = api.get("/tasks", scope="team", count="true")
    assert listed.json()["count"] == 0 and listed.json()["items"] == []
    assert api.get(f"/tasks/{alices.pk}").status_code == 404
    assert api.post(f"/tasks/{alices.pk}/complete", {}).status_code == 404
    # A key of a task he may not see is not a way to read it.
    services.create_task(assignee=cast.ae, title="Secret", actor=None, channel="job", key="sla:9")
    taken = api.post("/tasks", {"title": "Probe", "key": "sla:9"})
    assert taken.status_code == 409 and "Secret" not in taken.content.decode()


def test_notifications_are_private_to_their_user(cast, client_for, api_for):  # noqa: F811
    notifications.notify(users=[cast.ae], title="For Alice only", url="/leads/")
    note = cast.ae.notifications.get()
    assert (
        client_for(cast.outsider)
        .get(reverse("tasks:notification_open", args=[note.pk]))
        .status_code
        == 404
    )
    api = api_for(cast.outsider)
    assert api.get("/notifications").json()["items"] == []
    assert api.get("/notifications/unread-count").json() == {"unread": 0}
    assert api.post("/notifications/read", {"ids": [note.pk]}).json() == {"marked": 0}
    assert selectors.unread_count(user=cast.ae) == 1
