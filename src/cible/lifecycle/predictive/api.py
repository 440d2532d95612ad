"""REST endpoints of predictive scoring: thin over the selectors and services.

Every signed-in caller reads models and their reports, and the predictions of the leads they may
see; Marketing, sales managers and administrators train and choose models (403 otherwise). A
refused setting answers 422 naming it as `config.<setting>`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, ListParams, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, ValidationFailed
from cible.lifecycle.predictive import selectors, services
from cible.lifecycle.predictive.schemas import (
    ModelDetailOut,
    ModelOut,
    ModelPage,
    PredictionOut,
    TrainIn,
    model_detail_out,
    model_out,
    prediction_out,
)

router = Router(tags=["predictive"])


@router.get("/predictive-models", response={200: ModelPage, **ERRORS})
def list_models(request: HttpRequest, params: Query[ListParams]) -> Any:
    """Every predictive model, newest first, with its ROC AUC beside the rule model's."""
    return paginate(
        selectors.models_queryset(viewer=viewer(request)),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=model_out,
    )


@router.post("/predictive-models", response={202: ModelOut, **WRITE_ERRORS})
def train_model(request: HttpRequest, payload: TrainIn) -> Any:
    """Train a model in the background; follow its status until “ready” (or “insufficient”)."""
    try:
        model = services.train_now(
            actor=viewer(request),
            channel=Channel.API,
            target=payload.target,
            config=payload.config,
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            errors=[
                FieldError(e.field if e.field == "target" else f"config.{e.field}", e.message)
                for e in error.errors
            ],
        ) from None
    model.refresh_from_db()  # the training may already be over (tasks run inline in tests)
    return Status(202, model_out(model))


@router.get("/predictive-models/{pk}", response={200: ModelDetailOut, **ERRORS})
def get_model(request: HttpRequest, pk: Path[Id]) -> Any:
    """A model with its full report."""
    return model_detail_out(selectors.model_get(viewer=viewer(request), pk=pk))


@router.post("/predictive-models/{pk}/activate", response={200: ModelOut, **WRITE_ERRORS})
def activate_model(request: HttpRequest, pk: Path[Id]) -> Any:
    """Let this model give the live leads their probabilities (it never moves a stage)."""
    model = selectors.model_get(viewer=viewer(request), pk=pk)
    return model_out(services.activate(model=model, actor=viewer(request), channel=Channel.API))


@router.get("/leads/{pk}/prediction", response={200: PredictionOut, **ERRORS})
def lead_prediction(request: HttpRequest, pk: Path[Id]) -> Any:
    """A lead's probability of converting by the model in use, and the factors behind it."""
    return prediction_out(selectors.lead_prediction(viewer=viewer(request), pk=pk))
