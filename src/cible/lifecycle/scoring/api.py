"""REST endpoints of scoring models and lead scores: thin over the selectors and services.

Every signed-in caller reads models and the scores of the leads they may see; Marketing and
administrators change models (the services say so with a 403 otherwise). A refused definition
answers 422 with every mistake named by its dotted place, e.g. `grades.profile.B`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, ListParams, paginate, viewer
from cible.core.audit import Channel
from cible.lifecycle.scoring import selectors, services
from cible.lifecycle.scoring.explain import explain
from cible.lifecycle.scoring.schemas import (
    ModelDetailOut,
    ModelIn,
    ModelOut,
    ModelPatch,
    RescoreOut,
    RunPage,
    ScoreOut,
    figures_out,
    model_out,
    run_out,
    score_out,
)

router = Router(tags=["scoring"])


@router.get("/scoring-models", response={200: list[ModelOut], **ERRORS})
def list_models(request: HttpRequest) -> Any:
    """Every scoring model, the active one first, each with its last rescoring run."""
    return [model_out(m) for m in selectors.model_list(viewer=viewer(request))]


@router.post("/scoring-models", response={201: ModelOut, **WRITE_ERRORS})
def create_model(request: HttpRequest, payload: ModelIn) -> Any:
    """A new, inactive model; activate it to score the leads with it."""
    model = services.model_create(
        actor=viewer(request), channel=Channel.API, **payload.model_dump()
    )
    return Status(201, model_out(model))


# Before /scoring-models/{pk}, so that "rescore" is not read as an id.
@router.post("/scoring-models/rescore", response={202: RescoreOut, **WRITE_ERRORS})
def rescore(request: HttpRequest) -> Any:
    """Rescore every live lead with the active model, in the background; follow its runs."""
    services.rescore_now(actor=viewer(request), channel=Channel.API)
    active = selectors.active_model()
    detail = _("Every live lead is being rescored with the active model.")
    return Status(202, {"detail": detail, "model": active.pk if active else 0})


@router.get("/scoring-models/{pk}", response={200: ModelDetailOut, **ERRORS})
def get_model(request: HttpRequest, pk: Path[Id]) -> Any:
    """A model with the figures of its scores over the leads you may see."""
    model = selectors.model_get(viewer=viewer(request), pk=pk)
    figures = selectors.lead_figures(viewer=viewer(request), model=model)
    return {**model_out(model), "figures": figures_out(figures)}


@router.patch("/scoring-models/{pk}", response={200: ModelOut, **WRITE_ERRORS})
def update_model(request: HttpRequest, pk: Path[Id], payload: ModelPatch) -> Any:
    """Change a model (`version` must be the one you read); the active one is then rescored."""
    model = selectors.model_get(viewer=viewer(request), pk=pk)
    data = payload.data()
    version = data.pop("version")
    changes = {k: v for k, v in data.items() if v is not None}
    model = services.model_update(
        model=model, actor=viewer(request), channel=Channel.API, version=version, **changes
    )
    return model_out(model)


@router.delete("/scoring-models/{pk}", response={204: None, **WRITE_ERRORS})
def delete_model(request: HttpRequest, pk: Path[Id]) -> Any:
    """Delete an inactive model (the active one is refused with a 422)."""
    model = selectors.model_get(viewer=viewer(request), pk=pk)
    services.model_delete(model=model, actor=viewer(request), channel=Channel.API)
    return Status(204, None)


@router.post("/scoring-models/{pk}/activate", response={200: ModelOut, **WRITE_ERRORS})
def activate_model(request: HttpRequest, pk: Path[Id]) -> Any:
    """Make this the active model; every live lead is then rescored with it."""
    model = selectors.model_get(viewer=viewer(request), pk=pk)
    model = services.model_activate(model=model, actor=viewer(request), channel=Channel.API)
    return model_out(model)


@router.get("/scoring-models/{pk}/runs", response={200: RunPage, **ERRORS})
def list_runs(request: HttpRequest, pk: Path[Id], params: Query[ListParams]) -> Any:
    """The model's rescoring runs, newest first, with their progress while they run."""
    model = selectors.model_get(viewer=viewer(request), pk=pk)
    return paginate(
        selectors.runs_queryset(model=model),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=run_out,
    )


@router.get("/leads/{pk}/score", response={200: ScoreOut, **ERRORS})
def lead_score(request: HttpRequest, pk: Path[Id]) -> Any:
    """A lead's scores explained: every contribution, and the interactions behind behaviour."""
    lead = selectors.visible_lead(viewer=viewer(request), pk=pk)
    return score_out(lead.pk, explain(lead))
