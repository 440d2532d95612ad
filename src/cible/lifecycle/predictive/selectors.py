"""Reads of predictive models, their reports and a lead's prediction, through the viewer's rights.

A model's report holds aggregates only (figures, factors, fields set aside), so every signed-in
user reads models; a lead's prediction is shown only to those who may see the lead
(`core.access`), with the same "not found" as for a lead that does not exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.predictive import predict
from cible.lifecycle.predictive.features import DESCRIPTIVE, NUMERIC
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus

# A factor whose weight changes the odds by less than this (×0.99 to ×1.01) is not shown as
# pushing either way.
NEGLIGIBLE = 0.01


def _not_found() -> NotFound:
    return NotFound(_("Not found, or not visible to you."))


# --- models -------------------------------------------------------------------------------------


def models_queryset(*, viewer: Any) -> QuerySet[PredictiveModel]:
    """Every model, newest first, with who trained it (one query per page)."""
    if access.role_of(viewer) is None:
        return PredictiveModel.objects.none()
    return PredictiveModel.objects.select_related("trained_by").order_by("-started_at", "-id")


def model_get(*, viewer: Any, pk: Any) -> PredictiveModel:
    if access.role_of(viewer) is None:
        raise _not_found()
    try:
        return PredictiveModel.objects.select_related("trained_by").get(pk=int(pk))
    except (PredictiveModel.DoesNotExist, ValueError, TypeError, OverflowError):
        raise _not_found() from None


def last_report() -> PredictiveModel | None:
    """The newest model that learnt something: its fields and leaks seed the training form."""
    return (
        PredictiveModel.objects.filter(status=TrainingStatus.READY)
        .order_by("-started_at", "-id")
        .first()
    )


def odds(weight: float) -> float:
    """A log-odds weight as the factor it multiplies the odds by."""
    return math.exp(weight)


# --- what the training form offers --------------------------------------------------------------


@dataclass
class TrainingChoices:
    """The fields a person may leave out, those already set aside, and the possible orders."""

    fields: list[str]  # may be left out
    declared_after_contact: list[str]  # always left out
    leaks: list[dict[str, Any]]  # flagged by the last training: {field, auc, pure_share}
    numeric_properties: list[str]  # may order the leads instead of their arrival date
    from_report: PredictiveModel | None = None

    def initial(self) -> dict[str, Any]:
        """The settings of the last training, to start from."""
        if self.from_report is None:
            return {}
        config = self.from_report.config or {}
        initial: dict[str, Any] = {"target": self.from_report.target}
        initial["exclude"] = [n for n in config.get("exclude", []) if n in self.fields]
        if config.get("order_by", "").removeprefix("property:") in self.numeric_properties:
            initial["order_by"] = config["order_by"]
        share = config.get("validation_share")
        if share is not None:
            initial["validation_share"] = f"{float(share):g}"
        return initial


def training_choices() -> TrainingChoices:
    """From the last report when there is one: the fields that model learnt from or was told to
    leave out, its leaks, its declared fields — no read of the leads, so the page stays fast on
    a large base. Before any training, from what the leads hold (one aggregate query)."""
    report_model = last_report()
    if report_model is None:
        return _choices_from_leads()
    report, config = report_model.report or {}, report_model.config or {}
    fixed = {name for name, _expr in DESCRIPTIVE + NUMERIC}
    numeric = {
        feature["name"]
        for feature in (report_model.parameters or {}).get("features", [])
        if feature["kind"] == "number"
        and feature["name"] not in fixed
        and not feature["name"].endswith(" (count)")  # behaviour, not a property
    }
    order_by = str(config.get("order_by", ""))
    if order_by.startswith("property:"):
        numeric.add(order_by.removeprefix("property:"))  # an arrival number is not learnt from
    declared = list(report.get("declared_after_contact", []))
    leaks = list(report.get("leaks", []))
    fields = {*report.get("fields", []), *config.get("exclude", [])}
    fields -= {*declared, *(leak["field"] for leak in leaks)}
    return TrainingChoices(
        fields=sorted(fields),
        declared_after_contact=declared,
        leaks=leaks,
        numeric_properties=sorted(numeric),
        from_report=report_model,
    )


def _choices_from_leads() -> TrainingChoices:
    from cible.lifecycle.leads.importing import lead_properties

    properties = lead_properties()
    usable = [p for p in properties if not p.known_after_contact]
    return TrainingChoices(
        fields=sorted({name for name, _expr in DESCRIPTIVE + NUMERIC} | {p.name for p in usable}),
        declared_after_contact=sorted(p.name for p in properties if p.known_after_contact),
        leaks=[],
        numeric_properties=sorted(p.name for p in usable if p.kind == "number"),
    )


# --- a lead's prediction ------------------------------------------------------------------------


def visible_lead(*, viewer: Any, pk: Any) -> Lead:
    """A lead the viewer may see, or NotFound (the same answer as for a missing one)."""
    try:
        return access.visible(viewer, Lead.objects.select_related("contact")).get(pk=int(pk))
    except (Lead.DoesNotExist, ValueError, TypeError, OverflowError):
        raise _not_found() from None


def shown_probability(p: float | None) -> str:
    """A probability as a person reads it: never "0 %" nor "100 %", which no model knows."""
    if p is None:
        return "—"
    if p < 0.01:
        return "< 1 %"
    if p > 0.99:
        return "> 99 %"
    return f"{min(max(round(p * 100), 1), 99)} %"


@dataclass
class ShownFactor:
    field: str
    value: str
    weight: float  # log-odds
    odds: float  # ×odds
    width: int  # of its bar, in % of the strongest
    leads: int | None = None  # training leads it applies to (a model's factors)


@dataclass
class LeadPrediction:
    """What the lead page shows. `state`: "scored", "no_model" (none in use), "insufficient"
    (the newest training found too little history) or "over" (the lead has an outcome)."""

    lead: Lead
    state: str
    probability: float | None = None
    baseline: float | None = None
    model: PredictiveModel | None = None
    message: str = ""
    up: list[ShownFactor] = field(default_factory=list)
    down: list[ShownFactor] = field(default_factory=list)
    negligible: int = 0  # fields that weigh almost nothing for this lead

    @property
    def shown(self) -> str:
        return shown_probability(self.probability)

    @property
    def shown_baseline(self) -> str:
        return shown_probability(self.baseline)


def lead_prediction(*, viewer: Any, pk: Any) -> LeadPrediction:
    """The active model's probability for a lead the viewer may see, and why."""
    lead = visible_lead(viewer=viewer, pk=pk)
    if not lead.is_live:
        return LeadPrediction(lead=lead, state="over")
    prediction = predict.explain(lead)
    if prediction is None:
        newest = PredictiveModel.objects.exclude(status=TrainingStatus.TRAINING).first()
        if newest is not None and newest.status == TrainingStatus.INSUFFICIENT:
            return LeadPrediction(lead=lead, state="insufficient", message=newest.message)
        return LeadPrediction(lead=lead, state="no_model")
    strongest = max((abs(f.weight) for f in prediction.factors), default=0.0) or 1.0
    shown = [
        ShownFactor(
            field=f.field,
            value=f.value,
            weight=f.weight,
            odds=odds(f.weight),
            width=max(1, round(100 * abs(f.weight) / strongest)),
        )
        for f in prediction.factors
        if abs(f.weight) >= NEGLIGIBLE
    ]
    return LeadPrediction(
        lead=lead,
        state="scored",
        probability=prediction.probability,
        baseline=prediction.baseline,
        model=prediction.model,
        up=[f for f in shown if f.weight > 0],
        down=[f for f in shown if f.weight < 0],
        negligible=len(prediction.factors) - len(shown),
    )


# --- a model's report, ready to show ------------------------------------------------------------


@dataclass
class Report:
    """The stored report with what the page derives from it: charts, factors' bars."""

    model: PredictiveModel
    data: dict[str, Any]
    validation: dict[str, Any]
    rule: dict[str, Any] | None
    factors: list[ShownFactor]
    calibration_chart: dict[str, Any]
    lift_chart: dict[str, Any]

    @property
    def auc(self) -> float | None:
        return self.validation.get("auc")

    @property
    def rule_auc(self) -> float | None:
        return self.rule.get("auc") if self.rule else None

    @property
    def rule_partial(self) -> bool:
        """The rule model scored only part of the validation leads."""
        return self.rule is not None and float(self.rule.get("scored_share", 1)) < 1

    @property
    def rule_scored_percent(self) -> int:
        return round(100 * float(self.rule.get("scored_share", 1))) if self.rule else 0


def report_of(model: PredictiveModel) -> Report:
    """Reads nothing more from the database: everything comes from the stored report."""
    data = model.report or {}
    validation = data.get("validation") or {}
    rule = data.get("rule")
    raw = data.get("factors") or []
    strongest = max((abs(f["weight"]) for f in raw), default=0.0) or 1.0
    factors = [
        ShownFactor(
            field=f["field"],
            value=f["value"],
            weight=f["weight"],
            odds=odds(f["weight"]),
            width=max(1, round(100 * abs(f["weight"]) / strongest)),
            leads=f.get("leads"),
        )
        for f in raw
    ]
    lift = validation.get("lift") or []
    series = [{"name": _("This model"), "values": [d["lift"] for d in lift]}]
    if rule and rule.get("lift"):
        series.append({"name": _("Rule model"), "values": [d["lift"] for d in rule["lift"]]})
    return Report(
        model=model,
        data=data,
        validation=validation,
        rule=rule,
        factors=factors,
        calibration_chart={
            "name": _("This model"),
            "diagonal": _("Perfectly calibrated"),
            "x_name": _("Predicted"),
            "y_name": _("Observed"),
            "points": [
                [c["predicted"], c["observed"], c["leads"]]
                for c in validation.get("calibration") or []
            ],
        },
        lift_chart={
            "labels": [str(d["decile"]) for d in lift],
            "x_name": _("Tenth of the leads, best scored first"),
            "average": _("Average"),
            "series": series,
        },
    )
