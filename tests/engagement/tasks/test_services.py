"""Writing tasks and notifications: idempotent keys, the set-based path, completion that logs
the call, and notification emails received by a real SMTP server."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from cible.core.errors import ConflictError, PermissionDenied, ValidationFailed
from cible.engagement.interactions.models import Interaction
from cible.engagement.tasks import notifications, services
from cible.engagement.tasks.models import Notification, Task
from cible.engagement.tasks.services import TaskRow

pytestmark = pytest.mark.django_db


def test_the_same_key_creates_one_task_and_the_organisation_follows_the_contact(cast, jeanne):
    first = services.create_task(
        assignee=cast.ae,
        title="Call Jeanne, who clicked",
        actor=None,
        channel="job",
        kind="call",
        contact=jeanne,
        key="nurture:1:step:2:contact:9",
    )
    again = services.create_task(
        assignee=cast.ae2, title="Another", actor=None, channel="job", key=first.key
    )
    assert again.pk == first.pk and again.assignee == cast.ae
    assert Task.objects.count() == 1
    assert first.organisation == jeanne.organisation


def test_bad_input_names_each_field_and_writes_nothing(cast):
    with pytest.raises(ValidationFailed) as refused:
        services.create_task(
            assignee=cast.ae,
            title="  ",
            actor=cast.ae,
            channel="ui",
            kind="fax",
            due_at=dt.datetime(2026, 12, 1, 9, 0),  # naive
        )
    fields = {e.field: e.message for e in refused.value.errors}
    assert set(fields) == {"title", "kind", "due_at"}
    assert "“fax” is not a kind of task" in fields["kind"]
    assert not Task.objects.exists()


def test_people_give_tasks_to_teammates_not_to_other_teams(cast):
    handed = services.create_task(
        assignee=cast.ae, title="Follow up the demo", actor=cast.sdr, channel="ui"
    )
    assert handed.created_by == cast.sdr
    # Alice is told in the app that Sophie gave her something to do.
    assert Notification.objects.get(user=cast.ae).body == "Follow up the demo (Sophie Leroy)"
    with pytest.raises(PermissionDenied):
        services.create_task(assignee=cast.ae, title="Mine now", actor=cast.outsider, channel="ui")


def test_create_tasks_writes_thousands_in_one_go_and_skips_known_keys(
    cast, jeanne, django_assert_max_num_queries, one_insert_per_table
):
    services.create_task(assignee=cast.ae, title="Old", actor=None, channel="job", key="k-0")
    rows = [
        TaskRow(
            assignee=cast.ae if i % 2 else cast.ae2.pk,
            title=f"Call #{i}",
            kind="call",
            contact=jeanne.pk if i == 1 else None,
            key=f"k-{i}",
        )
        for i in range(3000)
    ]
    rows.append(TaskRow(assignee=cast.ae, title="Repeated key", key="k-5"))
    with django_assert_max_num_queries(8):
        created = services.create_tasks(rows=rows, channel="job")
    assert created == 2999
    assert Task.objects.count() == 3000
    assert Task.objects.get(key="k-5").title == "Call #5"
    assert Task.objects.get(key="k-1").organisation_id == jeanne.organisation_id
    assert services.create_tasks(rows=rows, channel="job") == 0
    with pytest.raises(ValidationFailed) as refused:
        services.create_tasks(rows=[*rows, TaskRow(assignee=None, title="")], channel="job")
    assert {e.field for e in refused.value.errors} == {"rows.3001.title", "rows.3001.assignee"}


def test_completing_a_call_that_happened_records_it_on_the_timeline(cast, jeanne):
    task = services.create_task(
        assignee=cast.ae,
        title="Call Jeanne",
        actor=cast.ae,
        channel="ui",
        kind="call",
        contact=jeanne,
    )
    services.complete_task(
        task=task, actor=cast.ae, outcome="Wants a demo in March", channel="ui", happened=True
    )
    task.refresh_from_db()
    assert task.done_at is not None and task.outcome == "Wants a demo in March"
    call = Interaction.objects.get(contact=jeanne)
    assert (call.kind, call.outcome, call.subject, call.notes, call.owner) == (
        "call",
        "connected",
        "Call Jeanne",
        "Wants a demo in March",
        cast.ae,
    )
    with pytest.raises(ConflictError, match="already done"):
        services.complete_task(task=task, actor=cast.ae, outcome="", channel="ui")


def test_only_the_assignee_their_manager_or_an_admin_complete_or_reassign(cast):
    task = services.create_task(assignee=cast.ae, title="Send the quote", actor=None, channel="job")
    with pytest.raises(PermissionDenied):
        services.complete_task(task=task, actor=cast.ae2, outcome="", channel="ui")
    with pytest.raises(PermissionDenied):
        services.reassign_task(task=task, assignee=cast.outsider, actor=cast.manager, channel="ui")
    services.reassign_task(task=task, assignee=cast.ae2, actor=cast.manager, channel="ui")
    assert Task.objects.get(pk=task.pk).assignee == cast.ae2
    assert Notification.objects.filter(user=cast.ae2).count() == 1
    services.complete_task(task=task, actor=cast.admin, outcome="sent", channel="ui")


def test_notify_is_once_per_user_and_key(cast):
    users = [cast.manager, cast.admin.pk]
    assert notifications.notify(users=users, title="Lead breached", url="/leads/1/", key="b:1") == 2
    assert notifications.notify(users=users, title="Lead breached", url="/leads/1/", key="b:1") == 0
    assert notifications.notify(users=[cast.manager], title="No key") == 1
    assert Notification.objects.filter(user=cast.manager).count() == 2
    with pytest.raises(ValidationFailed):
        notifications.notify(users=users, title="Phishing", url="https://evil.example/")


def test_notification_email_reaches_the_smtp_server_in_each_users_language(
    cast, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://cible.example"
    cast.manager.email = "sam@cible.example"
    cast.manager.save()
    cast.marketer.email = "marie@cible.example"
    cast.marketer.save()
    title = format_lazy("{}: {}", gettext_lazy("Log out"), "Acme")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            users=[cast.manager, cast.marketer, cast.ae],  # Alice has no address: in-app only
            title=title,
            body="The MQL was not accepted within 4 business hours.",
            url="/leads/42/",
            email=True,
            key="sla:42",
        )
    assert Notification.objects.filter(key="sla:42").count() == 3
    sam = smtp_server.recorder.to("sam@cible.example")
    marie = smtp_server.recorder.to("marie@cible.example")
    assert len(smtp_server.messages) == 2 and len(sam) == len(marie) == 1
    assert sam[0].subject == "[Cible] Se déconnecter: Acme"  # Sam reads French
    assert marie[0].subject == "[Cible] Log out: Acme"
    assert "https://cible.example/leads/42/" in marie[0].text()
    assert "not accepted within 4 business hours" in marie[0].text()
    assert Notification.objects.get(user=cast.manager).title == "Se déconnecter: Acme"


def test_smtp_refusing_keeps_the_notification_and_does_not_raise(
    cast, smtp_server, settings, django_capture_on_commit_callbacks, caplog
):
    cast.manager.email = "sam@cible.example"
    cast.manager.save()
    smtp_server.recorder.refuse_next = 1
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        told = notifications.notify(users=[cast.manager], title="Breach", email=True)
    assert told == 1 and Notification.objects.filter(user=cast.manager).exists()
    assert smtp_server.messages == []
    assert "notification email to user" in caplog.text
    settings.EMAIL_PORT = 1  # nothing listens: the connection itself fails
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.notify(users=[cast.manager], title="Again", email=True) == 1
    assert Notification.objects.filter(user=cast.manager).count() == 2


def test_mark_read_touches_only_the_users_own(cast):
    notifications.notify(users=[cast.ae, cast.ae2], title="Hello")
    mine = Notification.objects.get(user=cast.ae)
    other = Notification.objects.get(user=cast.ae2)
    assert notifications.mark_read(user=cast.ae, ids=[mine.pk, other.pk]) == 1
    assert Notification.objects.get(pk=other.pk).read_at is None
    assert notifications.mark_read(user=cast.ae2, all=True) == 1
    assert timezone.now() >= Notification.objects.get(pk=other.pk).read_at
