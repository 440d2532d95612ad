"""What a person notices of the incubator beyond the engine's walk: the owner hears of the tasks
a step gives them (once per step, never twice for the same tasks), the conversion comparison
counts people on both sides, and an unsubscribe ends the nurture at once, mid-wait."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cible.engagement.tasks.models import Notification, Task
from cible.lifecycle.leads import services as leads
from cible.lifecycle.leads.models import Lead, StageTransition
from cible.nurture.mailing import tokens
from cible.nurture.mailing.models import MessageStatus, OutboundMessage
from cible.nurture.programs import selectors, services
from cible.nurture.programs.models import Enrolment, EventKind
from cible.people.services import contact_update
from tests import factories
from tests.nurture.programs.conftest import later, step
from tests.nurture.programs.test_engine import enrol

pytestmark = pytest.mark.django_db


def alice_contacts(cast: Any, acme: Any, *names: str) -> list[Any]:
    return [
        factories.contact(
            cast.ae, last_name=name, email=f"{name.lower()}@acme.example", organisation=acme.pk
        )
        for name in names
    ]


def open_the_guide_and_reach_the_task(program: Any) -> Any:
    """Everyone gets the guide, opens it, and three days later reaches the "Call" step."""
    services.advance_due(now=later())
    OutboundMessage.objects.update(opened_at=timezone.now())
    return services.advance_due(now=later(days=3, minutes=2))


# --- 1. task steps notify their assignees ------------------------------------------------------


def test_alice_hears_once_of_the_calls_a_step_gives_her_and_olivier_of_his(
    cast: Any, nurture: Any, dupont: Any, martin: Any, acme: Any
) -> None:
    from cible.people.services import profile_set_language

    profile_set_language(user=cast.outsider, language="en")  # Alice keeps French
    others = alice_contacts(cast, acme, "Roy", "Noel")
    enrol(nurture["program"], dupont, martin, *others, actor=cast.marketer)

    report = open_the_guide_and_reach_the_task(nurture["program"])

    assert report.tasks_created == 4
    alice = Notification.objects.get(user=cast.ae)
    # Each in their own language: Alice's profile speaks French, Olivier's now English.
    assert alice.title == "3 nouvelles tâches pour vous"
    assert (
        alice.body == "Call them: they read the guide (programme de maturation « Recycled leads »)"
    )
    assert alice.url == "/tasks/"
    olivier = Notification.objects.get(user=cast.outsider)
    assert (olivier.title, olivier.read_at) == ("1 new task for you", None)
    assert Notification.objects.count() == 2


def test_a_task_step_run_again_creates_and_announces_nothing_twice(
    cast: Any, nurture: Any, dupont: Any
) -> None:
    enrol(nurture["program"], dupont, actor=cast.marketer)
    open_the_guide_and_reach_the_task(nurture["program"])
    # As after a crash between the chunk's work and a later step: the same enrolment back at
    # the task step, due again. Its task is keyed, so it exists already.
    Enrolment.objects.update(
        status="active", step=nurture["task"], next_run_at=timezone.now(), exited_at=None
    )

    again = services.advance_due(now=later(days=3, minutes=3))

    assert (again.enrolments, again.tasks_created) == (1, 0)
    assert Task.objects.count() == 1
    assert Notification.objects.filter(user=cast.ae).count() == 1


def test_task_notifications_take_the_same_queries_for_two_tasks_or_eight(
    cast: Any, template: Any, acme: Any
) -> None:
    """Set-based: one notification per assignee, written in one insert, whatever the count."""

    def queries_for(names: list[str]) -> tuple[int, int]:
        program = services.program_create(
            actor=cast.marketer, channel="ui", data={"name": f"Calls {len(names)}"}
        )
        step(program, "create_task", cast.marketer, title="Call", kind="call")
        services.program_set_status(
            program=program, status="active", actor=cast.marketer, channel="ui"
        )
        enrol(program, *alice_contacts(cast, acme, *names), actor=cast.marketer)
        with CaptureQueriesContext(connection) as run:
            report = services.advance_due(now=later())
        return len(run.captured_queries), report.tasks_created

    small, created_small = queries_for(["A", "B"])
    large, created_large = queries_for([f"N{n}" for n in range(8)])

    assert (created_small, created_large) == (2, 8)
    assert small == large
    titles = list(Notification.objects.order_by("pk").values_list("title", flat=True))
    assert titles == ["2 nouvelles tâches pour vous", "8 nouvelles tâches pour vous"]  # Alice


# --- 2. the comparison counts leads on both sides ----------------------------------------------


def test_a_contact_enrolled_twice_is_one_nurtured_lead_and_one_mql(
    cast: Any, nurture: Any, dupont: Any, acme: Any, client_for: Any, api_for: Any
) -> None:
    program = nurture["program"]
    lead = leads.open_lead(
        contact=dupont, source="website", stage="prospect", actor=cast.admin, channel="ui"
    )
    enrol(program, dupont, actor=cast.marketer)
    services.unenrol(enrolment=Enrolment.objects.get(), actor=cast.marketer, channel="ui")
    enrol(program, dupont, actor=cast.marketer)  # back again: two enrolments, one person
    leads.move(lead=lead, to_stage="mql", actor=cast.admin, channel="ui")
    StageTransition.objects.create(
        lead=lead,
        from_stage="opportunity",
        to_stage="customer",
        channel="ui",
        occurred_at=timezone.now() + dt.timedelta(minutes=1),
    )
    # Never nurtured, same stage, same period: Roy (one lead) and Noel, disqualified once and
    # back with a second lead (two leads, one person).
    roy, noel = alice_contacts(cast, acme, "Roy", "Noel")
    for person in (roy, noel):
        leads.open_lead(
            contact=person, source="website", stage="prospect", actor=cast.admin, channel="ui"
        )
    first = Lead.objects.get(contact=noel)
    Lead.objects.filter(pk=first.pk).update(stage="disqualified")
    leads.open_lead(contact=noel, source="event", stage="prospect", actor=cast.admin, channel="ui")
    assert Lead.objects.filter(contact=noel).count() == 2

    m = selectors.program_metrics(viewer=cast.marketer, program=program)

    assert m.enrolled == 2  # enrolments
    assert (m.nurtured.count, m.nurtured.converted, m.nurtured.rate) == (1, 1, 1.0)
    assert (m.not_nurtured.count, m.not_nurtured.converted) == (2, 0)
    assert m.mqls == 1
    metrics = api_for(cast.marketer).get(f"/nurture/programs/{program.pk}/metrics").json()
    assert metrics["nurtured"] == {"count": 1, "converted": 1, "rate": 1.0, "unit": "leads"}
    assert metrics["not_nurtured"]["unit"] == "leads"
    html = client_for(cast.marketer).get(f"/nurture/{program.pk}/").content.decode()
    comparison = html[html.index('id="comparison"') :]
    assert "Leads (people)" in comparison
    assert "a contact enrolled twice, or with two leads, counts once" in comparison
    nurtured_row = comparison[comparison.index('data-group="nurtured"') :].split("</tr>")[0]
    assert '<td class="text-end">1</td><td class="text-end">1</td>' in nurtured_row


# --- 3. an opt-out ends the nurture at once ----------------------------------------------------


@pytest.fixture
def weekly(cast: Any, template: Any) -> dict[str, Any]:
    """The guide, a week's wait, the guide again."""
    program = services.program_create(actor=cast.marketer, channel="ui", data={"name": "Weekly"})
    first = step(program, "send_email", cast.marketer, template=template.pk)
    wait = step(program, "wait", cast.marketer, after=first, mode="delay", days=7)
    step(program, "send_email", cast.marketer, after=wait, template=template.pk)
    services.program_set_status(program=program, status="active", actor=cast.marketer, channel="ui")
    return {"program": program, "wait": wait}


def test_jeanne_unsubscribing_in_a_weeks_wait_leaves_at_once_and_gets_nothing_more(
    cast: Any,
    weekly: Any,
    dupont: Any,
    martin: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    enrol(weekly["program"], dupont, martin, actor=cast.marketer)
    services.advance_due(now=later())  # the guide is queued; a week of waiting begins
    jeanne = Enrolment.objects.get(contact=dupont)
    assert (jeanne.status, jeanne.step_id) == ("active", weekly["wait"].pk)
    guide = OutboundMessage.objects.get(contact=dupont)

    with django_capture_on_commit_callbacks(execute=True):
        answer = Client().post(
            f"/m/u/{tokens.unsubscribe_token(guide.pk)}", {"List-Unsubscribe": "One-Click"}
        )

    assert answer.status_code == 200
    jeanne.refresh_from_db()
    assert (jeanne.status, jeanne.exit_reason, jeanne.next_run_at) == ("exited", "opt_out", None)
    assert jeanne.exited_at is not None and jeanne.exited_at < later(days=1)
    assert jeanne.events.filter(kind=EventKind.EXITED, detail="opt_out").count() == 1
    services.advance_due(now=later(days=8))
    assert OutboundMessage.objects.filter(contact=dupont).count() == 1
    assert OutboundMessage.objects.get(contact=dupont).status == MessageStatus.SUPPRESSED
    # Paul, who stayed, gets the second guide after the week.
    assert OutboundMessage.objects.filter(contact=martin).count() == 2


def test_ticking_opted_out_on_the_contact_form_also_ends_the_nurture_at_once(
    cast: Any, weekly: Any, dupont: Any, martin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    enrol(weekly["program"], dupont, martin, actor=cast.marketer)
    services.advance_due(now=later())

    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=dupont, actor=cast.ae, channel="ui", data={"email_opt_out": True})

    reasons = dict(Enrolment.objects.values_list("contact_id", "exit_reason"))
    assert reasons == {dupont.pk: "opt_out", martin.pk: ""}


def test_an_erasure_or_an_import_opting_out_ends_the_nurture_at_once(
    cast: Any,
    weekly: Any,
    dupont: Any,
    martin: Any,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Both opt contacts out by bulk writes, which send no model signal: each still announces
    the opt-out, and the week's wait does not keep them."""
    from cible.quality.imports import services as imports
    from cible.quality.privacy.erasure import contact_erase

    settings.VAR_DIR = tmp_path / "var"
    enrol(weekly["program"], dupont, martin, actor=cast.marketer)
    services.advance_due(now=later())

    with django_capture_on_commit_callbacks(execute=True):
        contact_erase(contact=dupont, actor=cast.admin, channel="ui", reason="Her request")
    with django_capture_on_commit_callbacks(execute=True):
        run = imports.upload(
            actor=cast.admin,
            entity="contacts",
            source="Unsubscribe list",
            file=b"Email;Unsubscribed\r\npaul.martin@lyon.example;yes\r\n",
            filename="optouts.csv",
            channel="ui",
        )
        imports.configure(
            run,
            actor=cast.admin,
            mapping={"Email": "email", "Unsubscribed": "email_opt_out"},
            key="email",
            policy="overwrite",
        )
        run = imports.start(run, actor=cast.admin)

    assert run.counts["updated"] == 1, run.error_message
    reasons = dict(Enrolment.objects.values_list("contact_id", "exit_reason"))
    assert reasons == {dupont.pk: "opt_out", martin.pk: "opt_out"}


def test_a_program_that_keeps_opted_out_contacts_keeps_them(
    cast: Any, weekly: Any, dupont: Any, django_capture_on_commit_callbacks: Any
) -> None:
    weekly["program"].__class__.objects.filter(pk=weekly["program"].pk).update(
        exit_on_opt_out=False
    )
    enrol(weekly["program"], dupont, actor=cast.marketer)
    services.advance_due(now=later())

    with django_capture_on_commit_callbacks(execute=True):
        contact_update(contact=dupont, actor=cast.ae, channel="ui", data={"email_opt_out": True})

    assert Enrolment.objects.get().status == "active"
