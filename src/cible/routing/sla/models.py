"""Service levels for each handoff (SPEC C6, seed 004 §4: "les SLA sont des périodes de temps
inculquées aux règles de prise en charge").

A `SlaPolicy` says how long one side has to act on a handoff; a `SlaClock` is one such promise
running for one lead, with its due time computed once at start (business or clock hours) and
stored, so the sweep that finds breaches is a single indexed UPDATE, however large the base.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.calendars import Calendar, parse_days, parse_hours
from cible.core.models import TimeStampedModel
from cible.lifecycle.leads.models import Lead
from cible.people.models import Team


class BusinessCalendar(TimeStampedModel):
    """When a team works: time zone, working days, opening hours and public holidays.

    `opening_hours` is text such as "09:00-12:30, 14:00-18:00" (parsed by core.calendars) so one
    field edits one or two ranges; `working_days` holds ISO weekday digits ("12345" = Mon–Fri).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    working_days = models.CharField(_("working days"), max_length=7, default="12345")
    opening_hours = models.CharField(
        _("opening hours"), max_length=100, default="09:00-12:30, 14:00-18:00"
    )
    holidays_country = models.CharField(
        _("public holidays of"), max_length=3, blank=True, default="FR"
    )
    holidays_subdivision = models.CharField(_("region"), max_length=10, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> Calendar:
        """The pure calendar for arithmetic; CalendarInvalid names what is wrong."""
        return Calendar(
            time_zone=self.time_zone,
            working_days=parse_days(self.working_days),
            hours=parse_hours(self.opening_hours),
            country=self.holidays_country,
            subdivision=self.holidays_subdivision,
        )


class Handoff(models.TextChoices):
    MQL_ACCEPTANCE = "mql_acceptance", _("Sales accepts or rejects an MQL")
    FIRST_TOUCH = "first_touch", _("First touch after assignment")
    MEETING_FOLLOW_UP = "meeting_follow_up", _("Follow-up after a held meeting")
    RECYCLE_REVIEW = "recycle_review", _("Marketing reviews a lead Sales recycled")


class SlaPolicy(TimeStampedModel):
    """How long one side has to act on one handoff, and what happens when it does not."""

    name = models.CharField(_("name"), max_length=100)
    handoff = models.CharField(_("handoff"), max_length=20, choices=Handoff.choices)
    target_minutes = models.PositiveIntegerField(
        _("target (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)]
    )
    business_hours = models.BooleanField(_("count business hours only"), default=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
    )
    # The second delay, counted from the due time in the same hours: then the lead is reassigned.
    escalate_after_minutes = models.PositiveIntegerField(
        _("reassign after (minutes late)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
    )
    notify_manager = models.BooleanField(_("notify the owner's team manager"), default=True)
    notify_owner = models.BooleanField(_("notify the owner"), default=False)
    team = models.ForeignKey(
        Team,
        verbose_name=_("only for team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["handoff", "name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            # A team's own policy wins over the general one; two of either would be ambiguous.
            models.UniqueConstraint(
                fields=["handoff", "team"],
                condition=Q(active=True, team__isnull=False),
                name="sla_policy_one_active_per_team",
            ),
            models.UniqueConstraint(
                fields=["handoff"],
                condition=Q(active=True, team__isnull=True),
                name="sla_policy_one_active_general",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.target_minutes)


class ClockStatus(models.TextChoices):
    OPEN = "open", _("Running")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


class SlaClock(models.Model):
    """One promise running for one lead. `due_at` and `escalate_at` are computed at start."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="clocks")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sla_clocks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    escalate_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)  # the manager was told
    reassigned_at = models.DateTimeField(null=True, blank=True)
    reassigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=ClockStatus.choices, default=ClockStatus.OPEN)

    access_owner_field = "owner"

    class Meta:
        # Few indexes move with `status`: the sweep changes it on a hundred thousand rows at once.
        # The foreign keys' own indexes serve the lead page, the queues and the API's filters.
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "lead"],
                condition=Q(status="open"),
                name="sla_clock_one_open",
            ),
        ]
        indexes = [
            # The sweep: open clocks past due, then breached clocks past their second delay.
            models.Index(fields=["due_at"], condition=Q(status="open"), name="sla_clock_due"),
            models.Index(
                fields=["escalate_at"],
                condition=Q(status="breached", reassigned_at__isnull=True),
                name="sla_clock_escalate",
            ),
            # Breaches not told yet (the sweep's second step): a handful among millions.
            models.Index(
                fields=["team"],
                condition=Q(status="breached", escalated_at__isnull=True),
                name="sla_clock_untold",
            ),
            models.Index(fields=["started_at"], name="sla_clock_started"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} — {self.lead_id} ({self.status})"
