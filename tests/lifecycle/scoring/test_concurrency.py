"""Interactions arriving at the same moment for one lead end with the score they would have had
arriving one after the other (issue 6, Bad input). On a real PostgreSQL server: each rescore
locks its lead, so the later one reads both interactions."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from cible.engagement.interactions.services import record_interaction
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.scoring import compute
from cible.lifecycle.scoring.services import model_activate, model_create
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers: no race to lose"
    ),
]

KINDS = ["web_visit", "content_download", "webinar", "demo_request", "email_clicked", "call"]


def test_concurrent_interactions_give_the_sequential_score(cast: Any) -> None:
    model = model_create(
        actor=cast.marketer,
        name="Behaviour",
        definition={
            "behaviour": {
                "half_life_days": 30,
                "kinds": {k: {"points": 7 + n, "cap": 60} for n, k in enumerate(KINDS)},
            }
        },
    )
    model_activate(model=model, actor=cast.marketer)
    person = factories.contact(cast.ae, last_name="Durand", email="durand@nordis.fr")
    lead = Lead.objects.create(contact=person, stage="prospect")
    barrier = threading.Barrier(len(KINDS), timeout=20)
    errors: list[BaseException] = []

    def arrive(kind: str) -> None:
        try:
            barrier.wait()
            record_interaction(kind=kind, contact=person, channel="api", actor=cast.ae)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=arrive, args=(k,)) for k in KINDS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []

    lead.refresh_from_db()
    concurrent = lead.engagement_score
    # One after the other: the same interactions, scored again from scratch.
    scores = compute.rescore_leads([lead.pk])
    assert scores is not None
    lead.refresh_from_db()
    assert concurrent == lead.engagement_score == sum(7 + n for n in range(len(KINDS)))
