"""Sending for real, to the aiosmtpd server of the `smtp_server` fixture."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from cible.engagement.interactions.models import Interaction
from cible.nurture.mailing import services
from cible.nurture.mailing.models import MessageStatus, OutboundMessage, SendPolicy
from cible.nurture.mailing.sending import _claim, message_id_for
from cible.people.services import contact_update
from cible.segments.axes.models import Axis
from cible.segments.axes.services import segment_add_members, segment_create
from tests import factories

PARIS = ZoneInfo("Europe/Paris")


def _queue(template: Any, *pairs: tuple[Any, str]) -> services.QueueOutcome:
    recipients = [(contact.pk, key) for contact, key in pairs]
    return services.queue_messages(
        template=template, recipients=recipients, origin="test", channel="job"
    )


def test_each_person_receives_the_email_in_their_language_with_both_parts(
    cast: Any, template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    axis = Axis.objects.get(code="size")  # seeded; a segment placed by hand wins over rules
    pme = segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={"code": "pilot", "name": "pilote", "kind": "manual"},
    )
    segment_add_members(
        segment=pme,
        actor=cast.admin,
        channel="ui",
        organisation_ids=[people["jeanne"].organisation_id],
    )
    outcome = _queue(
        template, (people["jeanne"], "welcome:jeanne"), (people["john"], "welcome:john")
    )
    assert (outcome.queued, outcome.already, outcome.suppressed) == (2, 0, {})

    report = services.send_due()

    assert report.sent == 2
    [jeanne] = smtp_server.recorder.to("jeanne@acme.fr")
    [john] = smtp_server.recorder.to("john@acme.co.uk")
    assert jeanne.subject == "Bienvenue Jeanne"
    assert john.subject == "Welcome John"
    text, html = jeanne.text(), jeanne.html()
    assert "Acme pourrait gagner du temps." in text
    assert "Pour une entreprise pilote, c'est clé." in text
    assert "<p>Bonjour Jeanne,</p>" in html
    # The link is tracked in both parts, and shown as written in the HTML one.
    message = OutboundMessage.objects.get(key="welcome:jeanne")
    assert message.links == ["https://example.com/offre?x=1&y=2"]
    assert "https://example.com/offre" not in text
    assert "/m/c/" in text and "/m/c/" in html
    assert ">https://example.com/offre?x=1&amp;y=2</a>" in html
    assert "/m/o/" in html  # the open pixel
    assert jeanne.message["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/m/u/")
    assert jeanne.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert jeanne.message["Message-ID"] == message_id_for("welcome:jeanne") == message.message_id
    assert message.status == MessageStatus.SENT and message.language == "fr"
    assert message.subject == "Bienvenue Jeanne"
    sent = Interaction.objects.filter(kind="email_sent", source="mailing")
    assert sorted(sent.values_list("contact_id", flat=True)) == sorted(
        [people["jeanne"].pk, people["john"].pk]
    )


def test_queueing_and_sending_twice_delivers_once(
    template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    first = _queue(template, (people["jeanne"], "step:1:jeanne"))
    again = _queue(
        template, (people["jeanne"], "step:1:jeanne"), (people["jeanne"], "step:1:jeanne")
    )
    assert (first.queued, again.queued, again.already) == (1, 0, 2)

    services.send_due()
    services.send_due()

    assert len(smtp_server.messages) == 1
    assert OutboundMessage.objects.get().attempts == 1


def test_nobody_who_opted_out_bounced_or_has_no_address_is_emailed(
    cast: Any, template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    opted = factories.contact(cast.ae, last_name="Non", email="non@acme.fr", email_opt_out=True)
    bounced = factories.contact(cast.ae, last_name="Rebond", email="gone@acme.fr")
    bounced.email_bounced_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    bounced.save()
    silent = factories.contact(cast.ae, last_name="Muet")
    outcome = _queue(
        template,
        (opted, "a"),
        (bounced, "b"),
        (silent, "c"),
        (people["jeanne"], "d"),
        (people["john"], "e"),
    )
    assert outcome.suppressed == {
        opted.pk: "opted_out",
        bounced.pk: "bounced",
        silent.pk: "no_email",
    }
    assert outcome.queued == 2
    # John opts out after his message was queued: it does not leave.
    contact_update(
        contact=people["john"], actor=cast.ae, channel="ui", data={"email_opt_out": True}
    )

    report = services.send_due()

    assert [m.rcpt_tos for m in smtp_server.messages] == [["jeanne@acme.fr"]]
    assert (report.sent, report.suppressed) == (1, 1)
    john = OutboundMessage.objects.get(key="e")
    assert (john.status, john.suppressed_reason) == (MessageStatus.SUPPRESSED, "opted_out")


def test_a_refusal_is_retried_later_and_delivered_once(
    template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    _queue(template, (people["jeanne"], "retry:1"))
    smtp_server.recorder.refuse_next = 1
    start = timezone.now() + dt.timedelta(seconds=1)

    report = services.send_due(now=start)

    message = OutboundMessage.objects.get()
    assert (report.sent, report.retried) == (0, 1)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.last_error.startswith("451")
    assert message.next_attempt_at == start + dt.timedelta(seconds=always_open.backoff_seconds)
    assert services.send_due(now=start + dt.timedelta(seconds=30)).sent == 0  # not due yet

    later = services.send_due(now=start + dt.timedelta(seconds=61))

    assert later.sent == 1
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 2, "")


def test_a_permanent_refusal_fails_with_the_servers_reason(
    template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    _queue(template, (people["jeanne"], "perm:1"))
    smtp_server.recorder.refuse_next = 1
    smtp_server.recorder.refusal = "550 5.1.1 No such user here"

    report = services.send_due()

    message = OutboundMessage.objects.get()
    assert report.failed == 1 and smtp_server.messages == []
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "550 5.1.1 No such user here"


def test_mail_waits_for_the_send_window(
    template: Any, people: dict[str, Any], smtp_server: Any
) -> None:
    policy = SendPolicy.current()  # Monday to Friday, 8:00 to 19:00, Paris time
    assert (policy.days, policy.start_hour, policy.end_hour) == ("01234", 8, 19)
    saturday = dt.datetime(2026, 3, 7, 10, 0, tzinfo=PARIS)
    with time_machine.travel(saturday, tick=False):
        _queue(template, (people["jeanne"], "window:1"))
        report = services.send_due()
    message = OutboundMessage.objects.get()
    assert report.deferred == 1 and smtp_server.messages == []
    assert message.next_attempt_at == dt.datetime(2026, 3, 9, 8, 0, tzinfo=PARIS)

    with time_machine.travel(dt.datetime(2026, 3, 9, 7, 59, tzinfo=PARIS), tick=False):
        assert services.send_due().sent == 0
    with time_machine.travel(dt.datetime(2026, 3, 9, 8, 1, tzinfo=PARIS), tick=False):
        assert services.send_due().sent == 1
    assert len(smtp_server.messages) == 1


def test_each_domain_gets_at_most_its_rate_per_minute(
    cast: Any, template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    always_open.per_domain_per_minute = 2
    always_open.save()
    more = [
        factories.contact(cast.ae, last_name=f"P{i}", email=f"p{i}@acme.fr", language="fr")
        for i in range(2)
    ]
    _queue(
        template,
        (people["jeanne"], "r1"),
        (more[0], "r2"),
        (more[1], "r3"),
        (people["nameless"], "r4"),  # another domain: not held back
    )
    start = timezone.now() + dt.timedelta(seconds=1)

    first = services.send_due(now=start)

    assert (first.sent, first.deferred) == (3, 1)
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos if "acme.fr" in r) == [
        "jeanne@acme.fr",
        "p0@acme.fr",
    ]
    held = OutboundMessage.objects.get(status=MessageStatus.QUEUED)
    assert held.next_attempt_at == start + dt.timedelta(minutes=1) and held.attempts == 0
    assert services.send_due(now=start + dt.timedelta(seconds=61)).sent == 1
    assert len(smtp_server.messages) == 4


def test_claims_of_a_killed_worker_are_released_after_the_timeout(
    template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    _queue(template, (people["jeanne"], "crash:1"))
    start = timezone.now() + dt.timedelta(seconds=1)
    assert _claim("dead-worker", 10, start) == 1  # the worker claimed, then was killed

    soon = services.send_due(now=start + dt.timedelta(seconds=60))
    assert (soon.sent, soon.released) == (0, 0)  # it may still be alive: hands off
    timeout = dt.timedelta(seconds=always_open.claim_timeout_seconds + 1)
    after = services.send_due(now=start + timeout)

    assert (after.released, after.sent) == (1, 1)
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == message_id_for("crash:1")
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
