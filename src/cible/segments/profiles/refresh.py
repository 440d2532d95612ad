"""Fit scores of a few organisations at a time, and the pieces every computation shares.

`fit_scores_refresh_for` re-scores a handful of organisations (the one just saved, the ids a
bulk writer wrote) for every active, scored profile: per profile, one query over those ids — a
UNION ALL of its criteria, written with EXISTS for related rows since the query is narrow —
then their rows are replaced. The signal receivers call it inside the writer's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.models import IntegerField, Q, QuerySet, Value
from django.utils import timezone

from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.profiles.models import FitScore, IdealCustomerProfile, ProfileCriterion
from cible.segments.profiles.scoring import Criterion, fit_score

# Ids per statement when re-scoring or deleting a list of organisations (well under SQLite's
# limit on query variables).
CHUNK = 500


@dataclass(frozen=True)
class CompiledCriteria:
    """A profile's criteria, parsed once: each criterion and its filter, in the profile's order,
    and what the scores depend on (to notice a change during a long computation)."""

    criteria: tuple[Criterion, ...]
    filters: tuple[Q, ...]
    signature: tuple[tuple[int, int, str], ...]

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.criteria)


def criteria_signature(criteria: Iterable[ProfileCriterion]) -> tuple[tuple[int, int, str], ...]:
    """Each criterion's id, weight and rule: what the scores depend on."""
    return tuple((c.pk, c.weight, json.dumps(c.rule, sort_keys=True)) for c in criteria)


def criteria_of(profile: IdealCustomerProfile) -> QuerySet[ProfileCriterion]:
    return ProfileCriterion.objects.filter(profile=profile).order_by("position", "id")


def compile_criteria(
    criteria: Iterable[ProfileCriterion], *, correlated: bool = False
) -> CompiledCriteria:
    """Parse stored rules (raises `rules.RuleInvalid` for a rule that no longer validates, e.g. a
    field a higher app stopped registering). `correlated` writes conditions on related rows as
    EXISTS, the faster form when the query is narrowed to a few organisations."""
    items = list(criteria)
    return CompiledCriteria(
        criteria=tuple(Criterion(id=c.pk, label=c.label, weight=c.weight) for c in items),
        filters=tuple(
            rules.to_q(
                rules.parse(c.rule, level="organisation", resolve=False), correlated=correlated
            )
            for c in items
        ),
        signature=criteria_signature(items),
    )


def matching_ids(base: QuerySet[Any], filters: Sequence[Q]) -> list[set[int]]:
    """For each filter, the ids of `base` it keeps: one UNION ALL query for all of them."""
    if not filters:
        return []
    parts = [
        base.filter(q).annotate(_k=Value(k, output_field=IntegerField())).values_list("pk", "_k")
        for k, q in enumerate(filters)
    ]
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    found: list[set[int]] = [set() for _ in filters]
    for pk, k in query:
        found[k].add(pk)
    return found


def delete_scores(
    *, profile_ids: Sequence[int], organisation_ids: Sequence[int] | None = None
) -> None:
    """Delete fit-score rows by statement. The ORM's delete() reads every row first as soon as
    any receiver listens to deletions of all models (the axes app does): at a million rows
    that is minutes, not a second."""
    if not profile_ids or (organisation_ids is not None and not organisation_ids):
        return
    connection = connections[router.db_for_write(FitScore)]
    quote = connection.ops.quote_name
    table = quote(FitScore._meta.db_table)

    def marks(values: Sequence[int]) -> str:
        return ", ".join(["%s"] * len(values))

    sql = f"DELETE FROM {table} WHERE {quote('profile_id')} IN ({marks(profile_ids)})"
    with connection.cursor() as cursor:
        if organisation_ids is None:
            cursor.execute(sql, list(profile_ids))
            return
        for start in range(0, len(organisation_ids), CHUNK):
            chunk = list(organisation_ids[start : start + CHUNK])
            cursor.execute(
                f"{sql} AND {quote('organisation_id')} IN ({marks(chunk)})",
                [*profile_ids, *chunk],
            )


def _chosen(profiles: Sequence[IdealCustomerProfile] | None, force: bool) -> list[Any]:
    if profiles is not None:
        chosen = list(profiles)
    else:
        chosen = list(IdealCustomerProfile.objects.filter(is_active=True, scored_at__isnull=False))
    if not force:
        chosen = [p for p in chosen if p.is_active and p.scored_at is not None]
    return chosen


def _compiled(profiles: list[Any]) -> dict[int, CompiledCriteria]:
    items: dict[int, list[ProfileCriterion]] = {p.pk: [] for p in profiles}
    for criterion in ProfileCriterion.objects.filter(profile_id__in=items).order_by(
        "position", "id"
    ):
        items[criterion.profile_id].append(criterion)
    compiled: dict[int, CompiledCriteria] = {}
    for pk, criteria in items.items():
        try:
            compiled[pk] = compile_criteria(criteria, correlated=True)
        except rules.RuleInvalid:
            continue  # its full computation reports the problem
    return compiled


def fit_scores_refresh_for(
    *,
    organisation_ids: Iterable[int],
    profiles: Sequence[IdealCustomerProfile] | None = None,
    force: bool = False,
) -> int:
    """Re-score these organisations for every active profile that has scores (or `profiles`).

    Profiles never computed are left alone (unless `force`): their first full computation scores
    everyone. A profile whose criteria no longer parse is skipped. Returns the rows written.
    """
    ids = sorted({int(pk) for pk in organisation_ids})
    chosen = _chosen(profiles, force)
    if not ids or not chosen:
        return 0
    compiled = _compiled(chosen)
    written = 0
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            base = Organisation.objects.filter(pk__in=chunk)
            existing = list(base.values_list("pk", flat=True))
            now = timezone.now()
            rows: list[FitScore] = []
            for profile_id, profile in compiled.items():
                found = matching_ids(base, profile.filters)
                for organisation_id in existing:
                    met = [
                        c
                        for c, ids_met in zip(profile.criteria, found, strict=True)
                        if organisation_id in ids_met
                    ]
                    rows.append(
                        FitScore(
                            profile_id=profile_id,
                            organisation_id=organisation_id,
                            score=fit_score(sum(c.weight for c in met), profile.total_weight),
                            matched=[c.id for c in met],
                            computed_at=now,
                        )
                    )
            delete_scores(profile_ids=list(compiled), organisation_ids=chunk)
            FitScore.objects.bulk_create(rows, batch_size=CHUNK)
            written += len(rows)
    return written
