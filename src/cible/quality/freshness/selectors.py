"""Reads of the freshness app, always through the viewer's access rights.

Current figures are the sum of the tally slices whose owner the viewer may see
(`core.access.visible` applied to `QualityTally`, which declares the same access kind and owner
field as the records it counts), so each viewer's dashboard covers exactly the records they may
see. Trends do the same over the daily `QualitySnapshot` rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, ExpressionWrapper, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError, NotFound, ValidationFailed
from cible.core.values import is_id
from cible.quality.freshness import duplicates, rules
from cible.quality.freshness.models import (
    FreshnessPolicy,
    QualitySnapshot,
    QualityTally,
    VerificationTask,
)
from cible.quality.freshness.rules import CONTACT, ORGANISATION, Entity, Reason
from cible.quality.freshness.tally import (
    ENTITIES,
    TallyStatus,
    base_queryset,
    closed_organisations,
    tally_status,
)

User = get_user_model()
NO_OWNER = "none"

# --- stale records -----------------------------------------------------------------------------


def flag(reason: str) -> str:
    return f"stale_{reason}"


def stale_records(
    *, viewer: Any, entity: str, reason: str | None = None, owner: str | int | None = None
) -> QuerySet[Any]:
    """The viewer's stale records of `entity` (for `reason` if given), by name, each annotated
    with a boolean `stale_<reason>` per active reason; `reasons_of(record)` lists them."""
    policy_rules = FreshnessPolicy.current().rules
    conditions = rules.reason_conditions(
        policy_rules, entity, timezone.localdate(), closed_organisations()
    )
    qs = access.visible(viewer, base_queryset(entity))
    if reason:
        if reason not in conditions:
            return qs.none()
        qs = qs.filter(conditions[reason])
    else:
        stale = rules.any_of(conditions.values())
        if stale is rules.NOTHING:
            return qs.none()
        qs = qs.filter(stale)
    if owner not in (None, ""):
        qs = filter_owner(qs, owner)
    flags = {
        flag(name): ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in conditions.items()
    }
    # By name: the order of the (owner, name) and (name) indexes, so that a page of a million-row
    # base stops after its first matches instead of sorting every stale record.
    return qs.annotate(**flags).order_by("name_key", "pk")


def reasons_of(record: Any) -> list[str]:
    return [r for r in Reason.values if getattr(record, flag(r), False)]


def filter_owner(qs: QuerySet[Any], owner: str | int) -> QuerySet[Any]:
    if str(owner) == NO_OWNER:
        return qs.filter(owner__isnull=True)
    text = str(owner).strip()
    if not is_id(text) or int(text) == 0:
        raise ValidationFailed(errors=[FieldError("owner", _("must be a user id or “none”"))])
    return qs.filter(owner_id=int(text))


# --- current figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldFigure:
    name: str
    label: str
    filled: int
    expected: int
    share: float | None  # 0..1, None when the field is expected on no record

    @property
    def percent(self) -> float | None:
        return None if self.share is None else round(self.share * 100, 1)


@dataclass(frozen=True)
class ReasonFigure:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class EntityFigures:
    entity: str
    label: str
    total: int
    fields: list[FieldFigure]
    stale: int
    reasons: list[ReasonFigure]
    incomplete: int
    duplicates: int | None  # None: duplicate detection is not installed

    @property
    def stale_percent(self) -> float | None:
        share = rules.share(self.stale, self.total)
        return None if share is None else round(share * 100, 1)

    @property
    def complete_percent(self) -> float | None:
        share = rules.share(self.total - self.incomplete, self.total)
        return None if share is None else round(share * 100, 1)


@dataclass(frozen=True)
class OwnerRow:
    owner_id: int | None
    name: str
    records: dict[str, int]
    stale: dict[str, int]
    incomplete: dict[str, int]
    duplicates: dict[str, int | None]
    open_tasks: int

    @property
    def key(self) -> str:
        return NO_OWNER if self.owner_id is None else str(self.owner_id)

    @property
    def total_stale(self) -> int:
        return sum(self.stale.values())


@dataclass(frozen=True)
class Dashboard:
    entities: list[EntityFigures]
    owners: list[OwnerRow]
    status: TallyStatus
    rules: rules.Rules


def _user_names(ids: set[int]) -> dict[int, str]:
    users = User.objects.filter(pk__in=ids).only("first_name", "last_name", "username")
    return {u.pk: u.get_full_name() or u.username for u in users}


def entity_figures(entity: str, counts: dict[str, int], dups: int | None) -> EntityFigures:
    policy_rules = FreshnessPolicy.current().rules
    total = counts.get(rules.TOTAL, 0)
    fields = []
    for rule in rules.FIELDS[entity]:
        filled = counts.get(rules.filled_key(rule.name), 0)
        expected = rules.expected(entity, rule.name, counts)
        fields.append(
            FieldFigure(rule.name, str(rule.label), filled, expected, rules.share(filled, expected))
        )
    reasons = [
        ReasonFigure(code, str(Reason(code).label), counts.get(rules.reason_key(code), 0))
        for code in policy_rules.active_reasons(entity)
    ]
    return EntityFigures(
        entity=entity,
        label=str(Entity(entity).label),
        total=total,
        fields=fields,
        stale=counts.get(rules.STALE, 0),
        reasons=reasons,
        incomplete=counts.get(rules.INCOMPLETE, 0),
        duplicates=dups,
    )


def dashboard(*, viewer: Any) -> Dashboard:
    """The viewer's data-quality figures: completeness, staleness, duplicates, per owner."""
    totals: dict[str, dict[str, int]] = {e: {} for e in ENTITIES}
    per_owner: dict[int | None, dict[str, dict[str, int]]] = defaultdict(
        lambda: {e: {} for e in ENTITIES}
    )
    tallies = access.visible(viewer, QualityTally.objects.all()).values_list(
        "entity", "owner_id", "counts"
    )
    for entity, owner_id, counts in tallies:
        rules.add_counts(totals[entity], counts)
        rules.add_counts(per_owner[owner_id][entity], counts)
    owners = set(per_owner) | {None}
    entities, dup_by_owner = [], {}
    for entity in ENTITIES:
        pairs = duplicates.open_pairs_by_owners(entity)
        visible_pairs = None if pairs is None else duplicates.visible_total(pairs, owners)
        dup_by_owner[entity] = None if pairs is None else duplicates.per_owner(pairs)
        entities.append(entity_figures(entity, totals[entity], visible_pairs))
    names = _user_names({o for o in per_owner if o is not None})
    tasks = dict(
        VerificationTask.objects.filter(done_at__isnull=True, owner_id__in=[o for o in owners if o])
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )

    def dups_of(entity: str, owner_id: int | None) -> int | None:
        counts = dup_by_owner[entity]
        return None if counts is None else counts.get(owner_id, 0)

    rows = [
        OwnerRow(
            owner_id=owner_id,
            name=names.get(owner_id, "") if owner_id else str(_("Unowned")),
            records={e: per_owner[owner_id][e].get(rules.TOTAL, 0) for e in ENTITIES},
            stale={e: per_owner[owner_id][e].get(rules.STALE, 0) for e in ENTITIES},
            incomplete={e: per_owner[owner_id][e].get(rules.INCOMPLETE, 0) for e in ENTITIES},
            duplicates={e: dups_of(e, owner_id) for e in ENTITIES},
            open_tasks=tasks.get(owner_id, 0) if owner_id else 0,
        )
        for owner_id in per_owner
    ]
    rows.sort(key=lambda r: (-r.total_stale, r.name))
    return Dashboard(
        entities=entities,
        owners=rows,
        status=tally_status(),
        rules=FreshnessPolicy.current().rules,
    )


def owner_figures(*, viewer: Any, entity: str, owner: str | int | None) -> EntityFigures:
    """The figures of one owner's records (or all the viewer's, without `owner`)."""
    qs = access.visible(viewer, QualityTally.objects.filter(entity=entity))
    if owner not in (None, ""):
        qs = filter_owner(qs, owner)
    counts: dict[str, int] = {}
    for tally_counts in qs.values_list("counts", flat=True):
        rules.add_counts(counts, tally_counts)
    return entity_figures(entity, counts, None)


# --- trends ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    counts: dict[str, dict[str, int]]  # entity -> summed counts
    duplicates: dict[str, int]
    live: bool = False  # today's figures as they stand, not a frozen snapshot


def trend(*, viewer: Any, days: int = 90, current: Dashboard | None = None) -> list[TrendPoint]:
    """Daily points of the viewer's figures over the last `days`, ending with the live figures
    of today when `current` is given."""
    today = timezone.localdate()
    since = today - dt.timedelta(days=days)
    points: dict[dt.date, TrendPoint] = {}
    snapshots = access.visible(
        viewer, QualitySnapshot.objects.filter(day__gte=since, day__lte=today)
    ).values_list("day", "entity", "counts", "duplicates")
    for day, entity, counts, dups in snapshots:
        point = points.setdefault(
            day, TrendPoint(day, {e: {} for e in ENTITIES}, dict.fromkeys(ENTITIES, 0))
        )
        rules.add_counts(point.counts[entity], counts)
        point.duplicates[entity] += dups
    if current is not None:
        points[today] = TrendPoint(
            today,
            {
                f.entity: {
                    rules.TOTAL: f.total,
                    rules.STALE: f.stale,
                    rules.INCOMPLETE: f.incomplete,
                }
                for f in current.entities
            },
            {f.entity: f.duplicates or 0 for f in current.entities},
            live=True,
        )
    return [points[d] for d in sorted(points)]


# --- verification tasks ------------------------------------------------------------------------


def my_tasks(*, viewer: Any, done: bool = False) -> QuerySet[VerificationTask]:
    """The viewer's verification tasks (open ones by due date, or the recently done ones)."""
    qs = VerificationTask.objects.filter(owner_id=getattr(viewer, "pk", None)).select_related(
        "organisation", "contact", "contact__organisation", "created_by"
    )
    if done:
        return qs.filter(done_at__isnull=False).order_by("-done_at", "-pk")
    return qs.filter(done_at__isnull=True).order_by("due_on", "pk")


def open_task_count(*, viewer: Any) -> int:
    return VerificationTask.objects.filter(
        owner_id=getattr(viewer, "pk", None), done_at__isnull=True
    ).count()


def get_task(*, viewer: Any, pk: Any) -> VerificationTask:
    """A task about a record the viewer may see (the service decides what they may do)."""
    task = (
        VerificationTask.objects.select_related("organisation", "contact").filter(pk=pk).first()
        if is_id(pk)
        else None
    )
    record = task.record if task is not None else None
    if task is None or record is None or not access.can(viewer, "view", record):
        raise NotFound(_("Not found, or not visible to you."))
    return task


ENTITY_OF_PARAM = {ORGANISATION: ORGANISATION, CONTACT: CONTACT}


def parse_entity(raw: str) -> str:
    entity = ENTITY_OF_PARAM.get(raw)
    if entity is None:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "entity",
                    _("must be one of: %(values)s") % {"values": ", ".join(Entity.values)},
                )
            ]
        )
    return entity
