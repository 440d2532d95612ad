"""Computing and maintaining the quality tally (see `models.QualityTally`).

Why a tally: the dashboard must answer in under a second at a million organisations and three
million contacts, and one aggregate pass over them takes several seconds (bench/RESULTS.md).
The figures are therefore kept per slice (entity × bucket of ids × owner) and summed at read
time. A slice is recomputed with one aggregate query over at most `BUCKET_SIZE` rows read
through the primary key, so keeping up with edits costs milliseconds; every slice is recomputed
once a day (`tally_refresh`), because records go stale as days pass without anything changing.

Concurrency: recomputing a slice deletes its pending `TallyChange` rows *before* aggregating,
inside one transaction that holds the entity's `TallyState` row lock. A change committed after
that delete survives and triggers the next recomputation; one committed before it is visible to
the aggregate. Writers never wait for the lock: they only insert `TallyChange` rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Model, Q, QuerySet, Value
from django.utils import timezone

from cible.people.models import Contact, Organisation, OrganisationStatus
from cible.quality.freshness import rules
from cible.quality.freshness.models import (
    BUCKET_SIZE,
    FreshnessPolicy,
    QualityTally,
    TallyChange,
    TallyState,
)
from cible.quality.freshness.rules import CONTACT, ORGANISATION, Entity

MODELS: dict[str, type[Model]] = {ORGANISATION: Organisation, CONTACT: Contact}
ENTITIES = (ORGANISATION, CONTACT)
# Slices recomputed within a page request; beyond that, the work goes to the background.
INLINE_BUCKETS = 12
# A base this small (ids) is recomputed whole within the request rather than in the background.
INLINE_FULL_IDS = 4 * BUCKET_SIZE

Progress = Callable[[str], None]


def entity_of(model: type[Model]) -> str:
    return ORGANISATION if model is Organisation else CONTACT


def base_queryset(entity: str, as_of: dt.date | None = None) -> QuerySet[Any]:
    """The records the quality figures are about: anonymised contacts (GDPR erasure) hold no
    data left to keep fresh and are left out; for a past day, records created after it too."""
    qs = MODELS[entity]._default_manager.all()
    if entity == CONTACT:
        qs = qs.filter(anonymised_at__isnull=True)
    if as_of is not None and as_of < timezone.localdate():
        qs = qs.filter(created_at__lt=rules.horizon(as_of))
    return qs


def closed_organisations() -> QuerySet[Any]:
    return Organisation.objects.filter(status=OrganisationStatus.CLOSED).values("pk")


def _aggregates(conditions: dict[str, Q | None]) -> tuple[dict[str, Any], dict[str, str]]:
    """Aggregate expressions under short aliases, and the alias → figure name map."""
    expressions: dict[str, Any] = {}
    names: dict[str, str] = {}
    for index, (name, condition) in enumerate(conditions.items()):
        alias = f"c{index}"
        names[alias] = name
        if condition is None:
            expressions[alias] = Count("pk")
        elif condition is rules.NOTHING:  # every reason switched off
            expressions[alias] = Value(0)
        else:
            expressions[alias] = Count("pk", filter=condition)
    return expressions, names


def counts_by_owner(
    qs: QuerySet[Any], entity: str, policy_rules: rules.Rules, as_of: dt.date
) -> dict[int | None, dict[str, int]]:
    """Every figure of `qs`, per owner, in one aggregate query."""
    conditions = rules.count_conditions(policy_rules, entity, as_of, closed_organisations())
    expressions, names = _aggregates(conditions)
    result: dict[int | None, dict[str, int]] = {}
    for row in qs.order_by().values("owner_id").annotate(**expressions):
        result[row["owner_id"]] = {
            name: int(row[alias] or 0) for alias, name in names.items() if row[alias]
        }
    return result


def counts_by_owner_in_slices(
    entity: str, policy_rules: rules.Rules, as_of: dt.date
) -> dict[int | None, dict[str, int]]:
    """`counts_by_owner` of the whole base, slice by slice: reading each slice through the
    primary key and summing is several times faster than grouping millions of rows at once."""
    total: dict[int | None, dict[str, int]] = {}
    for bucket in range(_max_id(entity) // BUCKET_SIZE + 1):
        qs = base_queryset(entity, as_of).filter(_bucket_range(bucket))
        for owner_id, counts in counts_by_owner(qs, entity, policy_rules, as_of).items():
            rules.add_counts(total.setdefault(owner_id, {}), counts)
    return total


def _bucket_range(bucket: int) -> Q:
    return Q(pk__gte=bucket * BUCKET_SIZE, pk__lt=(bucket + 1) * BUCKET_SIZE)


def _recompute_bucket(entity: str, bucket: int, policy_rules: rules.Rules, as_of: dt.date) -> None:
    with transaction.atomic():
        TallyState.objects.select_for_update().filter(entity=entity).first()  # the lock
        TallyChange.objects.filter(entity=entity, bucket=bucket).delete()
        by_owner = counts_by_owner(
            base_queryset(entity).filter(_bucket_range(bucket)), entity, policy_rules, as_of
        )
        QualityTally.objects.filter(entity=entity, bucket=bucket).delete()
        QualityTally.objects.bulk_create(
            QualityTally(entity=entity, bucket=bucket, owner_id=owner_id, counts=counts)
            for owner_id, counts in by_owner.items()
        )


def _state(entity: str) -> TallyState:
    state, _created = TallyState.objects.get_or_create(entity=entity)
    return state


def _max_id(entity: str) -> int:
    return int(MODELS[entity]._default_manager.aggregate(top=Max("pk"))["top"] or 0)


def tally_refresh(*, entities: Iterable[str] = ENTITIES, progress: Progress | None = None) -> None:
    """Recompute every slice under today's date and the current policy."""
    policy = FreshnessPolicy.current()
    today = timezone.localdate()
    for entity in entities:
        _state(entity)
        top = _max_id(entity)
        last_bucket = top // BUCKET_SIZE
        for bucket in range(last_bucket + 1):
            _recompute_bucket(entity, bucket, policy.rules, today)
            if progress and bucket % 10 == 9:
                progress(f"  {entity}: {(bucket + 1) * BUCKET_SIZE:,} / {top:,} ids")
        with transaction.atomic():
            TallyState.objects.select_for_update().filter(entity=entity).first()
            QualityTally.objects.filter(entity=entity, bucket__gt=last_bucket).delete()
            TallyChange.objects.filter(entity=entity, bucket__gt=last_bucket).delete()
            TallyState.objects.filter(entity=entity).update(
                as_of=today,
                policy_version=policy.version,
                covered_max_id=top,
                computed_at=timezone.now(),
                refresh_requested_at=None,
            )


@dataclass(frozen=True)
class TallyStatus:
    """How current the figures are, for the page to say so."""

    computed_at: dt.datetime | None  # the oldest entity's last full computation
    as_of: dt.date | None
    pending: bool  # a recomputation is under way in the background
    ready: bool  # figures exist at all


def _needs_full(state: TallyState, policy: FreshnessPolicy, today: dt.date) -> bool:
    return state.as_of != today or state.policy_version != policy.version


def _pending_buckets(entity: str, state: TallyState) -> set[int]:
    buckets = set(
        TallyChange.objects.filter(entity=entity).values_list("bucket", flat=True).distinct()
    )
    top = _max_id(entity)
    if top > state.covered_max_id:  # rows written by bulk paths, which send no signal
        buckets.update(range(state.covered_max_id // BUCKET_SIZE, top // BUCKET_SIZE + 1))
    return buckets


def tally_catch_up(
    *,
    inline_buckets: int = INLINE_BUCKETS,
    request_background: Callable[[], None] | None = None,
) -> TallyStatus:
    """Bring the tally up to date if that is quick, else ask for a background recomputation.

    Called when the dashboard is shown: a few edited slices are recomputed on the spot (tens of
    milliseconds each), so that a record verified a moment ago counts at once.
    """
    policy = FreshnessPolicy.current()
    today = timezone.localdate()
    background = False
    for entity in ENTITIES:
        state = _state(entity)
        if _needs_full(state, policy, today):
            if _max_id(entity) <= INLINE_FULL_IDS:
                tally_refresh(entities=[entity])
            else:
                background = True
            continue
        buckets = _pending_buckets(entity, state)
        if len(buckets) > inline_buckets:
            background = True
            continue
        for bucket in sorted(buckets):
            _recompute_bucket(entity, bucket, policy.rules, today)
        top = _max_id(entity)
        if top > state.covered_max_id:
            TallyState.objects.filter(entity=entity, covered_max_id__lt=top).update(
                covered_max_id=top
            )
    if background and request_background is not None:
        request_background()
    return tally_status()


def tally_status() -> TallyStatus:
    states = list(TallyState.objects.all())
    computed = [s.computed_at for s in states if s.computed_at]
    as_of = [s.as_of for s in states if s.as_of]
    ready = len(computed) == len(Entity.values) and len(states) == len(Entity.values)
    policy = FreshnessPolicy.current()
    today = timezone.localdate()
    stale_state = any(_needs_full(s, policy, today) for s in states) or not ready
    pending = stale_state or TallyChange.objects.exists()
    return TallyStatus(
        computed_at=min(computed) if computed else None,
        as_of=min(as_of) if as_of else None,
        pending=pending and any(s.refresh_requested_at for s in states),
        ready=ready,
    )


def mark_refresh_requested() -> bool:
    """Note that a background recomputation was asked for; False if one was asked for in the
    last ten minutes (so that every page view does not queue another)."""
    now = timezone.now()
    recent = now - dt.timedelta(minutes=10)
    for entity in ENTITIES:
        _state(entity)
    updated = TallyState.objects.filter(
        Q(refresh_requested_at__isnull=True) | Q(refresh_requested_at__lt=recent)
    ).update(refresh_requested_at=now)
    return bool(updated)


def tally_invalidate(*, entity: str, ids: Iterable[int]) -> None:
    """Note that records of `entity` changed (for writers that bypass the model signals, such
    as bulk updates): their slices are recomputed at the next catch-up."""
    buckets = {int(pk) // BUCKET_SIZE for pk in ids}
    TallyChange.objects.bulk_create(TallyChange(entity=entity, bucket=b) for b in sorted(buckets))


def tally_forget_all() -> None:
    """Force a full recomputation at the next catch-up (rules changed, a user was deleted)."""
    TallyState.objects.update(as_of=None)
