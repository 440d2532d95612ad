"""Privacy records (SPEC C2, GDPR): purposes, consent events and their current state, retention
rules, and the journal of privacy requests (exports, erasures, retention runs).

Consent is append-only: every grant, withdrawal or refusal is a `ConsentEvent` with its source
and proof, and the current state is the latest event per contact, channel and purpose (one
index seek each). Nothing is kept twice, so a merge that moves a duplicate's events onto the
surviving contact, or its undo, leaves the current state right without further ado.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import TimeStampedModel
from cible.people.models import Contact


class ContactChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    POST = "post", _("Post")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REFUSED = "refused", _("Refused")


NEGATIVE_STATUSES = (ConsentStatus.WITHDRAWN, ConsentStatus.REFUSED)


class ConsentSource(models.TextChoices):
    FORM = "form", _("Web form")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    UI = "ui", _("Entered in Cible")
    EMAIL_UNSUBSCRIBE = "email_unsubscribe", _("Email unsubscribe link")
    CLI = "cli", _("Command line")


class Purpose(TimeStampedModel):
    """Why a person is contacted (newsletter, events …); administrators add and rename them.

    `requires_consent`: the purpose needs an explicit grant (opt-in). Otherwise the person may be
    contacted until they object (opt-out, the legitimate interest of B2B prospecting).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=255, blank=True)
    requires_consent = models.BooleanField(
        _("requires explicit consent (opt-in)"),
        default=False,
        help_text=_(
            "Ticked: only people who granted consent may be contacted for this purpose. "
            "Unticked: people may be contacted until they object."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")

    def __str__(self) -> str:
        return self.name


class ConsentEvent(models.Model):
    """One grant, withdrawal or refusal, as it was recorded: never changed, never deleted
    (except the proof's personal parts, removed by an erasure)."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="consent_events"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    # Empty: every purpose of the channel at once ("unsubscribe from all emails").
    purpose = models.ForeignKey(
        Purpose,
        verbose_name=_("purpose"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=20, choices=ConsentSource.choices)
    occurred_at = models.DateTimeField(_("given or withdrawn on"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded on"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The proof: what the person saw and where, or which import row / API token brought it in.
    proof_form = models.CharField(_("form or page"), max_length=200, blank=True)
    proof_text = models.TextField(_("text shown to the person"), blank=True, max_length=5000)
    proof_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    proof_email = models.EmailField(_("email address used"), max_length=254, blank=True)
    proof_reference = models.CharField(_("reference"), max_length=255, blank=True)
    import_run = models.PositiveBigIntegerField(_("import run"), null=True, blank=True)
    import_row = models.PositiveIntegerField(_("import row"), null=True, blank=True)
    api_token = models.ForeignKey(
        "core.ApiToken",
        verbose_name=_("API token"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        indexes = [
            # The latest word per contact, channel and purpose: one seek in this index.
            models.Index(
                fields=["contact", "channel", "purpose", "-occurred_at", "-id"],
                name="consent_event_latest",
            ),
            models.Index(fields=["recorded_at"], name="consent_event_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.get_status_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Consent events are append-only: record a new event instead.")
        super().save(*args, **kwargs)

    @property
    def has_proof(self) -> bool:
        return bool(
            self.proof_form
            or self.proof_text
            or self.proof_ip
            or self.proof_email
            or self.proof_reference
            or self.import_run
            or self.api_token_id
        )


class ConsentCondition(models.TextChoices):
    NONE_GRANTED = "none_granted", _("No consent granted (or all withdrawn)")
    WITHDRAWN = "withdrawn", _("Consent withdrawn or refused, or opted out")
    ANY = "any", _("Whatever the consent")


class RetentionAction(models.TextChoices):
    ANONYMISE = "anonymise", _("Anonymise")


class RetentionRule(TimeStampedModel):
    """ "Anonymise contacts with no consent and no activity for 36 months" (seed 004, SPEC C2)."""

    name = models.CharField(_("name"), max_length=150)
    consent = models.CharField(
        _("consent"),
        max_length=20,
        choices=ConsentCondition.choices,
        default=ConsentCondition.NONE_GRANTED,
    )
    inactive_months = models.PositiveSmallIntegerField(
        _("months without activity"),
        default=36,
        help_text=_(
            "Activity: the latest of the contact's last change, last verification and the dates "
            "of its related records (consents, interactions …)."
        ),
    )
    exclude_customers = models.BooleanField(
        _("keep customers"),
        default=True,
        help_text=_("Contacts at the Customer lifecycle stage are never affected."),
    )
    action = models.CharField(
        _("action"),
        max_length=20,
        choices=RetentionAction.choices,
        default=RetentionAction.ANONYMISE,
    )
    is_active = models.BooleanField(
        _("run every night"),
        default=False,
        help_text=_("Active rules run by themselves every night; others only when run by hand."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(inactive_months__gte=1) & Q(inactive_months__lte=600),
                name="retention_months_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Subject-access export")
    ERASURE = "erasure", _("Erasure")
    RETENTION = "retention", _("Retention run")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PrivacyRequest(models.Model):
    """The journal of privacy work: who exported or erased whom, which rule ran, with counts.

    It never holds personal data: the person is named by their contact id only, so the journal
    survives the erasure it records.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    contact_ref = models.PositiveBigIntegerField(_("contact id"), null=True, blank=True)
    rule = models.ForeignKey(
        RetentionRule,
        verbose_name=_("retention rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    rule_name = models.CharField(_("rule"), max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    processed = models.PositiveIntegerField(_("anonymised or exported"), default=0)
    details = models.JSONField(_("details"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested on"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished on"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        indexes = [models.Index(fields=["contact_ref"], name="privacy_request_contact")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (RequestStatus.DONE, RequestStatus.FAILED)
