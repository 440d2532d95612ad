"""Bounces: delivery failures reported after the SMTP server accepted a message.

They arrive as delivery status notifications (RFC 3464 `multipart/report;
report-type=delivery-status`) in a mailbox — a Maildir folder (`MAIL_BOUNCE_MAILDIR`) or an IMAP
folder (`MAIL_BOUNCE_IMAP_*`) — or from a provider's webhook (`POST /api/v1/mail/bounces`).

The same mailbox — the address replies go to — also brings people's answers: a message whose
`In-Reply-To`/`References` quote one Cible sent is recorded as an `email_replied` interaction.

A hard bounce (status 5.x.x) marks the message bounced and sets the contact's
`email_bounced_at`: nobody sends to that address again. A soft one (4.x.x) is only counted.
Each report is stored once (`Bounce.report_id`), so reading a mailbox twice changes nothing.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.nurture.mailing.events import record_events
from cible.nurture.mailing.mailboxes import MailboxUnreadable, configured_mailboxes
from cible.nurture.mailing.models import (
    Bounce,
    BounceKind,
    MailboxReading,
    MessageStatus,
    OutboundMessage,
)
from cible.people.models import Contact

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


@dataclass(frozen=True)
class Notification:
    """One failed recipient of a delivery status notification."""

    report_id: str
    email: str
    status: str
    diagnostic: str
    message_id: str  # the Message-ID of the message that bounced, when the report quotes it


@dataclass(frozen=True)
class BounceReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    ignored: int = 0  # not a delivery report nor a reply, or one already recorded
    replies: int = 0  # answers to a message Cible sent, recorded as `email_replied`


def _address(value: str) -> str:
    """ "rfc822; Jane@Example.com" → "jane@example.com"."""
    return (
        value.partition(";")[2].strip().strip("<>").lower()
        if ";" in value
        else value.strip().lower()
    )


def _original_message_id(report: Message) -> str:
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
        elif kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            headers = email.message_from_string(text or str(part.get_payload()))
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return ""


def _status_blocks(report: Message) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
    return []


def parse_dsn(raw: bytes | Message) -> list[Notification]:
    """The failed recipients of a delivery status notification ([] for any other message)."""
    report = (
        email.message_from_bytes(raw, policy=email.policy.compat32)
        if isinstance(raw, bytes)
        else raw
    )
    if report.get_content_type() != "multipart/report":
        return []
    blocks = _status_blocks(report)
    if not blocks:
        return []
    own_id = str(report.get("Message-ID") or "").strip()
    if not own_id:
        own_id = "sha256:" + hashlib.sha256(report.as_bytes()).hexdigest()
    original = _original_message_id(report)
    found = []
    for block in blocks[1:] or blocks:  # the first block describes the whole message
        recipient = _address(
            str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        )
        action = str(block.get("Action") or "").strip().lower()
        match = _STATUS.search(str(block.get("Status") or ""))
        if not recipient or not match or action in ("delivered", "relayed", "expanded"):
            continue
        found.append(
            Notification(
                report_id=f"{own_id}|{recipient}"[:255],
                email=recipient,
                status=match.group(0),
                diagnostic=" ".join(str(block.get("Diagnostic-Code") or "").split())[:2000],
                message_id=original,
            )
        )
    return found


def _message_for(notification_email: str, message_id: str) -> OutboundMessage | None:
    if message_id:
        found = OutboundMessage.objects.filter(message_id=message_id).first()
        if found is not None:
            return found
    if notification_email:
        return (
            OutboundMessage.objects.filter(
                to_email__iexact=notification_email, status=MessageStatus.SENT
            )
            .order_by("-sent_at")
            .first()
        )
    return None


def bounce_record(
    *,
    email_address: str,
    status: str,
    diagnostic: str = "",
    message_id: str = "",
    report_id: str = "",
    source: str,
) -> Bounce | None:
    """Record one bounce; None when this report was recorded before (idempotent)."""
    kind = BounceKind.HARD if status.startswith("5") else BounceKind.SOFT
    report_id = report_id or f"{source}|{message_id}|{email_address}|{status}"[:255]
    if Bounce.objects.filter(report_id=report_id).exists():
        return None
    message = _message_for(email_address, message_id)
    contact_id = message.contact_id if message is not None else None
    if contact_id is None and email_address:
        contact_id = (
            Contact.objects.filter(email__iexact=email_address).values_list("pk", flat=True).first()
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            bounce = Bounce.objects.create(
                report_id=report_id,
                message=message,
                contact_id=contact_id,
                email=email_address[:254],
                kind=kind,
                status=status[:12],
                diagnostic=diagnostic[:2000],
                source=source,
                received_at=now,
            )
            if kind == BounceKind.HARD:
                _hard(message, contact_id, now, diagnostic or status)
    except IntegrityError:
        return None  # the same report, recorded by a concurrent reader
    return bounce


def _hard(message: OutboundMessage | None, contact_id: int | None, now: Any, reason: str) -> None:
    if message is not None:
        OutboundMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.BOUNCED, bounced_at=now, last_error=reason[:2000]
        )
        record_events([(message, "email_bounced", "bounced", now, {"reason": reason[:500]})])
    if contact_id is not None:
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        if contact.email_bounced_at is None:
            contact.email_bounced_at = now
            with audit_context(actor=None, channel="job"):
                save_versioned(contact)
        OutboundMessage.objects.filter(contact_id=contact_id, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SUPPRESSED, suppressed_reason="bounced"
        )


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def reply_record(raw: bytes | Message) -> bool:
    """A person's answer to a message Cible sent — its `In-Reply-To` or `References` quote that
    message's Message-ID — becomes an `email_replied` interaction of the contact, once: it ends
    their nurture program (exit on reply) and answers "replied" branches."""
    parsed = raw if isinstance(raw, Message) else email.message_from_bytes(raw)
    quoted = _MESSAGE_ID.findall(f"{parsed.get('In-Reply-To', '')} {parsed.get('References', '')}")
    if not quoted:
        return False
    message = (
        OutboundMessage.objects.filter(message_id__in=quoted, contact__isnull=False)
        .order_by("-sent_at")
        .first()
    )
    if message is None:
        return False
    moment = timezone.now()
    with contextlib.suppress(TypeError, ValueError):
        dated = email.utils.parsedate_to_datetime(str(parsed.get("Date", "")))
        if dated.tzinfo is not None and dated <= moment:
            moment = dated
    subject = str(parsed.get("Subject", ""))[:200]
    with transaction.atomic():
        return (
            record_events([(message, "email_replied", "replied", moment, {"subject": subject})]) > 0
        )


def _record_all(raw_messages: Iterator[bytes], source: str) -> BounceReport:
    read = hard = soft = ignored = replies = 0
    for raw in raw_messages:
        read += 1
        notifications = parse_dsn(raw)
        if not notifications:
            if reply_record(raw):
                replies += 1
            else:
                ignored += 1
        for notification in notifications:
            bounce = bounce_record(
                email_address=notification.email,
                status=notification.status,
                diagnostic=notification.diagnostic,
                message_id=notification.message_id,
                report_id=notification.report_id,
                source=source,
            )
            if bounce is None:
                ignored += 1
            elif bounce.kind == BounceKind.HARD:
                hard += 1
            else:
                soft += 1
    return BounceReport(read=read, hard=hard, soft=soft, ignored=ignored, replies=replies)


def bounces_read_mailboxes() -> BounceReport:
    """Read the configured bounce mailboxes (Maildir, IMAP or both); safe to run twice.

    Each reading is logged (`MailboxReading`, shown on the sending rules page). A mailbox that
    cannot be read does not keep the other from being read; `MailboxUnreadable` is raised at
    the end, naming each that failed and why."""
    report = BounceReport()
    failures: list[str] = []
    for source, where, messages in configured_mailboxes():
        try:
            found = _record_all(messages(), source)
        except MailboxUnreadable as error:
            _log_reading(source, where, BounceReport(), error)
            failures.append(str(error))
        else:
            _log_reading(source, where, found)
            report = _sum(report, found)
    if failures:
        raise MailboxUnreadable("\n".join(failures))
    return report


def _log_reading(
    source: str, where: str, found: BounceReport, error: MailboxUnreadable | None = None
) -> None:
    MailboxReading.objects.create(
        source=source,
        mailbox=where[:300],
        read=found.read,
        hard=found.hard,
        soft=found.soft,
        replies=found.replies,
        ignored=found.ignored,
        error=error.template if error else "",
        error_params={k: v[:1000] for k, v in error.params.items()} if error else {},
    )
    oldest_kept = (
        MailboxReading.objects.order_by("-id").values_list("id", flat=True)[MailboxReading.KEPT :]
    ).first()
    if oldest_kept is not None:
        MailboxReading.objects.filter(id__lte=oldest_kept).delete()


def _sum(a: BounceReport, b: BounceReport) -> BounceReport:
    return BounceReport(
        a.read + b.read,
        a.hard + b.hard,
        a.soft + b.soft,
        a.ignored + b.ignored,
        a.replies + b.replies,
    )
