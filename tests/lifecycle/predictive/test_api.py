"""The predictive endpoints: models listed newest first with both ROC AUCs, a model's full
report, training queued with its settings checked (422 by `config.<setting>`), who may train and
choose, and a lead's prediction only for those who may see the lead; who trained and chose each
model in the audit log, and the weekly retraining that takes over only when it measures as well."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.lifecycle.leads.models import Lead
from cible.lifecycle.predictive import services
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
    assert "config.order_by: Order by “arrived_at” or “property:<name>”." in body["detail"]
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


def test_who_trained_and_chose_each_model_is_in_the_audit_log(
    cast: Any,
    trained: PredictiveModel,  # noqa: F811
    api_for: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A training asked for in the form, its end written by the background job in the asker's
    name, a model chosen in the page, then a newer one trained and chosen through the API: each
    step is in the models' history, with who and through which channel."""
    client_for(cast.manager).post(f"/predictive/{trained.pk}/activate/")
    with django_capture_on_commit_callbacks(execute=True):
        body = api_for(cast.manager).post("/predictive-models", {"target": "customer"}).json()
    newer = PredictiveModel.objects.get(pk=body["id"])
    api_for(cast.manager).post(f"/predictive-models/{newer.pk}/activate", {})

    def history_of(model: PredictiveModel) -> list[tuple[int, int, str, dict[str, Any]]]:
        entries = LogEntry.objects.get_for_object(model).order_by("pk")
        return [
            (e.action, e.actor_id, e.additional_data["channel"], e.changes_dict) for e in entries
        ]

    create, update = LogEntry.Action.CREATE, LogEntry.Action.UPDATE
    marketer, manager = cast.marketer.pk, cast.manager.pk
    asked, ended, chosen, replaced = history_of(trained)
    assert asked[:3] == (create, marketer, "ui") and asked[3]["status"] == ["None", "training"]
    assert asked[3]["config"][1] == json.dumps(trained.config)
    assert ended == (update, marketer, "job", {"status": ["training", "ready"]})
    assert chosen == (update, manager, "ui", {"is_active": ["False", "True"]})
    assert replaced == (update, manager, "api", {"is_active": ["True", "False"]})
    asked, ended, chosen = history_of(newer)
    assert asked[:3] == (create, manager, "api") and asked[3]["trained_by"][1] == str(manager)
    assert ended == (update, manager, "job", {"status": ["training", "ready"]})
    assert chosen == (update, manager, "api", {"is_active": ["False", "True"]})


def test_the_weekly_retraining_takes_over_only_when_it_measures_as_well(
    cast: Any,
    trained: PredictiveModel,  # noqa: F811
    client_for: Any,
) -> None:
    """The same history gives the same AUC: the fresh model takes over, in the job's name. Once
    the active model's AUC stands above it by more than the tolerance, the next one does not."""
    client_for(cast.manager).post(f"/predictive/{trained.pk}/activate/")
    fresh = services.retrain_on_schedule()
    assert fresh is not None and fresh.status == TrainingStatus.READY
    assert fresh.auc == trained.auc and fresh.config == trained.config
    trained.refresh_from_db()
    assert fresh.is_active and not trained.is_active
    switched = LogEntry.objects.get_for_object(fresh).order_by("pk").last()
    assert switched.changes_dict == {"is_active": ["False", "True"]}
    assert switched.actor is None and switched.additional_data["channel"] == "job"

    report = {**fresh.report, "validation": {**fresh.report["validation"], "auc": 0.99}}
    PredictiveModel.objects.filter(pk=fresh.pk).update(report=report)
    third = services.retrain_on_schedule()
    assert third is not None and third.status == TrainingStatus.READY and not third.is_active
    assert PredictiveModel.objects.get(is_active=True) == fresh
