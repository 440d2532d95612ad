"""Scores follow what happens to leads, within a second (SPEC C5).

- New interactions (`interactions_recorded`, sent after they commit): the live leads of their
  contacts — or of their organisations, for interactions that name nobody — are rescored; up to
  `INLINE` leads right away, more in background batches of `BATCH`.
- A lead saved (BANT filled in, source or contact changed): rescored when its transaction
  commits. Saves made by scoring itself (stage moves on thresholds) do not trigger another round.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save

from cible.engagement.interactions.signals import interactions_recorded
from cible.lifecycle.leads.models import FINAL, Lead

INLINE = 200
BATCH = 5_000
_state = threading.local()


def _scoring() -> bool:
    return getattr(_state, "busy", False)


def rescore(lead_ids: list[int]) -> None:
    """Rescore `lead_ids`: in place when few, in background batches otherwise."""
    from cible.lifecycle.scoring import compute, tasks

    if not lead_ids:
        return
    if len(lead_ids) > INLINE:
        for start in range(0, len(lead_ids), BATCH):
            tasks.rescore_leads(lead_ids[start : start + BATCH])
        return
    _state.busy = True
    try:
        compute.rescore_leads(lead_ids)
    finally:
        _state.busy = False


def interactions_arrived(sender: Any, interactions: list[Any], **kwargs: Any) -> None:
    contacts = {i.contact_id for i in interactions if i.contact_id}
    organisations = {
        i.organisation_id for i in interactions if not i.contact_id and i.organisation_id
    }
    if not contacts and not organisations:
        return
    matches = Q(contact_id__in=contacts) | Q(
        contact__isnull=True, organisation_id__in=organisations
    )
    ids = list(
        Lead.objects.filter(matches)
        .exclude(stage__in=FINAL)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    rescore(ids)


def lead_saved(sender: Any, instance: Lead, raw: bool = False, **kwargs: Any) -> None:
    if raw or _scoring() or not instance.is_live:
        return
    pk = instance.pk
    transaction.on_commit(lambda: rescore([pk]))


def connect() -> None:
    interactions_recorded.connect(interactions_arrived, dispatch_uid="scoring.interactions")
    post_save.connect(lead_saved, sender=Lead, dispatch_uid="scoring.lead_saved")
