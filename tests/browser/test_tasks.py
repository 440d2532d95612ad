"""Tasks in the browser: Alice sees her overdue call first, marks it done with an outcome in one
click without leaving the page, then follows a notification from the navbar bell, whose unread
count drops."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cible.engagement.tasks import notifications, services
from cible.engagement.tasks.models import Task
from cible.people.models import UserProfile
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_complete_a_task_and_read_a_notification(page: Page, live_server, cast) -> None:
    UserProfile.objects.filter(user=cast.ae).update(language="en")
    contact = factories.contact(cast.ae, first_name="Lucie", last_name="Vidal")
    now = timezone.now()
    late = services.create_task(
        assignee=cast.ae,
        title="Call Lucie back",
        kind="call",
        contact=contact,
        due_at=now - dt.timedelta(hours=3),
        actor=None,
        channel="job",
    )
    services.create_task(
        assignee=cast.ae,
        title="Send the proposal",
        due_at=now + dt.timedelta(days=2),
        actor=None,
        channel="job",
    )
    notifications.notify(
        users=[cast.ae], title="Lead 12 is waiting", url=f"/contacts/{contact.pk}/"
    )
    notifications.notify(users=[cast.ae], title="A lead was assigned to you", url="/tasks/")

    login(page, live_server, "alice", PASSWORD)
    page.goto("/tasks/")
    rows = page.locator("#tasks > li")
    expect(rows).to_have_count(2)
    first = rows.first
    expect(first).to_contain_text("Call Lucie back")
    expect(first.locator(".badge")).to_have_text("Overdue")

    first.locator("input[name=outcome]").fill("Left a voicemail")
    first.locator("[data-action=complete]").click()
    done = page.locator(f"#task-{late.pk} .task-done")
    expect(done).to_contain_text("Left a voicemail")
    assert page.url.endswith("/tasks/")  # swapped in place
    assert Task.objects.get(pk=late.pk).outcome == "Left a voicemail"

    expect(page.locator("#bell-count")).to_contain_text("2")
    page.click("#bell-button")
    page.locator("#bell-menu a", has_text="Lead 12 is waiting").click()
    page.wait_for_url(f"**/contacts/{contact.pk}/")
    expect(page.locator("#bell-count")).to_contain_text("1")
