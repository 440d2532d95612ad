"""Ideal customer profiles and personas (SPEC C3; seed 001: a conquest ICP differs from a
retention ICP).

- `IdealCustomerProfile`: a weighted set of `ProfileCriterion` rules over organisations. Each
  organisation's fit is 100 × (weights of the criteria it meets) / (all weights), kept in
  `FitScore`, one row per profile and organisation, recomputed in bulk (`compute.py`) and
  refreshed when an organisation changes.
- `Persona`: a rule over contacts (function, seniority …) describing the people to address.
- `ScoringRun`: the progress record of one full recomputation, for the pages to poll.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.people.models import Organisation

# Stored `matched` lists and the bulk computation's bit masks assume at most this many criteria.
MAX_CRITERIA = 20
MAX_WEIGHT = 100


class Purpose(models.TextChoices):
    CONQUEST = "conquest", _("Conquest (new customers)")
    RETENTION = "retention", _("Retention and growth (existing customers)")
    OTHER = "other", _("Other")


class IdealCustomerProfile(VersionedModel):
    """A weighted set of criteria that gives every organisation a fit score of 0–100."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.CONQUEST
    )
    description = models.TextField(_("description"), blank=True, max_length=2000)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Only active profiles are scored and kept current when records change."),
    )
    # None until the first full computation, and again while a recomputation under changed
    # criteria is pending: the stored scores are then those of the previous criteria.
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("ideal customer profile")
        verbose_name_plural = _("ideal customer profiles")

    def __str__(self) -> str:
        return self.name

    @property
    def scores_current(self) -> bool:
        return self.scored_at is not None


class ProfileCriterion(models.Model):
    """One weighted criterion of a profile: a rule group at organisation level."""

    profile = models.ForeignKey(
        IdealCustomerProfile,
        verbose_name=_("profile"),
        on_delete=models.CASCADE,
        related_name="criteria",
    )
    label = models.CharField(_("label"), max_length=150)
    rule = models.JSONField(_("rule"))
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["profile", "position", "id"]
        verbose_name = _("profile criterion")
        verbose_name_plural = _("profile criteria")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=MAX_WEIGHT),
                name="profile_criterion_weight_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} (×{self.weight})"


class FitScore(models.Model):
    """How well one organisation fits one profile, as of `computed_at`."""

    # Keyed by (organisation, profile): one index serves uniqueness, an organisation's scores
    # (its page, the cascade when it is deleted) and the bulk write has no id sequence to feed;
    # the (profile, score, organisation) index serves top fits and histograms.
    #
    # No foreign-key constraints in the database: on PostgreSQL each checked row takes a lock on
    # the organisation it points to (FOR KEY SHARE, a write to that row's page), which turns the
    # million-row COPY of a full computation from seconds into most of a minute. Django still
    # cascades deletions (it does so itself, in every case); a full computation replaces every
    # row of its profile and removes the rows of organisations deleted while it ran.
    pk = models.CompositePrimaryKey("organisation", "profile")
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="fit_scores",
        db_index=False,  # the primary key leads with it
        db_constraint=False,
    )
    profile = models.ForeignKey(
        IdealCustomerProfile,
        verbose_name=_("profile"),
        on_delete=models.CASCADE,
        related_name="fit_scores",
        db_index=False,
        db_constraint=False,
    )
    score = models.PositiveSmallIntegerField(_("fit score"))
    matched = models.JSONField(_("criteria met"), default=list)  # ProfileCriterion ids
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("fit score")
        verbose_name_plural = _("fit scores")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="fit_score_range"
            ),
        ]
        # Best fits first, ties by organisation: the order `top_fits` reads, straight off the
        # index (a LIMIT stops after a page); histograms count from it without the table.
        indexes = [
            models.Index(fields=["profile", "-score", "organisation"], name="fit_profile_score")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} × {self.profile_id}: {self.score}"


class Persona(VersionedModel):
    """The people to address (seed 001: buyer personae): a rule group at contact level."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    rule = models.JSONField(_("rule"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("persona")
        verbose_name_plural = _("personas")

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ScoringRun(models.Model):
    """Progress of one full computation of a profile's fit scores (the pages poll it)."""

    profile = models.ForeignKey(
        IdealCustomerProfile,
        verbose_name=_("profile"),
        on_delete=models.CASCADE,
        related_name="runs",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    steps_done = models.PositiveIntegerField(_("steps done"), default=0)
    steps_total = models.PositiveIntegerField(_("steps"), default=0)
    rows = models.PositiveIntegerField(_("organisations scored"), default=0)
    seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        indexes = [models.Index(fields=["profile", "-started_at"], name="scoring_run_profile")]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.status} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0
