"""Background work of predictive scoring (Huey): training on demand, a weekly retraining, and
the probabilities of every live lead after each."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cible.lifecycle.predictive import predict, services
from cible.lifecycle.predictive.models import PredictiveModel


@db_task()
def train(model_id: int, actor_id: int | None = None) -> None:
    model = PredictiveModel.objects.filter(pk=model_id).first()
    if model is None:
        return
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    services.run_training(model=model, actor=actor)


@db_task()
def predict_everyone(model_id: int) -> None:
    """Every live lead's probability, after a model was chosen (if it still is the active one)."""
    model = PredictiveModel.objects.filter(pk=model_id, is_active=True).first()
    if model is not None:
        predict.predict_all(model=model)


@db_task()
def predict_leads(lead_ids: list[int]) -> None:
    predict.predict_leads(lead_ids)


@db_periodic_task(crontab(day_of_week="0", hour="3", minute="10"))
def weekly_retraining() -> None:
    """A fresh model on the latest history; it takes over only if it measures at least as well."""
    services.retrain_on_schedule()
