"""Assignment rules: who gets a lead when it reaches Sales, Marketing's nurture or back (SPEC C6,
seed 004 §4, seed 003 SDR first touch / AE handoff).

Rules are ordered; the first whose conditions match decides. Account matching comes before any
rule: a lead whose organisation has an owner goes to that owner while they are available.
Team members carry a capacity (their weight and their ceiling of open leads), an availability
and away dates, and an `assigned` counter that keeps round robin fair across processes: it is
only ever moved while the team's member rows are locked (engine.py).

Every decision is an `Assignment` row with the rule and a sentence a person can read.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import TimeStampedModel, VersionedModel
from cible.lifecycle.leads.models import Lead, RecycleReason
from cible.nurture.programs.models import NurtureProgram
from cible.people.models import Team


class Action(models.TextChoices):
    ASSIGN_TEAM = "assign_team", _("Assign to a team")
    ASSIGN_USER = "assign_user", _("Assign to a person")
    NURTURE = "nurture", _("Enrol in a nurture program")
    RECYCLE = "recycle", _("Recycle to Marketing")


class Method(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    WEIGHTED = "weighted", _("Weighted by capacity")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class RoutingRule(VersionedModel):
    """One line of the ordered rule set. `conditions` is a rule tree (conditions.py)."""

    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=120)
    active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    action = models.CharField(
        _("action"), max_length=20, choices=Action.choices, default=Action.ASSIGN_TEAM
    )
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, default=Method.ROUND_ROBIN
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules",
    )
    program = models.ForeignKey(
        NurtureProgram,
        verbose_name=_("nurture program"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules",
    )
    recycle_reason = models.CharField(
        _("recycle reason"), max_length=20, choices=RecycleReason.choices, blank=True
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        indexes = [models.Index(fields=["active", "position"], name="routing_rule_order")]

    def __str__(self) -> str:
        return self.name


class RoutingMember(TimeStampedModel):
    """A person taking leads in a team's rotation."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="routing_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="routing_memberships",
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        default=20,
        help_text=_("Weight in weighted rotation, and the most open leads this person holds."),
    )
    available = models.BooleanField(_("available"), default=True)
    away_from = models.DateField(_("away from"), null=True, blank=True)
    away_until = models.DateField(_("away until"), null=True, blank=True)
    # Leads given through this team's rotation since the member joined: round robin and weighted
    # pick the member furthest behind their share. Moved only under the team's row locks.
    assigned = models.PositiveBigIntegerField(_("assigned by rotation"), default=0)

    class Meta:
        ordering = ["team", "id"]
        verbose_name = _("routing member")
        verbose_name_plural = _("routing members")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="routing_member_once"),
            models.CheckConstraint(
                condition=Q(away_from__isnull=True)
                | Q(away_until__isnull=True)
                | Q(away_until__gte=models.F("away_from")),
                name="routing_member_away_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"

    def is_away(self, day: date) -> bool:
        if self.away_from is None and self.away_until is None:
            return False
        starts = self.away_from or date.min
        ends = self.away_until or date.max
        return starts <= day <= ends


class AssignmentMethod(models.TextChoices):
    ACCOUNT = "account", _("Account owner")
    ROUND_ROBIN = "round_robin", _("Round robin")
    WEIGHTED = "weighted", _("Weighted by capacity")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    DIRECT = "direct", _("Named person")
    NURTURE = "nurture", _("Nurture program")
    RECYCLE = "recycle", _("Recycled to Marketing")
    FALLBACK = "fallback", _("Team manager (no one available)")
    UNASSIGNED = "unassigned", _("Not assigned")
    REASSIGN = "reassign", _("Reassigned")


class Assignment(models.Model):
    """One routing decision, kept for the lead page and the history."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="assignments"
    )
    rule = models.ForeignKey(
        RoutingRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routing_assignments",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="routing_assignments",
    )
    method = models.CharField(_("method"), max_length=20, choices=AssignmentMethod.choices)
    reason = models.CharField(_("reason"), max_length=500)
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-assigned_at", "-id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            models.Index(fields=["lead", "assigned_at"], name="assignment_lead_time"),
            models.Index(fields=["user", "assigned_at"], name="assignment_user_time"),
            models.Index(fields=["assigned_at"], name="assignment_time"),
        ]

    def __str__(self) -> str:
        return self.reason


class RoutingSettings(models.Model):
    """The one row saying when routing runs by itself."""

    trigger_stages = models.JSONField(
        _("stages that trigger routing"),
        default=list,
        blank=True,
        help_text=_("A lead entering one of these stages is routed."),
    )
    on_arrival = models.BooleanField(
        _("route new leads on arrival"),
        default=False,
        help_text=_("Also route every new lead as it is created, whatever its stage."),
    )
    account_matching = models.BooleanField(
        _("account matching"),
        default=True,
        help_text=_("A lead whose organisation has an owner goes to that owner first."),
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> RoutingSettings:
        row = cls.objects.order_by("pk").first()
        if row is None:
            row, _created = cls.objects.get_or_create(pk=1, defaults={"trigger_stages": ["mql"]})
        return row
