"""Shapes of the scoring endpoints. The definition is checked by the services (`definition.parse`),
which name each mistake by its dotted place ("behaviour.kinds.call.cap") for the 422 answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import InputSchema
from cible.lifecycle.scoring.explain import Explanation
from cible.lifecycle.scoring.models import RescoringRun, ScoringModel, default_definition
from cible.lifecycle.scoring.selectors import Figures, run_percent


class ModelIn(InputSchema):
    name: str = Field(max_length=1000)
    description: str = Field("", max_length=2000)
    definition: dict[str, Any] = Field(
        default_factory=default_definition,
        description="The rules: fit, bant, behaviour and grades (see the user guide).",
    )


class ModelPatch(InputSchema):
    version: int = Field(ge=1, le=2**31 - 1, description="The version you read (409 if stale).")
    name: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=2000)
    definition: dict[str, Any] | None = None


class RunOut(Schema):
    id: int
    model: int
    model_version: int
    reason: str
    status: str
    step: str
    percent: int
    leads: int
    changed: int
    moved: int
    seconds: float | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None
    count: int | None = None


class ModelOut(Schema):
    id: int
    name: str
    description: str
    definition: dict[str, Any]
    is_active: bool
    version: int
    scored_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    last_run: RunOut | None = None


class FiguresOut(Schema):
    live: int = Field(description="Live leads you may see.")
    scored: int = Field(description="… carrying this model's scores.")
    stale: int = Field(description="… carrying the scores of an older version of this model.")
    others: int = Field(description="… carrying another model's scores.")
    grades: dict[str, int] = Field(description="Leads per grade, A1 to C3.")
    profile_bins: list[int] = Field(description="Leads per band of 10 points, 0–9 to 90–100.")
    engagement_bins: list[int]


class ModelDetailOut(ModelOut):
    figures: FiguresOut


class RescoreOut(Schema):
    detail: str
    model: int


class EvidenceOut(Schema):
    interaction_id: int
    occurred_at: dt.datetime
    subject: str
    weight: float = Field(description="The share of its points left after decay, 0–1.")
    points: float


class ContributionOut(Schema):
    group: str = Field(description='"profile" (fit and BANT) or "engagement" (behaviour).')
    key: str = Field(description='The rule: "icp", "persona:3", "bant:budget", "kind:call" …')
    label: str
    points: float
    detail: str
    interactions: list[EvidenceOut]
    capped_by: float = Field(description="Points the kind's cap removed.")
    older: int = Field(description="Interactions not listed (the oldest).")
    older_points: float


class ModelRef(Schema):
    id: int
    name: str
    version: int


class ScoreOut(Schema):
    lead: int
    scored: bool
    profile: int | None
    engagement: int | None
    grade: str
    model: ModelRef | None
    as_of: dt.datetime | None
    stale: bool = Field(description="The model changed since: a rescore is on its way.")
    contributions: list[ContributionOut]


def run_out(run: RescoringRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "model": run.model_id,
        "model_version": run.model_version,
        "reason": run.reason,
        "status": run.status,
        "step": run.step,
        "percent": run_percent(run),
        "leads": run.leads,
        "changed": run.changed,
        "moved": run.moved,
        "seconds": run.seconds,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
    }


def model_out(model: ScoringModel) -> dict[str, Any]:
    last_run = getattr(model, "last_run", None)
    return {
        "id": model.pk,
        "name": model.name,
        "description": model.description,
        "definition": model.definition,
        "is_active": model.is_active,
        "version": model.version,
        "scored_at": model.scored_at,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
        "last_run": run_out(last_run) if last_run is not None else None,
    }


def figures_out(figures: Figures) -> dict[str, Any]:
    from cible.lifecycle.scoring.definition import ENGAGEMENT_DIGITS, PROFILE_LETTERS

    return {
        "live": figures.live,
        "scored": figures.scored,
        "stale": figures.stale,
        "others": figures.others,
        "grades": {
            letter + digit: figures.matrix[row][column]
            for row, letter in enumerate(PROFILE_LETTERS)
            for column, digit in enumerate(ENGAGEMENT_DIGITS)
        },
        "profile_bins": figures.profile_bins,
        "engagement_bins": figures.engagement_bins,
    }


def score_out(lead_id: int, explanation: Explanation | None) -> dict[str, Any]:
    if explanation is None:
        return {
            "lead": lead_id,
            "scored": False,
            "profile": None,
            "engagement": None,
            "grade": "",
            "model": None,
            "as_of": None,
            "stale": False,
            "contributions": [],
        }
    model = explanation.model
    return {
        "lead": lead_id,
        "scored": True,
        "profile": explanation.profile,
        "engagement": explanation.engagement,
        "grade": explanation.grade,
        "model": {"id": model.pk, "name": model.name, "version": model.version},
        "as_of": explanation.as_of,
        "stale": explanation.stale,
        "contributions": [
            {
                "group": c.group,
                "key": c.key,
                "label": c.label,
                "points": c.points,
                "detail": c.detail,
                "interactions": [
                    {
                        "interaction_id": e.interaction_id,
                        "occurred_at": e.occurred_at,
                        "subject": e.subject,
                        "weight": round(e.weight, 4),
                        "points": e.points,
                    }
                    for e in c.interactions
                ],
                "capped_by": c.capped_by,
                "older": c.older,
                "older_points": c.older_points,
            }
            for c in explanation.contributions
        ],
    }
