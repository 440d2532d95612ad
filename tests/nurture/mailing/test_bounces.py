"""Bounces: delivery status notifications read from a Maildir or an IMAP folder (a real Dovecot),
and the provider webhook."""

from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from cible.engagement.interactions.models import Interaction
from cible.nurture.mailing import bounces, services
from cible.nurture.mailing.models import Bounce, MailboxReading, MessageStatus, OutboundMessage
from cible.people.services import profile_set_language
from tests import imap
from tests.imap import ImapServer
from tests.smtp import free_port

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


def _rejected(message: OutboundMessage, *, report: str) -> bytes:
    """The report of the recipient's server refusing `message`: a hard bounce."""
    return _dsn(
        report=report,
        recipient=message.to_email,
        action="failed",
        status="5.1.1",
        diagnostic=f"550 5.1.1 <{message.to_email}>: Recipient address rejected",
        message_id=message.message_id,
    )


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
    box.add(_rejected(jeanne, report="r1"))
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
    with pytest.raises(CommandError, match="There is no Maildir folder at /nowhere/bounces "):
        call_command("mail_bounces", maildir="/nowhere/bounces")
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


def _note(subject: str, **headers: str) -> bytes:
    note = EmailMessage()
    note["Subject"] = subject
    for name, value in headers.items():
        note[name.replace("_", "-")] = value
    note.set_content("Rappelez-moi jeudi.")
    return bytes(note)


def test_bounces_and_replies_are_read_from_an_imap_folder_over_tls_once(
    imap_server: ImapServer, delivered: dict[str, Any], people: dict[str, Any], capsys: Any
) -> None:
    jeanne, john = delivered["b:1"], delivered["b:2"]
    imap_server.deliver(
        _rejected(jeanne, report="i1"),
        _note("Re: Welcome John", In_Reply_To=john.message_id, From="john@acme.co.uk"),
        _note("Out of office"),
    )
    assert imap_server.unseen() == 3

    call_command("mail_bounces")

    assert "3 messages: 1 hard bounces, 0 soft, 1 replies, 1 ignored" in capsys.readouterr().out
    jeanne.refresh_from_db()
    people["jeanne"].refresh_from_db()
    assert jeanne.status == MessageStatus.BOUNCED
    assert people["jeanne"].email_bounced_at is not None
    assert Bounce.objects.get().source == "imap"
    (reply,) = Interaction.objects.filter(kind="email_replied")
    assert reply.contact_id == people["john"].pk
    assert imap_server.unseen() == 0  # each flagged \Seen on the server once recorded

    call_command("mail_bounces")
    assert "Read 0 messages" in capsys.readouterr().out


def test_a_message_stays_unseen_on_the_server_until_it_is_recorded(
    imap_server: ImapServer,
    delivered: dict[str, Any],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.MAIL_BOUNCE_IMAP_SSL, settings.MAIL_BOUNCE_IMAP_PORT = False, imap_server.port
    imap_server.deliver(
        *(
            _dsn(
                report=f"k{n}",
                recipient=message.to_email,
                action="failed",
                status="5.1.1",
                diagnostic="550 unknown user",
                message_id=message.message_id,
            )
            for n, message in enumerate(delivered.values())
        )
    )
    recorded = bounces.bounce_record

    def crash_on_the_second(**kwargs: Any) -> Any:
        if Bounce.objects.exists():
            raise RuntimeError("worker killed")
        return recorded(**kwargs)

    monkeypatch.setattr(bounces, "bounce_record", crash_on_the_second)
    with pytest.raises(RuntimeError):
        services.bounces_read_mailboxes()
    assert Bounce.objects.count() == 1
    assert imap_server.unseen() == 1  # the one being recorded when the worker died

    monkeypatch.setattr(bounces, "bounce_record", recorded)
    report = services.bounces_read_mailboxes()

    assert (report.read, report.hard) == (1, 1)
    assert sorted(Bounce.objects.values_list("email", flat=True)) == [
        "jeanne@acme.fr",
        "john@acme.co.uk",
    ]
    assert imap_server.unseen() == 0


def test_an_imap_folder_that_cannot_be_read_is_named_with_the_reason(
    imap_server: ImapServer, settings: Any, db: Any
) -> None:
    server = f"127.0.0.1:{imap_server.tls_port}"

    def refusal() -> str:
        with pytest.raises(CommandError) as refused:
            call_command("mail_bounces")
        return str(refused.value)

    settings.MAIL_BOUNCE_IMAP_PASSWORD = "wrong"
    assert refusal() == (
        f"The IMAP server {server} refused the login of bounces@cible.test: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )
    settings.MAIL_BOUNCE_IMAP_PASSWORD = imap.PASSWORD
    settings.MAIL_BOUNCE_IMAP_FOLDER = "Bounces"
    assert refusal().startswith(f"The IMAP server {server} has no folder Bounces: ")

    settings.MAIL_BOUNCE_IMAP_FOLDER, settings.MAIL_BOUNCE_IMAP_CAFILE = "INBOX", ""
    untrusted = refusal()  # a certificate no authority of the system signed
    assert untrusted.startswith(f"Could not reach the IMAP server {server}: ")
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted

    settings.MAIL_BOUNCE_IMAP_PORT = closed = free_port()
    assert refusal().startswith(f"Could not reach the IMAP server 127.0.0.1:{closed}: ")


def test_a_failing_mailbox_does_not_stop_the_other_and_the_page_says_which_fails(
    imap_server: ImapServer, settings: Any, cast: Any, client_for: Any
) -> None:
    settings.MAIL_BOUNCE_MAILDIR = "/nowhere/bounces"
    imap_server.deliver(_note("Out of office"))

    with pytest.raises(CommandError) as failed:
        call_command("mail_bounces")

    missing = "There is no Maildir folder at /nowhere/bounces (one with cur, new and tmp in it)."
    assert str(failed.value) == missing
    assert imap_server.unseen() == 0  # the IMAP mailbox was read all the same
    where = f"imaps://{imap.USER}@127.0.0.1:{imap_server.tls_port}/INBOX"
    readings = MailboxReading.objects.all()
    assert [(r.source, r.mailbox, r.read, r.error_text) for r in readings] == [
        ("imap", where, 1, ""),
        ("maildir", "/nowhere/bounces", 0, missing),
    ]
    page = client_for(cast.marketer).get("/email/policy/").content.decode()
    assert 'data-source="maildir" data-failing="true"' in page
    assert missing in page
    assert 'data-source="imap" data-failing="false"' in page and where in page
    assert "s3cret" not in page  # never the password

    # The worker read in English; a reader who works in French reads why in French.
    profile_set_language(user=cast.marketer, language="fr")
    page = client_for(cast.marketer).get("/email/policy/").content.decode()
    assert "dossier Maildir à /nowhere/bounces (un dossier contenant cur, new et tmp)" in page
    assert missing not in page
    profile_set_language(user=cast.marketer, language="en")

    settings.MAIL_BOUNCE_MAILDIR = settings.MAIL_BOUNCE_IMAP_HOST = ""
    page = client_for(cast.marketer).get("/email/policy/").content.decode()
    assert "No bounce mailbox is configured" in page


def test_the_last_readings_are_kept_and_older_ones_dropped(db: Any) -> None:
    MailboxReading.objects.bulk_create(
        MailboxReading(source="imap", mailbox="imaps://b@mail.example:993/INBOX", read=n)
        for n in range(MailboxReading.KEPT)
    )
    oldest = MailboxReading.objects.order_by("id").first()

    bounces._log_reading("imap", "imaps://b@mail.example:993/INBOX", bounces.BounceReport())

    assert MailboxReading.objects.count() == MailboxReading.KEPT
    assert not MailboxReading.objects.filter(pk=oldest.pk).exists()
