"""Rule scoring models and the scores they gave (SPEC C5, seed 004 §3).

One model is active at a time: the scores on the leads are its scores. Each lead's score keeps
its parts — how many points each rule gave, before clamping — so the explanation always adds up
to the score shown; the interactions behind a behaviour part are listed from the same facts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.lifecycle.leads.models import Lead


def default_definition() -> dict[str, object]:
    return {
        "fit": {},
        "bant": {},
        "behaviour": {"half_life_days": 30, "kinds": {}},
        "grades": {"profile": {"A": 70, "B": 40}, "engagement": {"1": 60, "2": 30}},
    }


class ScoringModel(VersionedModel):
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    definition = models.JSONField(_("rules"), default=default_definition)
    is_active = models.BooleanField(_("active"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField(_("last scored"), null=True, blank=True)

    class Meta:
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="scoring_one_active"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LeadScore(models.Model):
    """The parts of a lead's current scores: {"icp": 27.5, "kind:web_visit": 8.2, …}."""

    lead = models.OneToOneField(Lead, primary_key=True, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="+")
    model_version = models.PositiveIntegerField()
    # The moment behaviour was decayed to: the explanation recomputes its interactions as of it.
    as_of = models.DateTimeField()
    parts = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("lead score")
        indexes = [models.Index(fields=["model", "model_version"], name="leadscore_model")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} by model {self.model_id} v{self.model_version}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RescoringRun(models.Model):
    """One batch rescoring, with its progress (the page polls it) and how long it took."""

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="runs")
    model_version = models.PositiveIntegerField()
    reason = models.CharField(_("reason"), max_length=20)  # "model", "decay", "manual"
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    step = models.CharField(max_length=100, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    steps_total = models.PositiveSmallIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    moved = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("rescoring run")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"run {self.pk} of model {self.model_id} ({self.status})"
