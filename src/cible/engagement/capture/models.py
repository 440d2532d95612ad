"""Public web forms and lead magnets (SPEC C4 "Capture").

A form is built in the UI, published under an unguessable `key`, embedded in a website as an HTML
snippet or posted to as JSON. Each submission is kept as received — accepted, or refused with the
reason (a robot, too many posts, a missing consent) — so nothing a visitor sent is lost, and the
person is matched to an existing contact and organisation before anything is created.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.engagement.campaigns.models import Campaign
from cible.engagement.interactions.models import Interaction, InteractionKind
from cible.people.models import Contact, Organisation


def new_form_key() -> str:
    return secrets.token_urlsafe(12)


class WebForm(VersionedModel):
    name = models.CharField(_("name"), max_length=150)
    key = models.CharField(max_length=32, unique=True, default=new_form_key, editable=False)
    # What a submission records: a plain form, a content download, a demo request, a webinar …
    interaction_kind = models.CharField(
        _("records a"),
        max_length=20,
        choices=InteractionKind.choices,
        default=InteractionKind.FORM_SUBMISSION,
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forms",
    )
    # [{"field": "email", "label_fr": "…", "label_en": "…", "required": true}, …] — `field`
    # names a contact or organisation field the capture service knows how to match and fill.
    fields = models.JSONField(_("fields"), default=list)
    title_fr = models.CharField(_("title (French)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    consent_text_fr = models.TextField(_("consent text (French)"), blank=True, max_length=2000)
    consent_text_en = models.TextField(_("consent text (English)"), blank=True, max_length=2000)
    consent_required = models.BooleanField(_("consent required"), default=True)
    thank_you_fr = models.CharField(_("thank-you message (French)"), max_length=500, blank=True)
    thank_you_en = models.CharField(_("thank-you message (English)"), max_length=500, blank=True)
    redirect_url = models.URLField(_("redirect after submitting"), max_length=500, blank=True)
    content_url = models.URLField(_("content offered (lead magnet)"), max_length=500, blank=True)
    # Origins allowed to post from a browser (CORS); empty: the form's own page only.
    allowed_origins = models.TextField(_("allowed websites"), blank=True, max_length=2000)
    is_active = models.BooleanField(_("accepting submissions"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="web_forms",
    )

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self) -> str:
        return self.name


class SubmissionOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    SPAM = "spam", _("Refused: robot")
    THROTTLED = "throttled", _("Refused: too many submissions")
    INVALID = "invalid", _("Refused: invalid")


class FormSubmission(models.Model):
    form = models.ForeignKey(
        WebForm, verbose_name=_("form"), on_delete=models.CASCADE, related_name="submissions"
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=SubmissionOutcome.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    data = models.JSONField(_("data sent"), default=dict)
    utm = models.JSONField(_("UTM parameters"), default=dict, blank=True)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    # A hash of the sender's address: enough to limit the rate, not enough to track a person.
    sender_hash = models.CharField(max_length=64, blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    # Erasing a person (GDPR) erases what they sent.
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="form_submissions"
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="form_submissions",
    )
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="submission"
    )
    created_contact = models.BooleanField(default=False)
    created_organisation = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [
            models.Index(fields=["form", "submitted_at"], name="submission_form_time"),
            models.Index(fields=["sender_hash", "submitted_at"], name="submission_sender_time"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} {self.submitted_at:%Y-%m-%d %H:%M} {self.outcome}"
