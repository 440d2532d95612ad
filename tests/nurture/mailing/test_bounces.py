"""Bounces: delivery status notifications read from a Maildir, and the provider webhook."""

from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from cible.engagement.interactions.models import Interaction
from cible.nurture.mailing import services
from cible.nurture.mailing.models import Bounce, MessageStatus, OutboundMessage

DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.acme.fr>
To: noreply@localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <{report}@mx.acme.fr>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.fr
Arrival-Date: Wed, 4 Mar 2026 10:00:00 +0100

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--BOUNDARY
Content-Type: text/rfc822-headers

From: noreply@localhost
To: {recipient}
Message-ID: {message_id}
Subject: Bienvenue

--BOUNDARY--
"""


def _dsn(**values: str) -> bytes:
    return DSN.format(**values).replace("\n", "\r\n").encode()


@pytest.fixture
def delivered(template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any) -> Any:
    services.queue_messages(
        template=template,
        recipients=[(people["jeanne"].pk, "b:1"), (people["john"].pk, "b:2")],
        origin="test",
        channel="job",
    )
    services.send_due()
    return {m.key: m for m in OutboundMessage.objects.all()}


def test_bounce_reports_in_a_maildir_mark_hard_bounces_and_count_soft_ones(
    tmp_path: Path, delivered: dict[str, Any], people: dict[str, Any], capsys: Any
) -> None:
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    jeanne, john = delivered["b:1"], delivered["b:2"]
    box.add(
        _dsn(
            report="r1",
            recipient="jeanne@acme.fr",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 <jeanne@acme.fr>: Recipient address rejected",
            message_id=jeanne.message_id,
        )
    )
    box.add(
        _dsn(
            report="r2",
            recipient="john@acme.co.uk",
            action="delayed",
            status="4.2.2",
            diagnostic="452 4.2.2 Mailbox full",
            message_id=john.message_id,
        )
    )
    note = EmailMessage()
    note["Subject"] = "Out of office"
    note.set_content("Back on Monday.")
    box.add(note)

    call_command("mail_bounces", maildir=str(tmp_path / "bounces"))

    assert "3 messages: 1 hard bounces, 1 soft, 0 replies, 1 ignored" in capsys.readouterr().out
    jeanne.refresh_from_db()
    assert jeanne.status == MessageStatus.BOUNCED and jeanne.bounced_at is not None
    assert "Recipient address rejected" in jeanne.last_error
    people["jeanne"].refresh_from_db()
    assert people["jeanne"].email_bounced_at is not None
    john.refresh_from_db()
    people["john"].refresh_from_db()
    assert john.status == MessageStatus.SENT and people["john"].email_bounced_at is None
    assert list(Bounce.objects.values_list("email", "kind", "status").order_by("kind")) == [
        ("jeanne@acme.fr", "hard", "5.1.1"),
        ("john@acme.co.uk", "soft", "4.2.2"),
    ]

    call_command("mail_bounces", maildir=str(tmp_path / "bounces"))  # already read: no change
    assert "0 messages" in capsys.readouterr().out
    assert Bounce.objects.count() == 2
    outcome = services.queue_messages(
        template=jeanne.template,
        recipients=[(people["jeanne"].pk, "b:3")],
        origin="test",
        channel="job",
    )
    assert outcome.suppressed == {people["jeanne"].pk: "bounced"}


def test_the_bounce_webhook_needs_the_shared_secret(
    settings: Any, delivered: dict[str, Any], people: dict[str, Any]
) -> None:
    settings.MAIL_WEBHOOK_SECRET = "s3cret-value"
    client = Client(headers={"Accept-Language": "en"})
    body = {
        "email": "john@acme.co.uk",
        "status": "5.1.1",
        "diagnostic": "550 unknown user",
        "message_id": delivered["b:2"].message_id,
    }

    def post(payload: Any, secret: str | None) -> Any:
        headers = {"X-Cible-Webhook-Secret": secret} if secret is not None else {}
        return client.post(
            "/api/v1/mail/bounces",
            data=json.dumps(payload),
            content_type="application/json",
            headers=headers,
        )

    assert post(body, None).status_code == 401
    assert post(body, "wrong").status_code == 401
    assert Bounce.objects.count() == 0
    refused = post({**body, "status": "bounced"}, "s3cret-value")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "status"

    accepted = post(body, "s3cret-value")

    assert accepted.status_code == 200 and accepted.json() == {"recorded": True, "kind": "hard"}
    assert post(body, "s3cret-value").json()["recorded"] is False  # the same report twice
    delivered["b:2"].refresh_from_db()
    people["john"].refresh_from_db()
    assert delivered["b:2"].status == MessageStatus.BOUNCED
    assert people["john"].email_bounced_at is not None


def test_a_reply_in_the_mailbox_is_recorded_once_as_email_replied(
    tmp_path: Path, delivered: dict[str, Any], people: dict[str, Any], capsys: Any
) -> None:
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    answer = EmailMessage()
    answer["Subject"] = "Re: Bienvenue Jeanne"
    answer["From"] = "jeanne@acme.fr"
    answer["Date"] = "Thu, 26 Nov 2026 10:15:00 +0100"
    answer["In-Reply-To"] = delivered["b:1"].message_id
    answer.set_content("Rappelez-moi jeudi.")
    box.add(answer)
    stranger = EmailMessage()
    stranger["Subject"] = "Re: something else"
    stranger["In-Reply-To"] = "<not-ours@elsewhere.example>"
    stranger.set_content("?")
    box.add(stranger)

    call_command("mail_bounces", maildir=str(tmp_path / "inbox"))

    assert "2 messages: 0 hard bounces, 0 soft, 1 replies, 1 ignored" in capsys.readouterr().out
    (reply,) = Interaction.objects.filter(kind="email_replied")
    assert reply.contact_id == people["jeanne"].pk
    assert reply.occurred_at.isoformat() == "2026-11-26T09:15:00+00:00"
    assert reply.properties["subject"] == "Re: Bienvenue Jeanne"
    box.add(answer)  # the same answer delivered twice: still one reply
    call_command("mail_bounces", maildir=str(tmp_path / "inbox"))
    assert Interaction.objects.filter(kind="email_replied").count() == 1
