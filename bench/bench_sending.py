"""Sending email: messages/s of `queue_messages` + `send_due` to a local SMTP server, beside raw
`smtplib` sending the same prepared messages over one connection, in the same run.

1. A fresh database (`migrate`): N contacts (default 5,000) at 200 organisations spread over 50
   mail domains, each organisation in a segment; one bilingual template with merge fields,
   a condition, a segment and a link. Not timed.
2. `queue_messages` of the N (contact, key) pairs — one idempotent set-based insert — timed.
3. `send_due` — claim, render (FR/EN, tracked links, unsubscribe headers), store the rendered
   copies, send over SMTP, mark each message sent, record N `email_sent` interactions — timed,
   with `MAIL_SMTP_CONNECTIONS` = `--connections` (parallel SMTP connections in threads).
4. Baseline: the very messages `send_due` sent, rebuilt as bytes beforehand, sent with
   `smtplib.SMTP.sendmail` one after the other over one connection to the same server.

The SMTP server is aiosmtpd in this process (a thread), counting what it receives.

    python bench/bench_sending.py --count 5000
    python bench/bench_sending.py --count 5000 --connections 4
    python bench/bench_sending.py --db postgres --count 5000
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import threading
import time
from typing import Any

from common import Result, print_table, setup_django

DOMAINS = 50
ORGANISATIONS = 200

BODY_FR = (
    'Bonjour {{ contact.first_name|default:"à vous" }},\n\n'
    "{{ organisation.trade_name }} à {{ organisation.city }} pourrait gagner du temps.\n"
    "{% if segments.size %}Pour une entreprise « {{ segments.size }} », c'est clé.{% endif %}\n\n"
    "Prenons rendez-vous : https://example.com/rdv?ref=nurture"
)
BODY_EN = (
    "Hello {{ contact.first_name }},\n\n{{ organisation.trade_name }} could save time.\n\n"
    "Book a meeting: https://example.com/meeting"
)


class Counter:
    """The aiosmtpd handler: counts messages, keeps nothing."""

    def __init__(self) -> None:
        self.received = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received += 1
        return "250 OK"


def _prepare(count: int) -> Any:
    from django.utils import timezone

    from cible.nurture.mailing import services
    from cible.nurture.mailing.models import SendPolicy
    from cible.people.models import Contact, Organisation
    from cible.people.services import user_create
    from cible.segments.axes.models import Axis, Membership, Segment

    marketer = user_create(username="bench-marketer", password=None, role="marketing")
    now = timezone.now()
    Organisation.objects.bulk_create(
        [
            Organisation(
                legal_name=f"Org {n} SAS",
                trade_name=f"Org {n}",
                name_key=f"org {n}",
                city="Lyon" if n % 2 else "",
                created_at=now,
            )
            for n in range(ORGANISATIONS)
        ],
        batch_size=1000,
    )
    orgs = list(Organisation.objects.values_list("id", flat=True))
    axis = Axis.objects.get(code="size")
    segment = Segment.objects.create(axis=axis, code="bench", name="PME", kind="manual")
    Membership.objects.bulk_create(
        [Membership(segment=segment, organisation_id=o, axis=axis, since=now) for o in orgs[::2]]
    )
    Contact.objects.bulk_create(
        [
            Contact(
                first_name="" if n % 10 == 0 else f"Prénom{n}",
                last_name=f"Nom{n}",
                name_key=f"nom{n}",
                email=f"p{n}@domain{n % DOMAINS}.example",
                email_key=f"p{n}@domain{n % DOMAINS}.example",
                language="en" if n % 3 == 0 else "fr",
                organisation_id=orgs[n % len(orgs)],
                created_at=now,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    policy = SendPolicy.current()
    policy.days, policy.start_hour, policy.end_hour = "0123456", 0, 24
    policy.per_domain_per_minute = 1_000_000
    policy.save()
    return services.template_create(
        actor=marketer,
        channel="cli",
        data={
            "name": "Bench",
            "subject_fr": (
                "{{ contact.first_name|default:'Bonjour' }}, une idée pour "
                "{{ organisation.trade_name }}"
            ),
            "body_fr": BODY_FR,
            "subject_en": "An idea for {{ organisation.trade_name }}",
            "body_en": BODY_EN,
        },
    )


def _raw_messages() -> list[tuple[str, str, bytes]]:
    """The messages send_due sent, rebuilt (same parts and headers) as bytes, before timing."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    from cible.nurture.mailing.models import OutboundMessage

    built = []
    for m in OutboundMessage.objects.order_by("id").iterator(chunk_size=2000):
        email = EmailMultiAlternatives(
            m.subject,
            m.body_text,
            settings.DEFAULT_FROM_EMAIL,
            [m.to_email],
            headers={
                "Message-ID": m.message_id,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        email.attach_alternative(m.body_html, "text/html")
        built.append(
            (settings.DEFAULT_FROM_EMAIL, m.to_email, email.message().as_bytes(linesep="\r\n"))
        )
    return built


def measure(count: int, connections: int) -> dict[str, Any]:
    setup_django()
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from cible.engagement.interactions.models import Interaction
    from cible.nurture.mailing import services
    from cible.nurture.mailing.models import MessageStatus, OutboundMessage

    call_command("migrate", verbosity=0)
    template = _prepare(count)
    counter = Counter()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.MAIL_SMTP_CONNECTIONS = connections
    from cible.people.models import Contact

    recipients = [(pk, f"bench:{pk}") for pk in Contact.objects.values_list("id", flat=True)]
    try:
        began = time.perf_counter()
        outcome = services.queue_messages(
            template=template, recipients=recipients, origin="bench", channel="job"
        )
        queue_seconds = time.perf_counter() - began
        assert outcome.queued == count, outcome
        began = time.perf_counter()
        report = services.send_due()
        send_seconds = time.perf_counter() - began
        assert report.sent == count and counter.received == count, (report, counter.received)
        assert OutboundMessage.objects.filter(status=MessageStatus.SENT).count() == count
        assert Interaction.objects.filter(kind="email_sent").count() == count
        prepared = _raw_messages()
        counter.received = 0
        began = time.perf_counter()
        client = smtplib.SMTP("127.0.0.1", port)
        for sender, to, data in prepared:
            client.sendmail(sender, [to], data)
        client.quit()
        raw_seconds = time.perf_counter() - began
        assert counter.received == count
    finally:
        controller.stop()
    return {
        "vendor": connection.vendor,
        "count": count,
        "connections": connections,
        "queue_seconds": queue_seconds,
        "send_seconds": send_seconds,
        "raw_seconds": raw_seconds,
        "batches": report.batches,
    }


def results(f: dict[str, Any]) -> list[Result]:
    raw_rate = f["count"] / f["raw_seconds"]
    return [
        Result(
            "sending",
            f"queue_messages, {f['count']:,} messages",
            f["count"] / f["queue_seconds"],
            "rows/s",
            raw_rate,
            "raw smtplib sending of the same messages (for scale)",
        ),
        Result(
            "sending",
            f"send_due, {f['count']:,} messages, {f['connections']} SMTP connection(s)",
            f["count"] / f["send_seconds"],
            "rows/s",  # messages per second (the table's "higher is better" unit)
            raw_rate,
            "the same prepared messages via smtplib.sendmail on one connection",
            "≥ 100 msg/s",
            f["count"] / f["send_seconds"] >= 100,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-port", type=int, default=54_382)
    args = parser.parse_args()
    if os.environ.get("CIBLE_DATABASE_URL"):
        figures = measure(args.count, args.connections)
        print_table(f"Sending on {figures['vendor']}", results(figures))
        return
    from pg import rerun_in_fresh_database

    rerun_in_fresh_database(__file__, db=args.db, pg_port=args.pg_port, name="sending")


if __name__ == "__main__":
    main()
