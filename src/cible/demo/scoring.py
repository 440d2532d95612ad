"""Demo steps of qualification and scoring (issue 6): the agreed stage definitions, a rule scoring
model, and a predictive model trained on the demo's own history.

- Definitions (before the leads, whose transitions name the version that moved them): MQL, SAL
  and SQL, written by a marketer and approved by a marketer and a sales manager through the
  definitions services; MQL has an older version, superseded ten months ago, so the history
  shows. Their dates are then set back in time (the services stamp "now").
- Rule model: the conquest ICP, personas, segments, sources, BANT and behaviour with a 30-day
  half-life and caps; scores computed for every live lead (`compute.rescore_all`, as of the
  start of `ctx.today`). The agreed definitions may move a few leads at that first scoring;
  their moves are dated `ctx.now` like everything else, so the same seed gives the same rows.
- Predictive: `training.train` on the converted and lost leads, then made active without a
  user (`services._switch_to`, which scores the live leads).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from cible.core.audit import Channel
from cible.demo.generator import DemoContext, Step, register
from cible.lifecycle.leads import definitions as definition_services
from cible.lifecycle.leads import road
from cible.lifecycle.leads.models import DefinitionApproval, Lead, StageDefinition, StageTransition
from cible.lifecycle.predictive import services as predictive_services
from cible.lifecycle.predictive import training
from cible.lifecycle.predictive.models import PredictiveModel
from cible.lifecycle.scoring import compute
from cible.lifecycle.scoring.models import ScoringModel
from cible.segments.axes.models import Segment
from cible.segments.profiles.models import IdealCustomerProfile, Persona

MQL_V1 = (
    "Un lead qualifié marketing correspond à notre cible et s'est montré intéressé : score de "
    "profil d'au moins 25 et score d'engagement d'au moins 30.",
    {"min_profile_score": 25, "min_engagement_score": 30},
)
MQL_V2 = (
    "Un lead qualifié marketing (MQL) correspond à notre cible — entreprise et interlocuteur "
    "proches du profil idéal de conquête — et a montré un intérêt récent et répété : "
    "webinaires suivis, contenus téléchargés, formulaires remplis, demande de démonstration. "
    "Concrètement : score de profil d'au moins 30 et score d'engagement d'au moins 40. "
    "Version resserrée après un trimestre où les Ventes rejetaient un MQL sur deux.",
    {"min_profile_score": 30, "min_engagement_score": 40},
)
SAL_TEXT: tuple[str, dict[str, Any]] = (
    "Un lead accepté par les Ventes (SAL) est un MQL qu'un SDR a examiné et accepté sous deux "
    "jours ouvrés, en s'engageant à le contacter dans la semaine. Pas de règle automatique : "
    "les Ventes décident.",
    {},
)
SQL_TEXT = (
    "Un lead qualifié commercial (SQL) a été qualifié par les Ventes sur BANT : budget prévu ou "
    "validé, interlocuteur qui décide ou influence la décision, besoin identifié ou urgent, "
    "achat prévu dans les six mois.",
    {
        "bant": {
            "budget": ["planned", "approved"],
            "authority": ["decision_maker", "influencer"],
            "need": ["identified", "critical"],
            "timing": ["within_quarter", "within_half"],
        }
    },
)


def _at(ctx: DemoContext, days: int) -> dt.datetime:
    return ctx.now - dt.timedelta(days=days) + dt.timedelta(hours=10)


def _agree(
    ctx: DemoContext, stage: str, text: str, criteria: dict[str, Any], days_ago: int
) -> StageDefinition:
    marketer, manager = ctx.users["marketing"], ctx.users["manager"]
    definition = definition_services.write_definition(
        stage=stage, text=text, criteria=criteria, actor=marketer, channel=Channel.CLI
    )
    for actor, side in ((marketer, "marketing"), (manager, "sales")):
        definition_services.approve_definition(
            definition=definition, actor=actor, side=side, channel=Channel.CLI
        )
    written, agreed = _at(ctx, days_ago + 6), _at(ctx, days_ago)
    StageDefinition.objects.filter(pk=definition.pk).update(created_at=written, agreed_at=agreed)
    DefinitionApproval.objects.filter(definition=definition, side="marketing").update(
        approved_at=agreed - dt.timedelta(days=2)
    )
    DefinitionApproval.objects.filter(definition=definition, side="sales").update(
        approved_at=agreed
    )
    return definition


def create_definitions(ctx: DemoContext) -> None:
    """MQL v1 (two years ago, superseded) and v2, SAL and SQL: agreed by both sides."""
    shared: dict[str, Any] = {"mql": []}
    if StageDefinition.objects.exists():  # people have written theirs: keep them
        for definition in StageDefinition.objects.filter(status="agreed"):
            if definition.stage == "mql":
                shared["mql"].append((ctx.now - dt.timedelta(days=3650), definition.pk))
            elif definition.stage == "sql":
                shared["sql"] = definition.pk
        ctx.shared["definitions"] = shared
        return
    with transaction.atomic():
        v1 = _agree(ctx, "mql", *MQL_V1, days_ago=735)
        _agree(ctx, "sal", *SAL_TEXT, days_ago=735)
        sql = _agree(ctx, "sql", *SQL_TEXT, days_ago=735)
        v2 = _agree(ctx, "mql", *MQL_V2, days_ago=300)
    shared["mql"] = [(_at(ctx, 735), v1.pk), (_at(ctx, 300), v2.pk)]
    shared["sql"] = sql.pk
    ctx.shared["definitions"] = shared
    ctx.count("stage definitions", 4)


# --- the rule model ------------------------------------------------------------------------------


def _ids(model: Any, field: str, values: list[str]) -> dict[str, int]:
    return dict(model.objects.filter(**{f"{field}__in": values}).values_list(field, "pk"))


def rule_definition() -> dict[str, Any]:
    icp = _ids(IdealCustomerProfile, "code", ["conquete"])
    personas = _ids(
        Persona,
        "code",
        [
            "decideur-commercial",
            "directeur-commercial",
            "directeur-marketing",
            "responsable-si-crm",
        ],
    )
    segments = dict(
        Segment.objects.filter(code__in=["no-crm", "sugarcrm", "large-group"]).values_list(
            "code", "pk"
        )
    )
    persona_points = {
        "decideur-commercial": 12,
        "directeur-commercial": 8,
        "directeur-marketing": 5,
        "responsable-si-crm": 4,
    }
    segment_points = {"no-crm": 6, "sugarcrm": 4, "large-group": -10}
    fit: dict[str, Any] = {
        "personas": [
            {"persona": pk, "points": persona_points[code]} for code, pk in sorted(personas.items())
        ],
        "segments": [
            {"segment": pk, "points": segment_points[code]} for code, pk in sorted(segments.items())
        ],
        "sources": {
            "referral": 10,
            "partner": 8,
            "inbound_call": 8,
            "event": 6,
            "webinar": 6,
            "website": 5,
            "purchased_list": -10,
        },
    }
    if "conquete" in icp:
        fit["icp"] = {"profile": icp["conquete"], "weight": 50}
    return {
        "fit": fit,
        "bant": {
            "budget": {"approved": 8, "planned": 4, "none": -10},
            "authority": {"decision_maker": 8, "influencer": 4, "none": -5},
            "need": {"critical": 8, "identified": 4, "none": -15},
            "timing": {"within_quarter": 6, "within_half": 3, "over_year": -5},
        },
        "behaviour": {
            "half_life_days": 30,
            "kinds": {
                "email_opened": {"points": 1, "cap": 5},
                "email_clicked": {"points": 4, "cap": 12},
                "email_replied": {"points": 6, "cap": 12},
                "email_bounced": {"points": -10, "cap": 10},
                "web_visit": {"points": 4, "cap": 16},
                "form_submission": {"points": 12, "cap": 24},
                "content_download": {"points": 10, "cap": 30},
                "webinar": {"points": 15, "cap": 30},
                "event": {"points": 15, "cap": 30},
                "demo_request": {"points": 30, "cap": 30},
                "trial_signup": {"points": 25, "cap": 25},
                "product_usage": {"points": 2, "cap": 10},
                "call": {"points": 3, "cap": 9},
                "meeting": {"points": 10, "cap": 20},
            },
        },
        "grades": {"profile": {"A": 60, "B": 35}, "engagement": {"1": 60, "2": 30}},
    }


def create_scoring(ctx: DemoContext) -> None:
    """The rule model (active), every live lead scored, then the predictive model."""
    from cible.lifecycle.scoring import services as scoring_services

    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        model = scoring_services.model_create(
            actor=ctx.users["marketing"],
            name="Conquête PME — profil, BANT et comportement",
            description=(
                "Profil idéal de conquête, personas et segments, BANT saisi par les Ventes, "
                "comportement récent (demi-vie 30 jours, plafonds par type)."
            ),
            definition=rule_definition(),
            channel=Channel.CLI,
        )
        ScoringModel.objects.filter(pk=model.pk).update(is_active=True)
        model.is_active = True
        ctx.count("scoring models", 1)
    last = StageTransition.objects.order_by("-id").values_list("id", flat=True).first() or 0
    run = compute.rescore_all(model=model, reason="model", as_of=ctx.now)
    _date_first_moves(ctx, last)
    if run is not None:
        ctx.progress(f"  rule scores: {run.leads:,} leads, {run.moved:,} moved by a definition")
    _predictive(ctx)


def _date_first_moves(ctx: DemoContext, after_id: int) -> None:
    """Moves made by the definitions at the first scoring (transitions after `after_id`) are
    dated at the start of `ctx.today`, like the rest of the demo, not at the machine's clock."""
    moved = StageTransition.objects.filter(id__gt=after_id)
    entries = list(moved.values_list("lead_id", "to_stage"))
    lead_ids = [lead_id for lead_id, _stage in entries]
    moved.update(occurred_at=ctx.now)
    road.mark((lead_id, stage, ctx.now) for lead_id, stage in entries)
    for start in range(0, len(lead_ids), 10_000):
        Lead.objects.filter(pk__in=lead_ids[start : start + 10_000]).update(
            stage_entered_at=ctx.now, updated_at=ctx.now
        )


def _predictive(ctx: DemoContext) -> None:
    if PredictiveModel.objects.filter(is_active=True).exists():
        return
    model = PredictiveModel.objects.create(
        # "Became an opportunity": the demo's 700-odd deals against its dropped leads. Against
        # customers alone (200 won) too few leads convert for the leak check's "pure values".
        target="opportunity",
        config={"exclude": [], "include": [], "order_by": "arrived_at", "validation_share": 0.2},
    )
    training.train(model, declared_after_contact=predictive_services.declared_after_contact())
    ctx.count("predictive models", 1)
    auc = model.auc
    ctx.progress(f"  predictive model: {model.status}, validated ROC AUC {auc}")
    if model.status == "ready":
        predictive_services._switch_to(model)


register(Step("definitions", 95, create_definitions, "agreed MQL, SAL and SQL definitions"))
register(Step("scoring", 110, create_scoring, "rule scores and a trained predictive model"))
