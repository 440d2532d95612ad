"""Scores written from the base's facts: one lead after an interaction, or every lead in a batch,
the same figures either way, each explained by parts that add up to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cible.engagement.interactions.models import Interaction
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.scoring import compute, gather
from cible.lifecycle.scoring.definition import parse
from cible.lifecycle.scoring.explain import explain
from cible.lifecycle.scoring.models import LeadScore, RunStatus
from cible.lifecycle.scoring.services import model_activate, model_create
from cible.segments.axes import services as axes
from cible.segments.profiles.models import FitScore, IdealCustomerProfile
from cible.segments.profiles.services import persona_create
from tests import factories

NOW = timezone.now()


@pytest.fixture
def world(cast: Any) -> dict[str, Any]:
    """Two organisations (one in Lille), a sales director and an engineer with live leads, and a
    customer whose lead is over."""
    lille = factories.organisation(cast.ae, legal_name="Nordis", city="Lille")
    paris = factories.organisation(cast.ae, legal_name="Parisis", city="Paris")
    director = factories.contact(
        cast.ae, last_name="Durand", function="sales", seniority="director", organisation=lille.pk
    )
    engineer = factories.contact(cast.ae, last_name="Petit", function="it", organisation=paris.pk)
    buyer = factories.contact(cast.ae, last_name="Blanc", organisation=paris.pk)
    icp = IdealCustomerProfile.objects.create(name="Conquest", code="conquest")
    FitScore.objects.create(organisation=lille, profile=icp, score=90, matched=[])
    FitScore.objects.create(organisation=paris, profile=icp, score=20, matched=[])
    persona = persona_create(
        actor=cast.marketer,
        channel="ui",
        name="Sales directors",
        rule={
            "match": "all",
            "conditions": [
                {"field": "function", "op": "in", "value": ["sales"]},
                {"field": "seniority", "op": "in", "value": ["director"]},
            ],
        },
    )
    axis = axes.axis_create(actor=cast.marketer, channel="ui", data={"name": "Northern accounts"})
    north = axes.segment_create(
        actor=cast.marketer,
        channel="ui",
        axis=axis,
        data={
            "name": "Lille",
            "rule": {
                "match": "all",
                "conditions": [{"field": "city", "op": "equals", "value": "Lille"}],
            },
        },
    )
    leads = {
        "director": Lead.objects.create(
            contact=director,
            organisation=lille,
            stage="prospect",
            source="referral",
            budget="approved",
            timing="within_quarter",
        ),
        "engineer": Lead.objects.create(
            contact=engineer,
            organisation=paris,
            stage="prospect",
            source="website",
        ),
        "customer": Lead.objects.create(contact=buyer, organisation=paris, stage="customer"),
    }
    definition = {
        "fit": {
            "icp": {"profile": icp.pk, "weight": 40},
            "personas": [{"persona": persona.pk, "points": 20}],
            "segments": [{"segment": north.pk, "points": 10}],
            "sources": {"referral": 5},
        },
        "bant": {"budget": {"approved": 15}, "timing": {"within_quarter": 10}},
        "behaviour": {
            "half_life_days": 10,
            "kinds": {
                "web_visit": {"points": 5, "cap": 15},
                "demo_request": {"points": 40, "cap": 40},
            },
        },
    }
    model = model_create(actor=cast.marketer, name="Standard", definition=definition)
    model_activate(model=model, actor=cast.marketer)
    model.refresh_from_db()

    def touch(contact: Any, kind: str, days_ago: float) -> Interaction:
        return Interaction.objects.create(
            kind=kind,
            contact=contact,
            organisation=contact.organisation,
            occurred_at=NOW - dt.timedelta(days=days_ago),
            subject=f"{kind} {days_ago}",
        )

    for days in (0, 10, 20, 30):
        touch(director, "web_visit", days)
    touch(director, "demo_request", 10)
    touch(engineer, "web_visit", 5)
    touch(engineer, "call", 0)  # not in the model: worth nothing
    return {"leads": leads, "model": model, "persona": persona, "north": north, "icp": icp}


def stored(lead: Lead) -> tuple[int | None, int | None, str]:
    lead.refresh_from_db()
    return lead.profile_score, lead.engagement_score, lead.grade


def test_one_lead_is_scored_with_its_parts(world: dict[str, Any]) -> None:
    director = world["leads"]["director"]
    compute.rescore_leads([director.pk], as_of=NOW)
    # 90 × 40 % + persona 20 + segment 10 + referral 5 + budget 15 + timing 10 = 96;
    # visits 5 × (1 + ½ + ¼ + ⅛) = 9.4, demo 40 × ½ = 20 → 29.4 → 29.
    assert stored(director) == (96, 29, "A3")
    parts = LeadScore.objects.get(lead_id=director.pk).parts
    assert parts == {
        "icp": 36.0,
        f"persona:{world['persona'].pk}": 20.0,
        f"segment:{world['north'].pk}": 10.0,
        "source": 5.0,
        "bant:budget": 15.0,
        "bant:timing": 10.0,
        "kind:web_visit": 9.4,
        "kind:demo_request": 20.0,
    }


def test_the_explanation_adds_up_and_names_its_interactions(world: dict[str, Any]) -> None:
    director = world["leads"]["director"]
    compute.rescore_leads([director.pk], as_of=NOW)
    director.refresh_from_db()
    explanation = explain(director)
    assert explanation is not None
    assert round(explanation.total("profile")) == explanation.profile == 96
    assert round(explanation.total("engagement")) == explanation.engagement == 29
    visits = next(c for c in explanation.contributions if c.key == "kind:web_visit")
    assert [s.points for s in visits.interactions] == [5.0, 2.5, 1.2, 0.6]
    assert visits.capped_by == 0
    assert [c.label for c in explanation.group("profile")][:2] == [
        "Fit to the ideal customer profile “Conquest”",
        "Matches the persona “Sales directors”",
    ]


def test_the_batch_gives_the_same_scores_and_skips_leads_that_are_over(
    world: dict[str, Any],
) -> None:
    leads = world["leads"]
    compute.rescore_leads([leads["director"].pk, leads["engineer"].pk], as_of=NOW)
    one_by_one = {name: stored(lead) for name, lead in leads.items()}
    LeadScore.objects.all().delete()
    Lead.objects.update(profile_score=None, engagement_score=None, grade="", scored_at=None)

    run = compute.rescore_all(reason="manual")
    assert run is not None and run.status == RunStatus.DONE
    assert (run.leads, run.changed) == (2, 2)
    batch = {name: stored(lead) for name, lead in leads.items()}
    # The batch decays to its own "now", a few milliseconds later: the same rounded figures.
    assert batch == one_by_one
    assert batch["customer"] == (None, None, "")
    # engineer: fit 20 × 40 % = 8 → C; one visit half a half-life ago: 5 × 0.71 = 3.5 → 4.
    assert batch["engineer"] == (8, 4, "C3")

    again = compute.rescore_all(reason="decay")
    assert again is not None and again.changed == 0


def test_few_and_many_gather_the_same_facts(world: dict[str, Any]) -> None:
    rules = parse(world["model"].definition)
    ids = sorted(lead.pk for lead in world["leads"].values())
    few = gather.gather(rules, as_of=NOW, lead_ids=ids)
    many = gather.gather(rules, as_of=NOW)
    assert few.lead_ids.tolist() == many.lead_ids.tolist() == ids[:2]
    assert (few.personas == many.personas).all() and (few.segments == many.segments).all()
    assert few.decayed.round(9).tolist() == many.decayed.round(9).tolist()
    assert few.icp_fit.tolist() == many.icp_fit.tolist() == [90.0, 20.0]


def test_a_batch_never_overwrites_a_newer_rescore(world: dict[str, Any]) -> None:
    director = world["leads"]["director"]
    later = NOW + dt.timedelta(days=10)  # behaviour has halved again
    compute.rescore_leads([director.pk], as_of=later)
    newer = stored(director)
    compute.rescore_leads([director.pk], as_of=NOW)  # an older reading arrives last
    assert stored(director) == newer


def test_a_batch_moves_the_leads_that_now_meet_the_agreed_definition(
    world: dict[str, Any], cast: Any
) -> None:
    from cible.lifecycle.leads.definitions import approve_definition, write_definition
    from cible.lifecycle.leads.models import StageTransition

    mql = write_definition(
        stage="mql",
        text="A profile of 90 or more.",
        criteria={"min_profile_score": 90},
        actor=cast.marketer,
    )
    approve_definition(definition=mql, actor=cast.marketer, side="marketing")
    approve_definition(definition=mql, actor=cast.manager, side="sales")

    run = compute.rescore_all(reason="manual")

    assert run is not None and run.moved == 1
    director, engineer = world["leads"]["director"], world["leads"]["engineer"]
    director.refresh_from_db()
    engineer.refresh_from_db()
    assert (director.stage, engineer.stage) == ("mql", "prospect")
    move = StageTransition.objects.get(lead=director, to_stage="mql")
    assert (move.channel, move.definition_id, move.profile_score) == ("rule", mql.pk, 96)
