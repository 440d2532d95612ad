"""Leads and their road through the lifecycle (SPEC C5, seed 004 §2–3, seed 003).

A lead is one demand: a person (and their organisation) showing interest, from the moment they
are known until they buy, are recycled to Marketing or are disqualified. A contact has at most one
live lead at a time (`lead_one_live_per_contact`); a customer who comes back with a new need, or a
disqualified person who returns a year later, opens a new one, so every demand has its own funnel.
A lead may also stand alone, known only by an external id: history imported from another system.

Every move is a `StageTransition`, written in the same transaction as the stage (services), with
who, when, why, through which channel, and the scores at that moment: funnels and velocity are
computed from them for any period, source, campaign or segment.

The contact's own `lifecycle_stage` mirrors the stage of their latest lead, for lists and rules.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.engagement.campaigns.models import Campaign
from cible.people.models import Contact, LifecycleStage, Organisation, Source

Stage = LifecycleStage

# The main road, in order: a lead has *reached* every stage up to the furthest it entered, even
# when a hot lead (a demo request) jumped straight from Suspect to MQL.
ROAD = (
    Stage.SUSPECT,
    Stage.PROSPECT,
    Stage.MQL,
    Stage.SAL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)
RANK = {stage: rank for rank, stage in enumerate(ROAD)}
# Stages a lead can leave the road to, and come back from.
ASIDE = (Stage.RECYCLED, Stage.DISQUALIFIED)
ASIDE_VALUES = [stage.value for stage in ASIDE]
# A lead at one of these is over: a new demand opens a new lead.
FINAL = (Stage.CUSTOMER, Stage.DISQUALIFIED)


class Budget(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    NONE = "none", _("No budget")
    PLANNED = "planned", _("Budget planned, not approved")
    APPROVED = "approved", _("Budget approved")


class Authority(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    NONE = "none", _("No say in the decision")
    INFLUENCER = "influencer", _("Influences the decision")
    DECISION_MAKER = "decision_maker", _("Decides or signs")


class Need(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    NONE = "none", _("No need")
    LATENT = "latent", _("Latent need")
    IDENTIFIED = "identified", _("Need identified")
    CRITICAL = "critical", _("Critical, urgent need")


class Timing(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    OVER_YEAR = "over_year", _("More than 12 months")
    WITHIN_YEAR = "within_year", _("6 to 12 months")
    WITHIN_HALF = "within_half", _("3 to 6 months")
    WITHIN_QUARTER = "within_quarter", _("Within 3 months")


class RecycleReason(models.TextChoices):
    NOT_READY = "not_ready", _("Not ready to buy yet")
    NO_ANSWER = "no_answer", _("Could not be reached")
    NO_BUDGET_YET = "no_budget_yet", _("No budget yet")
    REJECTED_BY_SALES = "rejected_by_sales", _("Rejected by Sales")
    OPPORTUNITY_LOST = "opportunity_lost", _("Opportunity lost")
    OTHER = "other", _("Other")


class DisqualifyReason(models.TextChoices):
    NOT_TARGET = "not_target", _("Outside our target")
    NO_NEED = "no_need", _("No need")
    NO_BUDGET = "no_budget", _("No budget")
    COMPETITOR = "competitor", _("Competitor or partner")
    STUDENT_JOB_SEEKER = "not_a_buyer", _("Not a buyer (student, job seeker …)")
    BAD_DATA = "bad_data", _("False or unusable details")
    DUPLICATE = "duplicate", _("Duplicate")
    LOST = "lost", _("Did not buy")
    OTHER = "other", _("Other")


class Lead(VersionedModel):
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="leads",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    # A lead imported from another system, known there by this id (e.g. X Education's Prospect
    # ID); the import framework keeps the mapping per source.
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.SUSPECT
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    arrived_at = models.DateTimeField(_("arrived"), default=timezone.now)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    source_detail = models.CharField(_("source detail"), max_length=100, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,  # (owner, stage) serves every lookup by owner
    )
    # BANT, captured on the lead by whoever qualifies it (seed 004 §3).
    budget = models.CharField(_("budget"), max_length=20, choices=Budget.choices, blank=True)
    authority = models.CharField(
        _("authority"), max_length=20, choices=Authority.choices, blank=True
    )
    need = models.CharField(_("need"), max_length=20, choices=Need.choices, blank=True)
    timing = models.CharField(_("timing"), max_length=20, choices=Timing.choices, blank=True)
    qualification_notes = models.TextField(_("qualification notes"), blank=True, max_length=5000)
    # Off the road: why, and when Marketing should look again.
    recycle_reason = models.CharField(
        _("recycle reason"), max_length=20, choices=RecycleReason.choices, blank=True
    )
    requalify_on = models.DateField(_("re-qualify on"), null=True, blank=True)
    disqualify_reason = models.CharField(
        _("disqualification reason"), max_length=20, choices=DisqualifyReason.choices, blank=True
    )
    # Scores, written by the scoring apps (higher up) together with the explanation they keep.
    profile_score = models.PositiveSmallIntegerField(_("profile score"), null=True, blank=True)
    engagement_score = models.PositiveSmallIntegerField(
        _("engagement score"), null=True, blank=True
    )
    grade = models.CharField(_("grade"), max_length=2, blank=True)
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True)
    predicted_probability = models.FloatField(_("predicted probability"), null=True, blank=True)
    predicted_at = models.DateTimeField(_("predicted"), null=True, blank=True)
    # What an import brought that has no column of its own (e.g. "Specialization").
    properties = models.JSONField(_("other details"), default=dict, blank=True)
    # The hour (since 2000-01-01 UTC) of the first entry into each road stage, kept by every
    # move (leads.road): the funnel reads one compact row per lead instead of its transitions.
    first_suspect = models.IntegerField(null=True, blank=True, editable=False)
    first_prospect = models.IntegerField(null=True, blank=True, editable=False)
    first_mql = models.IntegerField(null=True, blank=True, editable=False)
    first_sal = models.IntegerField(null=True, blank=True, editable=False)
    first_sql = models.IntegerField(null=True, blank=True, editable=False)
    first_opportunity = models.IntegerField(null=True, blank=True, editable=False)
    first_customer = models.IntegerField(null=True, blank=True, editable=False)

    # Kept current by scoring within a second of each change, and by the moves (road): an edit
    # never writes them back (core.concurrency.save_versioned).
    derived_fields = (
        "profile_score",
        "engagement_score",
        "grade",
        "scored_at",
        "predicted_probability",
        "predicted_at",
        *(f"first_{stage.value}" for stage in ROAD),
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(contact__isnull=False) & ~Q(stage__in=[s.value for s in FINAL]),
                name="lead_one_live_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(profile_score__lte=100) & Q(engagement_score__lte=100),
                name="lead_scores_max",
            ),
            models.CheckConstraint(
                condition=Q(predicted_probability__isnull=True)
                | (Q(predicted_probability__gt=0) & Q(predicted_probability__lt=1)),
                name="lead_probability_open",
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "stage_entered_at"], name="lead_stage"),
            models.Index(fields=["owner", "stage"], name="lead_owner_stage"),
            models.Index(fields=["arrived_at"], name="lead_arrived"),
            models.Index(fields=["source", "arrived_at"], name="lead_source"),
            models.Index(fields=["external_id"], name="lead_external"),
        ]

    def __str__(self) -> str:
        if self.contact_id is not None:
            return str(self.contact)
        return self.external_id or f"#{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.stage not in FINAL


class TransitionChannel(models.TextChoices):
    UI = "ui", _("By hand")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    RULE = "rule", _("Stage definition")
    SCORE = "score", _("Score threshold")
    JOB = "job", _("Background job")


class StageTransition(models.Model):
    """One move of a lead. Never edited: the history funnels are computed from."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=TransitionChannel.choices)
    reason = models.CharField(max_length=30, blank=True)  # a recycle/disqualify reason code
    note = models.CharField(max_length=1000, blank=True)
    definition = models.ForeignKey(
        "StageDefinition", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile_score = models.PositiveSmallIntegerField(null=True, blank=True)
    engagement_score = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=2, blank=True)

    class Meta:
        verbose_name = _("stage transition")
        verbose_name_plural = _("stage transitions")
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="transition_lead_time"),
            models.Index(fields=["to_stage", "occurred_at"], name="transition_to_time"),
            # Moves off the road and back (a lead's first entries into road stages are on the
            # lead, leads.road): with them, who moved in a period is known without reading
            # every transition of it (the funnel by activity).
            models.Index(
                fields=["occurred_at", "lead"],  # covering: read without visiting the rows
                name="transition_aside_time",
                condition=Q(from_stage__in=ASIDE_VALUES) | Q(to_stage__in=ASIDE_VALUES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage or '∅'} → {self.to_stage}"


class DefinitionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed")
    SUPERSEDED = "superseded", _("Superseded")


class StageDefinition(models.Model):
    """What MQL, SAL or SQL means here, written down, versioned and agreed by Marketing and Sales
    (seed 004 §2). `criteria` holds the part that is a rule; it applies automatically once the
    version is agreed. A new version of a stage supersedes the agreed one when it is agreed."""

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    version = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("definition"), max_length=5000)
    criteria = models.JSONField(_("rule"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=DefinitionStatus.choices, default=DefinitionStatus.DRAFT
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    agreed_at = models.DateTimeField(_("agreed"), null=True, blank=True)

    class Meta:
        verbose_name = _("stage definition")
        verbose_name_plural = _("stage definitions")
        constraints = [
            models.UniqueConstraint(fields=["stage", "version"], name="definition_version_once"),
            models.UniqueConstraint(
                fields=["stage"], condition=Q(status="agreed"), name="definition_one_agreed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} v{self.version}"


class DefinitionApproval(models.Model):
    """One side's agreement to a definition version: who, for which team, when."""

    definition = models.ForeignKey(
        StageDefinition, on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField(max_length=20)  # "marketing" or "sales"
    approved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["definition", "side"], name="approval_one_per_side"),
        ]

    def __str__(self) -> str:
        return f"{self.definition} approved by {self.side}"
