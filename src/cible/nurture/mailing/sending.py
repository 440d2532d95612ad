"""Sending the outbox over SMTP: claim, render, send, mark — never lost, never doubled.

`send_due` works in batches. Each batch is *claimed* by one UPDATE that moves due messages to
`sending` under a random claim token (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
workers take disjoint batches; SQLite serialises writers). The batch is rendered (templates
compiled once per version, merge data read in three queries), the rendered copies are stored,
then the messages go out over one SMTP connection (or `MAIL_SMTP_CONNECTIONS` in parallel
threads), and each message is marked `sent` in its own statement right after the server
accepted it.

A refusal (4xx) or a timeout puts the message back in the queue with exponential backoff; a
permanent refusal (5xx) fails it with the server's reason; after `max_attempts` it fails too.

A worker killed mid-batch leaves its claimed messages in `sending`. After the policy's
`claim_timeout_seconds` the next `send_due` puts them back in the queue (they count one attempt).
The only message that can then go twice is one the server accepted in the instant before the
kill, before its row was marked: it goes again with the *same* Message-ID (derived from the
idempotency key), which receiving systems use to drop the duplicate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import smtplib
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import Count, F
from django.template import TemplateSyntaxError
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.nurture.mailing import merge, templating, tokens
from cible.nurture.mailing.events import record_events
from cible.nurture.mailing.models import EmailTemplate, MessageStatus, OutboundMessage, SendPolicy
from cible.nurture.mailing.transport import classify, deliver
from cible.people.models import Contact

BATCH = 500
RATE_WINDOW = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0  # outside the send window or over a domain's rate: moved, not lost
    released: int = 0  # claims of a dead worker taken back
    batches: int = 0

    def __add__(self, other: SendReport) -> SendReport:
        return SendReport(*(a + b for a, b in zip(_values(self), _values(other), strict=True)))


def _values(report: SendReport) -> tuple[int, ...]:
    return (
        report.sent,
        report.retried,
        report.failed,
        report.suppressed,
        report.deferred,
        report.released,
        report.batches,
    )


# --- the send window (pure) ---------------------------------------------------------------------


def next_opening(
    *, days: str, start_hour: int, end_hour: int, zone: str, now: dt.datetime
) -> dt.datetime | None:
    """None when `now` is inside the window, else the next moment it opens (UTC)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if str(local.weekday()) in days and start_hour <= local.hour < end_hour:
        return None
    for ahead in range(8):
        day = local.date() + dt.timedelta(days=ahead)
        opening = dt.datetime(day.year, day.month, day.day, start_hour, tzinfo=tz)
        if str(day.weekday()) in days and opening > local:
            return opening.astimezone(dt.UTC)
    raise ValueError("the send window has no sending day")


def message_id_for(key: str) -> str:
    """The Message-ID of a message: the same on every attempt, derived from its key."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "cible.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


# --- claims -------------------------------------------------------------------------------------


def _table() -> str:
    return connection.ops.quote_name(OutboundMessage._meta.db_table)


def _release_stale(policy: SendPolicy, now: dt.datetime) -> int:
    cutoff = now - dt.timedelta(seconds=policy.claim_timeout_seconds)
    return OutboundMessage.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=cutoff
    ).update(status=MessageStatus.QUEUED, claim="", next_attempt_at=now)


def _claim(token: str, size: int, now: dt.datetime) -> int:
    """Move up to `size` due messages to `sending` under `token`, atomically."""
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    table = _table()
    sql = (
        f"UPDATE {table} SET status = %s, claim = %s, claimed_at = %s, attempts = attempts + 1 "
        f"WHERE id IN (SELECT id FROM {table} WHERE status = %s AND next_attempt_at <= %s "
        f"ORDER BY next_attempt_at, id LIMIT %s{lock})"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [MessageStatus.SENDING, token, adapt(now), MessageStatus.QUEUED, adapt(now), size],
        )
        return cursor.rowcount


class _Marker:
    """Single-row status writes, each committed on its own (the caller holds no transaction)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.adapt = connection.ops.adapt_datetimefield_value
        table = _table()
        self.sent_sql = (
            f"UPDATE {table} SET status = %s, sent_at = %s, claim = '', last_error = '' "
            f"WHERE id = %s AND claim = %s"
        )
        self.retry_sql = (
            f"UPDATE {table} SET status = %s, next_attempt_at = %s, last_error = %s, claim = '' "
            f"WHERE id = %s AND claim = %s"
        )
        self.cursor = connection.cursor()

    def sent(self, pk: int, when: dt.datetime) -> None:
        self.cursor.execute(self.sent_sql, [MessageStatus.SENT, self.adapt(when), pk, self.token])

    def retry(self, pk: int, when: dt.datetime, error: str) -> None:
        self.cursor.execute(
            self.retry_sql, [MessageStatus.QUEUED, self.adapt(when), error[:2000], pk, self.token]
        )

    def fail(self, pk: int, error: str) -> None:
        self.cursor.execute(
            self.retry_sql, [MessageStatus.FAILED, None, error[:2000], pk, self.token]
        )

    def close(self) -> None:
        self.cursor.close()


# --- one batch ----------------------------------------------------------------------------------


@dataclass
class _Outgoing:
    message: OutboundMessage
    email: EmailMultiAlternatives
    organisation_id: int | None


def _footer(language: str, unsubscribe: str, open_pixel: str) -> tuple[str, str]:
    with translation.override(language):
        text = _("To stop receiving these emails: %(url)s") % {"url": unsubscribe}
        link = _("Unsubscribe")
        why = _("You receive this email because you are in touch with us.")
    html = (
        f'<p style="font-size:12px;color:#666">{escape(why)} '
        f'<a href="{escape(unsubscribe)}">{escape(link)}</a></p>'
    )
    if open_pixel:
        html += f'<img src="{escape(open_pixel)}" width="1" height="1" alt="">'
    return text, html


def build_email(
    message: OutboundMessage,
    template: EmailTemplate,
    recipient: merge.Recipient,
    *,
    tracked: bool = True,
) -> tuple[EmailMultiAlternatives, templating.Rendered]:
    """The email of `message` for `recipient`, with tracked links and unsubscribe headers."""
    language = merge.language_for(template, recipient.language)
    compiled = merge.compiled(template, language)
    pk = message.pk
    unsubscribe = tokens.unsubscribe_url(pk) if tracked else f"{settings.SITE_URL}/m/u/"
    text_footer, html_footer = _footer(
        language, unsubscribe, tokens.open_url(pk) if tracked else ""
    )
    rendered = templating.render(
        compiled,
        merge.context_for(recipient, language, unsubscribe),
        track=(lambda index, url: tokens.click_url(pk, index)) if tracked else None,
        footer=text_footer,
        footer_html=html_footer,
    )
    headers = {
        "Message-ID": message_id_for(message.key),
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers=headers,
    )
    email.attach_alternative(rendered.html, "text/html")
    message.language = language
    return email, rendered


def _store_rendered(rows: list[tuple[Any, ...]]) -> None:
    table = _table()
    sql = (
        f"UPDATE {table} SET language = %s, to_email = %s, to_domain = %s, subject = %s, "
        f"body_text = %s, body_html = %s, links = %s, missing_fields = %s, message_id = %s "
        f"WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _quota(domains: set[str], policy: SendPolicy, now: dt.datetime) -> dict[str, int]:
    recent = (
        OutboundMessage.objects.filter(
            to_domain__in=domains, sent_at__gt=now - RATE_WINDOW, sent_at__lte=now
        )
        .values("to_domain")
        .annotate(n=Count("id"))
        .values_list("to_domain", "n")
    )
    counts = dict(recent)
    return {d: policy.per_domain_per_minute - counts.get(d, 0) for d in domains}


def _send_batch(token: str, policy: SendPolicy, now: dt.datetime) -> SendReport:
    messages = list(
        OutboundMessage.objects.filter(claim=token, status=MessageStatus.SENDING)
        .only("id", "key", "contact_id", "template_id", "to_domain", "attempts")
        .order_by("id")
    )
    templates = EmailTemplate.objects.in_bulk({m.template_id for m in messages if m.template_id})
    people = merge.recipients({m.contact_id for m in messages})
    quota = _quota({m.to_domain for m in messages}, policy, now)
    marker = _Marker(token)
    outgoing: list[_Outgoing] = []
    stored: list[tuple[Any, ...]] = []
    deferred: list[int] = []
    suppressed: dict[str, list[int]] = {}
    failed = 0
    for message in messages:
        recipient = people.get(message.contact_id)
        reason = "unknown_contact" if recipient is None else _suppressed(recipient)
        if reason:
            suppressed.setdefault(reason, []).append(message.pk)
            continue
        assert recipient is not None
        domain = recipient.email.rpartition("@")[2].lower()
        if quota.get(domain, policy.per_domain_per_minute) <= 0:
            deferred.append(message.pk)
            continue
        quota[domain] = quota.get(domain, policy.per_domain_per_minute) - 1
        template = templates.get(message.template_id) if message.template_id else None
        if template is None:
            marker.fail(message.pk, _("the template was deleted before the message was sent"))
            failed += 1
            continue
        try:
            email, rendered = build_email(message, template, recipient)
        except TemplateSyntaxError as error:  # saved before a stricter check: never crash
            marker.fail(message.pk, _("template error: %(error)s") % {"error": error})
            failed += 1
            continue
        message.subject = rendered.subject
        outgoing.append(_Outgoing(message, email, recipient.organisation_id))
        stored.append(
            (
                message.language,
                recipient.email,
                domain,
                rendered.subject[:998],
                rendered.text,
                rendered.html,
                _json(rendered.links),
                _json(rendered.missing),
                email.extra_headers["Message-ID"],
                message.pk,
            )
        )
    _settle(token, now, deferred, suppressed)
    if stored:
        _store_rendered(stored)
    sent = retried = 0
    events: list[Any] = []
    for index, problem in deliver([o.email for o in outgoing]):
        message = outgoing[index].message
        moment = now
        if problem is None:
            marker.sent(message.pk, moment)
            sent += 1
            events.append((message, "email_sent", "sent", moment, {}))
            continue
        permanent, reason = classify(problem)
        if permanent or message.attempts >= policy.max_attempts:
            if not permanent:
                reason = _("gave up after %(n)s attempts: %(reason)s") % {
                    "n": message.attempts,
                    "reason": reason,
                }
            marker.fail(message.pk, reason)
            failed += 1
        else:
            delay = policy.backoff_seconds * 2 ** max(0, message.attempts - 1)
            marker.retry(message.pk, now + dt.timedelta(seconds=delay), reason)
            retried += 1
    marker.close()
    organisations = {o.message.contact_id: o.organisation_id for o in outgoing}
    record_events(events, organisations=organisations)
    return SendReport(
        sent=sent,
        retried=retried,
        failed=failed,
        suppressed=sum(len(ids) for ids in suppressed.values()),
        deferred=len(deferred),
        batches=1,
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _suppressed(recipient: merge.Recipient) -> str:
    return merge.suppression_reason(
        email=recipient.email,
        opt_out=recipient.email_opt_out,
        bounced_at=recipient.email_bounced_at,
        consent=recipient.email_consent,
        anonymised_at=recipient.anonymised_at,
    )


def _settle(
    token: str, now: dt.datetime, deferred: list[int], suppressed: dict[str, list[int]]
) -> None:
    """Give back what this batch will not send now: over-rate messages a minute later (the
    attempt they were charged is returned), suppressed ones for good, with the reason."""
    claimed = OutboundMessage.objects.filter(claim=token)
    for start in range(0, len(deferred), 1000):
        claimed.filter(pk__in=deferred[start : start + 1000]).update(
            status=MessageStatus.QUEUED,
            claim="",
            attempts=F("attempts") - 1,
            next_attempt_at=now + RATE_WINDOW,
        )
    for reason, ids in suppressed.items():
        for start in range(0, len(ids), 1000):
            claimed.filter(pk__in=ids[start : start + 1000]).update(
                status=MessageStatus.SUPPRESSED, claim="", suppressed_reason=reason
            )


# --- entry points -------------------------------------------------------------------------------


def send_due(*, now: dt.datetime | None = None, limit: int | None = None) -> SendReport:
    """Send every due message (at most `limit`), batch by batch; safe to run concurrently."""
    policy = SendPolicy.current()
    moment = now or timezone.now()
    report = SendReport(released=_release_stale(policy, moment))
    opening = next_opening(
        days=policy.days,
        start_hour=policy.start_hour,
        end_hour=policy.end_hour,
        zone=policy.time_zone,
        now=moment,
    )
    if opening is not None:
        moved = OutboundMessage.objects.filter(
            status=MessageStatus.QUEUED, next_attempt_at__lte=moment
        ).update(next_attempt_at=opening)
        return report + SendReport(deferred=moved)
    remaining = limit
    while remaining is None or remaining > 0:
        size = BATCH if remaining is None else min(BATCH, remaining)
        token = uuid.uuid4().hex
        claimed = _claim(token, size, moment)
        if not claimed:
            break
        report = report + _send_batch(token, policy, moment)
        if remaining is not None:
            remaining -= claimed
    return report


def send_test(
    *, template: EmailTemplate, contact: Contact, actor: Any, channel: str
) -> templating.Rendered:
    """Send `template`, rendered for `contact`, to the actor's own address, now.

    Nothing is queued or recorded: links are not tracked, and the contact receives nothing."""
    to = (getattr(actor, "email", "") or "").strip()
    if not to:
        raise ValidationFailed(
            errors=[FieldError("", _("Your account has no email address to send the test to."))]
        )
    recipient = merge.recipients([contact.pk]).get(contact.pk)
    if recipient is None:
        raise ValidationFailed(errors=[FieldError("contact", _("this contact no longer exists"))])
    probe = OutboundMessage(pk=0, key=f"test:{template.pk}:{uuid.uuid4().hex}")
    email, rendered = build_email(probe, template, recipient, tracked=False)
    email.subject = _("[Test] %(subject)s") % {"subject": rendered.subject}
    email.to = [to]
    email.extra_headers.pop("List-Unsubscribe-Post", None)
    email.extra_headers.pop("List-Unsubscribe", None)
    try:
        email.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "",
                    _("The mail server refused the test: %(reason)s")
                    % {"reason": classify(error)[1]},
                )
            ]
        ) from None
    return rendered
