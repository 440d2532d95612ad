"""The predictive endpoints: models listed newest first with both ROC AUCs, a model's full
report, training queued with its settings checked (422 by `config.<setting>`), who may train and
choose, and a lead's prediction only for those who may see the lead."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cible.lifecycle.leads.models import Lead
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus
from tests.api.conftest import assert_error_shape
from tests.lifecycle.predictive.test_views import (  # noqa: F401
    english_profiles,
    history,
    jeanne,
    trained,
)

pytestmark = pytest.mark.django_db


def test_models_are_listed_newest_first_with_both_aucs(
    cast: Any,
    trained: PredictiveModel,  # noqa: F811
    api_for: Any,
) -> None:
    older = PredictiveModel.objects.create(
        target="opportunity", status="insufficient", message="Not enough history"
    )
    PredictiveModel.objects.filter(pk=older.pk).update(
        started_at=trained.started_at.replace(year=2020)
    )
    body = api_for(cast.ae).get("/predictive-models", count="true").json()
    assert body["count"] == 2 and body["next_cursor"] is None
    first, second = body["items"]
    assert first["id"] == trained.pk and second["id"] == older.pk
    assert first["auc"] == trained.report["validation"]["auc"]
    assert first["rule_auc"] == trained.report["rule"]["auc"]
    assert first["status"] == "ready" and first["trained_by"] == cast.marketer.pk
    assert (second["status"], second["auc"], second["rule_auc"]) == ("insufficient", None, None)


def test_a_model_comes_with_its_report(
    cast: Any,
    trained: PredictiveModel,  # noqa: F811
    api_for: Any,
) -> None:
    body = api_for(cast.sdr).get(f"/predictive-models/{trained.pk}").json()
    report = body["report"]
    assert report["leaks"][0]["field"] == "Sales verdict" and report["leaks"][0]["auc"] == 1.0
    assert report["declared_after_contact"] == ["Lead Quality"]
    assert len(report["validation"]["calibration"]) == 10
    assert [d["decile"] for d in report["validation"]["lift"]] == list(range(1, 11))
    assert report["rule"]["leads"] == report["validation"]["leads"] == 200
    assert {"field", "value", "weight", "leads"} == set(report["factors"][0])
    assert_error_shape(api_for(cast.sdr).get("/predictive-models/999999"), 404)


def test_training_is_queued_and_answers_202_with_the_model(
    cast: Any, api_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    history(1000)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(cast.manager).post(
            "/predictive-models",
            {"target": "opportunity", "config": {"exclude": ["Visits"], "validation_share": 0.3}},
        )
    assert response.status_code == 202, response.content
    body = response.json()
    model = PredictiveModel.objects.get(pk=body["id"])
    assert body["target"] == "opportunity" and body["config"]["exclude"] == ["Visits"]
    assert model.trained_by == cast.manager and model.status == TrainingStatus.READY
    assert "Visits" not in model.report["fields"] and model.report["validation"]["leads"] == 300


def test_bad_settings_are_named_by_field_and_nothing_is_queued(cast: Any, api_for: Any) -> None:
    client = api_for(cast.marketer)
    body = assert_error_shape(
        client.post(
            "/predictive-models",
            {
                "target": "customer",
                "config": {
                    "order_by": "colour",
                    "validation_share": 0.9,
                    "include": "Tags",
                    "x": 1,
                },
            },
        ),
        422,
    )
    assert {e["field"] for e in body["errors"]} == {
        "config.order_by",
        "config.validation_share",
        "config.include",
        "config.x",
    }
    assert "config.order_by: Order by « arrived_at » or « property:<name> »." in body["detail"]
    body = assert_error_shape(client.post("/predictive-models", {"target": "revenue"}), 422)
    assert [e["field"] for e in body["errors"]] == ["target"]
    body = assert_error_shape(client.post("/predictive-models", {"config": []}), 422)
    assert [e["field"] for e in body["errors"]] == ["config"]
    assert not PredictiveModel.objects.exists()


def test_only_marketing_managers_and_admins_train_and_choose(
    cast: Any,
    trained: PredictiveModel,  # noqa: F811
    api_for: Any,
) -> None:
    assert_error_shape(api_for(cast.ae).post("/predictive-models", {}), 403)
    assert_error_shape(api_for(cast.sdr).post(f"/predictive-models/{trained.pk}/activate", {}), 403)
    waiting = PredictiveModel.objects.create(target="customer", status="insufficient")
    body = assert_error_shape(
        api_for(cast.admin).post(f"/predictive-models/{waiting.pk}/activate", {}), 422
    )
    assert body["detail"] == "Only a model that finished training can be used."
    response = api_for(cast.admin).post(f"/predictive-models/{trained.pk}/activate", {})
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert PredictiveModel.objects.get(is_active=True) == trained


def test_a_leads_prediction_adds_up_and_is_hidden_from_outsiders(
    cast: Any,
    team_private: Any,
    trained: PredictiveModel,  # noqa: F811
    jeanne: Lead,  # noqa: F811
    api_for: Any,
) -> None:
    body = api_for(cast.ae).get(f"/leads/{jeanne.pk}/prediction").json()
    assert body["state"] == "no_model" and body["probability"] is None
    api_for(cast.admin).post(f"/predictive-models/{trained.pk}/activate", {})
    jeanne.refresh_from_db()
    body = api_for(cast.ae).get(f"/leads/{jeanne.pk}/prediction").json()
    assert body["state"] == "scored" and body["model"] == trained.pk
    assert body["probability"] == pytest.approx(jeanne.predicted_probability)
    assert body["shown"] == f"{round(jeanne.predicted_probability * 100)} %"
    # The baseline's log-odds plus the weights give the probability (only factors weighing
    # under 0.01 are left out), and each factor's odds are its weight's exponential.
    log_odds = math.log(body["baseline"] / (1 - body["baseline"]))
    log_odds += sum(f["weight"] for f in body["factors"])
    assert 1 / (1 + math.exp(-log_odds)) == pytest.approx(body["probability"], abs=0.03)
    assert body["factors"][0]["odds"] == pytest.approx(
        math.exp(body["factors"][0]["weight"]), abs=1e-4
    )
    strengths = [abs(f["weight"]) for f in body["factors"]]
    assert strengths == sorted(strengths, reverse=True)
    assert_error_shape(api_for(cast.outsider).get(f"/leads/{jeanne.pk}/prediction"), 404)
