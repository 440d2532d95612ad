"""Background work of lead scoring (Huey; run the consumer with `cible worker`).

- on demand: a whole-base rescore after a model changes or is activated;
- a batch of leads touched by a large ingestion (small batches are rescored in place);
- every day: the decay sweep — behaviour points fade with time even when nothing happens.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cible.lifecycle.scoring import compute
from cible.lifecycle.scoring.models import ScoringModel


@db_task()
def rescore_all(model_id: int, reason: str, actor_id: int | None = None) -> None:
    model = ScoringModel.objects.filter(pk=model_id, is_active=True).first()
    if model is None:
        return  # deactivated since: the new active model's own run scores the base
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    compute.rescore_all(model=model, reason=reason, actor=actor)


@db_task()
def rescore_leads(lead_ids: list[int]) -> None:
    compute.rescore_leads(lead_ids)


@db_periodic_task(crontab(hour="2", minute="20"))
def daily_decay() -> None:
    compute.rescore_all(reason="decay")
