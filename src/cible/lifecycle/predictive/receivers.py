"""Probabilities follow the leads: a lead saved (reopened, qualified, moved) or touched by new
interactions is scored again by the active model once its transaction commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save

from cible.engagement.interactions.signals import interactions_recorded
from cible.lifecycle.leads.models import Lead

INLINE = 200


def _predict(ids: list[int]) -> None:
    from cible.lifecycle.predictive import predict, tasks

    if not ids or predict.active() is None:
        return
    if len(ids) <= INLINE:
        predict.predict_leads(ids)
    else:
        for start in range(0, len(ids), 5_000):
            tasks.predict_leads(ids[start : start + 5_000])


def lead_saved(sender: Any, instance: Lead, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    pk = instance.pk
    transaction.on_commit(lambda: _predict([pk]))


def interactions_arrived(sender: Any, interactions: list[Any], **kwargs: Any) -> None:
    contacts = {i.contact_id for i in interactions if i.contact_id}
    if not contacts:
        return
    ids = list(Lead.objects.filter(Q(contact_id__in=contacts)).values_list("pk", flat=True))
    _predict(ids)


def connect() -> None:
    interactions_recorded.connect(interactions_arrived, dispatch_uid="predictive.interactions")
    post_save.connect(lead_saved, sender=Lead, dispatch_uid="predictive.lead_saved")
