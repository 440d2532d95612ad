"""Predictive models: trained on the base's own converted and lost leads, measured, explained
(SPEC C5). A model is kept with its report — the figures it was judged on — and its fitted
parameters; the one marked active gives every live lead its probability, shown beside the rule
score and never used to move a stage.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrainingStatus(models.TextChoices):
    TRAINING = "training", _("Training")
    READY = "ready", _("Ready")
    INSUFFICIENT = "insufficient", _("Not enough history")
    FAILED = "failed", _("Failed")


class Target(models.TextChoices):
    """What "converted" means for the model."""

    CUSTOMER = "customer", _("Became a customer")
    OPPORTUNITY = "opportunity", _("Became an opportunity")


class PredictiveModel(models.Model):
    target = models.CharField(
        _("predicts"), max_length=20, choices=Target.choices, default=Target.CUSTOMER
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TrainingStatus.choices, default=TrainingStatus.TRAINING
    )
    # {"exclude": [field names], "include": [flagged fields used anyway], "order_by": "arrived_at"
    #  or "property:<name>", "validation_share": 0.2}
    config = models.JSONField(_("settings"), default=dict, blank=True)
    # Everything the model page shows: counts, ROC AUC, calibration, lift by decile, factors,
    # fields set aside (declared after contact, or flagged as probable leaks), the rule model's
    # figures on the same validation leads.
    report = models.JSONField(_("report"), default=dict, blank=True)
    # The fitted columns and weights, as plain data (`training.Fitted.as_data`): readable, and
    # nothing executable is ever loaded back from the database.
    parameters = models.JSONField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("gives the predictions"), default=False)
    message = models.TextField(_("message"), blank=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    seconds = models.FloatField(_("duration (seconds)"), null=True, blank=True)

    class Meta:
        verbose_name = _("predictive model")
        verbose_name_plural = _("predictive models")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="predictive_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"predictive model #{self.pk} ({self.status})"

    @property
    def auc(self) -> float | None:
        value = self.report.get("validation", {}).get("auc")
        return float(value) if value is not None else None
