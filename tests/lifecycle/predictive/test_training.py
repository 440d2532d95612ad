"""Predictive scoring learns from the base's own outcomes, is measured on later leads, refuses to
learn from too little or from fields that give the answer away, and explains each probability."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from cible.lifecycle.leads.models import Lead
from cible.lifecycle.predictive import predict, services, training
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus

START = timezone.now() - dt.timedelta(days=400)


def history(count: int, *, seed: int = 3, leak: bool = False) -> None:
    """Leads with an outcome: webinar attendees and big visitors convert far more often; with
    `leak`, a "Sales verdict" typed after the call says it outright."""
    rng = random.Random(seed)
    leads = []
    for n in range(count):
        webinar = rng.random() < 0.4
        visits = rng.randint(0, 30)
        chance = 0.08 + 0.5 * webinar + 0.012 * visits
        won = rng.random() < chance
        properties: dict[str, Any] = {
            "Channel": "webinar" if webinar else "search",
            "Visits": visits,
        }
        if leak:
            properties["Sales verdict"] = "hot" if won else "cold"
        leads.append(
            Lead(
                stage="customer" if won else "disqualified",
                arrived_at=START + dt.timedelta(hours=n),
                properties=properties,
            )
        )
    Lead.objects.bulk_create(leads)


def trained(**config: Any) -> PredictiveModel:
    model = PredictiveModel.objects.create(target="customer", config=config)
    return training.train(model)


@pytest.mark.django_db
def test_too_little_history_says_so_and_scores_nobody() -> None:
    history(80)
    model = trained()
    assert model.status == TrainingStatus.INSUFFICIENT
    converted = Lead.objects.filter(stage="customer").count()
    assert model.message == (
        f"Not enough history to learn from: {converted} converted and {80 - converted} lost "
        "leads; at least 50 of each are needed. Leads are not given a probability until then."
    )
    assert model.parameters is None


@pytest.mark.django_db
def test_the_model_is_judged_on_the_newest_leads() -> None:
    history(1000)
    model = trained()
    report = model.report
    assert model.status == TrainingStatus.READY
    assert report["train"]["leads"] == 800 and report["validation"]["leads"] == 200
    newest = Lead.objects.order_by("-arrived_at")[:200]
    assert report["validation"]["converted"] == sum(
        1 for lead in newest if lead.stage == "customer"
    )
    assert 0.7 < report["validation"]["auc"] < 0.9
    lift = [d["lift"] for d in report["validation"]["lift"]]
    assert lift[0] > 1.5 > lift[-1]
    assert {f["field"] for f in report["factors"][:3]} >= {"Channel"}
    assert report["rule"] is None  # these leads were never scored by the rule model


@pytest.mark.django_db
def test_a_field_that_gives_the_answer_away_is_set_aside_and_named() -> None:
    history(1000, leak=True)
    model = trained()
    assert [leak["field"] for leak in model.report["leaks"]] == ["Sales verdict"]
    assert model.report["leaks"][0]["auc"] == 1.0
    assert "Sales verdict" not in model.report["fields"]
    assert model.report["validation"]["auc"] < 0.95

    declared = training.train(
        PredictiveModel.objects.create(target="customer"),
        declared_after_contact=["Sales verdict"],
    )
    assert declared.report["leaks"] == []
    assert declared.report["declared_after_contact"] == ["Sales verdict"]

    forced = trained(include=["Sales verdict"])
    assert forced.report["validation"]["auc"] == 1.0


@pytest.mark.django_db
def test_probabilities_are_never_zero_or_one_and_explain_themselves(cast: Any) -> None:
    history(1000, leak=True)
    model = trained(include=["Sales verdict"])  # a certain model, to push to the edges
    services.activate(model=model, actor=cast.marketer, channel="ui")
    fresh = Lead.objects.create(
        stage="mql", properties={"Channel": "webinar", "Visits": 25, "Sales verdict": "hot"}
    )
    cold = Lead.objects.create(
        stage="mql", properties={"Channel": "search", "Visits": 0, "Sales verdict": "cold"}
    )
    assert predict.predict_all() == 2
    fresh.refresh_from_db()
    cold.refresh_from_db()
    assert 0.9 < fresh.predicted_probability < 1 and 0 < cold.predicted_probability < 0.1
    assert training.bounded(np.array([0.0, 0.5, 1.0])).tolist() == [0.001, 0.5, 0.999]
    prediction = predict.explain(fresh)
    assert prediction is not None
    assert {f.field for f in prediction.factors} == {"Channel", "Visits", "Sales verdict"}
    log_odds = math.log(prediction.baseline / (1 - prediction.baseline)) + sum(
        f.weight for f in prediction.factors
    )
    # The weights shown, rounded to a thousandth, add up to the probability stored.
    assert 1 / (1 + math.exp(-log_odds)) == pytest.approx(fresh.predicted_probability, abs=0.002)


@pytest.mark.django_db
def test_a_lead_that_is_over_loses_its_probability_and_a_reopened_one_gets_it_back(
    cast: Any,
) -> None:
    history(600)
    model = trained()
    services.activate(model=model, actor=cast.marketer, channel="ui")
    lead = Lead.objects.create(stage="mql", properties={"Channel": "webinar", "Visits": 12})
    predict.predict_leads([lead.pk])
    lead.refresh_from_db()
    first = lead.predicted_probability
    assert first is not None and 0 < first < 1
    Lead.objects.filter(pk=lead.pk).update(stage="disqualified")
    predict.predict_leads([lead.pk])
    lead.refresh_from_db()
    assert lead.predicted_probability is None
    Lead.objects.filter(pk=lead.pk).update(stage="prospect")
    predict.predict_leads([lead.pk])
    lead.refresh_from_db()
    assert lead.predicted_probability == pytest.approx(first)


def test_settings_are_checked(cast: Any) -> None:
    from cible.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        services.train_now(
            actor=cast.marketer,
            channel="ui",
            config={"order_by": "colour", "validation_share": 0.9, "exclude": "Tags", "x": 1},
        )
    assert {e.field for e in caught.value.errors} == {
        "order_by",
        "validation_share",
        "exclude",
        "x",
    }
    with pytest.raises(services.PermissionDenied):
        services.train_now(actor=cast.ae, channel="ui")
