"""The sweep: a breach is found, told and escalated once, however often the sweep runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cible.engagement.tasks.models import Notification
from cible.routing.assignment.models import Assignment
from cible.routing.sla import services
from cible.routing.sla.models import ClockStatus, Handoff, SlaClock
from tests.routing.sla.conftest import assign, new_lead, paris

START = paris(2026, 3, 10, 9, 0)


def test_sweeping_twice_breaches_once_and_emails_the_manager_once(
    cast: Any, policies: Any, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lead = new_lead(cast, "Jeanne")
    on_time = new_lead(cast, "Paul")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris, at=START)
        assign(on_time, cast.sdr, cast.paris, at=START + dt.timedelta(hours=1))
    at = START + dt.timedelta(hours=2, minutes=30)  # Jeanne's first touch was due at 11:00
    with django_capture_on_commit_callbacks(execute=True):
        first = services.sweep(now=at)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.sweep(now=at + dt.timedelta(seconds=30))
    assert (first.breached, first.notified) == (1, 1)
    assert (second.breached, second.notified, second.reassigned) == (0, 0, 0)
    clock = SlaClock.objects.get(lead=lead, policy__handoff=Handoff.FIRST_TOUCH)
    assert (clock.status, clock.breached_at, clock.escalated_at) == (ClockStatus.BREACHED, at, at)
    assert SlaClock.objects.get(lead=on_time, policy__handoff=Handoff.FIRST_TOUCH).status == "open"
    # Sam, AE Paris's manager, heard of it in the app and by a real email.
    note = Notification.objects.get(user=cast.manager)
    assert note.title == "SLA breached: Jeanne Martin"
    assert note.url == f"/leads/{lead.pk}/"
    assert note.key == f"sla-breach:{clock.pk}"
    mails = smtp_server.recorder.to("sam@cible.test")
    assert len(mails) == 1
    assert "SLA breached: Jeanne Martin" in mails[0].subject
    assert f"/leads/{lead.pk}/" in mails[0].text()
    assert "First touch" in mails[0].text()


def test_untouched_past_the_second_delay_is_reassigned_once(
    cast: Any, policies: Any, rotation: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lead = new_lead(cast, "Jeanne")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris, at=START)
        services.sweep(
            now=START + dt.timedelta(hours=2, minutes=5)
        )  # breached, not yet late enough
    assert not SlaClock.objects.filter(reassigned_at__isnull=False).exists()
    late = START + dt.timedelta(hours=3, minutes=5)  # due 11:00 + 1 h second delay
    with django_capture_on_commit_callbacks(execute=True):
        report = services.sweep(now=late)
        again = services.sweep(now=late + dt.timedelta(minutes=1))
    assert (report.reassigned, again.reassigned) == (1, 0)
    lead.refresh_from_db()
    assert lead.owner == cast.ae2  # the other member of AE Paris's rotation
    clock = SlaClock.objects.get(lead=lead, policy__handoff=Handoff.FIRST_TOUCH, owner=cast.sdr)
    assert (clock.reassigned_at, clock.reassigned_to) == (late, cast.ae2)
    reassignment = Assignment.objects.filter(lead=lead, method="reassign").get()
    assert "First touch breached" in reassignment.reason
    # Basile gets a first-touch clock of his own, from the reassignment.
    fresh = SlaClock.objects.get(lead=lead, policy__handoff=Handoff.FIRST_TOUCH, status="open")
    assert fresh.owner == cast.ae2


def test_a_backlog_found_at_once_sends_one_digest(
    cast: Any, policies: Any, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    leads = [new_lead(cast, f"Lead {i}") for i in range(services.DIGEST_OVER + 2)]
    with django_capture_on_commit_callbacks(execute=True):
        for lead in leads:
            assign(lead, cast.sdr, cast.paris, at=START)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.sweep(now=START + dt.timedelta(hours=2, minutes=1))
    assert (report.breached, report.notified) == (12, 1)
    note = Notification.objects.get(user=cast.manager)
    assert note.title == "12 service levels breached"
    assert note.url == "/queue/?scope=team"
    assert len(smtp_server.recorder.to("sam@cible.test")) == 1


def test_the_demo_replays_history_without_escalating_the_past(cast: Any, rotation: Any) -> None:
    from cible.engagement.interactions.services import record_interaction
    from cible.routing.sla import demo

    now = paris(2026, 3, 11, 15, 0)  # a Wednesday: "Recent" was due yesterday at 17:00
    old, touched, recent = (new_lead(cast, name) for name in ("Old", "Touched", "Recent"))
    for lead, ago in ((old, 10), (touched, 10), (recent, 1)):
        Assignment.objects.create(
            lead=lead,
            user=cast.sdr,
            team=cast.paris,
            method="round_robin",
            reason="demo",
            assigned_at=now - dt.timedelta(days=ago),
            channel="job",
        )
    record_interaction(
        kind="call",
        contact=touched.contact,
        owner=cast.sdr,
        actor=cast.sdr,
        channel="ui",
        occurred_at=now - dt.timedelta(days=9, hours=23),
    )
    figures = demo.replay(now=now)
    assert figures["assignments"] == 3
    first = {c.lead_id: c for c in SlaClock.objects.filter(policy__handoff=Handoff.FIRST_TOUCH)}
    assert first[touched.pk].status == ClockStatus.MET
    assert first[old.pk].escalated_at == first[old.pk].due_at  # told then, not now
    assert first[recent.pk].status == ClockStatus.BREACHED  # found by today's sweep
    assert first[old.pk].reassigned_at is None
    assert SlaClock.objects.filter(policy__handoff=Handoff.MQL_ACCEPTANCE).count() == 3
