"""Shapes of the predictive endpoints. The training settings are checked by the service
(`services.train_now`), which names each refused setting; the API reports them as `config.<name>`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import InputSchema
from cible.lifecycle.predictive.models import PredictiveModel, Target
from cible.lifecycle.predictive.selectors import LeadPrediction


class TrainIn(InputSchema):
    target: str = Field(
        Target.CUSTOMER.value,
        description="What “converted” means: “customer” or “opportunity”.",
        max_length=20,
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Optional settings: `exclude` (field names to leave out), `include` (flagged leaks "
            "to use anyway), `order_by` (“arrived_at” or “property:<name>”), "
            "`validation_share` (0.1 to 0.5, the newest leads kept aside to judge the model)."
        ),
    )


class ModelOut(Schema):
    id: int
    target: str
    status: str
    is_active: bool
    message: str
    auc: float | None = Field(description="ROC AUC on the newest leads.")
    rule_auc: float | None = Field(description="The rule model's ROC AUC on the same leads.")
    trained_by: int | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    seconds: float | None
    config: dict[str, Any]


class ModelDetailOut(ModelOut):
    report: dict[str, Any] = Field(
        description=(
            "converted, lost, declared_after_contact, leaks [{field, auc, pure_share}], fields, "
            "train {leads, converted}, validation {auc, calibration [{predicted, observed, "
            "leads}], lift [{decile, rate, lift}], leads, converted}, factors [{field, value, "
            "weight, leads}], rule (the same figures for the rule model, or null)."
        )
    )


class ModelPage(Schema):
    items: list[ModelOut]
    next_cursor: str | None
    count: int | None = None


class FactorOut(Schema):
    field: str
    value: str
    weight: float = Field(description="In log-odds: the factors and the baseline add up.")
    odds: float = Field(description="The factor the odds are multiplied by.")


class PredictionOut(Schema):
    lead: int
    state: str = Field(description="scored, no_model, insufficient or over")
    probability: float | None = Field(description="Strictly between 0 and 1.")
    shown: str = Field(description="As the page shows it: “< 1 %” and “> 99 %” at the edges.")
    baseline: float | None
    model: int | None
    message: str
    factors: list[FactorOut] = Field(description="Strongest first; negligible ones left out.")


def model_out(model: PredictiveModel) -> dict[str, Any]:
    rule = (model.report or {}).get("rule") or {}
    return {
        "id": model.pk,
        "target": model.target,
        "status": model.status,
        "is_active": model.is_active,
        "message": model.message,
        "auc": model.auc,
        "rule_auc": rule.get("auc"),
        "trained_by": model.trained_by_id,
        "started_at": model.started_at,
        "finished_at": model.finished_at,
        "seconds": model.seconds,
        "config": model.config or {},
    }


def model_detail_out(model: PredictiveModel) -> dict[str, Any]:
    return {**model_out(model), "report": model.report or {}}


def prediction_out(prediction: LeadPrediction) -> dict[str, Any]:
    factors = sorted(prediction.up + prediction.down, key=lambda f: -abs(f.weight))
    return {
        "lead": prediction.lead.pk,
        "state": prediction.state,
        "probability": prediction.probability,
        "shown": prediction.shown,
        "baseline": prediction.baseline,
        "model": prediction.model.pk if prediction.model else None,
        "message": prediction.message,
        "factors": [
            {"field": f.field, "value": f.value, "weight": f.weight, "odds": round(f.odds, 4)}
            for f in factors
        ],
    }
