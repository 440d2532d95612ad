"""One contact through a program for real: the email reaches a real SMTP server (aiosmtpd), its
open pixel is fetched, and the branch sends them to their owner as a task."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from cible.engagement.interactions.models import Interaction
from cible.engagement.tasks.models import Task
from cible.nurture.mailing import services as mailing
from cible.nurture.programs import services
from cible.nurture.programs.models import Enrolment, EventKind
from tests.nurture.programs.conftest import later

pytestmark = pytest.mark.django_db


def test_enrol_send_open_branch_task(
    cast: Any, nurture: Any, dupont: Any, smtp_server: Any, always_open: Any
) -> None:
    services.enrol(
        program=nurture["program"],
        contact_ids=[dupont.pk],
        source="manual",
        actor=cast.marketer,
        channel="ui",
    )
    services.advance_due(now=later())
    mailing.send_due()
    mailing.send_due()  # a second sweep sends nothing more

    (received,) = smtp_server.messages
    assert received.rcpt_tos == ["jeanne.dupont@acme.example"]
    assert received.subject == "Still thinking about it, Jeanne?"
    assert "Hello Jeanne," in received.text()
    pixel = re.search(r'<img src="https?://[^/"]+(/m/o/[^"]+\.gif)"', received.html())
    assert pixel is not None
    assert Client().get(pixel.group(1)).status_code == 200
    assert Interaction.objects.filter(contact=dupont, kind="email_opened").count() == 1

    services.advance_due(now=later(days=3, minutes=2))

    task = Task.objects.get()
    assert (task.assignee, task.contact, task.kind) == (cast.ae, dupont, "call")
    enrolment = Enrolment.objects.get()
    assert enrolment.status == "completed"
    assert list(enrolment.events.order_by("pk").values_list("kind", flat=True)) == [
        EventKind.ENROLLED,
        EventKind.EMAIL_QUEUED,
        EventKind.WAITING,
        EventKind.WAITED,
        EventKind.BRANCH_YES,
        EventKind.TASK_CREATED,
        EventKind.COMPLETED,
    ]
    assert len(smtp_server.messages) == 1
