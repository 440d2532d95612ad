"""Scoring leads: all of them after a model change or for the daily decay, or a few within a
second of their new interactions (SPEC C5; issue 6: 1,000,000 leads in ≤ 30 s, one in ≤ 20 ms).

Both paths gather facts (`gather`), score them (`engine.score`) and store what changed
(`store.write`), then let the agreed stage definitions move the leads whose scores now meet them
(`leads.services.apply_definitions`). The batch reads before its write transaction — SQLite
takes its write lock at BEGIN, and holding it through a million-row read would stall every other
writer — and the store's guards keep a newer one-lead rescore from being overwritten.

A one-lead rescore locks its leads first (PostgreSQL `FOR UPDATE`; SQLite's IMMEDIATE
transaction already holds the lock), then reads: two interactions arriving together for the same
lead are scored one after the other, the second seeing both, so concurrent and sequential
arrivals end with the same score.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cible.lifecycle.leads.models import FINAL, Lead
from cible.lifecycle.scoring import store
from cible.lifecycle.scoring.definition import parse
from cible.lifecycle.scoring.engine import Scores, score
from cible.lifecycle.scoring.gather import gather
from cible.lifecycle.scoring.models import RescoringRun, RunStatus, ScoringModel

Step = Callable[[str], None]


@dataclass
class Outcome:
    leads: int
    changed: int
    moved: int
    seconds: float


def active_model() -> ScoringModel | None:
    return ScoringModel.objects.filter(is_active=True).first()


def _apply_definitions(leads: Sequence[int] | QuerySet[Lead], actor: Any) -> int:
    if not isinstance(leads, QuerySet) and not leads:
        return 0
    from cible.lifecycle.leads import services as lead_services

    return int(lead_services.apply_definitions(leads=leads, actor=actor) or 0)


def rescore_all(
    *,
    model: ScoringModel | None = None,
    reason: str = "manual",
    actor: Any = None,
    database: str = "default",
    step: Step | None = None,
    as_of: dt.datetime | None = None,
) -> RescoringRun | None:
    """Rescore every live lead with `model` (the active one by default), recording the run.
    Behaviour decays to `as_of` (now by default)."""
    model = model or active_model()
    if model is None:
        return None
    run = RescoringRun.objects.create(
        model=model, model_version=model.version, reason=reason, steps_total=4, started_by=actor
    )
    started = time.perf_counter()

    def advance(label: str) -> None:
        run.step = label
        run.steps_done += 1
        run.save(update_fields=["step", "steps_done"])
        if step is not None:
            step(label)

    try:
        rules = parse(model.definition)
        as_of = as_of or timezone.now()
        facts = gather(rules, as_of=as_of, model=(model.pk, model.version), database=database)
        advance("gathered")
        scores = score(facts, rules)
        assert facts.stored is not None
        changed = scores.changed_from(facts.stored)
        advance("scored")
        with transaction.atomic(using=database):
            written = store.write(scores, changed, model=model, as_of=as_of, database=database)
            ScoringModel.objects.filter(pk=model.pk).update(scored_at=as_of)
        advance("written")
        # Every live lead, filtered by the criteria in SQL: those whose scores just changed, and
        # those a definition agreed since the last run now lets through.
        moved = _apply_definitions(Lead.objects.exclude(stage__in=FINAL), actor)
        advance("moved")
    except Exception as error:
        run.status, run.error = RunStatus.FAILED, str(error)[:2000]
        run.finished_at = timezone.now()
        run.seconds = time.perf_counter() - started
        run.save()
        raise
    run.status = RunStatus.DONE
    run.leads, run.changed, run.moved = len(scores.lead_ids), written, moved
    run.finished_at = timezone.now()
    run.seconds = time.perf_counter() - started
    run.save()
    return run


def rescore_leads(
    lead_ids: Sequence[int],
    *,
    model: ScoringModel | None = None,
    actor: Any = None,
    as_of: dt.datetime | None = None,
    database: str = "default",
) -> Scores | None:
    """Rescore a few live leads now, in one transaction; returns their scores."""
    model = model or active_model()
    ids = sorted({int(pk) for pk in lead_ids})
    if model is None or not ids:
        return None
    rules = parse(model.definition)
    with transaction.atomic(using=database):
        if connections[database].vendor == "postgresql":
            list(
                Lead.objects.using(database)
                .filter(pk__in=ids)
                .order_by("pk")
                .select_for_update()
                .values_list("pk", flat=True)
            )
        moment = as_of or timezone.now()
        facts = gather(rules, as_of=moment, lead_ids=ids, database=database)
        scores = score(facts, rules)
        store.write(
            scores,
            np.arange(len(scores.lead_ids)),
            model=model,
            as_of=moment,
            database=database,
        )
        _apply_definitions(scores.lead_ids.tolist(), actor)
    return scores
