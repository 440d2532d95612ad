"""Interactions: every touchpoint between the market and the company (SPEC C4, seed 004 §3).

One table for all kinds, because scoring, timelines and funnels read them together and because it
grows fastest of all (ten interactions per lead is ordinary): narrow rows, the kind-specific
details in `properties` (the page visited, the content downloaded, the product feature used).

An interaction that arrives from a website or a product carries the sender's `event_id`: the same
event sent twice is stored once (`interaction_event_once`). One for a person Cible does not know
yet keeps the sender's `visitor_key` (an email or an anonymous id) and is attached to the contact
when they are matched, so no event is lost.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.engagement.campaigns.models import Campaign
from cible.people.models import Contact, Organisation


class InteractionKind(models.TextChoices):
    EMAIL_SENT = "email_sent", _("Email sent")
    EMAIL_OPENED = "email_opened", _("Email opened")
    EMAIL_CLICKED = "email_clicked", _("Email clicked")
    EMAIL_REPLIED = "email_replied", _("Email replied")
    EMAIL_BOUNCED = "email_bounced", _("Email bounced")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    WEB_VISIT = "web_visit", _("Web visit")
    FORM_SUBMISSION = "form_submission", _("Form submission")
    CONTENT_DOWNLOAD = "content_download", _("Content download")
    EVENT = "event", _("Event or trade show attendance")
    WEBINAR = "webinar", _("Webinar")
    DEMO_REQUEST = "demo_request", _("Demo request")
    TRIAL_SIGNUP = "trial_signup", _("Trial sign-up")
    PRODUCT_USAGE = "product_usage", _("Product usage")


# Kinds a person logs by hand; the others arrive from mail, forms, websites and products.
LOGGED_BY_HAND = (InteractionKind.CALL, InteractionKind.MEETING)


class InteractionOutcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    HELD = "held", _("Held")
    NO_SHOW = "no_show", _("No-show")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class InteractionChannel(models.TextChoices):
    """How the interaction reached Cible."""

    UI = "ui", _("Logged by hand")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    FORM = "form", _("Web form")
    TRACKING = "tracking", _("Email tracking")
    EVENTS = "events", _("Event ingestion")
    JOB = "job", _("Background job")


class Interaction(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=InteractionOutcome.choices, blank=True
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=10_000)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=InteractionChannel.choices, default="ui"
    )
    # The sender's identifiers: `source` names the sending system ("website", "product").
    source = models.CharField(_("source"), max_length=50, blank=True)
    event_id = models.CharField(_("event id"), max_length=100, blank=True)
    visitor_key = models.CharField(_("visitor"), max_length=254, blank=True)
    properties = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)

    # An interaction is seen by whoever may see its organisation (core.access).
    access_kind = "account"
    access_owner_field = "organisation__owner"

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"],
                condition=~Q(event_id=""),
                name="interaction_event_once",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="interaction_contact_time"),
            # Covers lead scoring's sums per contact and kind (lifecycle.scoring.gather): read
            # from the index alone, in order, without sorting ten million rows.
            models.Index(
                fields=["contact", "kind", "occurred_at"], name="interaction_contact_kind"
            ),
            models.Index(fields=["organisation", "occurred_at"], name="interaction_org_time"),
            models.Index(fields=["campaign", "kind"], name="interaction_campaign_kind"),
            models.Index(fields=["kind", "occurred_at"], name="interaction_kind_time"),
            models.Index(
                fields=["visitor_key"],
                condition=Q(contact__isnull=True) & ~Q(visitor_key=""),
                name="interaction_unmatched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"
