"""The task pages: my tasks overdue first, done in one HTMX click, the Tasks tab of a contact,
the notification list and the navbar bell (two queries, nothing for visitors)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from cible.engagement.interactions.models import Interaction
from cible.engagement.tasks import notifications, services
from cible.engagement.tasks.models import Task
from cible.engagement.tasks.services import TaskRow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_pages")]


def test_my_tasks_lists_the_overdue_first_in_few_queries(
    cast, jeanne, client_for, django_assert_max_num_queries
):
    now = timezone.now()
    services.create_tasks(
        rows=[
            TaskRow(
                assignee=cast.ae,
                title=f"Later {i}",
                due_at=now + dt.timedelta(days=i + 1),
                contact=jeanne,
            )
            for i in range(30)
        ]
        + [
            TaskRow(
                assignee=cast.ae,
                title="Missed call",
                kind="call",
                contact=jeanne,
                due_at=now - dt.timedelta(hours=2),
            )
        ]
        + [TaskRow(assignee=cast.ae2, title="Basile's", due_at=now)],
        channel="job",
    )
    client = client_for(cast.ae)
    # Session, user, profile, whom she may assign, count, page and its contacts, organisations
    # and assignees (11), and the navbar bell (2): however many tasks there are.
    with django_assert_max_num_queries(13):
        page = client.get(reverse("tasks:list"))
    html = page.content.decode()
    assert page.status_code == 200 and "31 tasks" in html and "Basile&#x27;s" not in html
    assert html.index("Missed call") < html.index("Later 0") < html.index("Later 1<")
    assert html.count('data-overdue="1"') == 1 and "Overdue" in html
    assert "My team" not in html  # an AE has no team view


def test_a_manager_switches_to_the_team_and_filters_by_person(cast, client_for):
    for user in (cast.ae, cast.ae2):
        services.create_task(
            assignee=user, title=f"For {user.first_name}", actor=None, channel="job"
        )
    client = client_for(cast.manager)
    html = client.get(reverse("tasks:list"), {"scope": "team"}).content.decode()
    assert "My team's tasks" in html and "For Alice" in html and "For Basile" in html
    only = client.get(reverse("tasks:list"), {"scope": "team", "assignee": cast.ae2.pk})
    assert "For Basile" in only.content.decode() and "For Alice" not in only.content.decode()


def test_done_in_one_htmx_click_with_the_call_logged(cast, jeanne, client_for):
    task = services.create_task(
        assignee=cast.ae,
        title="Call Jeanne",
        kind="call",
        contact=jeanne,
        actor=cast.ae,
        channel="ui",
    )
    response = client_for(cast.ae).post(
        reverse("tasks:complete", args=[task.pk]),
        {"outcome": "Interested", "happened": "on"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and f'id="task-{task.pk}"' in html
    assert "Done on" in html and "Interested" in html and 'data-action="complete"' not in html
    assert Interaction.objects.get(contact=jeanne).kind == "call"
    again = client_for(cast.ae).post(
        reverse("tasks:complete", args=[task.pk]), headers={"HX-Request": "true"}
    )
    assert "This task was already done" in again.content.decode()


def test_creating_a_task_from_the_contact_page(cast, jeanne, client_for):
    client = client_for(cast.sdr)
    page = client.get(reverse("people:contact_detail", args=[jeanne.pk])).content.decode()
    assert 'id="tasks-section"' in page and "No open task." in page
    url = reverse("tasks:record_create", args=["contact", jeanne.pk])
    refused = client.post(url, {"title": "", "kind": "call", "assignee": cast.ae.pk})
    assert refused.status_code == 422 and "This field is required" in refused.content.decode()
    created = client.post(
        url,
        {"title": "Hand over to Alice", "kind": "call", "assignee": cast.ae.pk},
        headers={"HX-Request": "true"},
    )
    assert "Task “Hand over to Alice” created." in created.content.decode()
    task = Task.objects.get()
    assert (task.assignee, task.contact, task.organisation, task.created_by) == (
        cast.ae,
        jeanne,
        jeanne.organisation,
        cast.sdr,
    )
    outsider = client_for(cast.outsider).post(
        url, {"title": "x", "assignee": cast.ae.pk, "kind": "call"}
    )
    assert outsider.status_code == 422 and "Select a valid choice" in outsider.content.decode()


def test_notifications_page_marks_read_and_follows_the_link(cast, client_for):
    notifications.notify(users=[cast.ae], title="Lead 7 breached its SLA", url="/leads/7/")
    notifications.notify(users=[cast.ae], title="Elsewhere", url="/tasks/")
    client = client_for(cast.ae)
    html = client.get(reverse("tasks:notifications")).content.decode()
    assert "Lead 7 breached its SLA" in html and html.count("list-group-item-primary") == 2
    note = cast.ae.notifications.get(title="Lead 7 breached its SLA")
    followed = client.get(reverse("tasks:notification_open", args=[note.pk]))
    assert followed.status_code == 302 and followed["Location"] == "/leads/7/"
    note.refresh_from_db()
    assert note.read_at is not None
    client.post(reverse("tasks:notifications_read"), {"all": "1"})
    assert not cast.ae.notifications.filter(read_at__isnull=True).exists()


def test_the_bell_costs_two_queries_and_renders_nothing_for_visitors(
    cast, django_assert_num_queries
):
    for i in range(7):
        notifications.notify(users=[cast.ae], title=f"Note {i}", url="/tasks/")
    request = RequestFactory().get("/")
    request.user = cast.ae
    with django_assert_num_queries(2):
        html = render_to_string("tasks/_bell.html", {"request": request})
    assert 'id="bell-count">7<' in html and "Note 6" in html and "Note 1" not in html
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert render_to_string("tasks/_bell.html", {"request": request}).strip() == ""
