"""Detection of likely duplicates over the whole base.

A run reads every record in bulk (one query, into a polars frame), computes comparison keys
(`keys`), pairs records sharing a blocking key (`blocking`), scores the pairs (`scoring`) and
stores those above the floor in one transaction: new pairs are added, open pairs get their new
score, pairs nobody decided on that are no longer found go, and decided pairs (merged, "not a
duplicate") are never touched, so a decision is remembered whatever detection finds later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from cible.core.audit import Channel
from cible.people.models import Contact, Organisation
from cible.quality.duplicates import blocking, scoring
from cible.quality.duplicates.frames import (
    CONTACT_COLUMNS,
    ORGANISATION_COLUMNS,
    contact_blocks,
    organisation_blocks,
    organisation_groups,
    prepare_contacts,
    prepare_organisations,
    read_frame,
    with_organisation_groups,
)
from cible.quality.duplicates.models import (
    DetectionRun,
    DuplicatePair,
    Entity,
    PairStatus,
    RunStatus,
)

Progress = Callable[[str], None]

# --- one entity's detection ---------------------------------------------------------------------


@dataclass(frozen=True)
class Detector:
    entity: str
    model: type[Model]
    columns: Mapping[str, Any]
    prepare: Callable[[pl.DataFrame], pl.DataFrame]
    blocks: Callable[[pl.DataFrame], list[blocking.Key]]
    score: Callable[[pl.DataFrame, np.ndarray, np.ndarray], scoring.Scored]
    reasons: Callable[[pl.DataFrame, scoring.Scored, int], list[dict[str, Any]]]


DETECTORS: dict[str, Detector] = {
    Entity.ORGANISATION: Detector(
        Entity.ORGANISATION,
        Organisation,
        ORGANISATION_COLUMNS,
        prepare_organisations,
        organisation_blocks,
        scoring.organisation_scores,
        scoring.organisation_reasons,
    ),
    Entity.CONTACT: Detector(
        Entity.CONTACT,
        Contact,
        CONTACT_COLUMNS,
        prepare_contacts,
        contact_blocks,
        scoring.contact_scores,
        scoring.contact_reasons,
    ),
}


@dataclass
class Found:
    """Pairs found in a frame, with timings per phase (for the benchmark)."""

    ids_a: np.ndarray
    ids_b: np.ndarray
    scores: np.ndarray
    reasons: list[list[dict[str, Any]]]
    candidates: int
    block_stats: list[blocking.BlockStats]
    timings: dict[str, float] = field(default_factory=dict)


def live_queryset(detector: Detector) -> QuerySet[Any]:
    qs = detector.model._default_manager.all()
    if detector.model is Contact:
        qs = qs.filter(anonymised_at__isnull=True)  # an erased person is nobody's duplicate
    return qs.order_by()


def find_pairs(
    detector: Detector,
    raw: pl.DataFrame,
    *,
    floor: float = scoring.STORE_FLOOR,
    progress: Progress | None = None,
) -> Found:
    """Score every candidate pair of `raw` (rows of `detector.columns`); keep those ≥ floor."""
    say = progress or (lambda message: None)
    timings: dict[str, float] = {}
    began = time.perf_counter()
    frame = detector.prepare(raw)
    timings["keys"] = time.perf_counter() - began
    say(f"keys of {len(frame):,} records")
    began = time.perf_counter()
    pairs, stats = blocking.candidate_pairs(detector.blocks(frame), len(frame))
    timings["blocking"] = time.perf_counter() - began
    say(f"{len(pairs):,} candidate pairs")
    candidates = len(pairs)
    began = time.perf_counter()
    scored = detector.score(frame, pairs[:, 0], pairs[:, 1])
    keep = np.flatnonzero(scored.score >= floor)
    timings["scoring"] = time.perf_counter() - began
    say(f"{len(keep):,} pairs scored {floor:.0%} or more")
    began = time.perf_counter()
    ids = frame["id"].to_numpy()
    a, b = ids[scored.i[keep]], ids[scored.j[keep]]
    swap = a > b
    ids_a, ids_b = np.where(swap, b, a), np.where(swap, a, b)
    reasons = [detector.reasons(frame, scored, int(k)) for k in keep]
    timings["reasons"] = time.perf_counter() - began
    return Found(ids_a, ids_b, scored.score[keep], reasons, candidates, stats, timings)


def store_pairs(entity: str, found: Found, *, now: Any = None) -> tuple[int, int]:
    """Write the pairs found: (pairs stored, of which new). One transaction; see the module doc.

    An open pair found again keeps its id (links to it stay valid) and is rewritten only if its
    score or reasons changed: delete and insert again, far cheaper than Django's `bulk_update`
    (one CASE per field and row) when thousands change at once."""
    now = now or timezone.now()
    with transaction.atomic():
        existing = {
            (a, b): (pk, status, score, reasons)
            for pk, a, b, status, score, reasons in DuplicatePair.objects.filter(
                entity=entity
            ).values_list("pk", "record_a", "record_b", "status", "score", "reasons")
        }
        fresh: list[DuplicatePair] = []
        changed: list[DuplicatePair] = []
        seen: set[tuple[int, int]] = set()
        for k in range(len(found.scores)):
            key = (int(found.ids_a[k]), int(found.ids_b[k]))
            seen.add(key)
            score = round(float(found.scores[k]), 4)
            known = existing.get(key)
            if known is not None and (
                known[1] != PairStatus.OPEN or (known[2], known[3]) == (score, found.reasons[k])
            ):
                continue  # decided on, or unchanged
            pair = DuplicatePair(
                pk=known[0] if known else None,
                entity=entity,
                record_a=key[0],
                record_b=key[1],
                score=score,
                reasons=found.reasons[k],
                detected_at=now,
            )
            (changed if known else fresh).append(pair)
        gone = [
            pk
            for key, (pk, status, _score, _reasons) in existing.items()
            if status == PairStatus.OPEN and key not in seen
        ]
        for chunk in _chunks(gone + [pair.pk for pair in changed], 500):
            DuplicatePair.objects.filter(pk__in=chunk).delete()
        DuplicatePair.objects.bulk_create(changed + fresh, batch_size=500)
    stored = sum(1 for key in seen if key not in existing or existing[key][1] == PairStatus.OPEN)
    return stored, len(fresh)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_detection(
    *,
    entity: str,
    actor: Any = None,
    channel: str = Channel.JOB,
    run: DetectionRun | None = None,
    progress: Progress | None = None,
) -> DetectionRun:
    """Detect the duplicates of every `entity` record and store the pairs; returns the run."""
    detector = DETECTORS[entity]
    if run is None:
        run = DetectionRun.objects.create(
            entity=entity, channel=channel, started_by=actor if getattr(actor, "pk", None) else None
        )
    say = progress or (lambda message: None)

    def step(message: str) -> None:
        DetectionRun.objects.filter(pk=run.pk).update(step=message[:100])
        say(message)

    began = time.perf_counter()
    DetectionRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    try:
        raw = read_frame(live_queryset(detector), detector.columns)
        if entity == Entity.CONTACT:
            raw = with_organisation_groups(raw, organisation_groups())
        step(f"read {len(raw):,} records")
        found = find_pairs(detector, raw, progress=step)
        stored, new = store_pairs(entity, found)
    except Exception as error:
        DetectionRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=str(error)[:2000]
        )
        raise
    DetectionRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        records=len(raw),
        candidates=found.candidates,
        pairs=stored,
        new_pairs=new,
        seconds=time.perf_counter() - began,
        step="",
    )
    run.refresh_from_db()
    return run
