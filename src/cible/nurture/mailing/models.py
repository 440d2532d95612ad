"""Real email (SPEC C7, issue 7 §6): templates in French and English, the outbox of messages to
send, the sending policy, and the bounces that come back.

An `OutboundMessage` is queued once per idempotency `key` (a program step and a contact, a test
send…): the unique key is what makes "never sent twice" hold across retries, restarts and
concurrent workers. Its rendered subject and bodies are kept as sent, so the outbox shows what the
person received, and the `Message-ID` is derived from the key so a retry after a crash carries
the same id.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.nurture.mailing.mailboxes import describe
from cible.people.models import Contact


class EmailTemplate(VersionedModel):
    """An email in both languages; the contact's `language` picks one, else the other."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.CharField(_("purpose"), max_length=255, blank=True)
    subject_fr = models.CharField(_("subject (French)"), max_length=255, blank=True)
    body_fr = models.TextField(_("body (French)"), blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=255, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    access_owner_field = "created_by"

    class Meta:
        ordering = ["name"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")

    def __str__(self) -> str:
        return self.name

    def languages(self) -> list[str]:
        """The languages this template is written in (a subject or a body given)."""
        found = []
        if self.subject_fr.strip() or self.body_fr.strip():
            found.append("fr")
        if self.subject_en.strip() or self.body_en.strip():
            found.append("en")
        return found


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Suppressed")
    BOUNCED = "bounced", _("Bounced")


class OutboundMessage(models.Model):
    key = models.CharField(_("idempotency key"), max_length=150, unique=True)
    origin = models.CharField(_("origin"), max_length=100, db_index=True)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    template = models.ForeignKey(
        EmailTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    language = models.CharField(_("language"), max_length=5, blank=True)
    to_email = models.EmailField(_("to"), max_length=254, blank=True)
    to_domain = models.CharField(_("domain"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    body_text = models.TextField(_("text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    links = models.JSONField(_("links"), default=list, blank=True)
    missing_fields = models.JSONField(_("missing merge fields"), default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # A worker's claim: which batch holds the message and since when. A claim older than the
    # policy's timeout belongs to a worker that died; `send_due` takes such messages back.
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    suppressed_reason = models.CharField(_("suppressed because"), max_length=30, blank=True)

    access_owner_field = "contact__owner"  # a message is seen by whoever sees its contact

    class Meta:
        verbose_name = _("email message")
        verbose_name_plural = _("email messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_due"),
            models.Index(fields=["to_domain", "sent_at"], name="message_domain_sent"),
            models.Index(fields=["contact", "queued_at"], name="message_contact"),
            models.Index(fields=["queued_at"], name="message_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.to_email or self.contact_id}"


class SendPolicy(models.Model):
    """The one row of sending rules: when mail may leave, how fast, how often it is retried."""

    days = models.CharField(
        _("sending days"),
        max_length=7,
        default="01234",
        help_text=_("Days of the week mail may leave, Monday = 0 … Sunday = 6."),
    )
    start_hour = models.PositiveSmallIntegerField(_("from (hour)"), default=8)
    end_hour = models.PositiveSmallIntegerField(_("until (hour)"), default=19)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    per_domain_per_minute = models.PositiveIntegerField(
        _("messages per minute per recipient domain"), default=600
    )
    max_attempts = models.PositiveSmallIntegerField(_("attempts before giving up"), default=6)
    backoff_seconds = models.PositiveIntegerField(_("first retry after (seconds)"), default=60)
    claim_timeout_seconds = models.PositiveIntegerField(
        _("claims released after (seconds)"), default=600
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sending policy")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="send_policy_singleton")]

    def __str__(self) -> str:
        return f"{self.days} {self.start_hour}-{self.end_hour} {self.time_zone}"

    @classmethod
    def current(cls) -> SendPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class BounceKind(models.TextChoices):
    HARD = "hard", _("Hard (permanent)")
    SOFT = "soft", _("Soft (temporary)")


class Bounce(models.Model):
    """A delivery failure reported after the server accepted the message (a DSN or a webhook).

    `report_id` (the DSN's own Message-ID, or the webhook's) makes reading a mailbox twice
    harmless."""

    report_id = models.CharField(max_length=255, unique=True)
    message = models.ForeignKey(
        OutboundMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounces",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    email = models.EmailField(_("email"), max_length=254, blank=True)
    kind = models.CharField(_("kind"), max_length=4, choices=BounceKind.choices)
    status = models.CharField(_("status code"), max_length=12)
    diagnostic = models.TextField(_("diagnostic"), blank=True)
    source = models.CharField(_("source"), max_length=10)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        indexes = [models.Index(fields=["contact", "kind"], name="bounce_contact_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.email}"


class MailboxReading(models.Model):
    """One reading of a bounce mailbox, by the worker or `cible mail_bounces`: what it found, or
    why it could not read. The sending rules page shows the latest, so that a mailbox that stopped
    answering (a changed password, an expired certificate) is seen in the app, not only in the
    worker's log. The last `KEPT` are kept."""

    KEPT = 200

    source = models.CharField(_("source"), max_length=10)  # "maildir" or "imap"
    mailbox = models.CharField(_("mailbox"), max_length=300)  # where, without any password
    at = models.DateTimeField(_("read at"), default=timezone.now, db_index=True)
    read = models.PositiveIntegerField(_("messages read"), default=0)
    hard = models.PositiveIntegerField(_("hard bounces"), default=0)
    soft = models.PositiveIntegerField(_("soft bounces"), default=0)
    replies = models.PositiveIntegerField(_("replies"), default=0)
    ignored = models.PositiveIntegerField(_("ignored"), default=0)
    # Why it failed, untranslated (`MailboxUnreadable.template`) with the values that fill it:
    # shown in each reader's language, not in the worker's.
    error = models.TextField(_("error"), blank=True)
    error_params = models.JSONField(_("error details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("mailbox reading")
        verbose_name_plural = _("mailbox readings")

    def __str__(self) -> str:
        return f"{self.source} {self.mailbox} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def error_text(self) -> str:
        """Why it failed, in the current language ("" if it did not)."""
        return describe(self.error, self.error_params) if self.error else ""
