"""Every write of the mailing app: templates, the sending policy, queueing messages, what the
tracking links and the unsubscribe page report. Queueing is in `queueing.py`, sending in
`sending.py`, bounces in `bounces.py`; all are re-exported here so callers have one module to
import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.nurture.mailing import templating
from cible.nurture.mailing.bounces import BounceReport, bounce_record, bounces_read_mailboxes
from cible.nurture.mailing.events import record_events
from cible.nurture.mailing.merge import axis_keys
from cible.nurture.mailing.models import EmailTemplate, MessageStatus, OutboundMessage, SendPolicy
from cible.nurture.mailing.queueing import QueueOutcome, queue_messages
from cible.nurture.mailing.sending import SendReport, send_due, send_test
from cible.people.models import Contact
from cible.quality.privacy.models import ConsentSource, ConsentStatus, ContactChannel
from cible.quality.privacy.services import consent_record

__all__ = [
    "BounceReport",
    "QueueOutcome",
    "SendReport",
    "bounce_record",
    "bounces_read_mailboxes",
    "message_clicked",
    "message_opened",
    "policy_update",
    "queue_messages",
    "send_due",
    "send_test",
    "template_create",
    "template_delete",
    "template_update",
    "unsubscribe",
]

TEMPLATE_FIELDS = ("name", "description", "subject_fr", "body_fr", "subject_en", "body_en")


# --- templates ----------------------------------------------------------------------------------


def may_edit_templates(actor: Any) -> bool:
    """Marketing writes the emails (seed 004 §5: the incubator is Marketing's); admins too."""
    return access.role_of(actor) in (Role.MARKETING, Role.ADMIN)


def _template_errors(values: Mapping[str, str]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = values.get("name", "").strip()
    if not name:
        errors.append(FieldError("name", _("is required")))
    elif len(name) > 150:
        errors.append(FieldError("name", _("is longer than 150 characters")))
    for language in ("fr", "en"):
        subject = values.get(f"subject_{language}", "")
        if len(subject) > 255:
            errors.append(FieldError(f"subject_{language}", _("is longer than 255 characters")))
        if "\n" in subject:
            errors.append(FieldError(f"subject_{language}", _("must fit on one line")))
    written = [
        lang
        for lang in ("fr", "en")
        if values.get(f"subject_{lang}", "").strip() or values.get(f"body_{lang}", "").strip()
    ]
    if not written:
        errors.append(FieldError("body_fr", _("write the email in French, in English or both")))
    for language in written:
        for part in ("subject", "body"):
            if not values.get(f"{part}_{language}", "").strip():
                errors.append(FieldError(f"{part}_{language}", _("is required in this language")))
    keys = axis_keys()
    for name_ in ("subject_fr", "body_fr", "subject_en", "body_en"):
        errors.extend(templating.check(values.get(name_, ""), field=name_, axis_keys=keys))
    return errors


def _clean(data: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str]:
    values = dict(base)
    for name in TEMPLATE_FIELDS:
        if name in data:
            raw = data[name]
            values[name] = "" if raw is None else str(raw).replace("\r\n", "\n")
    values["name"] = values.get("name", "").strip()
    values["description"] = values.get("description", "").strip()[:255]
    return values


def _name_taken(name: str, exclude: int | None) -> bool:
    same = EmailTemplate.objects.filter(name__iexact=name)
    return (same.exclude(pk=exclude) if exclude is not None else same).exists()


@transaction.atomic
def template_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> EmailTemplate:
    """A new template; syntax errors and unknown merge fields refuse it, field by field."""
    if not may_edit_templates(actor):
        raise PermissionDenied(_("Only Marketing and administrators may write email templates."))
    values = _clean(data, {name: "" for name in TEMPLATE_FIELDS})
    errors = _template_errors(values)
    if values["name"] and _name_taken(values["name"], None):
        errors.append(FieldError("name", _("another template already has this name")))
    if errors:
        raise ValidationFailed(errors=errors)
    template = EmailTemplate(**values, created_by=actor if getattr(actor, "pk", None) else None)
    with audit_context(actor=actor, channel=channel):
        template.save()
    return template


@transaction.atomic
def template_update(
    *,
    template: EmailTemplate,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> EmailTemplate:
    """Change a template; refused if someone saved it since `expected_version` was read."""
    if not may_edit_templates(actor):
        raise PermissionDenied(_("Only Marketing and administrators may write email templates."))
    values = _clean(data, {name: getattr(template, name) for name in TEMPLATE_FIELDS})
    errors = _template_errors(values)
    if values["name"] and _name_taken(values["name"], template.pk):
        errors.append(FieldError("name", _("another template already has this name")))
    if errors:
        raise ValidationFailed(errors=errors)
    expected = template.version if expected_version is None else expected_version
    for name, value in values.items():
        setattr(template, name, value)
    with audit_context(actor=actor, channel=channel):
        save_versioned(template, expected_version=expected)
    return template


@transaction.atomic
def template_delete(*, template: EmailTemplate, actor: Any, channel: str) -> None:
    """Delete a template no message is waiting on (sent messages keep their copy)."""
    if not may_edit_templates(actor):
        raise PermissionDenied(_("Only Marketing and administrators may write email templates."))
    waiting = template.messages.filter(status__in=(MessageStatus.QUEUED, MessageStatus.SENDING))
    if waiting.exists():
        raise ValidationFailed(
            _("%(count)s messages are still waiting to be sent with this template.")
            % {"count": waiting.count()}
        )
    with audit_context(actor=actor, channel=channel):
        template.delete()


# --- the sending policy -------------------------------------------------------------------------


def _whole(
    raw: Any, name: str, low: int, high: int, errors: list[FieldError], message: str = ""
) -> int:
    """`raw` as a whole number from `low` to `high`; else `message` (or a generic one) on `name`."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors.append(FieldError(name, message or _("must be a whole number")))
        return low
    if not low <= value <= high:
        generic = _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
        errors.append(FieldError(name, message or generic))
    return value


@transaction.atomic
def policy_update(*, actor: Any, channel: str, data: Mapping[str, Any]) -> SendPolicy:
    """Change the send window, rates, retries and claim timeout (administrators and Marketing)."""
    if not may_edit_templates(actor):
        raise PermissionDenied(_("Only Marketing and administrators may change sending rules."))
    policy = SendPolicy.objects.select_for_update().get(pk=SendPolicy.current().pk)
    errors: list[FieldError] = []
    raw_days = data.get("days", policy.days)
    days = sorted({str(d) for d in (raw_days or "")})  # a list of day numbers, or "01234"
    if not days or any(d not in "0123456" or len(d) != 1 for d in days):
        errors.append(FieldError("days", _("choose at least one day of the week")))
    start = _whole(data.get("start_hour", policy.start_hour), "start_hour", 0, 23, errors)
    end = _whole(data.get("end_hour", policy.end_hour), "end_hour", 1, 24, errors)
    if not errors and end <= start:
        errors.append(FieldError("end_hour", _("must be after the start hour")))
    zone = str(data.get("time_zone", policy.time_zone)).strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("time_zone", _("“%(zone)s” is not a time zone") % {"zone": zone}))
    rate = _whole(
        data.get("per_domain_per_minute", policy.per_domain_per_minute),
        "per_domain_per_minute",
        1,
        100_000,
        errors,
    )
    attempts = _whole(data.get("max_attempts", policy.max_attempts), "max_attempts", 1, 20, errors)
    backoff = _whole(
        data.get("backoff_seconds", policy.backoff_seconds), "backoff_seconds", 1, 86_400, errors
    )
    # A claim must outlive the slowest sending round, or a message still on its way is taken
    # back and sent again; a day is the longest a crashed worker's messages should wait.
    claim_timeout = _whole(
        data.get("claim_timeout_seconds", policy.claim_timeout_seconds),
        "claim_timeout_seconds",
        60,
        86_400,
        errors,
        _(
            "“Take back unfinished sends after” must be a whole number of seconds, "
            "from 60 (one minute) to 86,400 (one day)."
        ),
    )
    if errors:
        raise ValidationFailed(errors=errors)
    policy.days, policy.start_hour, policy.end_hour = "".join(days), start, end
    policy.time_zone, policy.per_domain_per_minute = zone, rate
    policy.max_attempts, policy.backoff_seconds = attempts, backoff
    policy.claim_timeout_seconds = claim_timeout
    policy.version += 1
    with audit_context(actor=actor, channel=channel):
        policy.save()
    return policy


# --- tracking and unsubscribe (public links) ----------------------------------------------------


def message_opened(*, message: OutboundMessage, at: dt.datetime | None = None) -> None:
    """The open pixel was fetched: first open kept, one `email_opened` interaction."""
    moment = at or timezone.now()
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(
            opened_at=moment
        )
        record_events([(message, "email_opened", "opened", moment, {})])


def message_clicked(*, message: OutboundMessage, index: int, at: dt.datetime | None = None) -> str:
    """A tracked link was followed: returns the address that was in the message."""
    links = message.links or []
    if not 0 <= index < len(links):
        raise ValidationFailed(errors=[FieldError("link", _("this message has no such link"))])
    url = str(links[index])
    moment = at or timezone.now()
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
            clicked_at=moment
        )
        # A click proves the open too (images are often blocked).
        OutboundMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(
            opened_at=moment
        )
        record_events(
            [
                (message, "email_opened", "opened", moment, {}),
                (message, "email_clicked", f"clicked:{index}", moment, {"url": url[:500]}),
            ]
        )
    return url


def unsubscribe(
    *, message: OutboundMessage, ip: str | None = None, one_click: bool = False
) -> bool:
    """The person asked to receive no more email: a withdrawn email consent, recorded with the
    link as proof (quality.privacy), which sets `email_opt_out` on the contact and audits it.
    Returns False when they had already opted out."""
    contact = Contact.objects.get(pk=message.contact_id)
    if contact.email_opt_out:
        return False
    proof = {
        "reference": f"email {message.key}"[:255],
        "note": "List-Unsubscribe one-click" if one_click else "unsubscribe page",
    }
    if ip:
        proof["ip"] = ip
    consent_record(
        contact=contact,
        actor=None,
        channel="job",
        contact_channel=ContactChannel.EMAIL,
        purpose=None,
        status=ConsentStatus.WITHDRAWN,
        source=ConsentSource.EMAIL_UNSUBSCRIBE,
        proof=proof,
    )
    # Messages still waiting for this person will not leave (send_due checks again anyway).
    OutboundMessage.objects.filter(contact_id=contact.pk, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SUPPRESSED, suppressed_reason="opted_out"
    )
    return True
