"""Open likely-duplicate pairs, as the data-quality figures count them.

The pairs belong to `cible.quality.duplicates` (`DuplicatePair`: entity, record_a, record_b,
status). They are read through the app registry so that freshness works, and shows "—", where
that app is not installed. Pairs are counted per owner of their records: a viewer's figure is the
number of open pairs whose two records they may see (visibility goes by owner, `core.access`),
and a snapshot credits each pair to the owner of its first record so that sums do not count a
pair twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from cible.quality.freshness.rules import CONTACT, ORGANISATION, horizon

OPEN = "open"
OwnerPairs = dict[tuple[int | None, int | None], int]  # (owner of a, owner of b) -> open pairs


def pair_model() -> Any:
    try:
        return apps.get_model("duplicates", "DuplicatePair")
    except LookupError:
        return None


def _record_model(entity: str) -> Any:
    return apps.get_model("people", "Organisation" if entity == ORGANISATION else "Contact")


# The grouping joins every open pair to its two records (about 10 ms per 1,000 pairs on SQLite
# at 1M rows): it is kept a minute, and recomputed at once when pairs are found or decided (the
# number of open pairs or the newest pair changes); a record moved to another owner shows
# under its new owner within that minute.
CACHE_SECONDS = 60


def open_pairs_by_owners(entity: str, as_of: dt.date | None = None) -> OwnerPairs | None:
    """Open pairs of `entity` grouped by the owners of their two records (None: no pair model).
    A pair whose record no longer exists (or was anonymised) is not counted."""
    model = pair_model()
    if model is None:
        return None
    if as_of is not None and as_of < timezone.localdate():
        return _grouped(model, entity, as_of)
    open_pairs = model._default_manager.filter(entity=entity, status=OPEN)
    state = open_pairs.aggregate(n=Count("pk"), top=Max("pk"))
    key = f"freshness:pairs:{connection.alias}:{entity}:{state['n']}:{state['top']}"
    pairs: OwnerPairs | None = cache.get(key)
    if pairs is None:
        pairs = _grouped(model, entity, None)
        cache.set(key, pairs, CACHE_SECONDS)
    return pairs


def _grouped(model: Any, entity: str, as_of: dt.date | None) -> OwnerPairs:
    """One query joining each pair to its two records through their primary keys."""
    records = _record_model(entity)._meta.db_table
    quote = connection.ops.quote_name
    conditions = ["p.entity = %s"]
    params: list[Any] = [entity]
    if as_of is None or as_of >= timezone.localdate():
        conditions.append("p.status = %s")
        params.append(OPEN)
    else:  # open at the end of that day: found by then, decided later if at all
        end = horizon(as_of)
        conditions.append("p.detected_at < %s AND (p.status = %s OR p.decided_at >= %s)")
        params += [end, OPEN, end]
    if entity == CONTACT:
        conditions.append("a.anonymised_at IS NULL AND b.anonymised_at IS NULL")
    sql = (
        f"SELECT a.owner_id, b.owner_id, COUNT(*) FROM {quote(model._meta.db_table)} p "
        f"JOIN {quote(records)} a ON a.id = p.record_a "
        f"JOIN {quote(records)} b ON b.id = p.record_b "
        f"WHERE {' AND '.join(conditions)} GROUP BY a.owner_id, b.owner_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_adapt(p) for p in params])
        return {(a, b): int(n) for a, b, n in cursor.fetchall()}


def _adapt(value: Any) -> Any:
    """Datetimes as the backend stores them (SQLite keeps naive UTC text)."""
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def visible_total(pairs: OwnerPairs, owners: Collection[int | None] | None) -> int:
    """Pairs whose two records' owners are all in `owners` (None: the viewer sees everything)."""
    if owners is None:
        return sum(pairs.values())
    return sum(n for (a, b), n in pairs.items() if a in owners and b in owners)


def per_owner(pairs: OwnerPairs) -> Counter[int | None]:
    """Open pairs involving each owner's records (a pair between two owners counts for both)."""
    counts: Counter[int | None] = Counter()
    for (a, b), n in pairs.items():
        counts[a] += n
        if b != a:
            counts[b] += n
    return counts


def credited_to_first_owner(pairs: OwnerPairs) -> Counter[int | None]:
    counts: Counter[int | None] = Counter()
    for (a, _b), n in pairs.items():
        counts[a] += n
    return counts
