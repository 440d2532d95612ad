"""Campaigns: what Marketing runs to reach a target, and who answered (SPEC C4, seed 004 §6).

A campaign's members are contacts with a response status that only moves forward (a contact who
registered and then opened a reminder is still "registered"). Its leads, and so its cost per lead,
are counted by the lifecycle, which sits higher (ARCHITECTURE.md layers).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.people.models import Contact
from cible.segments.targets.models import Target


class CampaignType(models.TextChoices):
    EMAIL = "email", _("Email")
    EVENT = "event", _("Event or trade show")
    WEBINAR = "webinar", _("Webinar")
    CONTENT = "content", _("Content (white paper, case study)")
    ADS = "ads", _("Advertising")
    SOCIAL = "social", _("Social networks")
    REFERRAL = "referral", _("Referral")


class CampaignGoal(models.TextChoices):
    """Seed 004 §6: marketing that produces demand is measured apart from brand and awareness."""

    DEMAND_GENERATION = "demand_generation", _("Demand generation")
    BRAND = "brand", _("Brand")
    AWARENESS = "awareness", _("Awareness")


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(VersionedModel):
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=CampaignType.choices)
    goal = models.CharField(
        _("goal"),
        max_length=20,
        choices=CampaignGoal.choices,
        default=CampaignGoal.DEMAND_GENERATION,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )
    description = models.TextField(_("description"), blank=True, max_length=10_000)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=Decimal("0"))
    actual_cost = models.DecimalField(
        _("actual cost"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    target = models.ForeignKey(
        Target,
        verbose_name=_("target"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    # UTM parameters: how a visit or a form names the campaign it came from.
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=100, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=100, blank=True)

    # Marketing's own work: visible to everyone who works the base (core.access "account").
    access_kind = "account"

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["status", "starts_on"], name="campaign_status_start"),
            models.Index(fields=["utm_campaign"], name="campaign_utm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gte=0) & Q(actual_cost__gte=0), name="campaign_money_positive"
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberStatus(models.TextChoices):
    """In the order a member moves through; a status never goes back (`RANK`)."""

    TARGETED = "targeted", _("Targeted")
    SENT = "sent", _("Sent or invited")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    REGISTERED = "registered", _("Registered")
    ATTENDED = "attended", _("Attended")
    RESPONDED = "responded", _("Responded")


MEMBER_RANK = {status: rank for rank, status in enumerate(MemberStatus)}
# From here on a member counts as having responded (SPEC C4 "response status").
RESPONDED_FROM = MemberStatus.CLICKED


class CampaignMember(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="members"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="campaigns"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.TARGETED
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    responded_at = models.DateTimeField(_("first response"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="campaign_member_once")
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaign_member_status"),
            models.Index(fields=["contact"], name="campaign_member_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.campaign_id} ({self.status})"
